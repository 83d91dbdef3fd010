// Package ttlcache keeps values loaded from a store for a short time, so a
// hot path does not read the store for the same record on every request.
// Errors are not cached: a record created elsewhere is seen at once, and a
// change made elsewhere within the time to live.
package ttlcache

import (
	"context"
	"sync"
	"time"
)

// Cache maps keys to values loaded by load, each trusted for ttl.
type Cache[K comparable, V any] struct {
	ttl  time.Duration
	now  func() time.Time
	load func(context.Context, K) (V, error)
	mu   sync.RWMutex
	m    map[K]entry[V]
	// observe, when set, is told whether each Get was served from the
	// cache (for the cache metrics); set once before use.
	observe func(hit bool)
}

type entry[V any] struct {
	v        V
	loadedAt time.Time
}

// New returns a cache that loads missing or stale values with load.
func New[K comparable, V any](ttl time.Duration, now func() time.Time, load func(context.Context, K) (V, error)) *Cache[K, V] {
	return &Cache[K, V]{ttl: ttl, now: now, load: load, m: make(map[K]entry[V])}
}

// Observe has f told, on every Get, whether the value came from the cache
// (hit) or had to be loaded (miss). Call it before the cache is shared:
// it is not synchronized with Get. It returns c.
func (c *Cache[K, V]) Observe(f func(hit bool)) *Cache[K, V] {
	c.observe = f
	return c
}

// Get returns the value for k, loading it when absent or older than the ttl.
func (c *Cache[K, V]) Get(ctx context.Context, k K) (V, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	hit := ok && now.Sub(e.loadedAt) < c.ttl
	if c.observe != nil {
		c.observe(hit)
	}
	if hit {
		return e.v, nil
	}
	v, err := c.load(ctx, k)
	if err != nil {
		if ok {
			c.Forget(k) // stale, and no longer loadable
		}
		var zero V
		return zero, err
	}
	c.mu.Lock()
	c.m[k] = entry[V]{v: v, loadedAt: now}
	if len(c.m) > sweepAt {
		for key, e := range c.m {
			if now.Sub(e.loadedAt) >= c.ttl {
				delete(c.m, key)
			}
		}
	}
	c.mu.Unlock()
	return v, nil
}

// sweepAt is the size beyond which an insert drops stale entries, so the
// map holds about the keys asked for within a few TTLs.
const sweepAt = 4096

// Forget drops k, so that the next Get loads it again.
func (c *Cache[K, V]) Forget(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// ForgetFunc drops every key for which match is true.
func (c *Cache[K, V]) ForgetFunc(match func(K) bool) {
	c.mu.Lock()
	for k := range c.m {
		if match(k) {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}
