package keys

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/orgid/orgid/storage"
)

func TestEnsureKeysIdempotent(t *testing.T) {
	eachStore(t, func(t *testing.T, store storage.Store) {
		tenant := newTenant(t, store)
		m := NewManager(store, newTestSealer(t))
		if err := m.EnsureKeys(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		first, _ := store.ListSigningKeys(ctx, tenant)
		if err := m.EnsureKeys(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		second, _ := store.ListSigningKeys(ctx, tenant)
		if len(first) != 6 || len(second) != 6 {
			t.Fatalf("%d keys, then %d; want 6 (active and next for 3 algorithms)", len(first), len(second))
		}
		for i := range first {
			if first[i].ID != second[i].ID {
				t.Fatal("second EnsureKeys changed the keys")
			}
		}
		wantOneActiveOneNext(t, store, tenant, SupportedAlgorithms())
	})
}

func wantOneActiveOneNext(t *testing.T, store storage.Store, tenant string, algs []string) {
	t.Helper()
	n := countStates(t, store, tenant)
	for _, alg := range algs {
		if n[alg][storage.KeyActive] != 1 || n[alg][storage.KeyNext] != 1 {
			t.Errorf("%s: %v, want one active and one next", alg, n[alg])
		}
	}
	if len(n) != len(algs) {
		t.Errorf("keys for %d algorithms, want %d", len(n), len(algs))
	}
}

func TestEnsureKeysConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, store storage.Store) {
		tenant := newTenant(t, store)
		sealer := newTestSealer(t)
		// Two replicas on one store, each with several goroutines.
		replicas := []*Manager{NewManager(store, sealer), NewManager(store, sealer)}
		var wg sync.WaitGroup
		for _, m := range replicas {
			for range 4 {
				wg.Go(func() {
					if err := m.EnsureKeys(ctx, tenant); err != nil {
						t.Error(err)
					}
				})
			}
		}
		wg.Wait()
		wantOneActiveOneNext(t, store, tenant, SupportedAlgorithms())

		// Both replicas sign with the same keys.
		for _, alg := range SupportedAlgorithms() {
			s0, err := replicas[0].Signer(ctx, tenant, alg)
			if err != nil {
				t.Fatal(err)
			}
			s1, err := replicas[1].Signer(ctx, tenant, alg)
			if err != nil {
				t.Fatal(err)
			}
			if s0.KeyID() != s1.KeyID() {
				t.Errorf("%s: replicas sign with %s and %s", alg, s0.KeyID(), s1.KeyID())
			}
		}
	})
}

func TestSignerMakesMissingKeys(t *testing.T) {
	eachStore(t, func(t *testing.T, store storage.Store) {
		tenant := newTenant(t, store)
		m := NewManager(store, newTestSealer(t), WithAlgorithms(ES256, EdDSA))
		s, err := m.Signer(ctx, tenant, EdDSA)
		if err != nil {
			t.Fatal(err)
		}
		wantOneActiveOneNext(t, store, tenant, []string{ES256, EdDSA})
		set, err := m.KeySet(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		if len(set.Key(s.KeyID())) != 1 {
			t.Error("new signing key is not published")
		}
		if _, err := m.Signer(ctx, tenant, RS256); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("RS256 on a Manager without it: err = %v", err)
		}
		if _, err := m.Signer(ctx, tenant, "HS256"); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("HS256: err = %v", err)
		}
		// KeySet of a tenant without keys makes them too.
		other := newTenant(t, store)
		set, err = m.KeySet(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		if len(set.Keys) != 4 {
			t.Errorf("KeySet of a new tenant has %d keys, want 4", len(set.Keys))
		}
	})
}

// staleReadStore plays a replica whose reads predate another replica's
// commit: its first staleReads reads of the keys, inside a transaction or
// not, find none.
type staleReadStore struct {
	storage.Store
	staleReads atomic.Int32
}

func (s *staleReadStore) stale() bool {
	for {
		n := s.staleReads.Load()
		if n <= 0 {
			return false
		}
		if s.staleReads.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

func (s *staleReadStore) ListSigningKeys(ctx context.Context, tenantID string) ([]storage.SigningKey, error) {
	if s.stale() {
		return nil, nil
	}
	return s.Store.ListSigningKeys(ctx, tenantID)
}

func (s *staleReadStore) WithTx(ctx context.Context, fn func(tx storage.Store) error) error {
	return s.Store.WithTx(ctx, func(tx storage.Store) error {
		return fn(&staleTx{Store: tx, outer: s})
	})
}

type staleTx struct {
	storage.Store
	outer *staleReadStore
}

func (s *staleTx) ListSigningKeys(ctx context.Context, tenantID string) ([]storage.SigningKey, error) {
	if s.outer.stale() {
		return nil, nil
	}
	return s.Store.ListSigningKeys(ctx, tenantID)
}

// The loser of an EnsureKeys race hits the unique index, reads the keys
// again and keeps the winner's.
func TestEnsureKeysLosesRace(t *testing.T) {
	eachStore(t, func(t *testing.T, store storage.Store) {
		tenant := newTenant(t, store)
		sealer := newTestSealer(t)
		winner := NewManager(store, sealer, WithAlgorithms(ES256))
		if err := winner.EnsureKeys(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		want := mustList(t, store, tenant)

		loser := &staleReadStore{Store: store}
		loser.staleReads.Store(2) // before and inside its transaction
		if err := NewManager(loser, sealer, WithAlgorithms(ES256)).EnsureKeys(ctx, tenant); err != nil {
			t.Fatalf("loser: %v", err)
		}
		if loser.staleReads.Load() != 0 {
			t.Fatal("the stale reads never happened")
		}
		got := mustList(t, store, tenant)
		if len(got) != len(want) || got[0].ID != want[0].ID || got[1].ID != want[1].ID {
			t.Errorf("keys changed: %d keys, want the winner's %d", len(got), len(want))
		}
	})
}
