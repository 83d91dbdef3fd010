package storage

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Ephemeral holds short-lived state under string keys, each with a time to
// live: auth requests, authorization codes, sessions, rate-limit counters,
// caches. In-process by default, Redis for many replicas.
//
// Invariants every backend keeps (storagetest checks them):
//   - a key is gone once its time to live has passed;
//   - Create and Swap are atomic: of concurrent callers on one key exactly
//     one Create succeeds, and each Swap sees the value the previous one wrote;
//   - a backend that cannot be reached returns an error wrapping ErrUnavailable;
//   - a ttl <= 0 is refused with an error (Redis would read 0 as "never
//     expires", and nothing here may live forever);
//   - counters are decimal text: Get reads a counter back as text, and Incr
//     on a value that is not an integer is an error;
//   - Take is atomic: of N concurrent takes on a full bucket of burst B,
//     exactly min(N, B) succeed.
type Ephemeral interface {
	// Set stores value under key for ttl, replacing any earlier value.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Create stores value under key for ttl only if key is absent;
	// ErrAlreadyExists otherwise.
	Create(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Get returns the value under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Swap replaces the value under an existing key, keeping its time to
	// live, and returns the previous value. ErrNotFound (and nothing
	// written) when key is absent.
	Swap(ctx context.Context, key string, value []byte) ([]byte, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Incr adds delta (which may be 0) to the counter under key, creating it
	// with ttl when absent, and returns the new count and the time until
	// the counter expires.
	Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, time.Duration, error)
	// Take takes one token from each bucket, in one round trip. A bucket
	// refills at Rate tokens per second up to Burst tokens and starts
	// full. ok reports whether every bucket had a token; when not,
	// retryAfter is the longest time until the refusing buckets have one.
	// Each bucket is taken atomically on its own: a bucket that refuses
	// changes nothing, the others are spent all the same. The time is the
	// caller's (now), so that tests move it and replicas need no clock in
	// the store; a key expires once its bucket would be full again. Every
	// Rate must be positive and every Burst at least 1, or nothing is taken.
	Take(ctx context.Context, now time.Time, buckets ...Bucket) (ok bool, retryAfter time.Duration, err error)
	// Ping reports whether the backend is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// Bucket is one token bucket of a Take: a key and its refill rate (tokens
// per second) and capacity.
type Bucket struct {
	Key   string
	Rate  float64
	Burst int
}

// Params checks the bucket and turns it into its emission interval and
// capacity in microseconds, the unit both backends store: a token every
// interval, at most burst*interval of credit. Microseconds since the epoch
// stay exact in a float64 (Redis's Lua numbers) for the next two centuries.
func (b Bucket) Params() (interval, capacity int64, err error) {
	if !(b.Rate > 0) || b.Burst < 1 {
		return 0, 0, fmt.Errorf("storage: bucket rate %v/s, burst %d: want a positive rate and a burst of at least 1", b.Rate, b.Burst)
	}
	if 1e6/b.Rate >= math.MaxInt64/float64(b.Burst) {
		return 0, 0, fmt.Errorf("storage: bucket rate %v/s, burst %d: too slow to keep", b.Rate, b.Burst)
	}
	interval = max(int64(1e6/b.Rate), 1)
	return interval, interval * int64(b.Burst), nil
}
