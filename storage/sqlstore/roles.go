package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/orgid/orgid/storage"
)

var (
	// Role names are checked across scopes (a custom role may not take a
	// template role's name, nor the reverse), which no unique constraint
	// can say. CreateRole therefore takes the tenant row's lock first, so
	// that role creations of one tenant take turns and the check holds on
	// PostgreSQL too (SQLite has one writer anyway). Setting a column to
	// itself changes nothing, and the lock does not block the foreign-key
	// checks of other inserts.
	sqlLockTenant = query(`UPDATE tenants SET name = name WHERE id = $1`)
	// Locks the organization of a custom role, which a concurrent
	// DeleteOrganization must wait for (or have finished before).
	sqlLockOrganization = query(`UPDATE organizations SET name = name WHERE tenant_id = $1 AND id = $2`)
	// A template role's name must be free in every scope; a custom role's
	// in the template and its own organization.
	sqlTemplateRoleNameTaken = query(`SELECT COUNT(*) FROM organization_roles WHERE tenant_id = $1 AND name = $2`)
	sqlCustomRoleNameTaken   = query(`SELECT COUNT(*) FROM organization_roles
		WHERE tenant_id = $1 AND name = $2 AND organization_id IN ('', $3)`)
	sqlCreateRole = query(`INSERT INTO organization_roles (tenant_id, id, organization_id, name, description, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`)
	sqlAddRolePermission = query(`INSERT INTO organization_role_permissions (tenant_id, role_id, permission)
		VALUES ($1, $2, $3)`)
	// The template's roles (and an organization's) with their permissions:
	// a row per permission, one with a NULL permission for a role without
	// any. No ORDER BY, which would lead SQLite to walk every role of the
	// tenant in primary-key order rather than look up the two scopes by
	// the (tenant_id, organization_id, name) index; Go groups and sorts.
	sqlListRoles = query(`SELECT ro.id, ro.organization_id, ro.name, ro.description, ro.created_at, rp.permission
		FROM organization_roles ro
		LEFT JOIN organization_role_permissions rp ON rp.tenant_id = ro.tenant_id AND rp.role_id = ro.id
		WHERE ro.tenant_id = $1 AND ro.organization_id IN ('', $2)`)
)

// CreateRole stores a template role (r.OrganizationID empty) or a custom
// role of one organization, with its permissions, in one transaction.
// ErrAlreadyExists when the ID is taken, or the name is taken in the
// template, in the role's organization or, for a template role, by any
// organization's custom role (the two may never share a name: members hold
// roles by name). ErrNotFound when the tenant, the organization or one of
// the permissions does not exist. Nothing is written on error.
func (s *Store) CreateRole(ctx context.Context, r storage.Role) error {
	const op = "create role"
	perms := sortedSet(r.Permissions)
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		res, err := w.exec(ctx, sqlLockTenant, r.TenantID)
		if err := oneRow(op, "tenant", res, err); err != nil {
			return err
		}
		var taken int
		if r.OrganizationID == "" {
			err = w.queryRow(ctx, sqlTemplateRoleNameTaken, r.TenantID, r.Name).Scan(&taken)
		} else {
			res, err = w.exec(ctx, sqlLockOrganization, r.TenantID, r.OrganizationID)
			if err := oneRow(op, "organization", res, err); err != nil {
				return err
			}
			err = w.queryRow(ctx, sqlCustomRoleNameTaken, r.TenantID, r.Name, r.OrganizationID).Scan(&taken)
		}
		if err != nil {
			return wrap(op, err)
		}
		if taken > 0 {
			return failf(op, storage.ErrAlreadyExists, "role name %q is taken", r.Name)
		}
		if _, err := w.exec(ctx, sqlCreateRole,
			r.TenantID, r.ID, r.OrganizationID, r.Name, r.Description, toMicros(r.CreatedAt)); err != nil {
			return wrap(op, err)
		}
		for _, p := range perms {
			// A permission that does not exist fails its foreign key:
			// ErrNotFound.
			if _, err := w.exec(ctx, sqlAddRolePermission, r.TenantID, r.ID, p); err != nil {
				return wrap(fmt.Sprintf("%s: permission %q", op, p), err)
			}
		}
		return nil
	})
}

// ListRoles returns the tenant's template roles and, when orgID is not
// empty, that organization's custom roles, sorted by name (byte order),
// each with its permissions sorted.
func (s *Store) ListRoles(ctx context.Context, tenantID, orgID string) ([]storage.Role, error) {
	const op = "list roles"
	rows, err := s.read().query(ctx, sqlListRoles, tenantID, orgID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var (
		roles []storage.Role
		index = map[string]int{} // role ID -> position in roles
	)
	for rows.Next() {
		var (
			r       storage.Role
			created int64
			perm    sql.NullString
		)
		if err := rows.Scan(&r.ID, &r.OrganizationID, &r.Name, &r.Description, &created, &perm); err != nil {
			return nil, wrap(op, err)
		}
		i, ok := index[r.ID]
		if !ok {
			r.TenantID, r.CreatedAt = tenantID, fromMicros(created)
			i, index[r.ID] = len(roles), len(roles)
			roles = append(roles, r)
		}
		if perm.Valid {
			roles[i].Permissions = append(roles[i].Permissions, perm.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	for i := range roles {
		slices.Sort(roles[i].Permissions)
	}
	slices.SortFunc(roles, func(a, b storage.Role) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.OrganizationID, b.OrganizationID))
	})
	return roles, nil
}
