package memstore

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/orgid/orgid/storage"
)

var _ storage.Ephemeral = (*Store)(nil)

// shardCount spreads keys over independently locked maps so that sign-ins
// on many cores do not queue on one mutex. A power of two keeps the shard
// choice a mask.
const shardCount = 64

// janitorEvery is how often expired keys are reclaimed. Expiry itself is
// exact (every access checks the clock); the janitor only frees memory of
// keys nobody reads again, such as abandoned auth requests.
const janitorEvery = time.Minute

type entry struct {
	val []byte
	exp int64 // expiry, Unix nanoseconds of the store's clock
}

type shard struct {
	mu sync.Mutex
	m  map[string]entry
	// Pad to a cache line so neighbouring shards' locks do not share one
	// (false sharing would undo the point of sharding).
	_ [48]byte
}

// Store is an in-process storage.Ephemeral. Values are copied in and out,
// so callers may reuse their slices. The zero value is not usable; call New.
type Store struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [shardCount]shard

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read time from now instead of time.Now, so that
// tests move time forward instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// New returns an empty store and starts its janitor; Close stops it.
func New(opts ...Option) *Store {
	return newStore(janitorEvery, opts...)
}

func newStore(sweepEvery time.Duration, opts ...Option) *Store {
	s := &Store{
		now:  time.Now,
		seed: maphash.MakeSeed(),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	for i := range s.shards {
		s.shards[i].m = make(map[string]entry)
	}
	go s.janitor(sweepEvery)
	return s
}

// Close stops the janitor and waits for it to exit. The data stays readable;
// Close exists so that tests and shutdown leak no goroutine. It is safe to
// call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
	})
	return nil
}

func (s *Store) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)&(shardCount-1)]
}

func (s *Store) nowNano() int64 { return s.now().UnixNano() }

func (s *Store) janitor(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep()
		}
	}
}

// sweep deletes every expired key, one shard at a time so that readers wait
// for at most one shard's scan.
func (s *Store) sweep() {
	now := s.nowNano()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			if e.exp <= now {
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
}

// count counts stored entries, expired or not (for tests of the janitor).
func (s *Store) count() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
