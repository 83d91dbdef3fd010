package sqlstore

import (
	"context"
	"database/sql"
	"slices"

	"github.com/orgid/orgid/storage"
)

var (
	sqlAddMember = query(`INSERT INTO organization_members (tenant_id, organization_id, user_id, joined_at)
		VALUES ($1, $2, $3, $4)`)
	sqlAddMemberRole = query(`INSERT INTO organization_member_roles (tenant_id, organization_id, user_id, role)
		VALUES ($1, $2, $3, $4)`)
	// One query for all of a user's memberships and their roles: a row per
	// role, or one row with a NULL role for a member without roles.
	sqlListUserMemberships = query(`SELECT m.organization_id, m.joined_at, r.role
		FROM organization_members m
		LEFT JOIN organization_member_roles r
			ON r.tenant_id = m.tenant_id AND r.organization_id = m.organization_id AND r.user_id = m.user_id
		WHERE m.tenant_id = $1 AND m.user_id = $2
		ORDER BY m.joined_at, m.organization_id, r.role`)
	sqlGetMembership = query(`SELECT m.joined_at, r.role
		FROM organization_members m
		LEFT JOIN organization_member_roles r
			ON r.tenant_id = m.tenant_id AND r.organization_id = m.organization_id AND r.user_id = m.user_id
		WHERE m.tenant_id = $1 AND m.organization_id = $2 AND m.user_id = $3`)
)

// AddMembership makes the user a member of the organization with m.Roles,
// in one transaction. ErrAlreadyExists when the user is already a member;
// ErrNotFound when the user or the organization does not exist in the
// tenant (the foreign keys say so).
func (s *Store) AddMembership(ctx context.Context, m storage.Membership) error {
	const op = "add membership"
	roles := sortedSet(m.Roles)
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		if _, err := w.exec(ctx, sqlAddMember, m.TenantID, m.OrganizationID, m.UserID, toMicros(m.JoinedAt)); err != nil {
			return wrap(op, err)
		}
		for _, r := range roles {
			if _, err := w.exec(ctx, sqlAddMemberRole, m.TenantID, m.OrganizationID, m.UserID, r); err != nil {
				return wrap(op, err)
			}
		}
		return nil
	})
}

// GetMembership returns the user's membership of the organization with its
// roles sorted, or ErrNotFound.
func (s *Store) GetMembership(ctx context.Context, tenantID, orgID, userID string) (storage.Membership, error) {
	const op = "get membership"
	rows, err := s.read().query(ctx, sqlGetMembership, tenantID, orgID, userID)
	if err != nil {
		return storage.Membership{}, wrap(op, err)
	}
	defer rows.Close()
	m := storage.Membership{TenantID: tenantID, OrganizationID: orgID, UserID: userID}
	found := false
	for rows.Next() {
		var (
			joined int64
			role   sql.NullString
		)
		if err := rows.Scan(&joined, &role); err != nil {
			return storage.Membership{}, wrap(op, err)
		}
		found = true
		m.JoinedAt = fromMicros(joined)
		if role.Valid {
			m.Roles = append(m.Roles, role.String)
		}
	}
	if err := rows.Err(); err != nil {
		return storage.Membership{}, wrap(op, err)
	}
	if !found {
		return storage.Membership{}, failf(op, storage.ErrNotFound, "not a member")
	}
	slices.Sort(m.Roles)
	return m, nil
}

// ListUserMemberships returns the user's memberships, oldest first, each
// with its roles sorted.
func (s *Store) ListUserMemberships(ctx context.Context, tenantID, userID string) ([]storage.Membership, error) {
	const op = "list user memberships"
	rows, err := s.read().query(ctx, sqlListUserMemberships, tenantID, userID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var ms []storage.Membership
	for rows.Next() {
		var (
			orgID  string
			joined int64
			role   *string
		)
		if err := rows.Scan(&orgID, &joined, &role); err != nil {
			return nil, wrap(op, err)
		}
		if n := len(ms); n == 0 || ms[n-1].OrganizationID != orgID {
			ms = append(ms, storage.Membership{
				TenantID:       tenantID,
				OrganizationID: orgID,
				UserID:         userID,
				JoinedAt:       fromMicros(joined),
			})
		}
		if role != nil {
			ms[len(ms)-1].Roles = append(ms[len(ms)-1].Roles, *role)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	// Sort in Go: ORDER BY follows the database's collation, which on
	// PostgreSQL need not be byte order.
	for i := range ms {
		slices.Sort(ms[i].Roles)
	}
	return ms, nil
}

// sortedSet returns v sorted (byte order) without repeats, as a new slice.
func sortedSet(v []string) []string {
	v = slices.Clone(v)
	slices.Sort(v)
	return slices.Compact(v)
}
