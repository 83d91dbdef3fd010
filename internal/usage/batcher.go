package usage

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/orgid/orgid/storage"
)

// DefaultFlushInterval is how often Run flushes (ORGID_USAGE_FLUSH_INTERVAL).
const DefaultFlushInterval = 10 * time.Second

// MaxPending bounds how many distinct counters (token keys plus active
// users) a Batcher keeps across failed flushes. Retried deltas merge
// into the same keys, so memory grows with distinct (organization,
// application, month) and (organization, month, user) keys, not with
// tokens; an outage long and busy enough to pass the bound loses the
// deltas held (logged as an error) rather than the process's memory.
const MaxPending = 200_000

// finalFlushTimeout bounds the flush Run makes when it stops, so a
// shutdown waits at most this long for a store that does not answer.
const finalFlushTimeout = 5 * time.Second

// Batcher moves what a Recorder counted into the store.
type Batcher struct {
	rec   *Recorder
	store storage.UsageStore
	log   *slog.Logger

	// mu makes flushes take turns (Run's and a caller's Flush) and
	// guards the pending deltas: those a failed flush kept.
	mu      sync.Mutex
	tokens  map[tokenKey]int64
	users   map[userKey]struct{}
	flushed func(error) // tests: told after each flush Run makes
}

// NewBatcher returns a Batcher that flushes rec into store, logging
// failed flushes to log (slog.Default when nil).
func NewBatcher(rec *Recorder, store storage.UsageStore, log *slog.Logger) *Batcher {
	if log == nil {
		log = slog.Default()
	}
	return &Batcher{rec: rec, store: store, log: log, tokens: map[tokenKey]int64{}, users: map[userKey]struct{}{}}
}

// Flush writes everything counted so far, and whatever earlier failed
// flushes kept, in one additive store call. On failure the deltas are
// kept for the next flush (up to MaxPending counters), a warning is
// logged and the error returned.
func (b *Batcher) Flush(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	tokens, users := b.rec.take()
	for k, n := range tokens {
		b.tokens[k] += n
	}
	for k := range users {
		b.users[k] = struct{}{}
	}
	if len(b.tokens) == 0 && len(b.users) == 0 {
		return nil
	}
	counts, active := rows(b.tokens, b.users)
	err := b.store.AddUsage(ctx, counts, active)
	if err == nil {
		clear(b.tokens)
		clear(b.users)
		return nil
	}
	if n := len(b.tokens) + len(b.users); n > MaxPending {
		var lost int64
		for _, c := range b.tokens {
			lost += c
		}
		b.log.ErrorContext(ctx, "usage: dropped counters that could not be stored",
			slog.Int("counters", n), slog.Int64("tokens", lost), slog.Int("active_users", len(b.users)), slog.Any("error", err))
		clear(b.tokens)
		clear(b.users)
		return err
	}
	b.log.WarnContext(ctx, "usage: flush failed; keeping the counters for the next one",
		slog.Int("counters", len(b.tokens)+len(b.users)), slog.Any("error", err))
	return err
}

// Run flushes at every tick until ctx ends, then flushes once more (under
// a deadline of its own, ctx being done) so that a shutdown loses
// nothing counted. Errors are logged by Flush.
func (b *Batcher) Run(ctx context.Context, ticks <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalFlushTimeout)
			err := b.Flush(fctx)
			cancel()
			b.notify(err)
			return
		case <-ticks:
			b.notify(b.Flush(ctx))
		}
	}
}

func (b *Batcher) notify(err error) {
	if b.flushed != nil {
		b.flushed(err)
	}
}
