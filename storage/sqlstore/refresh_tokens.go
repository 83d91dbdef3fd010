package sqlstore

import (
	"bytes"
	"context"
	"database/sql"

	"github.com/orgid/orgid/storage"
)

const refreshTokenColumns = `token_hash, previous_hashes, client_id, user_id, scopes, audience, auth_time, amr, acr,
	organization_id, created_at, expires_at`

var (
	// The NOT EXISTS keeps a revoked grant's token gone even when it was
	// written after the revocation (a code exchange racing a replayed code).
	sqlCreateRefreshToken = query(`INSERT INTO refresh_tokens (tenant_id, grant_id, ` + refreshTokenColumns + `)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
		WHERE NOT EXISTS (SELECT 1 FROM revocations WHERE tenant_id = $1 AND id = $2)`)
	// The grant's user comes in the same primary-key read (a refresh's ID
	// token needs it), and whether that user has MFA by one more
	// primary-key lookup (mfaJoin); LEFT JOIN, so a deleted user shows as
	// no user.
	sqlGetRefreshToken = query(`SELECT r.token_hash, r.previous_hashes, r.client_id, r.user_id, r.scopes, r.audience,
		r.auth_time, r.amr, r.acr, r.organization_id, r.created_at, r.expires_at,
		u.id, u.email, u.email_verified, u.name, u.provisioned_at, u.sessions_not_before, u.tenant_roles, u.created_at, u.updated_at,
		t.confirmed_at
		FROM refresh_tokens r LEFT JOIN users u ON u.tenant_id = r.tenant_id AND u.id = r.user_id
		` + mfaJoin + `
		WHERE r.tenant_id = $1 AND r.grant_id = $2
		AND NOT EXISTS (SELECT 1 FROM revocations v WHERE v.tenant_id = r.tenant_id AND v.id = r.grant_id)`)
	sqlRotateRefreshToken = query(`UPDATE refresh_tokens
		SET token_hash = $4, previous_hashes = $5, created_at = $6, expires_at = $7
		WHERE tenant_id = $1 AND grant_id = $2 AND token_hash = $3`)
	sqlRefreshTokenExists = query(`SELECT COUNT(*) FROM refresh_tokens WHERE tenant_id = $1 AND grant_id = $2`)
)

// CreateRefreshToken stores the first refresh token of a grant;
// ErrAlreadyExists when the grant has one, ErrConflict (nothing stored)
// when the grant is already revoked.
func (s *Store) CreateRefreshToken(ctx context.Context, rt storage.RefreshToken) error {
	const op = "create refresh token"
	g := rt.Grant
	res, err := s.write().exec(ctx, sqlCreateRefreshToken,
		rt.TenantID, g.ID, rt.TokenHash, joinHashes(rt.PreviousHashes), g.ClientID, g.UserID,
		encodeList(g.Scopes), encodeList(g.Audience), toMicros(g.AuthTime), encodeList(g.AMR), g.ACR,
		g.OrganizationID, toMicros(rt.CreatedAt), toMicros(rt.ExpiresAt))
	if err != nil {
		return wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap(op, err)
	} else if n == 0 {
		return failf(op, storage.ErrConflict, "grant is revoked")
	}
	return nil
}

// GetRefreshToken returns the refresh token of a grant. ErrNotFound when
// there is none or the grant is revoked. An expired token is returned as
// it is: the caller's clock decides expiry.
func (s *Store) GetRefreshToken(ctx context.Context, tenantID, grantID string) (storage.RefreshToken, error) {
	var (
		rt                         storage.RefreshToken
		prev                       []byte
		scopes, aud, amr           string
		authTime, created, expires int64
		uID, uEmail, uName, uRoles sql.NullString
		uVerified                  sql.NullBool
		uProvisioned, uNotBefore   sql.NullInt64
		uCreated, uUpdated, uMFA   sql.NullInt64
	)
	g := &rt.Grant
	err := s.read().queryRow(ctx, sqlGetRefreshToken, tenantID, grantID).Scan(
		&rt.TokenHash, &prev, &g.ClientID, &g.UserID, &scopes, &aud, &authTime, &amr, &g.ACR, &g.OrganizationID, &created, &expires,
		&uID, &uEmail, &uVerified, &uName, &uProvisioned, &uNotBefore, &uRoles, &uCreated, &uUpdated, &uMFA)
	if err != nil {
		return storage.RefreshToken{}, wrap("get refresh token", err)
	}
	rt.TenantID, g.ID = tenantID, grantID
	if uID.Valid {
		roles, err := decodeList(uRoles.String)
		if err != nil {
			return storage.RefreshToken{}, wrap("get refresh token", err)
		}
		rt.User = storage.User{
			TenantRoles: roles,
			TenantID:    tenantID, ID: uID.String, Email: uEmail.String, EmailVerified: uVerified.Bool, Name: uName.String,
			MFAEnabled:    uMFA.Valid,
			ProvisionedAt: fromNullMicros(uProvisioned), SessionsNotBefore: fromNullMicros(uNotBefore),
			CreatedAt: fromNullMicros(uCreated), UpdatedAt: fromNullMicros(uUpdated),
		}
	}
	rt.PreviousHashes = splitHashes(prev)
	g.AuthTime = fromMicros(authTime)
	rt.CreatedAt, rt.ExpiresAt = fromMicros(created), fromMicros(expires)
	if g.Scopes, err = decodeList(scopes); err == nil {
		if g.Audience, err = decodeList(aud); err == nil {
			g.AMR, err = decodeList(amr)
		}
	}
	if err != nil {
		return storage.RefreshToken{}, wrap("get refresh token", err)
	}
	return rt, nil
}

// RotateRefreshToken replaces the grant's token with next when its current
// hash is oldHash. One UPDATE, so it needs no transaction: on PostgreSQL a
// concurrent second UPDATE waits for the first and then matches no row; on
// SQLite the single writer serializes them. ErrNotFound when the grant has
// no token, ErrConflict (nothing written) when oldHash is no longer current.
func (s *Store) RotateRefreshToken(ctx context.Context, tenantID string, oldHash []byte, next storage.RefreshToken) error {
	const op = "rotate refresh token"
	w := s.write()
	res, err := w.exec(ctx, sqlRotateRefreshToken, tenantID, next.Grant.ID, oldHash,
		next.TokenHash, joinHashes(next.PreviousHashes), toMicros(next.CreatedAt), toMicros(next.ExpiresAt))
	n, err := affected(op, res, err)
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	var exists int
	if err := w.queryRow(ctx, sqlRefreshTokenExists, tenantID, next.Grant.ID).Scan(&exists); err != nil {
		return wrap(op, err)
	}
	if exists == 0 {
		return failf(op, storage.ErrNotFound, "grant has no refresh token")
	}
	return failf(op, storage.ErrConflict, "refresh token already rotated")
}

// joinHashes stores a list of SHA-256 hashes as their concatenation.
func joinHashes(hs [][]byte) []byte {
	return bytes.Join(hs, nil)
}

// splitHashes reads back what joinHashes stored.
func splitHashes(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 32 {
		out = append(out, b[:32:32])
		b = b[32:]
	}
	return out
}
