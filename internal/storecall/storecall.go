// Package storecall wraps orgid's stores so that every call has a deadline
// and is measured: a PostgreSQL or Redis that stops answering costs a
// request at most the store timeout and comes out as storage.ErrUnavailable
// (503), never as a request hanging until the client gives up.
package storecall

//go:generate go run ./gen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orgid/orgid/storage"
)

// Observer is told about every finished store call (*metrics.Metrics is one).
type Observer interface {
	StoreCall(backend, op string, d time.Duration, err error)
}

// Durable wraps s: each call gets a deadline of timeout unless its context
// has an earlier one (timeout <= 0: no deadline of its own), and is
// reported to obs (nil: to nobody) under backend ("sqlite", "postgres",
// "memory"). A transaction's deadline covers the whole of it: a call
// inside WithTx never gets longer than what is left of it.
func Durable(s storage.Store, backend string, timeout time.Duration, obs Observer) storage.Store {
	return &durable{caller: caller{backend: backend, timeout: timeout, obs: obs}, s: s}
}

// Ephemeral wraps e as Durable wraps a durable store; backend is "redis"
// or "memory".
func Ephemeral(e storage.Ephemeral, backend string, timeout time.Duration, obs Observer) storage.Ephemeral {
	return &ephemeral{caller: caller{backend: backend, timeout: timeout, obs: obs}, s: e}
}

type durable struct {
	caller
	s storage.Store
}

type ephemeral struct {
	caller
	s storage.Ephemeral
}

var (
	_ storage.Store     = (*durable)(nil)
	_ storage.Ephemeral = (*ephemeral)(nil)
)

// WithTx runs fn on a wrapped transaction store whose calls all end by the
// transaction's deadline: with database/sql a transaction is rolled back
// when the context it began with is done, and a call inside it that
// outlived that would only find the transaction gone.
func (w *durable) WithTx(ctx context.Context, fn func(tx storage.Store) error) error {
	ctx, c := w.start(ctx, "WithTx")
	inner := &durable{caller: w.caller}
	if d, ok := ctx.Deadline(); ok {
		inner.deadline = d
	}
	err := w.s.WithTx(ctx, func(tx storage.Store) error {
		inner.s = tx
		return fn(inner)
	})
	return w.end(c, err)
}

func (w *durable) Close() error   { return w.s.Close() }
func (w *ephemeral) Close() error { return w.s.Close() }

// caller is what every wrapped call shares.
type caller struct {
	backend string
	timeout time.Duration
	// deadline, when set, replaces now+timeout: the end of the
	// transaction the call runs in.
	deadline time.Time
	obs      Observer
}

// call is one call in flight. It is a value, so that a call whose context
// already has an earlier deadline allocates nothing here.
type call struct {
	op     string
	began  time.Time
	parent context.Context
	ctx    context.Context
	cancel context.CancelFunc
}

// SweepFactor: DeleteExpired, background maintenance that may have much
// to do after a while (millions of expired rows), gets SweepFactor times
// the timeout, not one request's.
const SweepFactor = 12

func (c *caller) start(ctx context.Context, op string) (context.Context, call) {
	cl := call{op: op, began: time.Now(), parent: ctx}
	d := c.deadline
	if d.IsZero() {
		if c.timeout <= 0 {
			return ctx, cl
		}
		timeout := c.timeout
		if op == "DeleteExpired" {
			timeout *= SweepFactor
		}
		d = cl.began.Add(timeout)
	}
	if cur, ok := ctx.Deadline(); ok && !d.Before(cur) {
		return ctx, cl // the caller's own deadline comes first
	}
	cl.ctx, cl.cancel = context.WithDeadline(ctx, d)
	return cl.ctx, cl
}

// end reports the call and turns a failure caused by the wrapper's own
// deadline into storage.ErrUnavailable. A caller's cancellation or
// deadline stays what the backend made of it, and so does a definite
// answer (not found, conflict…) that came in just as time ran out.
func (c *caller) end(cl call, err error) error {
	if cl.cancel != nil {
		if err != nil && cl.parent.Err() == nil && errors.Is(cl.ctx.Err(), context.DeadlineExceeded) && !definite(err) {
			err = fmt.Errorf("%w: %s %s: no answer within the store timeout: %w", storage.ErrUnavailable, c.backend, cl.op, err)
		}
		cl.cancel()
	}
	if c.obs != nil {
		c.obs.StoreCall(c.backend, cl.op, time.Since(cl.began), err)
	}
	return err
}

// definite reports whether err is an answer of the store rather than a
// failure to get one (ErrUnavailable counts as definite: it already says
// what the caller needs to know).
func definite(err error) bool {
	for _, s := range []error{storage.ErrNotFound, storage.ErrAlreadyExists, storage.ErrConflict, storage.ErrUnavailable} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
