package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/orgid/orgid/storage"
)

// sqlGetMemberAccess reads everything an organization token is made of in
// one query, so in one snapshot: the membership by primary key, its
// organization by primary key, the member's roles by primary-key prefix,
// the role each name stands for (the template's or the organization's own,
// by the (tenant_id, name) index) and that role's permissions by
// primary-key prefix, and the member's confirmed TOTP factor, if any, by
// primary key (MemberAccess.UserMFAEnabled; at most one, so it multiplies
// no rows). There is a row per (role, permission), one with a NULL
// permission for a role that grants none or names no role, and one with a
// NULL role for a member without roles; no row at all when the
// organization does not exist or the user is not a member of it.
var sqlGetMemberAccess = query(`SELECT ` + qualify("o", organizationColumns) + `, r.role, rp.permission, t.confirmed_at
	FROM organization_members m
	JOIN organizations o ON o.tenant_id = m.tenant_id AND o.id = m.organization_id
	LEFT JOIN user_totp t ON t.tenant_id = m.tenant_id AND t.user_id = m.user_id AND t.confirmed_at > 0
	LEFT JOIN organization_member_roles r
		ON r.tenant_id = m.tenant_id AND r.organization_id = m.organization_id AND r.user_id = m.user_id
	LEFT JOIN organization_roles ro
		ON ro.tenant_id = r.tenant_id AND ro.name = r.role AND ro.organization_id IN ('', $2)
	LEFT JOIN organization_role_permissions rp ON rp.tenant_id = ro.tenant_id AND rp.role_id = ro.id
	WHERE m.tenant_id = $1 AND m.organization_id = $2 AND m.user_id = $3`)

// GetMemberAccess returns the organization, the user's roles there and the
// permissions those roles grant, template and custom roles alike, both
// sorted. ErrNotFound, the same for both, when the organization does not
// exist or the user is not a member. A role name that names no role is
// kept in Roles and grants nothing.
func (s *Store) GetMemberAccess(ctx context.Context, tenantID, orgID, userID string) (storage.MemberAccess, error) {
	const op = "get member access"
	rows, err := s.read().query(ctx, sqlGetMemberAccess, tenantID, orgID, userID)
	if err != nil {
		return storage.MemberAccess{}, wrap(op, err)
	}
	defer rows.Close()
	var (
		a     storage.MemberAccess
		found bool
	)
	for rows.Next() {
		var (
			role, perm sql.NullString
			mfa        sql.NullInt64
		)
		o, err := scanOrganization(orgAndMore{rows, []any{&role, &perm, &mfa}})
		if err != nil {
			return storage.MemberAccess{}, wrap(op, err)
		}
		a.Organization, a.UserMFAEnabled, found = o, mfa.Valid, true
		if role.Valid {
			a.Roles = append(a.Roles, role.String)
		}
		if perm.Valid {
			a.Permissions = append(a.Permissions, perm.String)
		}
	}
	if err := rows.Err(); err != nil {
		return storage.MemberAccess{}, wrap(op, err)
	}
	if !found {
		return storage.MemberAccess{}, failf(op, storage.ErrNotFound, "no such organization or not a member")
	}
	// A role repeats once per permission, and a permission once per role
	// that grants it.
	a.Roles = sortedSet(a.Roles)
	a.Permissions = sortedSet(a.Permissions)
	return a, nil
}

// orgAndMore scans a row that holds an organization's columns followed by
// more, so that scanOrganization serves joined queries too.
type orgAndMore struct {
	sc   scanner
	more []any
}

func (x orgAndMore) Scan(dest ...any) error {
	return x.sc.Scan(append(dest, x.more...)...)
}

// qualify prefixes each column of a comma-separated list with alias.
func qualify(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
