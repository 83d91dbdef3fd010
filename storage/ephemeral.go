package storage

import (
	"context"
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
//     on a value that is not an integer is an error.
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
	// Ping reports whether the backend is reachable.
	Ping(ctx context.Context) error
	Close() error
}
