package keys

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

func TestRotate(t *testing.T) {
	eachStore(t, func(t *testing.T, store storage.Store) {
		tenant := newTenant(t, store)
		clk := newClock()
		const retention = 2 * time.Hour
		m := NewManager(store, newTestSealer(t), WithClock(clk.Now), WithRetention(retention))
		if err := m.EnsureKeys(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		payload := []byte(`{"sub":"usr_1"}`)
		old := make(map[string]string)    // alg → kid that signed before the rotation
		tokens := make(map[string]string) // alg → token it signed
		for _, alg := range SupportedAlgorithms() {
			s, err := m.Signer(ctx, tenant, alg)
			if err != nil {
				t.Fatal(err)
			}
			old[alg] = s.KeyID()
			if tokens[alg], err = s.Sign(payload, TypeJWT); err != nil {
				t.Fatal(err)
			}
		}
		before, err := m.KeySet(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}

		clk.Advance(24 * time.Hour)
		rotatedAt := clk.Now()
		if err := m.Rotate(ctx, tenant); err != nil {
			t.Fatal(err)
		}

		n := countStates(t, store, tenant)
		for _, alg := range SupportedAlgorithms() {
			if n[alg][storage.KeyActive] != 1 || n[alg][storage.KeyNext] != 1 || n[alg][storage.KeyRetired] != 1 {
				t.Errorf("%s after rotation: %v, want one of each state", alg, n[alg])
			}
			s, err := m.Signer(ctx, tenant, alg)
			if err != nil {
				t.Fatal(err)
			}
			if s.KeyID() == old[alg] {
				t.Fatalf("%s: still signing with the old key", alg)
			}
			// The new active key was published before it signed: it was next.
			if len(before.Key(s.KeyID())) != 1 {
				t.Errorf("%s: new active key %s was not in the JWKS before the rotation", alg, s.KeyID())
			}
		}
		recs, _ := store.ListSigningKeys(ctx, tenant)
		for _, r := range recs {
			if r.State == storage.KeyRetired && !r.ExpiresAt.Equal(rotatedAt.Add(retention)) {
				t.Errorf("retired key expires at %v, want %v", r.ExpiresAt, rotatedAt.Add(retention))
			}
		}

		// Old tokens verify until the retention is over; then the old key is gone.
		stillPublished := func(want bool) {
			t.Helper()
			set, err := m.KeySet(ctx, tenant)
			if err != nil {
				t.Fatal(err)
			}
			for _, alg := range SupportedAlgorithms() {
				if got := len(set.Key(old[alg])) == 1; got != want {
					t.Errorf("%s: old key in KeySet = %v, want %v", alg, got, want)
				}
				pub, err := m.PublicKey(ctx, tenant, old[alg])
				if want {
					if err != nil {
						t.Fatalf("%s: PublicKey(old): %v", alg, err)
					}
					verify(t, tokens[alg], pub, alg, old[alg], TypeJWT, payload)
				} else if !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("%s: PublicKey(old) err = %v, want ErrNotFound", alg, err)
				}
			}
		}
		stillPublished(true)
		clk.Advance(retention - time.Second)
		stillPublished(true)
		clk.Advance(time.Second)
		stillPublished(false)

		// A later rotation deletes the expired key from the store.
		clk.Advance(time.Second)
		if err := m.Rotate(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		for _, r := range mustList(t, store, tenant) {
			for _, kid := range old {
				if r.ID == kid {
					t.Errorf("expired key %s still stored", kid)
				}
			}
		}
	})
}

// Another replica keeps its snapshot for the cache TTL, signs with the old
// key meanwhile (which stays published), then switches.
func TestRotateSeenByOtherReplica(t *testing.T) {
	eachStore(t, func(t *testing.T, store storage.Store) {
		tenant := newTenant(t, store)
		clk := newClock()
		sealer := newTestSealer(t)
		const ttl = 30 * time.Second
		opts := []Option{WithClock(clk.Now), WithCacheTTL(ttl), WithAlgorithms(ES256)}
		a := NewManager(store, sealer, opts...)
		b := NewManager(store, sealer, opts...)
		if err := a.EnsureKeys(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		sb, err := b.Signer(ctx, tenant, ES256)
		if err != nil {
			t.Fatal(err)
		}
		oldKid := sb.KeyID()

		clk.Advance(ttl / 2) // b's snapshot is half way through its TTL
		if err := a.Rotate(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		sa, err := a.Signer(ctx, tenant, ES256)
		if err != nil {
			t.Fatal(err)
		}
		newKid := sa.KeyID()
		if newKid == oldKid {
			t.Fatal("rotation did not change the active key")
		}

		payload := []byte(`{"sub":"usr_1"}`)
		for _, step := range []time.Duration{0, ttl/2 - time.Nanosecond} {
			clk.Advance(step)
			s, err := b.Signer(ctx, tenant, ES256)
			if err != nil {
				t.Fatal(err)
			}
			if s.KeyID() != oldKid {
				t.Fatalf("b switched before its TTL passed")
			}
			// What b signs verifies with what a publishes.
			token, _ := s.Sign(payload, TypeAccessToken)
			pub, err := a.PublicKey(ctx, tenant, oldKid)
			if err != nil {
				t.Fatal(err)
			}
			verify(t, token, pub, ES256, oldKid, TypeAccessToken, payload)
		}
		clk.Advance(time.Nanosecond)
		s, err := b.Signer(ctx, tenant, ES256)
		if err != nil {
			t.Fatal(err)
		}
		if s.KeyID() != newKid {
			t.Fatalf("b signs with %s after its TTL, want %s", s.KeyID(), newKid)
		}
	})
}

func TestRotateConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, store storage.Store) {
		tenant := newTenant(t, store)
		sealer := newTestSealer(t)
		a := NewManager(store, sealer, WithAlgorithms(ES256, EdDSA))
		b := NewManager(store, sealer, WithAlgorithms(ES256, EdDSA))
		if err := a.EnsureKeys(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, m := range []*Manager{a, b} {
			wg.Go(func() { errs[i] = m.Rotate(ctx, tenant) })
		}
		wg.Wait()
		// Both read the keys before either wrote (the key generation in
		// between takes long enough); exactly one may rotate them.
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !lostRace(err):
				t.Errorf("loser's error %v does not wrap ErrConflict or ErrAlreadyExists", err)
			}
		}
		if ok == 0 {
			t.Fatal("neither rotation succeeded")
		}
		n := countStates(t, store, tenant)
		for _, alg := range []string{ES256, EdDSA} {
			if n[alg][storage.KeyActive] != 1 || n[alg][storage.KeyNext] != 1 || n[alg][storage.KeyRetired] != ok {
				t.Errorf("%s: %v after %d successful rotations", alg, n[alg], ok)
			}
		}
	})
}

// A Manager configured with more algorithms than the store has keys for
// rotates the ones it finds and gives the others a first pair.
func TestRotateAddsAlgorithm(t *testing.T) {
	eachStore(t, func(t *testing.T, store storage.Store) {
		tenant := newTenant(t, store)
		sealer := newTestSealer(t)
		if err := NewManager(store, sealer, WithAlgorithms(ES256)).EnsureKeys(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		if err := NewManager(store, sealer, WithAlgorithms(ES256, EdDSA)).Rotate(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		n := countStates(t, store, tenant)
		if n[ES256][storage.KeyRetired] != 1 || n[ES256][storage.KeyActive] != 1 || n[ES256][storage.KeyNext] != 1 {
			t.Errorf("ES256: %v", n[ES256])
		}
		if n[EdDSA][storage.KeyRetired] != 0 || n[EdDSA][storage.KeyActive] != 1 || n[EdDSA][storage.KeyNext] != 1 {
			t.Errorf("EdDSA: %v", n[EdDSA])
		}
	})
}

// interleavingStore runs another replica's work once, just before the
// first transaction of this replica begins.
type interleavingStore struct {
	storage.Store
	once   sync.Once
	before func()
}

func (s *interleavingStore) WithTx(ctx context.Context, fn func(tx storage.Store) error) error {
	s.once.Do(s.before)
	return s.Store.WithTx(ctx, fn)
}

// A rotation that finds the keys rotated since it read them gives up
// rather than rotating a second time.
func TestRotateLosesToInterleavedRotation(t *testing.T) {
	eachStore(t, func(t *testing.T, store storage.Store) {
		tenant := newTenant(t, store)
		sealer := newTestSealer(t)
		other := NewManager(store, sealer, WithAlgorithms(EdDSA))
		if err := other.EnsureKeys(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		racing := &interleavingStore{Store: store, before: func() {
			if err := other.Rotate(ctx, tenant); err != nil {
				t.Error(err)
			}
		}}
		err := NewManager(racing, sealer, WithAlgorithms(EdDSA)).Rotate(ctx, tenant)
		if !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
		n := countStates(t, store, tenant)
		if n[EdDSA][storage.KeyRetired] != 1 || n[EdDSA][storage.KeyActive] != 1 || n[EdDSA][storage.KeyNext] != 1 {
			t.Errorf("EdDSA: %v, want one rotation", n[EdDSA])
		}
	})
}
