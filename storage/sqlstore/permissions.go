package sqlstore

import (
	"context"
	"slices"
	"strings"

	"github.com/orgid/orgid/storage"
)

var (
	sqlCreatePermission = query(`INSERT INTO organization_permissions (tenant_id, name, description, created_at)
		VALUES ($1, $2, $3, $4)`)
	sqlListPermissions = query(`SELECT tenant_id, name, description, created_at FROM organization_permissions
		WHERE tenant_id = $1`)
)

// CreatePermission adds a permission to the tenant's organization
// template. ErrAlreadyExists when the name is taken; ErrNotFound when the
// tenant does not exist.
func (s *Store) CreatePermission(ctx context.Context, p storage.Permission) error {
	_, err := s.write().exec(ctx, sqlCreatePermission, p.TenantID, p.Name, p.Description, toMicros(p.CreatedAt))
	return wrap("create permission", err)
}

// ListPermissions returns the tenant's permissions by name (byte order).
func (s *Store) ListPermissions(ctx context.Context, tenantID string) ([]storage.Permission, error) {
	const op = "list permissions"
	rows, err := s.read().query(ctx, sqlListPermissions, tenantID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var ps []storage.Permission
	for rows.Next() {
		var (
			p       storage.Permission
			created int64
		)
		if err := rows.Scan(&p.TenantID, &p.Name, &p.Description, &created); err != nil {
			return nil, wrap(op, err)
		}
		p.CreatedAt = fromMicros(created)
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	// Sorted in Go, not by ORDER BY: the database's collation need not be
	// byte order.
	slices.SortFunc(ps, func(a, b storage.Permission) int { return strings.Compare(a.Name, b.Name) })
	return ps, nil
}
