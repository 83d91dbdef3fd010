package keys

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgid/orgid/storage"
)

// maxAttempts bounds how often EnsureKeys and Rotate start over after
// losing a race to another replica.
const maxAttempts = 5

// EnsureKeys gives every configured algorithm of the tenant one active and
// one next key, creating what is missing. It is idempotent and safe to run
// on many replicas at once: the store allows one active and one next key
// per tenant and algorithm, so a replica that loses the race gets
// storage.ErrAlreadyExists (or ErrConflict), reads the keys again and
// finds the winner's.
func (m *Manager) EnsureKeys(ctx context.Context, tenantID string) error {
	tk := m.tenant(tenantID)
	tk.ensureMu.Lock()
	defer tk.ensureMu.Unlock()
	for attempt := 1; ; attempt++ {
		created, err := m.ensureOnce(ctx, tenantID)
		if err == nil {
			if created {
				m.Invalidate(tenantID)
			}
			return nil
		}
		if attempt < maxAttempts && lostRace(err) {
			continue
		}
		return fmt.Errorf("keys: ensure keys of tenant %s: %w", tenantID, err)
	}
}

// ensureOnce reports whether it created keys.
func (m *Manager) ensureOnce(ctx context.Context, tenantID string) (created bool, err error) {
	recs, err := m.store.ListSigningKeys(ctx, tenantID)
	if err != nil {
		return false, err
	}
	cur := byAlgorithm(recs)
	need := 0
	for _, alg := range m.algs {
		need += freshNeeded(cur[alg], false)
	}
	if need == 0 {
		return false, nil
	}
	now := m.now()
	pool, err := m.prepare(tenantID, cur, false, now)
	if err != nil {
		return false, err
	}
	return true, m.store.WithTx(ctx, func(tx storage.Store) error {
		// Read again inside the transaction: another replica may have
		// created keys since.
		recs, err := tx.ListSigningKeys(ctx, tenantID)
		if err != nil {
			return err
		}
		cur := byAlgorithm(recs)
		for _, alg := range m.algs {
			if err := m.step(ctx, tx, tenantID, alg, cur[alg], false, pool, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// lostRace: another replica changed the tenant's keys at the same time.
func lostRace(err error) bool {
	return errors.Is(err, storage.ErrAlreadyExists) || errors.Is(err, storage.ErrConflict)
}
