package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/orgid/orgid/storage"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// busyTimeoutMS is how long a SQLite connection waits for a lock held by
// another process (or the other pool) before the call fails with
// ErrUnavailable.
const busyTimeoutMS = 5000

// Open opens the database that dsn names and applies pending migrations.
//
// A dsn starting with postgres:// or postgresql:// is a PostgreSQL URL
// (pgx syntax: pool_max_conns and the like are honoured, and any parameter
// pgx does not know, e.g. search_path=myschema, is sent to the server as a
// run-time parameter). Anything else is the path of a SQLite file, with an
// optional sqlite: or file: prefix; its directory is created when missing,
// and a ?query is passed on to the modernc driver after orgid's own
// settings.
func Open(ctx context.Context, dsn string) (*Store, error) {
	var (
		s   *Store
		err error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s, err = openPostgres(ctx, dsn)
	} else {
		s, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.wstmts != nil {
		if err := s.wstmts.warm(ctx); err != nil {
			s.Close()
			return nil, wrap("prepare statements", err)
		}
	}
	return s, nil
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The error text may hold the password; pgx redacts it.
		return nil, fmt.Errorf("sqlstore: parse postgres URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, wrap("open postgres", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	return &Store{dialect: DialectPostgres, db: db, rdb: db, pool: pool}, nil
}

func openSQLite(ctx context.Context, dsn string) (*Store, error) {
	path, extra := splitSQLiteDSN(dsn)
	if path == "" || path == ":memory:" {
		// Separate writer and reader pools need a file to share.
		return nil, fmt.Errorf("sqlstore: SQLite needs a file path, not %q", dsn)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlstore: create database directory: %w", err)
	}
	// Create the file owner-only before SQLite does (it would use 0644 in
	// a directory such as a container volume); its -wal and -shm files
	// take the database file's permissions.
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("sqlstore: create database file: %w", err)
	} else {
		f.Close()
	}

	common := url.Values{}
	common.Set("_busy_timeout", fmt.Sprint(busyTimeoutMS))
	common.Set("_foreign_keys", "1")

	// One writer: SQLite serializes writers anyway, and BEGIN IMMEDIATE
	// takes the write lock up front so that a transaction that reads
	// before it writes cannot fail half-way with SQLITE_BUSY_SNAPSHOT.
	w := cloneValues(common)
	w.Set("_journal_mode", "WAL")
	w.Set("_synchronous", "NORMAL") // durable across crashes in WAL mode, no fsync per commit
	w.Set("_txlock", "immediate")
	wdb, err := sql.Open("sqlite", sqliteName(path, w, extra))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)

	r := cloneValues(common)
	r.Set("_query_only", "1")
	rdb, err := sql.Open("sqlite", sqliteName(path, r, extra))
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n) // idle connections keep their prepared statements
	rdb.SetConnMaxLifetime(0)
	rdb.SetConnMaxIdleTime(0)

	// Connect the writer first: it switches the file to WAL before any
	// reader opens it.
	if err := connectWriter(ctx, wdb); err != nil {
		wdb.Close()
		rdb.Close()
		return nil, wrap("open sqlite", err)
	}
	return &Store{
		dialect: DialectSQLite,
		db:      wdb,
		rdb:     rdb,
		wstmts:  newStmtCache(wdb),
		rstmts:  newStmtCache(rdb),
	}, nil
}

// splitSQLiteDSN strips an optional sqlite: or file: prefix (with or
// without //) and splits off the query.
func splitSQLiteDSN(dsn string) (path, query string) {
	for _, p := range []string{"sqlite:", "file:"} {
		if rest, ok := strings.CutPrefix(dsn, p); ok {
			dsn = rest
			if rest, ok := strings.CutPrefix(dsn, "//"); ok {
				dsn = rest
			}
			break
		}
	}
	path, query, _ = strings.Cut(dsn, "?")
	return path, query
}

// sqliteName builds a plain-file-name DSN for the modernc driver: orgid's
// parameters first, the caller's after (so that a repeated _pragma of the
// caller's runs later and wins).
func sqliteName(path string, own url.Values, extra string) string {
	name := path + "?" + own.Encode()
	if extra != "" {
		name += "&" + extra
	}
	return name
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// connectWriter makes the writer's first connection. Switching a new file
// to WAL takes an exclusive lock that SQLite may refuse at once, without
// waiting out busy_timeout, while another process is setting up the same
// file (`orgid migrate` racing `orgid serve`): that refusal is retried for
// a short while.
func connectWriter(ctx context.Context, db *sql.DB) error {
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		if err = db.PingContext(ctx); err == nil || !errors.Is(sentinel(err), storage.ErrUnavailable) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
	return err
}
