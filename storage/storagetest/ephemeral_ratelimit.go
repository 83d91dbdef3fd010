package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// ephemeralRateLimitTests check Take, the token bucket behind rate limits.
// The caller's clock is a plain time moved by the test; the backend's own
// clock (key expiry) is moved alongside with h.Advance, as orgid's clock
// and the store's move together in production.
var ephemeralRateLimitTests = []ephemeralTest{
	{"Take/Burst", ephTestTakeBurst},
	{"Take/Refill", ephTestTakeRefill},
	{"Take/RefusalTakesNothing", ephTestTakeRefusalTakesNothing},
	{"Take/FractionalRate", ephTestTakeFractionalRate},
	{"Take/KeyExpiresWhenFull", ephTestTakeKeyExpires},
	{"Take/BadParams", ephTestTakeBadParams},
	{"Take/NotABucket", ephTestTakeNotABucket},
	{"Take/Several", ephTestTakeSeveral},
	{"Take/UpTo", ephTestTakeUpTo},
	{"Take/SeveralBadParams", ephTestTakeSeveralBadParams},
	{"Concurrent/Take", ephTestConcurrentTake},
}

// ephBucketStart is the caller's clock at the start of each test.
var ephBucketStart = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

type ephBucket struct {
	t     *testing.T
	h     EphemeralHarness
	key   string
	now   time.Time
	rate  float64
	burst int
}

func (b *ephBucket) take() (bool, time.Duration) {
	b.t.Helper()
	g, err := b.h.Store.Take(context.Background(), b.now, storage.Bucket{Key: b.key, Rate: b.rate, Burst: b.burst})
	if err != nil {
		b.t.Fatalf("Take(%s) = %v", b.key, err)
	}
	if len(g) != 1 || g[0].Tokens > 1 || (g[0].Tokens == 1) != (g[0].RetryAfter == 0) {
		b.t.Fatalf("Take(%s) = %+v; want one grant of 0 tokens with a wait, or 1 without", b.key, g)
	}
	return g[0].Tokens == 1, g[0].RetryAfter
}

func (b *ephBucket) advance(d time.Duration) {
	b.now = b.now.Add(d)
	b.h.Advance(d)
}

// wantTakes takes n tokens, each of which must be granted.
func (b *ephBucket) wantTakes(n int) {
	b.t.Helper()
	for i := range n {
		if ok, retry := b.take(); !ok {
			b.t.Fatalf("take %d of %d refused (retry after %v), want granted", i+1, n, retry)
		}
	}
}

// wantRefused takes once, which must be refused with retryAfter want.
func (b *ephBucket) wantRefused(want time.Duration) {
	b.t.Helper()
	ok, retry := b.take()
	if ok {
		b.t.Fatal("take granted, want refused")
	}
	if retry != want {
		b.t.Fatalf("refused with retry after %v, want %v", retry, want)
	}
}

func ephTestTakeBurst(t *testing.T, h EphemeralHarness) {
	b := &ephBucket{t: t, h: h, key: "rl:a", now: ephBucketStart, rate: 1, burst: 3}
	b.wantTakes(3)
	b.wantRefused(time.Second)
	// Another key is another bucket.
	other := &ephBucket{t: t, h: h, key: "rl:b", now: ephBucketStart, rate: 1, burst: 3}
	other.wantTakes(3)
}

func ephTestTakeRefill(t *testing.T, h EphemeralHarness) {
	b := &ephBucket{t: t, h: h, key: "rl", now: ephBucketStart, rate: 10, burst: 5}
	b.wantTakes(5)
	b.wantRefused(100 * time.Millisecond)
	b.advance(40 * time.Millisecond)
	b.wantRefused(60 * time.Millisecond)
	b.advance(60 * time.Millisecond)
	b.wantTakes(1)
	b.wantRefused(100 * time.Millisecond)
	// A long pause refills to the burst, never beyond.
	b.advance(time.Hour)
	b.wantTakes(5)
	b.wantRefused(100 * time.Millisecond)
}

// A refused take must not consume credit, or a client that keeps retrying
// would never be served again.
func ephTestTakeRefusalTakesNothing(t *testing.T, h EphemeralHarness) {
	b := &ephBucket{t: t, h: h, key: "rl", now: ephBucketStart, rate: 1, burst: 2}
	b.wantTakes(2)
	for range 10 {
		b.wantRefused(time.Second)
	}
	b.advance(time.Second)
	b.wantTakes(1)
}

func ephTestTakeFractionalRate(t *testing.T, h EphemeralHarness) {
	b := &ephBucket{t: t, h: h, key: "rl", now: ephBucketStart, rate: 1.0 / 60, burst: 1}
	b.wantTakes(1)
	b.wantRefused(time.Minute)
	b.advance(59 * time.Second)
	b.wantRefused(time.Second)
	b.advance(time.Second)
	b.wantTakes(1)
}

// The bucket's key expires once the bucket is full again, so idle clients
// and addresses cost no memory.
func ephTestTakeKeyExpires(t *testing.T, h EphemeralHarness) {
	b := &ephBucket{t: t, h: h, key: "rl", now: ephBucketStart, rate: 1, burst: 3}
	b.wantTakes(3)
	b.advance(2 * time.Second)
	if _, err := h.Store.Get(context.Background(), "rl"); err != nil {
		t.Fatalf("bucket gone before it is full again: %v", err)
	}
	b.advance(time.Second)
	ephWantMissing(t, h, "rl")
	b.wantTakes(3)
}

func ephTestTakeBadParams(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	for _, p := range []struct {
		rate  float64
		burst int
	}{{0, 1}, {-1, 1}, {1, 0}, {1, -5}, {1e-300, 1 << 30}} {
		if g, err := h.Store.Take(ctx, ephBucketStart, storage.Bucket{Key: "rl", Rate: p.rate, Burst: p.burst}); err == nil {
			t.Errorf("Take(rate %v, burst %d) = %+v, nil; want an error", p.rate, p.burst, g)
		}
	}
	ephWantMissing(t, h, "rl")
}

func ephTestTakeNotABucket(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	ephMust(t, h.Store.Set(ctx, "k", []byte("not a number"), time.Minute))
	if g, err := h.Store.Take(ctx, ephBucketStart, storage.Bucket{Key: "k", Rate: 1, Burst: 1}); err == nil {
		t.Fatalf("Take on a non-bucket value = %+v, nil; want an error", g)
	}
	ephWant(t, h, "k", "not a number")
}

// ephTestConcurrentTake: of more racers than the burst, exactly burst get
// a token, on one replica or many (Redis).
func ephTestConcurrentTake(t *testing.T, h EphemeralHarness) {
	const burst = 10
	oks := make([]bool, ephemeralRacers)
	errs := make([]error, ephemeralRacers)
	ephRace(func(i int) {
		var g []storage.BucketGrant
		g, errs[i] = h.Store.Take(context.Background(), ephBucketStart, storage.Bucket{Key: "rl", Rate: 1, Burst: burst})
		oks[i] = errs[i] == nil && g[0].Tokens == 1
	})
	granted := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("racer %d: Take = %v", i, err)
		}
		if oks[i] {
			granted++
		}
	}
	if granted != burst {
		t.Fatalf("%d of %d concurrent takes granted on a bucket of burst %d, want exactly %d", granted, ephemeralRacers, burst, burst)
	}
}

// ephTestTakeSeveral: one Take of two buckets spends each on its own and
// tells each one's grant.
func ephTestTakeSeveral(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	a := storage.Bucket{Key: "a", Rate: 1, Burst: 2}   // a token a second
	b := storage.Bucket{Key: "b", Rate: 0.5, Burst: 1} // a token every 2 s
	take := func(want ...storage.BucketGrant) {
		t.Helper()
		g, err := h.Store.Take(ctx, ephBucketStart, a, b)
		if err != nil {
			t.Fatalf("Take(a, b) = %v", err)
		}
		if len(g) != 2 || g[0] != want[0] || g[1] != want[1] {
			t.Fatalf("Take(a, b) = %+v, want %+v", g, want)
		}
	}
	take(storage.BucketGrant{Tokens: 1}, storage.BucketGrant{Tokens: 1})
	// b is empty now; a still has a token, which this take spends.
	take(storage.BucketGrant{Tokens: 1}, storage.BucketGrant{RetryAfter: 2 * time.Second})
	take(storage.BucketGrant{RetryAfter: time.Second}, storage.BucketGrant{RetryAfter: 2 * time.Second})
	// No buckets: no grants.
	if g, err := h.Store.Take(ctx, ephBucketStart); err != nil || len(g) != 0 {
		t.Fatalf("Take() = %+v, %v; want none", g, err)
	}
}

// ephTestTakeUpTo: a bucket gives as many tokens as it has, up to Want,
// and a refill gives only what has come back.
func ephTestTakeUpTo(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	now := ephBucketStart
	take := func(want int, wantGrant storage.BucketGrant) {
		t.Helper()
		g, err := h.Store.Take(ctx, now, storage.Bucket{Key: "rl", Rate: 10, Burst: 5, Want: want})
		if err != nil {
			t.Fatalf("Take(want %d) = %v", want, err)
		}
		if g[0] != wantGrant {
			t.Fatalf("Take(want %d) = %+v, want %+v", want, g[0], wantGrant)
		}
	}
	take(3, storage.BucketGrant{Tokens: 3})
	take(3, storage.BucketGrant{Tokens: 2})
	take(3, storage.BucketGrant{RetryAfter: 100 * time.Millisecond})
	now = now.Add(250 * time.Millisecond)
	h.Advance(250 * time.Millisecond)
	take(10, storage.BucketGrant{Tokens: 2})
	take(1, storage.BucketGrant{RetryAfter: 50 * time.Millisecond})
	// Want beyond the burst gets the burst at most.
	now = now.Add(time.Hour)
	h.Advance(time.Hour)
	take(100, storage.BucketGrant{Tokens: 5})
}

// ephTestTakeSeveralBadParams: a bad bucket anywhere in the list takes
// nothing from the good ones.
func ephTestTakeSeveralBadParams(t *testing.T, h EphemeralHarness) {
	ctx := context.Background()
	good := storage.Bucket{Key: "good", Rate: 1, Burst: 1}
	if _, err := h.Store.Take(ctx, ephBucketStart, good, storage.Bucket{Key: "bad", Rate: 0, Burst: 1}); err == nil {
		t.Fatal("Take with a zero-rate bucket: no error")
	}
	ephWantMissing(t, h, "good")
	ephWantMissing(t, h, "bad")
}
