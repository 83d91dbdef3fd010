package storagetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// EphemeralHarness is one fresh, empty storage.Ephemeral under test.
type EphemeralHarness struct {
	Store storage.Ephemeral
	// Advance moves the backend's time forward by d, so that expiry is
	// tested without sleeping.
	Advance func(d time.Duration)
}

// RunEphemeral runs the conformance suite for storage.Ephemeral, and for the
// typed storage.State on top of it, against the backend that newHarness
// makes. newHarness is called once per subtest and must return an empty
// store; it should register its own cleanup with t.Cleanup.
func RunEphemeral(t *testing.T, newHarness func(t *testing.T) EphemeralHarness) {
	groups := [][]ephemeralTest{ephemeralKVTests, ephemeralConcurrencyTests, ephemeralStateTests, ephemeralRateLimitTests}
	for _, g := range groups {
		for _, tc := range g {
			t.Run(tc.name, func(t *testing.T) {
				tc.run(t, newHarness(t))
			})
		}
	}
}

type ephemeralTest struct {
	name string
	run  func(t *testing.T, h EphemeralHarness)
}

// ephemeralSlack is how much real time a backend whose clock cannot be
// frozen (Redis) may spend between a write and a TTL read-back.
const ephemeralSlack = 2 * time.Second

var ephemeralKVTests = []ephemeralTest{
	{"Set/ThenGet", ephTestSetGet},
	{"Set/Replaces", ephTestSetReplaces},
	{"Set/BinaryAndEmpty", ephTestBinaryAndEmpty},
	{"Set/NonPositiveTTL", ephTestNonPositiveTTL},
	{"Get/Missing", ephTestGetMissing},
	{"Create/New", ephTestCreateNew},
	{"Create/Existing", ephTestCreateExisting},
	{"Swap/Missing", ephTestSwapMissing},
	{"Swap/ReturnsOld", ephTestSwapReturnsOld},
	{"Swap/KeepsTTL", ephTestSwapKeepsTTL},
	{"Delete", ephTestDelete},
	{"Delete/Missing", ephTestDeleteMissing},
	{"Incr/Delta", ephTestIncrDelta},
	{"Incr/Zero", ephTestIncrZero},
	{"Incr/TTLNotExtended", ephTestIncrTTLNotExtended},
	{"Incr/NotInteger", ephTestIncrNotInteger},
	{"Expiry", ephTestExpiry},
	{"Copies", ephTestCopies},
	{"Ping", ephTestPing},
}

func ephTestSetGet(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	ephMust(t, h.Store.Set(ctx, "k", []byte("v1"), time.Minute))
	ephWant(t, h, "k", "v1")
	ephWantMissing(t, h, "other")
}

func ephTestSetReplaces(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	ephMust(t, h.Store.Set(ctx, "k", []byte("v1"), time.Minute))
	ephMust(t, h.Store.Set(ctx, "k", []byte("v2"), time.Hour))
	ephWant(t, h, "k", "v2")
	// The replacement carries its own TTL, not the first one's.
	h.Advance(time.Minute + time.Second)
	ephWant(t, h, "k", "v2")
}

func ephTestBinaryAndEmpty(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	bin := []byte{0, 0xff, '\r', '\n', 0}
	ephMust(t, h.Store.Set(ctx, "bin", bin, time.Minute))
	ephWant(t, h, "bin", string(bin))
	// An empty value is a value, not a missing key.
	ephMust(t, h.Store.Set(ctx, "empty", []byte{}, time.Minute))
	ephWant(t, h, "empty", "")
}

func ephTestNonPositiveTTL(t *testing.T, h EphemeralHarness) {
	// Ephemeral state must expire; a zero or negative TTL is a caller bug,
	// refused rather than stored forever (or, in Redis, silently without TTL).
	ctx := context.Background()
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := h.Store.Set(ctx, "k", []byte("v"), ttl); err == nil {
			t.Errorf("Set(ttl %v) = nil, want an error", ttl)
		}
		if err := h.Store.Create(ctx, "k", []byte("v"), ttl); err == nil {
			t.Errorf("Create(ttl %v) = nil, want an error", ttl)
		}
		if _, _, err := h.Store.Incr(ctx, "n", 1, ttl); err == nil {
			t.Errorf("Incr(ttl %v) = nil, want an error", ttl)
		}
	}
	ephWantMissing(t, h, "k")
	ephWantMissing(t, h, "n")
}

func ephTestGetMissing(t *testing.T, h EphemeralHarness) {
	ephWantMissing(t, h, "nope")
}

func ephTestCreateNew(t *testing.T, h EphemeralHarness) {
	ephMust(t, h.Store.Create(context.Background(), "k", []byte("v1"), time.Minute))
	ephWant(t, h, "k", "v1")
}

func ephTestCreateExisting(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	ephMust(t, h.Store.Set(ctx, "k", []byte("old"), time.Minute))
	err := h.Store.Create(ctx, "k", []byte("new"), time.Hour)
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("Create on existing key = %v, want ErrAlreadyExists", err)
	}
	ephWant(t, h, "k", "old")
	// The failed Create must not have extended the key's life either.
	h.Advance(time.Minute + time.Second)
	ephWantMissing(t, h, "k")
}

func ephTestSwapMissing(t *testing.T, h EphemeralHarness) {
	old, err := h.Store.Swap(context.Background(), "k", []byte("v"))
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Swap on missing key = %q, %v; want ErrNotFound", old, err)
	}
	ephWantMissing(t, h, "k")
}

func ephTestSwapReturnsOld(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	ephMust(t, h.Store.Set(ctx, "k", []byte("v1"), time.Minute))
	old, err := h.Store.Swap(ctx, "k", []byte("v2"))
	ephMust(t, err)
	if string(old) != "v1" {
		t.Errorf("Swap returned %q, want %q", old, "v1")
	}
	ephWant(t, h, "k", "v2")
	old, err = h.Store.Swap(ctx, "k", []byte("v3"))
	ephMust(t, err)
	if string(old) != "v2" {
		t.Errorf("second Swap returned %q, want %q", old, "v2")
	}
	ephWant(t, h, "k", "v3")
}

func ephTestSwapKeepsTTL(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	ephMust(t, h.Store.Set(ctx, "k", []byte("v1"), time.Minute))
	h.Advance(30 * time.Second)
	_, err := h.Store.Swap(ctx, "k", []byte("v2"))
	ephMust(t, err)
	h.Advance(20 * time.Second)
	ephWant(t, h, "k", "v2")
	// 30s + 20s + 11s > the original minute: a Swap that reset or dropped
	// the TTL would leave the key here.
	h.Advance(11 * time.Second)
	ephWantMissing(t, h, "k")
}

func ephTestDelete(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	ephMust(t, h.Store.Set(ctx, "k", []byte("v"), time.Minute))
	ephMust(t, h.Store.Delete(ctx, "k"))
	ephWantMissing(t, h, "k")
	// A deleted key can be created again.
	ephMust(t, h.Store.Create(ctx, "k", []byte("v2"), time.Minute))
	ephWant(t, h, "k", "v2")
}

func ephTestDeleteMissing(t *testing.T, h EphemeralHarness) {
	ephMust(t, h.Store.Delete(context.Background(), "nope"))
	ephWantMissing(t, h, "nope")
}

func ephTestIncrDelta(t *testing.T, h EphemeralHarness) {
	ephWantIncr(t, h, "n", 1, time.Minute, 1, time.Minute)
	ephWantIncr(t, h, "n", 5, time.Minute, 6, time.Minute)
	ephWantIncr(t, h, "n", 0, time.Minute, 6, time.Minute)
	// Counters are decimal text, the same on every backend.
	ephWant(t, h, "n", "6")
	// Other counters are independent.
	ephWantIncr(t, h, "m", 2, time.Minute, 2, time.Minute)
}

func ephTestIncrZero(t *testing.T, h EphemeralHarness) {
	// Delta 0 reads a counter; on a missing key it starts a window at 0.
	ephWantIncr(t, h, "n", 0, time.Minute, 0, time.Minute)
	ephWantIncr(t, h, "n", 3, time.Hour, 3, time.Minute)
}

func ephTestIncrTTLNotExtended(t *testing.T, h EphemeralHarness) {
	ephWantIncr(t, h, "n", 1, time.Minute, 1, time.Minute)
	h.Advance(20 * time.Second)
	// A later Incr with a longer ttl neither resets nor extends the window.
	ephWantIncr(t, h, "n", 1, time.Hour, 2, 40*time.Second)
	h.Advance(30 * time.Second)
	ephWantIncr(t, h, "n", 0, time.Hour, 2, 10*time.Second)
	h.Advance(10*time.Second + time.Second)
	// The window is over: the counter starts again with the new ttl.
	ephWantIncr(t, h, "n", 1, 2*time.Minute, 1, 2*time.Minute)
}

func ephTestIncrNotInteger(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	ephMust(t, h.Store.Set(ctx, "k", []byte("abc"), time.Minute))
	if n, _, err := h.Store.Incr(ctx, "k", 1, time.Minute); err == nil {
		t.Errorf("Incr on a non-integer value = %d, nil; want an error", n)
	}
	ephWant(t, h, "k", "abc")
}

func ephTestExpiry(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	ephMust(t, h.Store.Set(ctx, "k", []byte("v"), time.Minute))
	// "unread" is never read before it expires, so a backend that forgets
	// expired keys only when they are read cannot pass Create below.
	ephMust(t, h.Store.Set(ctx, "unread", []byte("v"), time.Minute))
	h.Advance(time.Minute - time.Second)
	ephWant(t, h, "k", "v")
	h.Advance(2 * time.Second)
	ephWantMissing(t, h, "k")
	// An expired key is gone for every method, not just Get.
	if _, err := h.Store.Swap(ctx, "k", []byte("x")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Swap on expired key = %v, want ErrNotFound", err)
	}
	ephWantMissing(t, h, "k")
	ephMust(t, h.Store.Create(ctx, "k", []byte("v2"), time.Minute))
	ephWant(t, h, "k", "v2")
	ephMust(t, h.Store.Create(ctx, "unread", []byte("v2"), time.Minute))
	ephWant(t, h, "unread", "v2")
}

func ephTestCopies(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	in := []byte("abc")
	ephMust(t, h.Store.Set(ctx, "set", in, time.Minute))
	in[0] = 'X'
	ephWant(t, h, "set", "abc")

	in = []byte("abc")
	ephMust(t, h.Store.Create(ctx, "create", in, time.Minute))
	in[0] = 'X'
	ephWant(t, h, "create", "abc")

	out, err := h.Store.Get(ctx, "set")
	ephMust(t, err)
	out[0] = 'Y'
	ephWant(t, h, "set", "abc")

	in = []byte("def")
	old, err := h.Store.Swap(ctx, "set", in)
	ephMust(t, err)
	in[0] = 'X'
	old[0] = 'Y'
	ephWant(t, h, "set", "def")
}

func ephTestPing(t *testing.T, h EphemeralHarness) {
	ephMust(t, h.Store.Ping(context.Background()))
}

func ephMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ephWant(t *testing.T, h EphemeralHarness, key, want string) {
	t.Helper()
	got, err := h.Store.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q) = %v, want %q", key, err, want)
	}
	if !bytes.Equal(got, []byte(want)) {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

func ephWantMissing(t *testing.T, h EphemeralHarness, key string) {
	t.Helper()
	got, err := h.Store.Get(context.Background(), key)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, got, err)
	}
}

// ephWantIncr checks Incr's count exactly and its TTL to within the real
// time a backend may spend between calls.
func ephWantIncr(t *testing.T, h EphemeralHarness, key string, delta int64, ttl time.Duration, wantN int64, wantTTL time.Duration) {
	t.Helper()
	n, left, err := h.Store.Incr(context.Background(), key, delta, ttl)
	if err != nil {
		t.Fatalf("Incr(%q, %d) = %v", key, delta, err)
	}
	if n != wantN {
		t.Errorf("Incr(%q, %d) count = %d, want %d", key, delta, n, wantN)
	}
	ephWantTTL(t, left, wantTTL)
}

func ephWantTTL(t *testing.T, got, want time.Duration) {
	t.Helper()
	if got > want || got <= want-ephemeralSlack {
		t.Errorf("TTL = %v, want %v (within %v below)", got, want, ephemeralSlack)
	}
}
