package keys

import (
	"context"
	"fmt"

	"github.com/orgid/orgid/storage"
)

// Rotate rotates the tenant's keys of every configured algorithm in one
// transaction: the active key retires and stays published for the
// retention period, the next key (published since the last rotation)
// becomes active, and a fresh next key is published; then retired keys
// whose retention is over are deleted. Algorithms the Manager is not
// configured with are left alone.
//
// This replica sees the new keys at once; other replicas within their
// cache TTL, signing with the old key meanwhile, which stays published.
// When another replica rotates at the same moment, one of the two wins and
// the other returns an error wrapping storage.ErrConflict or
// storage.ErrAlreadyExists: the keys were rotated once, not twice. Two
// rotations one after the other do activate the key the first one just
// published: do that only to get rid of a compromised key.
func (m *Manager) Rotate(ctx context.Context, tenantID string) error {
	recs, err := m.store.ListSigningKeys(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("keys: rotate keys of tenant %s: %w", tenantID, err)
	}
	now := m.now()
	seen := byAlgorithm(recs)
	// Generate outside the transaction, as dex does: RSA takes a while.
	pool, err := m.prepare(tenantID, seen, true, now)
	if err != nil {
		return err
	}
	err = m.store.WithTx(ctx, func(tx storage.Store) error {
		recs, err := tx.ListSigningKeys(ctx, tenantID)
		if err != nil {
			return err
		}
		cur := byAlgorithm(recs)
		for _, alg := range m.algs {
			// Rotate what was seen, or nothing: a store that serializes
			// transactions (SQLite) would otherwise let a concurrent
			// rotation run twice and activate a next key published only
			// a moment ago.
			if !sameKeys(cur[alg], seen[alg]) {
				return fmt.Errorf("%w: the %s keys changed during the rotation", storage.ErrConflict, alg)
			}
			if err := m.step(ctx, tx, tenantID, alg, cur[alg], true, pool, now); err != nil {
				return err
			}
		}
		_, err = tx.DeleteSigningKeysExpiredBefore(ctx, tenantID, now)
		return err
	})
	m.Invalidate(tenantID)
	if err != nil {
		return fmt.Errorf("keys: rotate keys of tenant %s: %w", tenantID, err)
	}
	return nil
}

func sameKeys(a, b algKeys) bool {
	return kidOf(a.active) == kidOf(b.active) && kidOf(a.next) == kidOf(b.next)
}

func kidOf(k *storage.SigningKey) string {
	if k == nil {
		return ""
	}
	return k.ID
}
