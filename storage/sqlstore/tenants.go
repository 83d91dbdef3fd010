package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/orgid/orgid/storage"
)

var (
	sqlCreateTenant      = query(`INSERT INTO tenants (id, name, settings, created_at) VALUES ($1, $2, $3, $4)`)
	sqlGetTenant         = query(`SELECT id, name, settings, created_at FROM tenants WHERE id = $1`)
	sqlListTenants       = query(`SELECT id, name, settings, created_at FROM tenants ORDER BY created_at, id`)
	sqlSetTenantSettings = query(`UPDATE tenants SET settings = $2 WHERE id = $1`)
)

// CreateTenant stores a new tenant; ErrAlreadyExists when the ID is taken.
func (s *Store) CreateTenant(ctx context.Context, t storage.Tenant) error {
	settings, err := json.Marshal(t.Settings)
	if err != nil {
		return wrap("create tenant", err)
	}
	_, err = s.write().exec(ctx, sqlCreateTenant, t.ID, t.Name, string(settings), toMicros(t.CreatedAt))
	return wrap("create tenant", err)
}

// GetTenant returns tenant id, or ErrNotFound.
func (s *Store) GetTenant(ctx context.Context, id string) (storage.Tenant, error) {
	t, err := scanTenant(s.read().queryRow(ctx, sqlGetTenant, id))
	return t, wrap("get tenant", err)
}

// ListTenants returns every tenant, oldest first.
func (s *Store) ListTenants(ctx context.Context) ([]storage.Tenant, error) {
	rows, err := s.read().query(ctx, sqlListTenants)
	if err != nil {
		return nil, wrap("list tenants", err)
	}
	defer rows.Close()
	var ts []storage.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, wrap("list tenants", err)
		}
		ts = append(ts, t)
	}
	return ts, wrap("list tenants", rows.Err())
}

// UpdateTenantSettings replaces the tenant's settings. ErrNotFound.
func (s *Store) UpdateTenantSettings(ctx context.Context, tenantID string, ts storage.TenantSettings) error {
	const op = "update tenant settings"
	settings, err := json.Marshal(ts)
	if err != nil {
		return wrap(op, err)
	}
	res, err := s.write().exec(ctx, sqlSetTenantSettings, tenantID, string(settings))
	return oneRow(op, "tenant", res, err)
}

func scanTenant(sc scanner) (storage.Tenant, error) {
	var (
		t        storage.Tenant
		settings string
		created  int64
	)
	if err := sc.Scan(&t.ID, &t.Name, &settings, &created); err != nil {
		return storage.Tenant{}, err
	}
	if err := json.Unmarshal([]byte(settings), &t.Settings); err != nil {
		return storage.Tenant{}, err
	}
	t.CreatedAt = fromMicros(created)
	return t, nil
}
