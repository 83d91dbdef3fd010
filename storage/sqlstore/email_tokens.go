package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/orgid/orgid/storage"
)

// Single-use email links (verification, password reset), found by the
// SHA-256 of their secret.

var (
	// A taken hash fails the primary key (ErrAlreadyExists), a missing
	// user the foreign key (ErrNotFound).
	sqlCreateEmailToken = query(`INSERT INTO email_tokens (tenant_id, hash, kind, user_id, email, created_at, expires_at, used_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`)
	// By primary key; a token of another kind is no token of this one.
	sqlGetEmailToken = query(`SELECT user_id, email, created_at, expires_at, used_at FROM email_tokens
		WHERE tenant_id = $1 AND hash = $2 AND kind = $3`)
	// A use is one compare-and-set: of concurrent uses, the first to
	// write leaves used_at non-zero and the others match no row (on
	// PostgreSQL they wait for it first). RETURNING reads the token in the
	// same round trip.
	sqlUseEmailToken = query(`UPDATE email_tokens SET used_at = $4
		WHERE tenant_id = $1 AND hash = $2 AND kind = $3 AND used_at = 0 AND expires_at > $4
		RETURNING user_id, email, created_at, expires_at, used_at`)
)

// CreateEmailToken stores t. ErrAlreadyExists when its hash is taken in
// the tenant, by a token of any kind; ErrNotFound when the user does not
// exist.
func (s *Store) CreateEmailToken(ctx context.Context, t storage.EmailToken) error {
	_, err := s.write().exec(ctx, sqlCreateEmailToken,
		t.TenantID, t.Hash, string(t.Kind), t.UserID, t.Email,
		toMicros(t.CreatedAt), toMicros(t.ExpiresAt), toMicros(t.UsedAt))
	return wrap("create email token", err)
}

// GetEmailToken returns the token of kind with hash, used or not,
// expired or not. ErrNotFound.
func (s *Store) GetEmailToken(ctx context.Context, tenantID string, kind storage.EmailTokenKind, hash []byte) (storage.EmailToken, error) {
	t, err := scanEmailToken(s.read().queryRow(ctx, sqlGetEmailToken, tenantID, hash, string(kind)), tenantID, kind, hash)
	return t, wrap("get email token", err)
}

// UseEmailToken marks the unused, unexpired token of kind with hash used
// at at and returns it, by one compare-and-set UPDATE. ErrNotFound when
// there is no such token; ErrConflict (nothing written) when it is used
// or has expired at at.
func (s *Store) UseEmailToken(ctx context.Context, tenantID string, kind storage.EmailTokenKind, hash []byte, at time.Time) (storage.EmailToken, error) {
	const op = "use email token"
	if at.IsZero() {
		// used_at 0 means unused.
		return storage.EmailToken{}, failf(op, errInvalid, "zero use time")
	}
	w := s.write()
	t, err := scanEmailToken(w.queryRow(ctx, sqlUseEmailToken, tenantID, hash, string(kind), toMicros(at)), tenantID, kind, hash)
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return storage.EmailToken{}, wrap(op, err)
	}
	// Only a refused use pays for this second read.
	t, err = scanEmailToken(w.queryRow(ctx, sqlGetEmailToken, tenantID, hash, string(kind)), tenantID, kind, hash)
	if err != nil {
		return storage.EmailToken{}, wrap(op, err) // no row: ErrNotFound
	}
	if !t.UsedAt.IsZero() {
		return storage.EmailToken{}, failf(op, storage.ErrConflict, "token is used already")
	}
	return storage.EmailToken{}, failf(op, storage.ErrConflict, "token has expired")
}

// scanEmailToken reads what sqlGetEmailToken and sqlUseEmailToken return
// into the token of tenantID, kind and hash.
func scanEmailToken(sc scanner, tenantID string, kind storage.EmailTokenKind, hash []byte) (storage.EmailToken, error) {
	t := storage.EmailToken{TenantID: tenantID, Kind: kind, Hash: bytes.Clone(hash)}
	var created, expires, used int64
	if err := sc.Scan(&t.UserID, &t.Email, &created, &expires, &used); err != nil {
		return storage.EmailToken{}, err
	}
	t.CreatedAt, t.ExpiresAt, t.UsedAt = fromMicros(created), fromMicros(expires), fromMicros(used)
	return t, nil
}
