package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/orgid/orgid/migrations"
)

// ErrSchemaTooNew is returned by Open and Migrate when the database holds a
// migration this binary does not know: a newer orgid has run against it,
// and running an older one could corrupt data.
var ErrSchemaTooNew = errors.New("sqlstore: database schema is newer than this binary")

// migrationLockKey is the PostgreSQL advisory lock held while migrating
// ("orgidmig" in ASCII), so that replicas starting together take turns.
const migrationLockKey int64 = 0x6f726769646d6967

// migration is one numbered file of package migrations.
type migration struct {
	version int64
	name    string
	sql     string
}

// loadMigrations reads NNNN_name.sql files from fsys in version order.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int64]string{}
	for _, n := range names {
		num, rest, ok := strings.Cut(strings.TrimSuffix(n, ".sql"), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration %q is not named NNNN_name.sql", n)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("sqlstore: migrations %q and %q share version %d", prev, n, v)
		}
		seen[v] = n
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: rest, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// beginner is a *sql.DB or a *sql.Conn.
type beginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// Migrate applies the migrations the database lacks, each in its own
// transaction recorded in schema_migrations. It is idempotent and safe when
// several processes run it at once: PostgreSQL serializes them with an
// advisory lock, SQLite with BEGIN IMMEDIATE (every writer transaction
// takes the write lock first, and each migration re-checks its version
// under it).
func (s *Store) Migrate(ctx context.Context) error {
	if s.tx != nil {
		return errors.New("sqlstore: Migrate inside a transaction")
	}
	ms, err := loadMigrations(migrations.FS)
	if err != nil {
		return err
	}
	if s.dialect != DialectPostgres {
		return applyMigrations(ctx, s.db, ms)
	}

	conn, err := s.db.Conn(ctx)
	if err != nil {
		return wrap("migrate", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		return wrap("migrate: lock", err)
	}
	defer func() {
		// Use a fresh context: ctx may be what ended the run. If the unlock
		// fails, close the session, which frees the lock server-side;
		// handing the connection back to the pool would keep it locked.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(uctx, `SELECT pg_advisory_unlock($1)`, migrationLockKey); err != nil {
			conn.Raw(func(dc any) error {
				if c, ok := dc.(*stdlib.Conn); ok {
					c.Conn().Close(uctx)
				}
				return driver.ErrBadConn // tells database/sql to drop it
			})
		}
	}()
	return applyMigrations(ctx, conn, ms)
}

func applyMigrations(ctx context.Context, b beginner, ms []migration) error {
	latest := int64(0)
	if len(ms) > 0 {
		latest = ms[len(ms)-1].version
	}
	var current int64
	err := inTx(ctx, b, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    BIGINT PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at BIGINT NOT NULL
		)`); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current)
	})
	if err != nil {
		return wrap("migrate", err)
	}
	if current > latest {
		return fmt.Errorf("%w: database is at version %d, this binary knows up to %d; upgrade orgid",
			ErrSchemaTooNew, current, latest)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if err := inTx(ctx, b, func(tx *sql.Tx) error { return applyMigration(ctx, tx, m) }); err != nil {
			return wrap(fmt.Sprintf("migrate: %04d_%s", m.version, m.name), err)
		}
	}
	return nil
}

// applyMigration runs m unless another process applied it since we looked.
func applyMigration(ctx context.Context, tx *sql.Tx, m migration) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.version, m.name, time.Now().UnixMicro())
	return err
}

// inTx runs fn in a transaction on b, committing when it returns nil.
func inTx(ctx context.Context, b beginner, fn func(*sql.Tx) error) error {
	tx, err := b.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
