package keys

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/storage"
)

// snapshot is an immutable view of one tenant's keys as read from the
// store at loadedAt. Readers share it without locks.
type snapshot struct {
	loadedAt time.Time
	// staleAt is when the snapshot must be read again: loadedAt plus the
	// cache TTL, or earlier when a retired key leaves the JWKS before that.
	staleAt time.Time
	// signers holds the active key of each configured algorithm.
	signers map[string]*Signer
	// public holds every published key by kid; set holds the same keys,
	// active first, then next, then retired.
	public map[string]*jose.JSONWebKey
	set    *jose.JSONWebKeySet
	// complete: every configured algorithm has an active and a next key.
	complete bool
}

// tenantKeys is the cache slot of one tenant.
type tenantKeys struct {
	snap atomic.Pointer[snapshot]
	// gen counts invalidations, so that a load that read the store before
	// an invalidation does not install its outdated result after it.
	gen atomic.Uint64
	// loadMu lets one goroutine read the store while the others keep
	// using the stale snapshot.
	loadMu sync.Mutex
	// ensureMu keeps this replica's EnsureKeys calls for the tenant from
	// generating keys in parallel only to throw all but one set away.
	ensureMu sync.Mutex
}

func (tk *tenantKeys) invalidate() {
	tk.gen.Add(1)
	tk.snap.Store(nil)
}

func (m *Manager) tenant(tenantID string) *tenantKeys {
	if tk, ok := m.tenants.Load(tenantID); ok {
		return tk.(*tenantKeys)
	}
	tk, _ := m.tenants.LoadOrStore(tenantID, new(tenantKeys))
	return tk.(*tenantKeys)
}

// snapshot returns the tenant's snapshot. This is the hot path: a map
// load, an atomic load and a clock read while the snapshot is fresh. When
// it is stale, one goroutine reloads it and the others go on with the
// stale one meanwhile; that is safe because every key in it stays valid
// for longer than the cache TTL (see Manager).
func (m *Manager) snapshot(ctx context.Context, tenantID string) (*snapshot, error) {
	tk := m.tenant(tenantID)
	stale := tk.snap.Load()
	if stale != nil && m.now().Before(stale.staleAt) {
		return stale, nil
	}
	if stale != nil {
		if !tk.loadMu.TryLock() {
			return stale, nil
		}
	} else {
		tk.loadMu.Lock()
	}
	defer tk.loadMu.Unlock()
	// Another goroutine may have reloaded while this one waited.
	if cur := tk.snap.Load(); cur != nil && cur != stale && m.now().Before(cur.staleAt) {
		return cur, nil
	}
	return m.load(ctx, tenantID, tk)
}

// reload reads the tenant's keys from the store now.
func (m *Manager) reload(ctx context.Context, tenantID string) (*snapshot, error) {
	tk := m.tenant(tenantID)
	tk.loadMu.Lock()
	defer tk.loadMu.Unlock()
	return m.load(ctx, tenantID, tk)
}

// reloadForMiss reads the store again for a kid that snap lacks, unless
// the tenant's keys were read less than missReloadInterval ago.
func (m *Manager) reloadForMiss(ctx context.Context, tenantID string, snap *snapshot) (*snapshot, error) {
	if m.now().Sub(snap.loadedAt) < missReloadInterval {
		return snap, nil
	}
	tk := m.tenant(tenantID)
	tk.loadMu.Lock()
	defer tk.loadMu.Unlock()
	if cur := tk.snap.Load(); cur != nil && m.now().Sub(cur.loadedAt) < missReloadInterval {
		return cur, nil
	}
	return m.load(ctx, tenantID, tk)
}

// load reads the tenant's keys and installs a new snapshot. The caller
// holds tk.loadMu.
func (m *Manager) load(ctx context.Context, tenantID string, tk *tenantKeys) (*snapshot, error) {
	gen := tk.gen.Load()
	prev := tk.snap.Load()
	recs, err := m.store.ListSigningKeys(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("keys: load keys of tenant %s: %w", tenantID, err)
	}
	snap, err := m.build(recs, m.now(), prev)
	if err != nil {
		return nil, err
	}
	tk.snap.Store(snap)
	if tk.gen.Load() != gen {
		// Invalidated while loading: what was read may predate the change.
		tk.snap.CompareAndSwap(snap, nil)
	}
	return snap, nil
}

// build turns the store's records into a snapshot. Private keys are
// unsealed here, once per load and only for active keys; a signer whose
// key is still active is carried over from prev with its cached state.
func (m *Manager) build(recs []storage.SigningKey, now time.Time, prev *snapshot) (*snapshot, error) {
	snap := &snapshot{
		loadedAt: now,
		staleAt:  now.Add(m.ttl),
		signers:  make(map[string]*Signer, len(m.algs)),
		public:   make(map[string]*jose.JSONWebKey, len(recs)),
		set:      &jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(recs))},
	}
	hasNext := make(map[string]bool, len(m.algs))
	for _, state := range []storage.KeyState{storage.KeyActive, storage.KeyNext, storage.KeyRetired} {
		for _, rec := range recs {
			if rec.State != state {
				continue
			}
			if state == storage.KeyRetired {
				if !now.Before(rec.ExpiresAt) {
					continue // every token it signed has expired
				}
				if rec.ExpiresAt.Before(snap.staleAt) {
					snap.staleAt = rec.ExpiresAt
				}
			}
			jwk, err := parsePublic(rec)
			if err != nil {
				return nil, err
			}
			snap.public[rec.ID] = jwk
			snap.set.Keys = append(snap.set.Keys, *jwk)

			switch {
			case state == storage.KeyNext:
				hasNext[rec.Algorithm] = true
			case state == storage.KeyActive && m.enabled(rec.Algorithm):
				s, err := m.activeSigner(rec, prev)
				if err != nil {
					return nil, err
				}
				snap.signers[rec.Algorithm] = s
			}
		}
	}
	snap.complete = true
	for _, alg := range m.algs {
		if snap.signers[alg] == nil || !hasNext[alg] {
			snap.complete = false
		}
	}
	return snap, nil
}

func (m *Manager) activeSigner(rec storage.SigningKey, prev *snapshot) (*Signer, error) {
	if prev != nil {
		if s := prev.signers[rec.Algorithm]; s != nil && s.kid == rec.ID {
			return s, nil
		}
	}
	priv, err := m.openKey(rec)
	if err != nil {
		return nil, err
	}
	return newSigner(rec.ID, rec.Algorithm, priv)
}
