package sqlstore

import (
	"context"
	"database/sql"
	"slices"

	"github.com/orgid/orgid/storage"
)

// Applications linked to organizations with roles (DESIGN §3, organization
// token way 4), and the applications an organization owns. A link's roles
// are kept by name in application_link_roles, as a member's are in
// organization_member_roles, and resolve the same way.

var (
	sqlSetApplicationSecret = query(`UPDATE applications SET secret_hash = $3 WHERE tenant_id = $1 AND client_id = $2`)
	sqlListOrgApplications  = query(`SELECT ` + applicationColumns + ` FROM applications
		WHERE tenant_id = $1 AND organization_id = $2 AND (created_at, client_id) > ($3, $4)
		ORDER BY created_at, client_id LIMIT $5`)

	sqlAddLink = query(`INSERT INTO application_links (tenant_id, organization_id, client_id, created_at)
		VALUES ($1, $2, $3, $4)`)
	sqlAddLinkRole = query(`INSERT INTO application_link_roles (tenant_id, organization_id, client_id, role)
		VALUES ($1, $2, $3, $4)`)
	// Locks the link row (and tells whether it exists) so that concurrent
	// replacements of one link's roles take turns, as sqlLockMember does.
	sqlLockLink = query(`UPDATE application_links SET created_at = created_at
		WHERE tenant_id = $1 AND organization_id = $2 AND client_id = $3`)
	sqlDeleteLinkRoles = query(`DELETE FROM application_link_roles
		WHERE tenant_id = $1 AND organization_id = $2 AND client_id = $3`)
	// The link's roles go by foreign key.
	sqlDeleteLink = query(`DELETE FROM application_links
		WHERE tenant_id = $1 AND organization_id = $2 AND client_id = $3`)
	// A page of links is chosen in the subquery, on the (tenant_id,
	// organization_id, created_at, client_id) index, before the roles are
	// joined: LIMIT counts links, not role rows.
	sqlListLinks = query(`SELECT l.client_id, l.created_at, r.role
		FROM (SELECT tenant_id, organization_id, client_id, created_at FROM application_links
			WHERE tenant_id = $1 AND organization_id = $2 AND (created_at, client_id) > ($3, $4)
			ORDER BY created_at, client_id LIMIT $5) l
		LEFT JOIN application_link_roles r
			ON r.tenant_id = l.tenant_id AND r.organization_id = l.organization_id AND r.client_id = l.client_id
		ORDER BY l.created_at, l.client_id`)

	// sqlGetApplicationAccess is sqlGetMemberAccess for an application: in
	// one query, so in one snapshot, the link by primary key, the
	// application and the organization by primary key, the link's roles by
	// primary-key prefix, the role each name stands for (the template's or
	// the organization's own, by the (tenant_id, name) index) and its
	// permissions by primary-key prefix. A row per (role, permission), one
	// with a NULL permission for a role that grants none or names no role,
	// one with a NULL role for a link without roles; no row at all when the
	// organization or the application does not exist or they are not
	// linked.
	sqlGetApplicationAccess = query(`SELECT ` + qualify("a", applicationColumns) + `, ` +
		qualify("o", organizationColumns) + `, r.role, rp.permission
	FROM application_links l
	JOIN applications a ON a.tenant_id = l.tenant_id AND a.client_id = l.client_id
	JOIN organizations o ON o.tenant_id = l.tenant_id AND o.id = l.organization_id
	LEFT JOIN application_link_roles r
		ON r.tenant_id = l.tenant_id AND r.organization_id = l.organization_id AND r.client_id = l.client_id
	LEFT JOIN organization_roles ro
		ON ro.tenant_id = r.tenant_id AND ro.name = r.role AND ro.organization_id IN ('', $2)
	LEFT JOIN organization_role_permissions rp ON rp.tenant_id = ro.tenant_id AND rp.role_id = ro.id
	WHERE l.tenant_id = $1 AND l.organization_id = $2 AND l.client_id = $3`)
)

// SetApplicationSecret replaces the client's secret hash; the old secret
// stops working at once. ErrNotFound when there is no such client.
func (s *Store) SetApplicationSecret(ctx context.Context, tenantID, clientID string, hash []byte) error {
	res, err := s.write().exec(ctx, sqlSetApplicationSecret, tenantID, clientID, nullBytes(hash))
	return oneRow("set application secret", "application", res, err)
}

// ListOrganizationApplications pages through the applications orgID owns,
// oldest first (ties by client ID). An organization that does not exist
// owns none, and neither does "": a tenant-wide application's owner is
// NULL.
func (s *Store) ListOrganizationApplications(ctx context.Context, tenantID, orgID string, p storage.Page) ([]storage.Application, string, error) {
	return s.listApplicationPage(ctx, "list organization applications", cursorOrgApps, sqlListOrgApplications, p, tenantID, orgID)
}

// LinkApplication links the application to the organization with l.Roles,
// in one transaction. ErrAlreadyExists when they are linked already;
// ErrNotFound when the application or the organization does not exist in
// the tenant (the foreign keys say so). Whether the application may be
// linked (its type, its owner) is the caller's to decide.
func (s *Store) LinkApplication(ctx context.Context, l storage.ApplicationLink) error {
	const op = "link application"
	roles := sortedSet(l.Roles)
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		if _, err := w.exec(ctx, sqlAddLink, l.TenantID, l.OrganizationID, l.ClientID, toMicros(l.CreatedAt)); err != nil {
			return wrap(op, err)
		}
		for _, r := range roles {
			if _, err := w.exec(ctx, sqlAddLinkRole, l.TenantID, l.OrganizationID, l.ClientID, r); err != nil {
				return wrap(op, err)
			}
		}
		return nil
	})
}

// SetApplicationLinkRoles replaces the link's roles, in one transaction.
// ErrNotFound (nothing written) when the application is not linked to the
// organization.
func (s *Store) SetApplicationLinkRoles(ctx context.Context, tenantID, orgID, clientID string, roles []string) error {
	const op = "set application link roles"
	roles = sortedSet(roles)
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		res, err := w.exec(ctx, sqlLockLink, tenantID, orgID, clientID)
		if err := oneRow(op, "application link", res, err); err != nil {
			return err
		}
		if _, err := w.exec(ctx, sqlDeleteLinkRoles, tenantID, orgID, clientID); err != nil {
			return wrap(op, err)
		}
		for _, r := range roles {
			if _, err := w.exec(ctx, sqlAddLinkRole, tenantID, orgID, clientID, r); err != nil {
				return wrap(op, err)
			}
		}
		return nil
	})
}

// UnlinkApplication removes the link and its roles. ErrNotFound when there
// is none.
func (s *Store) UnlinkApplication(ctx context.Context, tenantID, orgID, clientID string) error {
	res, err := s.write().exec(ctx, sqlDeleteLink, tenantID, orgID, clientID)
	return oneRow("unlink application", "application link", res, err)
}

// ListApplicationLinks pages through the organization's links, oldest
// first (ties by client ID), each with its roles sorted. An organization
// that does not exist has no links.
func (s *Store) ListApplicationLinks(ctx context.Context, tenantID, orgID string, p storage.Page) ([]storage.ApplicationLink, string, error) {
	const op = "list application links"
	after, err := decodeCursor(op, cursorAppLinks, p, firstAscending)
	if err != nil {
		return nil, "", err
	}
	limit := p.Limit()
	rows, err := s.read().query(ctx, sqlListLinks, tenantID, orgID, after.at, after.id, limit+1)
	if err != nil {
		return nil, "", wrap(op, err)
	}
	defer rows.Close()
	var ls []storage.ApplicationLink
	for rows.Next() {
		var (
			clientID string
			created  int64
			role     sql.NullString
		)
		if err := rows.Scan(&clientID, &created, &role); err != nil {
			return nil, "", wrap(op, err)
		}
		if n := len(ls); n == 0 || ls[n-1].ClientID != clientID {
			ls = append(ls, storage.ApplicationLink{
				TenantID: tenantID, OrganizationID: orgID, ClientID: clientID, CreatedAt: fromMicros(created),
			})
		}
		if role.Valid {
			last := &ls[len(ls)-1]
			last.Roles = append(last.Roles, role.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(op, err)
	}
	// Sort in Go: ORDER BY follows the database's collation.
	for i := range ls {
		slices.Sort(ls[i].Roles)
	}
	ls, next := pageEnd(cursorAppLinks, ls, limit, func(l storage.ApplicationLink) pageKey {
		return pageKey{toMicros(l.CreatedAt), l.ClientID}
	})
	return ls, next, nil
}

// GetApplicationAccess returns the application, the organization, the
// link's roles and the permissions those roles grant, template and custom
// roles alike, both sorted, in one query. ErrNotFound, the same for all
// three, when the organization or the application does not exist or they
// are not linked. A role name that names no role is kept in Roles and
// grants nothing.
func (s *Store) GetApplicationAccess(ctx context.Context, tenantID, orgID, clientID string) (storage.ApplicationAccess, error) {
	const op = "get application access"
	rows, err := s.read().query(ctx, sqlGetApplicationAccess, tenantID, orgID, clientID)
	if err != nil {
		return storage.ApplicationAccess{}, wrap(op, err)
	}
	defer rows.Close()
	var (
		acc   storage.ApplicationAccess
		found bool
	)
	for rows.Next() {
		var (
			role, perm sql.NullString
			o          storage.Organization
		)
		// The row is the application's columns, the organization's, then
		// the role and the permission: each scan function scans its part.
		a, err := scanApplication(scanFunc(func(appDest ...any) error {
			var err error
			o, err = scanOrganization(scanFunc(func(orgDest ...any) error {
				return rows.Scan(slices.Concat(appDest, orgDest, []any{&role, &perm})...)
			}))
			return err
		}))
		if err != nil {
			return storage.ApplicationAccess{}, wrap(op, err)
		}
		acc.Application, acc.Organization, found = a, o, true
		if role.Valid {
			acc.Roles = append(acc.Roles, role.String)
		}
		if perm.Valid {
			acc.Permissions = append(acc.Permissions, perm.String)
		}
	}
	if err := rows.Err(); err != nil {
		return storage.ApplicationAccess{}, wrap(op, err)
	}
	if !found {
		return storage.ApplicationAccess{}, failf(op, storage.ErrNotFound, "no such organization or application, or not linked")
	}
	// A role repeats once per permission, and a permission once per role
	// that grants it.
	acc.Roles = sortedSet(acc.Roles)
	acc.Permissions = sortedSet(acc.Permissions)
	return acc, nil
}

// scanFunc is a scanner made of a function, so that scan functions of
// several records can share one joined row.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }
