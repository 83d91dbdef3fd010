package memstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/orgid/orgid/storage"
)

// checkTTL refuses a key that would never expire: ephemeral state that
// lives forever is a leak, and Redis refuses PX 0 as well.
func checkTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("memstore: ttl %v is not positive", ttl)
	}
	return nil
}

// expiry is now+ttl, saturating so that an absurdly long ttl means "far
// future" rather than wrapping into the past.
func expiry(now int64, ttl time.Duration) int64 {
	if int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(ttl)
}

// errNotInteger mirrors Redis, which refuses INCRBY on a value that is not
// a decimal int64 or when the sum would overflow.
var errNotInteger = errors.New("memstore: value is not an integer or the increment overflows")

// lookup returns the live entry under key; an expired one is deleted on the
// way, so it is invisible the instant its time has passed. sh.mu must be held.
func (sh *shard) lookup(key string, now int64) (entry, bool) {
	e, ok := sh.m[key]
	if !ok {
		return entry{}, false
	}
	if e.exp <= now {
		delete(sh.m, key)
		return entry{}, false
	}
	return e, true
}

func clone(b []byte) []byte {
	// Never nil, so a stored empty value reads back as empty, not missing.
	return append(make([]byte, 0, len(b)), b...)
}

// Set implements storage.Ephemeral.
func (s *Store) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return err
	}
	v := clone(value)
	now := s.nowNano()
	sh := s.shard(key)
	sh.mu.Lock()
	sh.m[key] = entry{val: v, exp: expiry(now, ttl)}
	sh.mu.Unlock()
	return nil
}

// Create implements storage.Ephemeral.
func (s *Store) Create(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return err
	}
	v := clone(value)
	now := s.nowNano()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.lookup(key, now); ok {
		return storage.ErrAlreadyExists
	}
	sh.m[key] = entry{val: v, exp: expiry(now, ttl)}
	return nil
}

// Get implements storage.Ephemeral.
func (s *Store) Get(_ context.Context, key string) ([]byte, error) {
	now := s.nowNano()
	sh := s.shard(key)
	sh.mu.Lock()
	e, ok := sh.lookup(key, now)
	sh.mu.Unlock()
	if !ok {
		return nil, storage.ErrNotFound
	}
	// Stored slices are never modified in place (writes replace them), so
	// copying outside the lock is safe.
	return clone(e.val), nil
}

// Swap implements storage.Ephemeral.
func (s *Store) Swap(_ context.Context, key string, value []byte) ([]byte, error) {
	v := clone(value)
	now := s.nowNano()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.lookup(key, now)
	if !ok {
		return nil, storage.ErrNotFound
	}
	sh.m[key] = entry{val: v, exp: e.exp}
	// The old slice leaves the store here, so the caller may own it.
	return e.val, nil
}

// Delete implements storage.Ephemeral.
func (s *Store) Delete(_ context.Context, key string) error {
	sh := s.shard(key)
	sh.mu.Lock()
	delete(sh.m, key)
	sh.mu.Unlock()
	return nil
}

// Incr implements storage.Ephemeral. Counters are stored as decimal text,
// as in Redis, so Get reads them the same way on both backends.
func (s *Store) Incr(_ context.Context, key string, delta int64, ttl time.Duration) (int64, time.Duration, error) {
	if err := checkTTL(ttl); err != nil {
		return 0, 0, err
	}
	now := s.nowNano()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.lookup(key, now)
	if !ok {
		e = entry{exp: expiry(now, ttl)}
	}
	var n int64
	if ok {
		var err error
		if n, err = strconv.ParseInt(string(e.val), 10, 64); err != nil {
			return 0, 0, errNotInteger
		}
	}
	if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
		return 0, 0, errNotInteger
	}
	n += delta
	sh.m[key] = entry{val: strconv.AppendInt(nil, n, 10), exp: e.exp}
	return n, time.Duration(e.exp - now), nil
}

// Ping implements storage.Ephemeral; memory is always reachable.
func (s *Store) Ping(context.Context) error { return nil }
