package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// queries lists every SQL text declared with query, so that Open can
// prepare them all on the SQLite writer up front (see stmtCache.warm).
var queries []string

// query declares a package-level SQL text. Declaring every statement this
// way is what lets the hot path skip parsing: modernc SQLite spends more CPU
// preparing a statement than running a primary-key lookup.
func query(q string) string {
	queries = append(queries, q)
	return q
}

// stmtCache holds one prepared *sql.Stmt per SQL text for one *sql.DB.
// database/sql prepares a cached Stmt again on each pool connection the
// first time it runs there, so the cache is right for any pool size.
type stmtCache struct {
	db *sql.DB
	m  sync.Map // string -> *sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db} }

// warm prepares every declared query. On the SQLite writer this must happen
// before the first transaction: inside one, the single writer connection is
// taken, so a statement cannot be prepared through the pool and runner.stmt
// falls back to running it unprepared.
func (c *stmtCache) warm(ctx context.Context) error {
	for _, q := range queries {
		if _, err := c.prepare(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// get returns the cached statement for q, or nil.
func (c *stmtCache) get(q string) *sql.Stmt {
	if v, ok := c.m.Load(q); ok {
		return v.(*sql.Stmt)
	}
	return nil
}

// prepare returns the cached statement for q, preparing it on the pool if
// needed.
func (c *stmtCache) prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	if st := c.get(q); st != nil {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if v, loaded := c.m.LoadOrStore(q, st); loaded {
		st.Close()
		return v.(*sql.Stmt), nil
	}
	return st, nil
}

func (c *stmtCache) close() error {
	if c == nil {
		return nil
	}
	var errs []error
	c.m.Range(func(k, v any) bool {
		errs = append(errs, v.(*sql.Stmt).Close())
		c.m.Delete(k)
		return true
	})
	return errors.Join(errs...)
}

// runner runs SQL on a pool or on one transaction, through cached prepared
// statements when it has a cache.
type runner struct {
	db    *sql.DB
	tx    *sql.Tx
	stmts *stmtCache // nil: run the SQL text as is
}

// stmt returns a prepared statement for q usable by this runner, or nil
// when q should run unprepared.
func (r runner) stmt(ctx context.Context, q string) *sql.Stmt {
	if r.stmts == nil {
		return nil
	}
	if r.tx != nil {
		// Only a statement prepared before the transaction began can be
		// used: preparing one now would need a second writer connection.
		st := r.stmts.get(q)
		if st == nil {
			return nil
		}
		return r.tx.StmtContext(ctx, st)
	}
	st, err := r.stmts.prepare(ctx, q)
	if err != nil {
		// Run unprepared: the same error comes back where it is mapped.
		return nil
	}
	return st
}

func (r runner) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := r.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	if r.tx != nil {
		return r.tx.QueryContext(ctx, q, args...)
	}
	return r.db.QueryContext(ctx, q, args...)
}

func (r runner) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := r.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	if r.tx != nil {
		return r.tx.QueryRowContext(ctx, q, args...)
	}
	return r.db.QueryRowContext(ctx, q, args...)
}

func (r runner) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := r.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	if r.tx != nil {
		return r.tx.ExecContext(ctx, q, args...)
	}
	return r.db.ExecContext(ctx, q, args...)
}

// uncached returns r without its statement cache, for SQL built at run time
// that must not grow the cache without bound.
func (r runner) uncached() runner {
	r.stmts = nil
	return r
}
