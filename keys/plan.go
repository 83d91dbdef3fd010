package keys

import (
	"context"
	"time"

	"github.com/orgid/orgid/storage"
)

// algKeys is one algorithm's current active and next key, either nil when missing.
type algKeys struct{ active, next *storage.SigningKey }

func byAlgorithm(recs []storage.SigningKey) map[string]algKeys {
	cur := make(map[string]algKeys)
	for i := range recs {
		rec := &recs[i]
		k := cur[rec.Algorithm]
		switch rec.State {
		case storage.KeyActive:
			k.active = rec
		case storage.KeyNext:
			k.next = rec
		}
		cur[rec.Algorithm] = k
	}
	return cur
}

// freshNeeded is how many new keys step will create for k.
func freshNeeded(k algKeys, rotate bool) int {
	switch {
	case k.active == nil && k.next == nil:
		return 2
	case k.active == nil, k.next == nil:
		return 1
	case rotate:
		return 1
	}
	return 0
}

// step brings one algorithm's keys to "one active, one next" and, when
// rotate is set and both exist already, rotates them: active → retired
// (published until now+retention), next → active, a fresh next. A key is
// never made active without having been published as next first, except
// when the algorithm has no key at all: then no token exists to verify.
func (m *Manager) step(ctx context.Context, tx storage.Store, tenantID, alg string, k algKeys, rotate bool, pool *keyPool, now time.Time) error {
	create := func(state storage.KeyState) error {
		rec, err := pool.take(alg, state, now)
		if err != nil {
			return err
		}
		return tx.CreateSigningKey(ctx, rec)
	}
	switch {
	case k.active == nil && k.next == nil:
		if err := create(storage.KeyActive); err != nil {
			return err
		}
		return create(storage.KeyNext)
	case k.active == nil: // promote the published next key
		if err := tx.UpdateSigningKeyState(ctx, tenantID, k.next.ID, storage.KeyNext, storage.KeyActive, time.Time{}); err != nil {
			return err
		}
		return create(storage.KeyNext)
	case k.next == nil:
		// Even when rotating, the active key keeps signing: its successor
		// must be published first.
		return create(storage.KeyNext)
	case rotate:
		// Order matters: the store allows one active and one next key per
		// algorithm at any moment, also inside a transaction.
		if err := tx.UpdateSigningKeyState(ctx, tenantID, k.active.ID, storage.KeyActive, storage.KeyRetired, now.Add(m.retention)); err != nil {
			return err
		}
		if err := tx.UpdateSigningKeyState(ctx, tenantID, k.next.ID, storage.KeyNext, storage.KeyActive, time.Time{}); err != nil {
			return err
		}
		return create(storage.KeyNext)
	}
	return nil
}

// keyPool holds keys generated before a transaction, so that the slow part
// (RSA key generation) does not hold the transaction open; it generates
// more on demand when the transaction finds other work than expected.
type keyPool struct {
	m        *Manager
	tenantID string
	keys     map[string][]storage.SigningKey // by algorithm
}

// prepare generates the fresh keys step is expected to need for cur.
func (m *Manager) prepare(tenantID string, cur map[string]algKeys, rotate bool, now time.Time) (*keyPool, error) {
	pool := &keyPool{m: m, tenantID: tenantID, keys: make(map[string][]storage.SigningKey)}
	for _, alg := range m.algs {
		for range freshNeeded(cur[alg], rotate) {
			rec, err := m.newKey(tenantID, alg, "", now)
			if err != nil {
				return nil, err
			}
			pool.keys[alg] = append(pool.keys[alg], rec)
		}
	}
	return pool, nil
}

// take hands out a fresh key for alg in state.
func (p *keyPool) take(alg string, state storage.KeyState, now time.Time) (storage.SigningKey, error) {
	var rec storage.SigningKey
	if ks := p.keys[alg]; len(ks) > 0 {
		rec, p.keys[alg] = ks[0], ks[1:]
	} else {
		var err error
		if rec, err = p.m.newKey(p.tenantID, alg, state, now); err != nil {
			return storage.SigningKey{}, err
		}
	}
	rec.State = state
	rec.CreatedAt = now
	return rec, nil
}
