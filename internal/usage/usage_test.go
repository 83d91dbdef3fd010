package usage

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

var t0 = time.Date(2025, 3, 31, 23, 59, 0, 0, time.UTC)

// newStore is a real SQLite store with tenant acme and organizations o1
// and o2.
func newStore(t *testing.T) storage.Store {
	t.Helper()
	st := sqltest.SQLite(t)
	ctx := t.Context()
	must(t, st.CreateTenant(ctx, storage.Tenant{ID: "acme", Name: "Acme", Settings: storage.DefaultTenantSettings(), CreatedAt: t0}))
	for _, id := range []string{"o1", "o2"} {
		must(t, st.CreateOrganization(ctx, storage.Organization{TenantID: "acme", ID: id, Name: id, Slug: id, CreatedAt: t0}))
	}
	return st
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func tokens(t *testing.T, st storage.Store, org, month string) map[string]int64 {
	t.Helper()
	rows, err := st.ListUsage(t.Context(), "acme", org, month, month)
	must(t, err)
	out := map[string]int64{}
	for _, r := range rows {
		out[r.ClientID] = r.Tokens
	}
	return out
}

func active(t *testing.T, st storage.Store, org, month string) int {
	t.Helper()
	n, err := st.CountActiveUsers(t.Context(), "acme", org, month, month)
	must(t, err)
	return n[month]
}

func TestMonthOf(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{t0, "2025-03"},
		{t0.Add(time.Minute), "2025-04"},
		// 23:30 on 31 December at UTC-1 is already January in UTC.
		{time.Date(2025, 12, 31, 23, 30, 0, 0, time.FixedZone("-01", -3600)), "2026-01"},
		{time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC), "0999-01"},
	} {
		if got := monthOf(tc.at).String(); got != tc.want || got != storage.UsageMonth(tc.at) {
			t.Errorf("month of %v = %q, want %q (storage.UsageMonth %q)", tc.at, got, tc.want, storage.UsageMonth(tc.at))
		}
	}
}

// Tokens count per (organization, client, month); users only for user
// tokens; a flush moves everything and the next one adds to it.
func TestFlush(t *testing.T) {
	st := newStore(t)
	rec := NewRecorder()
	b := NewBatcher(rec, st, nil)
	ctx := t.Context()
	for range 3 {
		rec.Token("acme", "o1", "m2m-app", "", t0)
	}
	rec.Token("acme", "o1", "web", "u1", t0)
	rec.Token("acme", "o1", "web", "u1", t0)
	rec.Token("acme", "o1", "web", "u2", t0.Add(time.Minute)) // April
	rec.Token("acme", "", "web", "u3", t0)
	rec.Token("acme", "o2", "web", "u1", t0)
	must(t, b.Flush(ctx))

	if got, want := tokens(t, st, "o1", "2025-03"), map[string]int64{"m2m-app": 3, "web": 2}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("o1 March tokens = %v, want %v", got, want)
	}
	if got := tokens(t, st, "o1", "2025-04"); got["web"] != 1 {
		t.Errorf("o1 April tokens = %v, want web: 1", got)
	}
	if got := tokens(t, st, "", "2025-03"); got["web"] != 1 {
		t.Errorf("tenant-level tokens = %v, want web: 1", got)
	}
	if n := active(t, st, "o1", "2025-03"); n != 1 {
		t.Errorf("o1 March active users = %d, want 1 (u1; m2m tokens make none)", n)
	}
	if n := active(t, st, "o1", "2025-04"); n != 1 {
		t.Errorf("o1 April active users = %d, want 1", n)
	}
	if n := active(t, st, "o2", "2025-03"); n != 1 {
		t.Errorf("o2 March active users = %d, want 1", n)
	}

	// Nothing new: nothing written. Then more adds up.
	must(t, b.Flush(ctx))
	rec.Token("acme", "o1", "m2m-app", "", t0)
	rec.Token("acme", "o1", "web", "u1", t0)
	must(t, b.Flush(ctx))
	if got := tokens(t, st, "o1", "2025-03"); got["m2m-app"] != 4 || got["web"] != 3 {
		t.Errorf("o1 March tokens after a second flush = %v, want m2m-app 4, web 3", got)
	}
	if n := active(t, st, "o1", "2025-03"); n != 1 {
		t.Errorf("o1 March active users after u1 again = %d, want 1", n)
	}
}

// A failed flush keeps its deltas, logs a warning, and the next flush
// writes them with what came meanwhile.
func TestFlushFailureKeepsDeltas(t *testing.T) {
	st := newStore(t)
	rec := NewRecorder()
	var logs bytes.Buffer
	b := NewBatcher(rec, st, slog.New(slog.NewTextHandler(&logs, nil)))
	rec.Token("acme", "o1", "app", "u1", t0)
	rec.Token("acme", "o1", "app", "", t0)

	dead, cancel := context.WithCancel(t.Context())
	cancel()
	if err := b.Flush(dead); err == nil {
		t.Fatal("Flush with a cancelled context succeeded")
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "usage: flush failed") {
		t.Errorf("no warning logged: %q", logs.String())
	}
	if got := tokens(t, st, "o1", "2025-03"); len(got) != 0 {
		t.Fatalf("a failed flush wrote %v", got)
	}

	rec.Token("acme", "o1", "app", "u2", t0)
	must(t, b.Flush(t.Context()))
	if got := tokens(t, st, "o1", "2025-03"); got["app"] != 3 {
		t.Errorf("tokens after the retry = %v, want app: 3", got)
	}
	if n := active(t, st, "o1", "2025-03"); n != 2 {
		t.Errorf("active users after the retry = %d, want 2", n)
	}
	// Written once: a further flush adds nothing.
	must(t, b.Flush(t.Context()))
	if got := tokens(t, st, "o1", "2025-03"); got["app"] != 3 {
		t.Errorf("tokens after one more flush = %v, want app: 3", got)
	}
}

// Deltas kept across failures are bounded: past MaxPending counters they
// are dropped, with an error logged.
func TestFlushFailureBounded(t *testing.T) {
	st := newStore(t)
	rec := NewRecorder()
	var logs bytes.Buffer
	b := NewBatcher(rec, st, slog.New(slog.NewTextHandler(&logs, nil)))
	for i := range MaxPending + 1 {
		rec.Token("acme", "o1", fmt.Sprintf("c%d", i), "", t0)
	}
	dead, cancel := context.WithCancel(t.Context())
	cancel()
	if err := b.Flush(dead); err == nil {
		t.Fatal("Flush with a cancelled context succeeded")
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "dropped") {
		t.Errorf("no error logged for the dropped counters: %q", logs.String())
	}
	if n := len(b.tokens) + len(b.users); n != 0 {
		t.Errorf("%d counters kept past the bound", n)
	}
	rec.Token("acme", "o1", "after", "", t0)
	must(t, b.Flush(t.Context()))
	if got := tokens(t, st, "o1", "2025-03"); len(got) != 1 || got["after"] != 1 {
		t.Errorf("tokens after the drop: %d clients, want only the later one", len(got))
	}
}

// Concurrent recorders and a flush racing them lose and double nothing.
func TestConcurrentRecordAndFlush(t *testing.T) {
	st := newStore(t)
	rec := NewRecorder()
	b := NewBatcher(rec, st, nil)
	const goroutines, each = 8, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				rec.Token("acme", "o1", "app", fmt.Sprintf("u%d", g), t0)
				if i%100 == 0 {
					if err := b.Flush(t.Context()); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	must(t, b.Flush(t.Context()))
	if got := tokens(t, st, "o1", "2025-03"); got["app"] != goroutines*each {
		t.Errorf("tokens = %v, want app: %d", got, goroutines*each)
	}
	if n := active(t, st, "o1", "2025-03"); n != goroutines {
		t.Errorf("active users = %d, want %d", n, goroutines)
	}
}

// Run flushes at each tick and once more when stopped.
func TestRun(t *testing.T) {
	st := newStore(t)
	rec := NewRecorder()
	b := NewBatcher(rec, st, nil)
	flushed := make(chan error)
	b.flushed = func(err error) { flushed <- err }
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Run(ctx, ticks)
	}()

	rec.Token("acme", "o1", "app", "", t0)
	ticks <- t0
	must(t, <-flushed)
	if got := tokens(t, st, "o1", "2025-03"); got["app"] != 1 {
		t.Errorf("tokens after a tick = %v, want app: 1", got)
	}

	rec.Token("acme", "o1", "app", "", t0)
	cancel()
	must(t, <-flushed)
	<-done
	if got := tokens(t, st, "o1", "2025-03"); got["app"] != 2 {
		t.Errorf("tokens after stopping = %v, want app: 2", got)
	}
}

// BenchmarkRecord is the cost of counting one token on the token path,
// from many goroutines at once.
//
//	go test ./internal/usage -run '^$' -bench Record -cpu 1,4,16
func BenchmarkRecord(b *testing.B) {
	rec := NewRecorder()
	orgs := []string{"o1", "o2", "o3", "o4"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			user := ""
			if i%2 == 0 {
				user = "u1"
			}
			rec.Token("acme", orgs[i%len(orgs)], "client", user, t0)
		}
	})
}
