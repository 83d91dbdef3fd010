package storecall_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/storecall"
	"github.com/orgid/orgid/internal/storecall/internal/wrapgen"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/memstore"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

// TestGeneratedIsCurrent fails when store_gen.go no longer matches the
// storage interfaces: run go generate ./internal/storecall.
func TestGeneratedIsCurrent(t *testing.T) {
	want, err := wrapgen.Generate("../../storage")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("store_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("store_gen.go is out of date: run go generate ./internal/storecall")
	}
}

type observed struct {
	backend, op string
	err         error
}

type recorder struct {
	mu    sync.Mutex
	calls []observed
}

func (r *recorder) StoreCall(backend, op string, d time.Duration, err error) {
	if d < 0 {
		panic("negative duration")
	}
	r.mu.Lock()
	r.calls = append(r.calls, observed{backend, op, err})
	r.mu.Unlock()
}

func TestObservesEveryCall(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	mem := memstore.New()
	defer mem.Close()
	eph := storecall.Ephemeral(mem, "memory", time.Minute, rec)
	if err := eph.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := eph.Get(ctx, "missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get of a missing key: %v; want ErrNotFound", err)
	}
	st := storecall.Durable(sqltest.SQLite(t), "sqlite", time.Minute, rec)
	if _, err := st.GetTenant(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetTenant: %v; want ErrNotFound", err)
	}
	want := []observed{{"memory", "Set", nil}, {"memory", "Get", storage.ErrNotFound}, {"sqlite", "GetTenant", storage.ErrNotFound}}
	if len(rec.calls) != len(want) {
		t.Fatalf("observed %v; want %v", rec.calls, want)
	}
	for i, w := range want {
		g := rec.calls[i]
		if g.backend != w.backend || g.op != w.op || (w.err == nil) != (g.err == nil) || w.err != nil && !errors.Is(g.err, w.err) {
			t.Errorf("call %d: observed %v; want %v", i, g, w)
		}
	}
}

// deadlines is a real store that notes the deadline each GetTenant call
// gets, inside transactions too.
type deadlines struct {
	storage.Store
	mu   *sync.Mutex
	seen *[]time.Time
}

func (d deadlines) GetTenant(ctx context.Context, id string) (storage.Tenant, error) {
	dl, _ := ctx.Deadline()
	d.mu.Lock()
	*d.seen = append(*d.seen, dl)
	d.mu.Unlock()
	return d.Store.GetTenant(ctx, id)
}

func (d deadlines) DeleteExpired(ctx context.Context, now time.Time) error {
	dl, _ := ctx.Deadline()
	d.mu.Lock()
	*d.seen = append(*d.seen, dl)
	d.mu.Unlock()
	return d.Store.DeleteExpired(ctx, now)
}

func (d deadlines) WithTx(ctx context.Context, fn func(storage.Store) error) error {
	dl, _ := ctx.Deadline()
	d.mu.Lock()
	*d.seen = append(*d.seen, dl)
	d.mu.Unlock()
	return d.Store.WithTx(ctx, func(tx storage.Store) error {
		return fn(deadlines{Store: tx, mu: d.mu, seen: d.seen})
	})
}

func TestDeadlines(t *testing.T) {
	var seen []time.Time
	spy := deadlines{Store: sqltest.SQLite(t), mu: &sync.Mutex{}, seen: &seen}
	const timeout = time.Hour
	st := storecall.Durable(spy, "sqlite", timeout, nil)
	before := time.Now()

	// No deadline of the caller's: the store timeout.
	st.GetTenant(context.Background(), "a")
	if len(seen) != 1 || seen[0].IsZero() || seen[0].Before(before.Add(timeout)) || seen[0].After(time.Now().Add(timeout)) {
		t.Fatalf("call without a deadline got %v; want now + %v", seen, timeout)
	}

	// An earlier deadline of the caller's stays.
	early := time.Now().Add(time.Minute)
	ctx, cancel := context.WithDeadline(context.Background(), early)
	defer cancel()
	st.GetTenant(ctx, "a")
	if !seen[1].Equal(early) {
		t.Errorf("call with an earlier deadline got %v; want the caller's %v", seen[1], early)
	}

	// The background sweep gets more time than a request's call.
	before = time.Now()
	if err := st.DeleteExpired(context.Background(), before); err != nil {
		t.Fatal(err)
	}
	if long := storecall.SweepFactor * timeout; len(seen) != 3 || seen[2].Before(before.Add(long)) || seen[2].After(time.Now().Add(long)) {
		t.Errorf("DeleteExpired got %v; want now + %v", seen[2:], long)
	}

	// Inside a transaction a call ends when the transaction does, even
	// when it is given a context without a deadline.
	seen = seen[:0]
	err := st.WithTx(context.Background(), func(tx storage.Store) error {
		_, err := tx.GetTenant(context.Background(), "a")
		return err
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("WithTx: %v", err)
	}
	if len(seen) != 2 || seen[0].IsZero() || !seen[1].Equal(seen[0]) {
		t.Errorf("deadlines of the transaction and of the call inside: %v; want the same", seen)
	}
}

// stuck is a real store whose GetTenant waits until its context is done,
// as a call to an unreachable database host does.
type stuck struct{ storage.Store }

func (stuck) GetTenant(ctx context.Context, _ string) (storage.Tenant, error) {
	<-ctx.Done()
	return storage.Tenant{}, ctx.Err()
}

func TestTimeoutIsUnavailable(t *testing.T) {
	rec := &recorder{}
	st := storecall.Durable(stuck{sqltest.SQLite(t)}, "sqlite", time.Millisecond, rec)
	_, err := st.GetTenant(context.Background(), "a")
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("a call past the store timeout: %v; want ErrUnavailable", err)
	}
	if len(rec.calls) != 1 || !errors.Is(rec.calls[0].err, storage.ErrUnavailable) {
		t.Errorf("observed %v; want the unavailable call", rec.calls)
	}

	// The caller's own cancellation is not an outage.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st = storecall.Durable(stuck{sqltest.SQLite(t)}, "sqlite", time.Hour, nil)
	if _, err := st.GetTenant(ctx, "a"); errors.Is(err, storage.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("a call the caller cancelled: %v; want context.Canceled", err)
	}
}
