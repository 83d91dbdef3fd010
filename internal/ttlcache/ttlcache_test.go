package ttlcache

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/fakeclock"
)

func TestCache(t *testing.T) {
	clock := fakeclock.New(time.Unix(0, 0))
	loads := 0
	fail := false
	c := New(10*time.Second, clock.Now, func(_ context.Context, k string) (string, error) {
		loads++
		if fail {
			return "", errors.New("down")
		}
		return k + "!", nil
	})
	get := func(k string) string {
		v, err := c.Get(context.Background(), k)
		if err != nil {
			return "error"
		}
		return v
	}
	if get("a") != "a!" || get("a") != "a!" || loads != 1 {
		t.Fatalf("second Get within the ttl loaded again (%d loads)", loads)
	}
	clock.Advance(10 * time.Second)
	if get("a") != "a!" || loads != 2 {
		t.Fatalf("a stale value was not reloaded (%d loads)", loads)
	}
	fail = true
	if get("b") != "error" || get("b") != "error" || loads != 4 {
		t.Fatalf("errors must not be cached (%d loads)", loads)
	}
	if get("a") != "a!" {
		t.Fatal("a fresh value was dropped by another key's error")
	}
	fail = false
	before := loads
	c.Forget("a")
	if get("a") != "a!" || loads != before+1 {
		t.Fatalf("Get after Forget did not load again (%d loads, want %d)", loads, before+1)
	}
}

func TestCacheForgetFuncAndSweep(t *testing.T) {
	clock := fakeclock.New(time.Unix(0, 0))
	loads := 0
	c := New(time.Second, clock.Now, func(_ context.Context, k [2]string) (string, error) {
		loads++
		return k[0] + k[1], nil
	})
	ctx := context.Background()
	for _, k := range [][2]string{{"a", "1"}, {"a", "2"}, {"b", "1"}} {
		c.Get(ctx, k)
	}
	c.ForgetFunc(func(k [2]string) bool { return k[0] == "a" })
	for _, k := range [][2]string{{"a", "1"}, {"a", "2"}, {"b", "1"}} {
		c.Get(ctx, k)
	}
	if loads != 5 {
		t.Fatalf("ForgetFunc: %d loads, want 5 (the two a keys again, not b)", loads)
	}

	// Past sweepAt entries, an insert drops the stale ones.
	for i := range sweepAt {
		c.Get(ctx, [2]string{"s", string(rune(i))})
	}
	clock.Advance(time.Second)
	c.Get(ctx, [2]string{"fresh", ""})
	c.mu.RLock()
	n := len(c.m)
	c.mu.RUnlock()
	if n != 1 {
		t.Fatalf("after a sweep the cache holds %d entries, want only the fresh one", n)
	}
}

func TestCacheObserve(t *testing.T) {
	clock := fakeclock.New(time.Unix(1000, 0))
	var hits, misses int
	c := New(time.Second, clock.Now, func(_ context.Context, k string) (string, error) {
		if k == "missing" {
			return "", errors.New("not found")
		}
		return k, nil
	}).Observe(func(hit bool) {
		if hit {
			hits++
		} else {
			misses++
		}
	})
	ctx := context.Background()
	c.Get(ctx, "a")       // miss: loaded
	c.Get(ctx, "a")       // hit
	c.Get(ctx, "missing") // miss: errors are not cached
	c.Get(ctx, "missing") // miss again
	clock.Advance(time.Second)
	c.Get(ctx, "a") // miss: stale
	if hits != 1 || misses != 4 {
		t.Fatalf("hits %d misses %d, want 1 and 4", hits, misses)
	}
}
