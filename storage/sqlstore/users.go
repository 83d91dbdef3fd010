package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/orgid/orgid/storage"
)

// userSelect reads a user with User.MFAEnabled in the same statement:
// t.confirmed_at is NULL unless the user has a confirmed TOTP factor.
const userSelect = `SELECT u.tenant_id, u.id, u.email, u.email_verified, u.name, u.password_hash,
		u.provisioned_at, u.sessions_not_before, u.tenant_roles, u.created_at, u.updated_at, t.confirmed_at
		FROM users u ` + mfaJoin

// mfaJoin finds the confirmed TOTP factor, if any, of the user aliased u,
// by primary key, as t. It is how every read that returns a user (or
// MemberAccess.UserMFAEnabled) learns whether the user has MFA, without a
// round trip of its own.
const mfaJoin = `LEFT JOIN user_totp t ON t.tenant_id = u.tenant_id AND t.user_id = u.id AND t.confirmed_at > 0`

var (
	sqlCreateUser = query(`INSERT INTO users (tenant_id, id, email, email_norm, email_verified, name, password_hash, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`)
	sqlGetUser        = query(userSelect + ` WHERE u.tenant_id = $1 AND u.id = $2`)
	sqlGetUserByEmail = query(userSelect + ` WHERE u.tenant_id = $1 AND u.email_norm = $2`)
	sqlUpdateUser     = query(`UPDATE users SET email = $3, email_norm = $4, email_verified = $5, name = $6,
		password_hash = $7, updated_at = $8
		WHERE tenant_id = $1 AND id = $2`)
	// Memberships (and their roles), the TOTP factor, the recovery codes,
	// external identities and email links go with the user by foreign key.
	// Refresh tokens have no foreign key to users, so they are deleted by
	// the (tenant_id, user_id) index.
	sqlDeleteUser       = query(`DELETE FROM users WHERE tenant_id = $1 AND id = $2`)
	sqlDeleteUserTokens = query(`DELETE FROM refresh_tokens WHERE tenant_id = $1 AND user_id = $2`)
	// Provisioning runs once: of concurrent marks, the first to write
	// leaves provisioned_at non-zero and the others match no row.
	sqlMarkUserProvisioned = query(`UPDATE users SET provisioned_at = $3
		WHERE tenant_id = $1 AND id = $2 AND provisioned_at = 0`)
	// What a refused mark found instead: no row is ErrNotFound.
	sqlUserProvisionedAt    = query(`SELECT provisioned_at FROM users WHERE tenant_id = $1 AND id = $2`)
	sqlSetSessionsNotBefore = query(`UPDATE users SET sessions_not_before = $3 WHERE tenant_id = $1 AND id = $2`)
	sqlSetUserTenantRoles   = query(`UPDATE users SET tenant_roles = $3 WHERE tenant_id = $1 AND id = $2`)
	// Oldest first along the (tenant_id, created_at, id) index; $4 is a
	// LIKE pattern ('%' for all) matched against the lowercased email and
	// name.
	sqlSearchUsers = query(userSelect + ` WHERE u.tenant_id = $1 AND (u.created_at, u.id) > ($2, $3)
		AND (u.email_norm LIKE $4 ESCAPE '\' OR lower(u.name) LIKE $4 ESCAPE '\')
		ORDER BY u.created_at, u.id LIMIT $5`)
	sqlUserOrganizationIDs = query(`SELECT organization_id FROM organization_members
		WHERE tenant_id = $1 AND user_id = $2 ORDER BY organization_id`)
	// A user's organizations with the user's roles there, in one query
	// that starts from the (tenant_id, user_id) index of memberships and
	// looks up each organization and its roles by primary key: a row per
	// role, or one row with a NULL role for a member without roles. The
	// rows of one organization are adjacent, which is all the grouping in
	// Go needs.
	sqlListUserOrganizations = query(`SELECT o.id, o.name, o.slug, r.role
		FROM organization_members m
		JOIN organizations o ON o.tenant_id = m.tenant_id AND o.id = m.organization_id
		LEFT JOIN organization_member_roles r
			ON r.tenant_id = m.tenant_id AND r.organization_id = m.organization_id AND r.user_id = m.user_id
		WHERE m.tenant_id = $1 AND m.user_id = $2
		ORDER BY m.joined_at, m.organization_id`)
)

// normEmail is the case-insensitive identity of an email. Lowercasing in
// Go rather than in SQL keeps both dialects (and Unicode) in agreement.
func normEmail(email string) string { return strings.ToLower(email) }

// CreateUser stores a new user; ErrAlreadyExists when the ID or the email
// (case-insensitively) is taken in the tenant.
func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	_, err := s.write().exec(ctx, sqlCreateUser,
		u.TenantID, u.ID, u.Email, nullString(normEmail(u.Email)), u.EmailVerified, u.Name, u.PasswordHash,
		toMicros(u.CreatedAt), toMicros(u.UpdatedAt))
	return wrap("create user", err)
}

// GetUser returns the tenant's user id, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, tenantID, id string) (storage.User, error) {
	u, err := scanUser(s.read().queryRow(ctx, sqlGetUser, tenantID, id))
	return u, wrap("get user", err)
}

// GetUserByEmail returns the tenant's user with that email, compared
// case-insensitively, or ErrNotFound.
func (s *Store) GetUserByEmail(ctx context.Context, tenantID, email string) (storage.User, error) {
	if email == "" {
		return storage.User{}, failf("get user by email", storage.ErrNotFound, "empty email")
	}
	u, err := scanUser(s.read().queryRow(ctx, sqlGetUserByEmail, tenantID, normEmail(email)))
	return u, wrap("get user by email", err)
}

// UpdateUser replaces the user's email, email_verified, name, password
// hash and updated_at. ErrNotFound when there is no such user;
// ErrAlreadyExists (nothing written) when another user of the tenant has
// the email, compared case-insensitively.
func (s *Store) UpdateUser(ctx context.Context, u storage.User) error {
	const op = "update user"
	res, err := s.write().exec(ctx, sqlUpdateUser, u.TenantID, u.ID,
		u.Email, nullString(normEmail(u.Email)), u.EmailVerified, u.Name, u.PasswordHash, toMicros(u.UpdatedAt))
	return oneRow(op, "user", res, err)
}

// DeleteUser removes the user, their memberships, second factors and
// refresh tokens in one transaction. ErrNotFound when there is no such user.
func (s *Store) DeleteUser(ctx context.Context, tenantID, id string) error {
	const op = "delete user"
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		// The user's memberships go by foreign key: lock their
		// organizations first, in ID order, as SetMemberRoles and
		// RemoveMembership do (see there).
		var orgs []string
		rows, err := w.query(ctx, sqlUserOrganizationIDs, tenantID, id)
		if err != nil {
			return wrap(op, err)
		}
		for rows.Next() {
			var org string
			if err := rows.Scan(&org); err != nil {
				rows.Close()
				return wrap(op, err)
			}
			orgs = append(orgs, org)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(op, err)
		}
		for _, org := range orgs {
			if _, err := w.exec(ctx, sqlLockOrganization, tenantID, org); err != nil {
				return wrap(op, err)
			}
		}
		res, err := w.exec(ctx, sqlDeleteUser, tenantID, id)
		if err := oneRow(op, "user", res, err); err != nil {
			return err
		}
		_, err = w.exec(ctx, sqlDeleteUserTokens, tenantID, id)
		return wrap(op, err)
	})
}

// MarkUserProvisioned sets the user's ProvisionedAt to at unless it is
// set already, by one compare-and-set UPDATE: of concurrent callers
// exactly one changes the row (on PostgreSQL the others wait for it and
// then match nothing). ErrConflict when provisioning has run already;
// ErrNotFound when there is no such user.
func (s *Store) MarkUserProvisioned(ctx context.Context, tenantID, userID string, at time.Time) error {
	const op = "mark user provisioned"
	if at.IsZero() {
		// provisioned_at 0 means never provisioned.
		return failf(op, errInvalid, "zero provisioning time")
	}
	w := s.write()
	res, err := w.exec(ctx, sqlMarkUserProvisioned, tenantID, userID, toMicros(at))
	n, err := affected(op, res, err)
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	// Only a refused mark pays for this second read.
	var prev int64
	if err := w.queryRow(ctx, sqlUserProvisionedAt, tenantID, userID).Scan(&prev); err != nil {
		return wrap(op, err) // no row: ErrNotFound
	}
	return failf(op, storage.ErrConflict, "user was provisioned at %v", fromMicros(prev))
}

// EndUserSessions sets the user's SessionsNotBefore to at and deletes
// their refresh tokens, in one transaction. ErrNotFound when there is no
// such user.
func (s *Store) EndUserSessions(ctx context.Context, tenantID, userID string, at time.Time) error {
	const op = "end user sessions"
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		res, err := w.exec(ctx, sqlSetSessionsNotBefore, tenantID, userID, toMicros(at))
		if err := oneRow(op, "user", res, err); err != nil {
			return err
		}
		_, err = w.exec(ctx, sqlDeleteUserTokens, tenantID, userID)
		return wrap(op, err)
	})
}

// ListUserOrganizations returns the organizations the user belongs to,
// oldest membership first, each with the user's roles there sorted.
func (s *Store) ListUserOrganizations(ctx context.Context, tenantID, userID string) ([]storage.UserOrganization, error) {
	const op = "list user organizations"
	rows, err := s.read().query(ctx, sqlListUserOrganizations, tenantID, userID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var orgs []storage.UserOrganization
	for rows.Next() {
		var (
			id, name, slug string
			role           sql.NullString
		)
		if err := rows.Scan(&id, &name, &slug, &role); err != nil {
			return nil, wrap(op, err)
		}
		if n := len(orgs); n == 0 || orgs[n-1].ID != id {
			orgs = append(orgs, storage.UserOrganization{ID: id, Name: name, Slug: slug})
		}
		if role.Valid {
			last := &orgs[len(orgs)-1]
			last.Roles = append(last.Roles, role.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	// Sorted in Go: ORDER BY follows the database's collation, which on
	// PostgreSQL need not be byte order.
	for i := range orgs {
		slices.Sort(orgs[i].Roles)
	}
	return orgs, nil
}

func scanUser(sc scanner) (storage.User, error) {
	var (
		u                storage.User
		created, updated int64
		provisioned      int64
		notBefore        int64
		mfaConfirmed     sql.NullInt64
	)
	var tenantRoles string
	if err := sc.Scan(&u.TenantID, &u.ID, &u.Email, &u.EmailVerified, &u.Name, &u.PasswordHash,
		&provisioned, &notBefore, &tenantRoles, &created, &updated, &mfaConfirmed); err != nil {
		return storage.User{}, err
	}
	var err error
	if u.TenantRoles, err = decodeList(tenantRoles); err != nil {
		return storage.User{}, err
	}
	u.ProvisionedAt, u.SessionsNotBefore = fromMicros(provisioned), fromMicros(notBefore)
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	u.MFAEnabled = mfaConfirmed.Valid
	return u, nil
}

// SetUserTenantRoles replaces the user's tenant roles. ErrNotFound when
// there is no such user.
func (s *Store) SetUserTenantRoles(ctx context.Context, tenantID, userID string, roles []string) error {
	res, err := s.write().exec(ctx, sqlSetUserTenantRoles, tenantID, userID, encodeList(roles))
	return oneRow("set user tenant roles", "user", res, err)
}

// SearchUsers pages through the tenant's users, oldest first, keeping
// those whose email or name contains query case-insensitively. Without an
// index on the text (a tenant's users are few enough for the portal to
// scan), the page stops after limit+1 matches.
func (s *Store) SearchUsers(ctx context.Context, tenantID, query string, p storage.Page) ([]storage.User, string, error) {
	const op = "search users"
	after, err := decodeCursor(op, cursorUsers, p, firstAscending)
	if err != nil {
		return nil, "", err
	}
	limit := p.Limit()
	rows, err := s.read().query(ctx, sqlSearchUsers, tenantID, after.at, after.id, containsPattern(query), limit+1)
	if err != nil {
		return nil, "", wrap(op, err)
	}
	defer rows.Close()
	var us []storage.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, "", wrap(op, err)
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(op, err)
	}
	us, next := pageEnd(cursorUsers, us, limit, func(u storage.User) pageKey {
		return pageKey{toMicros(u.CreatedAt), u.ID}
	})
	return us, next, nil
}

// containsPattern is the LIKE pattern (escape character \) that matches
// text containing q, lowercased.
func containsPattern(q string) string {
	return "%" + likeEscaper.Replace(strings.ToLower(q)) + "%"
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
