package keys

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

func TestSignerIsCached(t *testing.T) {
	eachStore(t, func(t *testing.T, real storage.Store) {
		store := &countingStore{Store: real}
		tenant := newTenant(t, store)
		clk := newClock()
		m := NewManager(store, newTestSealer(t), WithClock(clk.Now))
		if err := m.EnsureKeys(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		first, err := m.Signer(ctx, tenant, ES256)
		if err != nil {
			t.Fatal(err)
		}
		reads := store.lists.Load()
		for range 100 {
			s, err := m.Signer(ctx, tenant, ES256)
			if err != nil {
				t.Fatal(err)
			}
			if s != first {
				t.Fatal("Signer built a new signer for a cached key")
			}
			if _, err := s.Sign([]byte("{}"), TypeAccessToken); err != nil {
				t.Fatal(err)
			}
		}
		if n := store.lists.Load() - reads; n != 0 {
			t.Errorf("100 signatures read the store %d times, want 0", n)
		}

		// A reload after the TTL keeps the unsealed signer of an unchanged key.
		clk.Advance(DefaultCacheTTL)
		again, err := m.Signer(ctx, tenant, ES256)
		if err != nil {
			t.Fatal(err)
		}
		if store.lists.Load()-reads != 1 {
			t.Errorf("store reads after TTL: %d, want 1", store.lists.Load()-reads)
		}
		if again != first {
			t.Error("reload replaced the signer of an unchanged key")
		}

		// Invalidate drops the snapshot: the next call reads the store.
		m.Invalidate(tenant)
		if _, err := m.Signer(ctx, tenant, ES256); err != nil {
			t.Fatal(err)
		}
		if store.lists.Load()-reads != 2 {
			t.Errorf("store reads after Invalidate: %d, want 2", store.lists.Load()-reads)
		}
	})
}

// When many goroutines find the snapshot stale at once, one reads the store.
func TestStaleSnapshotReloadedOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, real storage.Store) {
		store := &countingStore{Store: real}
		tenant := newTenant(t, store)
		clk := newClock()
		m := NewManager(store, newTestSealer(t), WithClock(clk.Now))
		if _, err := m.Signer(ctx, tenant, RS256); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
		reads := store.lists.Load()
		var wg sync.WaitGroup
		for range 32 {
			wg.Go(func() {
				if _, err := m.Signer(ctx, tenant, RS256); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := store.lists.Load() - reads; n != 1 {
			t.Errorf("32 goroutines on a stale snapshot read the store %d times, want 1", n)
		}
	})
}

func TestPublicKeyUnknownKid(t *testing.T) {
	eachStore(t, func(t *testing.T, real storage.Store) {
		store := &countingStore{Store: real}
		tenant := newTenant(t, store)
		clk := newClock()
		m := NewManager(store, newTestSealer(t), WithClock(clk.Now), WithAlgorithms(ES256))
		if err := m.EnsureKeys(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		if _, err := m.KeySet(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		reads := store.lists.Load()

		// Garbage kids within the same second: no store reads.
		for i := range 100 {
			if _, err := m.PublicKey(ctx, tenant, fmt.Sprint("garbage", i)); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
		}
		if n := store.lists.Load() - reads; n != 0 {
			t.Errorf("store read %d times in the first second, want 0", n)
		}

		// A key this replica has not seen (made by another replica).
		rec, err := m.newKey(tenant, ES256, storage.KeyRetired, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		rec.ExpiresAt = clk.Now().Add(time.Hour)
		if err := store.CreateSigningKey(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if _, err := m.PublicKey(ctx, tenant, rec.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("within the second: err = %v, want ErrNotFound", err)
		}

		// A second later, one miss reads the store once; more misses do not.
		clk.Advance(time.Second)
		for i := range 100 {
			if _, err := m.PublicKey(ctx, tenant, fmt.Sprint("garbage", i)); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
		}
		if n := store.lists.Load() - reads; n != 1 {
			t.Errorf("store read %d times in the next second, want 1", n)
		}
		if k, err := m.PublicKey(ctx, tenant, rec.ID); err != nil || k.KeyID != rec.ID {
			t.Fatalf("after the reload: %v, %v", k, err)
		}
	})
}
