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
	// Take takes tokens from each bucket, in one round trip: as many as
	// the bucket has, up to its Want (at least one). A bucket refills at
	// Rate tokens per second up to Burst tokens and starts full. Grant i
	// tells what bucket i gave: Tokens 0 means it had none, and then
	// RetryAfter is how long until it has one. Each bucket is taken
	// atomically on its own: a bucket that gives nothing changes nothing,
	// the others are spent all the same. The time is the caller's (now),
	// so that tests move it and replicas need no clock in the store; a key
	// expires once its bucket would be full again. Every Rate must be
	// positive and every Burst at least 1, or nothing is taken.
	Take(ctx context.Context, now time.Time, buckets ...Bucket) ([]BucketGrant, error)
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
	// Want is the most tokens to take; 0 means 1. A caller that spends
	// tokens over several requests takes a few at a time, so that most
	// requests need no round trip to the store.
	Want int
}

// BucketGrant is what one bucket of a Take gave.
type BucketGrant struct {
	// Tokens is how many were taken: 0 when the bucket had none.
	Tokens int
	// RetryAfter is, when Tokens is 0, how long until it has one.
	RetryAfter time.Duration
}

// want is b.Want, at least 1.
func (b Bucket) want() int64 { return int64(max(b.Want, 1)) }

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

// TakeGCRA is the generic cell rate algorithm both backends run (memstore
// in Go, redisstore in Lua): the bucket is one number, the theoretical
// arrival time (TAT) of the next token in microseconds of the caller's
// clock, absent (0) when the bucket is full. It returns the new TAT to
// store, how many tokens it grants, and when none, how long until one.
func (b Bucket) TakeGCRA(nowUS, tat, interval, capacity int64) (next int64, granted int64, retryAfter time.Duration) {
	tat = max(tat, nowUS)
	// Each token moves the TAT one interval later; at most capacity ahead
	// of now.
	avail := (capacity - (tat - nowUS)) / interval
	if avail < 1 {
		return tat, 0, time.Duration(tat+interval-nowUS-capacity) * time.Microsecond
	}
	n := min(b.want(), avail)
	return tat + n*interval, n, 0
}
