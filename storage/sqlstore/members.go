package sqlstore

import (
	"context"
	"database/sql"
	"slices"

	"github.com/orgid/orgid/storage"
)

var (
	// A page of members is chosen in the subquery, on the (tenant_id,
	// organization_id, joined_at, user_id) index, before the roles are
	// joined: LIMIT counts members, not role rows.
	sqlListMembers = query(`SELECT m.user_id, m.joined_at, u.email, u.name, r.role
		FROM (SELECT tenant_id, organization_id, user_id, joined_at FROM organization_members
			WHERE tenant_id = $1 AND organization_id = $2 AND (joined_at, user_id) > ($3, $4)
			ORDER BY joined_at, user_id LIMIT $5) m
		JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id
		LEFT JOIN organization_member_roles r
			ON r.tenant_id = m.tenant_id AND r.organization_id = m.organization_id AND r.user_id = m.user_id
		ORDER BY m.joined_at, m.user_id`)
	// Locks the membership row (and tells whether it exists) so that
	// concurrent replacements of one member's roles take turns. Setting a
	// column to itself changes no index entry.
	sqlLockMember = query(`UPDATE organization_members SET joined_at = joined_at
		WHERE tenant_id = $1 AND organization_id = $2 AND user_id = $3`)
	sqlDeleteMemberRoles = query(`DELETE FROM organization_member_roles
		WHERE tenant_id = $1 AND organization_id = $2 AND user_id = $3`)
	// The member's roles go by foreign key.
	sqlRemoveMember = query(`DELETE FROM organization_members
		WHERE tenant_id = $1 AND organization_id = $2 AND user_id = $3`)
	sqlCountMembersWithRole = query(`SELECT COUNT(*) FROM organization_member_roles
		WHERE tenant_id = $1 AND organization_id = $2 AND role = $3`)
)

// ListMembers pages through the organization's members, oldest first (ties
// by user ID), each with the user's email and name and their roles
// sorted. An organization that does not exist has no members.
func (s *Store) ListMembers(ctx context.Context, tenantID, orgID string, p storage.Page) ([]storage.Member, string, error) {
	const op = "list members"
	after, err := decodeCursor(op, cursorMembers, p, firstAscending)
	if err != nil {
		return nil, "", err
	}
	limit := p.Limit()
	rows, err := s.read().query(ctx, sqlListMembers, tenantID, orgID, after.at, after.id, limit+1)
	if err != nil {
		return nil, "", wrap(op, err)
	}
	defer rows.Close()
	var ms []storage.Member
	for rows.Next() {
		var (
			userID, email, name string
			joined              int64
			role                sql.NullString
		)
		if err := rows.Scan(&userID, &joined, &email, &name, &role); err != nil {
			return nil, "", wrap(op, err)
		}
		if n := len(ms); n == 0 || ms[n-1].UserID != userID {
			ms = append(ms, storage.Member{
				Membership: storage.Membership{
					TenantID: tenantID, OrganizationID: orgID, UserID: userID, JoinedAt: fromMicros(joined),
				},
				Email: email,
				Name:  name,
			})
		}
		if role.Valid {
			last := &ms[len(ms)-1]
			last.Roles = append(last.Roles, role.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(op, err)
	}
	for i := range ms {
		slices.Sort(ms[i].Roles)
	}
	ms, next := pageEnd(cursorMembers, ms, limit, func(m storage.Member) pageKey {
		return pageKey{toMicros(m.JoinedAt), m.UserID}
	})
	return ms, next, nil
}

// SetMemberRoles replaces the member's roles, in one transaction.
// ErrNotFound (nothing written) when the user is not a member.
func (s *Store) SetMemberRoles(ctx context.Context, tenantID, orgID, userID string, roles []string) error {
	const op = "set member roles"
	roles = sortedSet(roles)
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		if _, err := w.exec(ctx, sqlLockOrganization, tenantID, orgID); err != nil {
			return wrap(op, err)
		}
		res, err := w.exec(ctx, sqlLockMember, tenantID, orgID, userID)
		if err := oneRow(op, "membership", res, err); err != nil {
			return err
		}
		if _, err := w.exec(ctx, sqlDeleteMemberRoles, tenantID, orgID, userID); err != nil {
			return wrap(op, err)
		}
		for _, r := range roles {
			if _, err := w.exec(ctx, sqlAddMemberRole, tenantID, orgID, userID, r); err != nil {
				return wrap(op, err)
			}
		}
		return nil
	})
}

// RemoveMembership removes the member and their roles. ErrNotFound when
// the user is not a member.
//
// SetMemberRoles and RemoveMembership lock the organization row first, so
// that changes to one organization's members take turns on PostgreSQL: a
// caller that counts owners after its change (in the same transaction)
// then sees every change committed before it, and two owners demoting each
// other at once cannot both succeed. Lock order is organization, then
// member, everywhere.
func (s *Store) RemoveMembership(ctx context.Context, tenantID, orgID, userID string) error {
	const op = "remove membership"
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		if _, err := w.exec(ctx, sqlLockOrganization, tenantID, orgID); err != nil {
			return wrap(op, err)
		}
		res, err := w.exec(ctx, sqlRemoveMember, tenantID, orgID, userID)
		return oneRow(op, "membership", res, err)
	})
}

// CountMembersWithRole counts the organization's members that hold role.
func (s *Store) CountMembersWithRole(ctx context.Context, tenantID, orgID, role string) (int, error) {
	var n int
	err := s.read().queryRow(ctx, sqlCountMembersWithRole, tenantID, orgID, role).Scan(&n)
	return n, wrap("count members with role", err)
}
