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
	// Take takes one token from the bucket under key, which refills at rate
	// tokens per second up to burst tokens and starts full. It reports
	// whether a token was there and, when not, how long until one is.
	// A refusal changes nothing. The time is the caller's (now), so that
	// tests move it and replicas need no clock in the store; the key
	// expires once the bucket would be full again. rate must be positive
	// and burst at least 1.
	Take(ctx context.Context, key string, now time.Time, rate float64, burst int) (ok bool, retryAfter time.Duration, err error)
	// Ping reports whether the backend is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// BucketParams checks the arguments of Ephemeral.Take and turns them into
// the bucket's emission interval and capacity in microseconds, the unit
// both backends store: a token every interval, at most burst*interval of
// credit. Microseconds since the epoch stay exact in a float64 (Redis's Lua
// numbers) for the next two centuries.
func BucketParams(rate float64, burst int) (interval, capacity int64, err error) {
	if !(rate > 0) || burst < 1 {
		return 0, 0, fmt.Errorf("storage: bucket rate %v/s, burst %d: want a positive rate and a burst of at least 1", rate, burst)
	}
	if 1e6/rate >= math.MaxInt64/float64(burst) {
		return 0, 0, fmt.Errorf("storage: bucket rate %v/s, burst %d: too slow to keep", rate, burst)
	}
	interval = max(int64(1e6/rate), 1)
	return interval, interval * int64(burst), nil
}
