package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/orgid/orgid/storage"
)

var (
	sqlCreateSigningKey = query(`INSERT INTO signing_keys (tenant_id, id, algorithm, state, private_key, public_jwk, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`)
	sqlListSigningKeys = query(`SELECT tenant_id, id, algorithm, state, private_key, public_jwk, created_at, expires_at
		FROM signing_keys WHERE tenant_id = $1 ORDER BY created_at, id`)
	sqlUpdateSigningKeyState = query(`UPDATE signing_keys SET state = $4, expires_at = $5
		WHERE tenant_id = $1 AND id = $2 AND state = $3`)
	sqlSigningKeyExists            = query(`SELECT COUNT(*) FROM signing_keys WHERE tenant_id = $1 AND id = $2`)
	sqlDeleteSigningKeysExpiredBef = query(`DELETE FROM signing_keys
		WHERE tenant_id = $1 AND state = 'retired' AND expires_at > 0 AND expires_at < $2`)
)

// CreateSigningKey stores a new key. ErrAlreadyExists when the kid is
// taken, or when k is active (or next) and the tenant already has an active
// (or next) key for the algorithm: a unique index decides, so of two
// replicas creating one at once exactly one wins.
func (s *Store) CreateSigningKey(ctx context.Context, k storage.SigningKey) error {
	_, err := s.write().exec(ctx, sqlCreateSigningKey,
		k.TenantID, k.ID, k.Algorithm, string(k.State), k.PrivateKey, k.PublicJWK,
		toMicros(k.CreatedAt), toMicros(k.ExpiresAt))
	return wrap("create signing key", err)
}

// ListSigningKeys returns every key of the tenant, oldest first.
func (s *Store) ListSigningKeys(ctx context.Context, tenantID string) ([]storage.SigningKey, error) {
	const op = "list signing keys"
	rows, err := s.read().query(ctx, sqlListSigningKeys, tenantID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var ks []storage.SigningKey
	for rows.Next() {
		var (
			k                storage.SigningKey
			state            string
			created, expires int64
		)
		if err := rows.Scan(&k.TenantID, &k.ID, &k.Algorithm, &state, &k.PrivateKey, &k.PublicJWK, &created, &expires); err != nil {
			return nil, wrap(op, err)
		}
		k.State = storage.KeyState(state)
		k.CreatedAt, k.ExpiresAt = fromMicros(created), fromMicros(expires)
		ks = append(ks, k)
	}
	return ks, wrap(op, rows.Err())
}

// UpdateSigningKeyState moves key kid from state from to state to and sets
// its ExpiresAt, as one compare-and-set UPDATE. ErrNotFound when there is
// no such key; ErrConflict when it is not in state from, or when moving it
// would make a second active (or next) key for its algorithm — in both
// cases another replica got there first.
func (s *Store) UpdateSigningKeyState(ctx context.Context, tenantID, kid string, from, to storage.KeyState, expiresAt time.Time) error {
	const op = "update signing key state"
	w := s.write()
	res, err := w.exec(ctx, sqlUpdateSigningKeyState, tenantID, kid, string(from), string(to), toMicros(expiresAt))
	if err != nil {
		if errors.Is(sentinel(err), storage.ErrAlreadyExists) {
			return failf(op, storage.ErrConflict, "another key of %q's algorithm is %s: %v", kid, to, err)
		}
		return wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return wrap(op, err)
	}
	var n int
	if err := w.queryRow(ctx, sqlSigningKeyExists, tenantID, kid).Scan(&n); err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return failf(op, storage.ErrNotFound, "no key %q", kid)
	}
	return failf(op, storage.ErrConflict, "key %q is not %s", kid, from)
}

// DeleteSigningKeysExpiredBefore removes the tenant's retired keys whose
// ExpiresAt is before t and returns how many it removed.
func (s *Store) DeleteSigningKeysExpiredBefore(ctx context.Context, tenantID string, t time.Time) (int, error) {
	res, err := s.write().exec(ctx, sqlDeleteSigningKeysExpiredBef, tenantID, toMicros(t))
	if err != nil {
		return 0, wrap("delete expired signing keys", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("delete expired signing keys", err)
}
