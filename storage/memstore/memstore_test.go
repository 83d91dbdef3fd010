package memstore

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/fakeclock"
	"github.com/orgid/orgid/storage/storagetest"
)

func newFakeClock() *fakeclock.Clock {
	return fakeclock.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
}

func newTestStore(t testing.TB) (*Store, *fakeclock.Clock) {
	clock := newFakeClock()
	s := New(WithClock(clock.Now))
	t.Cleanup(func() { s.Close() })
	return s, clock
}

func TestConformance(t *testing.T) {
	storagetest.RunEphemeral(t, func(t *testing.T) storagetest.EphemeralHarness {
		s, clock := newTestStore(t)
		return storagetest.EphemeralHarness{Store: s, Advance: clock.Advance}
	})
}

func TestSweepReclaimsExpired(t *testing.T) {
	ctx := context.Background()
	s, clock := newTestStore(t)
	for _, k := range []string{"a", "b", "c"} {
		if err := s.Set(ctx, k, []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Set(ctx, "long", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	// Nobody reads the expired keys, so only the janitor can free them.
	if n := s.count(); n != 4 {
		t.Fatalf("before sweep: %d entries, want 4", n)
	}
	s.sweep()
	if n := s.count(); n != 1 {
		t.Fatalf("after sweep: %d entries, want 1", n)
	}
	if _, err := s.Get(ctx, "long"); err != nil {
		t.Fatalf("unexpired key swept: %v", err)
	}
}

func TestCloseStopsJanitor(t *testing.T) {
	s := New()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Close returned, so the janitor goroutine has exited (Close waits for
	// it). A second Close is harmless.
	select {
	case <-s.done:
	default:
		t.Fatal("janitor still running after Close")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestJanitorSweepsOnTick(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	// A one-nanosecond ticker fires at once and keeps firing.
	s := newStore(time.Nanosecond, WithClock(clock.Now))
	defer s.Close()
	if err := s.Set(ctx, "k", []byte("v"), time.Second); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	// Wait for a sweep by watching the map, not by sleeping for a guessed
	// duration; the test's own timeout bounds a janitor that never runs.
	for s.count() != 0 {
		runtime.Gosched()
	}
}
