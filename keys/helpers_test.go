package keys

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"github.com/orgid/orgid/internal/fakeclock"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

var ctx = context.Background()

// newClock returns a test clock that only moves when told to.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) }

// eachStore runs fn on a fresh SQLite store and, when
// ORGID_TEST_DATABASE_URL is set, on a fresh PostgreSQL store.
func eachStore(t *testing.T, fn func(t *testing.T, store storage.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, sqltest.SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, sqltest.Postgres(t)) })
}

// countingStore is the real store with a count of the key reads that do
// not go through a transaction: the reads a snapshot load makes.
type countingStore struct {
	storage.Store
	lists atomic.Int64
}

func (s *countingStore) ListSigningKeys(ctx context.Context, tenantID string) ([]storage.SigningKey, error) {
	s.lists.Add(1)
	return s.Store.ListSigningKeys(ctx, tenantID)
}

func randomKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, MasterKeySize)
	rand.Read(k)
	return k
}

func newTestSealer(t testing.TB) *Sealer {
	t.Helper()
	s, err := NewSealer(randomKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newTenant creates a tenant with a random ID in store.
func newTenant(t testing.TB, store storage.Store) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	id := "t" + hex.EncodeToString(b)
	if err := store.CreateTenant(context.Background(), storage.Tenant{ID: id, Name: id, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return id
}

// countStates counts the tenant's keys by algorithm and state.
func countStates(t *testing.T, store storage.Store, tenantID string) map[string]map[storage.KeyState]int {
	t.Helper()
	recs, err := store.ListSigningKeys(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	n := make(map[string]map[storage.KeyState]int)
	for _, r := range recs {
		if n[r.Algorithm] == nil {
			n[r.Algorithm] = make(map[storage.KeyState]int)
		}
		n[r.Algorithm][r.State]++
	}
	return n
}

// kidIn returns the kid of the tenant's key of alg in state.
func kidIn(t *testing.T, store storage.Store, tenantID, alg string, state storage.KeyState) string {
	t.Helper()
	recs, err := store.ListSigningKeys(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Algorithm == alg && r.State == state {
			return r.ID
		}
	}
	t.Fatalf("no %s key in state %s", alg, state)
	return ""
}

func mustList(t *testing.T, store storage.Store, tenant string) []storage.SigningKey {
	t.Helper()
	recs, err := store.ListSigningKeys(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
