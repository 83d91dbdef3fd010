package sqltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orgid/orgid/storage/sqlstore"
)

// EnvDatabaseURL names the PostgreSQL database tests may use, e.g.
// postgres://postgres@127.0.0.1:5432/orgid_test?sslmode=disable.
const EnvDatabaseURL = "ORGID_TEST_DATABASE_URL"

// Postgres opens a fresh, migrated PostgreSQL store in a schema of its own
// (see PostgresURL). It is closed, and the schema dropped, when tb ends.
func Postgres(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	return open(tb, PostgresURL(tb))
}

// PostgresURL returns a DSN whose search_path is a new, empty schema of its
// own, so that tests (and processes sharing the DSN) are isolated from each
// other without a database each. The schema is dropped when tb ends; close
// what uses it before then (t.Cleanup runs last-registered first). The test
// is skipped when ORGID_TEST_DATABASE_URL is unset, and the database it
// names is created when missing.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvDatabaseURL)
	if base == "" {
		tb.Skip(EnvDatabaseURL + " not set")
	}
	ctx := context.Background()
	admin, err := adminPool(ctx, base)
	if err != nil {
		tb.Fatalf("sqltest: %v", err)
	}

	var b [8]byte
	rand.Read(b[:])
	schema := "orgid_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("sqltest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			tb.Errorf("sqltest: drop schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("sqltest: %s: %v", EnvDatabaseURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	if !q.Has("synchronous_commit") {
		// Tests need no durability across a server crash.
		q.Set("synchronous_commit", "off")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

var (
	adminMu    sync.Mutex
	adminPools = map[string]*pgxpool.Pool{} // by database URL; live for the test binary
)

// adminPool returns a small pool on the database that dsn names, creating
// the database first when it does not exist. Creating and dropping schemas
// through it saves two connection set-ups per test.
func adminPool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	adminMu.Lock()
	defer adminMu.Unlock()
	if p := adminPools[dsn]; p != nil {
		return p, nil
	}
	if err := ensureDatabase(ctx, dsn); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 2
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	adminPools[dsn] = p
	return p, nil
}

// ensureDatabase creates the database that dsn names, through the
// maintenance database "postgres", when it does not exist.
func ensureDatabase(ctx context.Context, dsn string) error {
	err := connExec(ctx, dsn, "SELECT 1")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "3D000" { // invalid_catalog_name
		return err
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return err
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return err
	}
	u.Path = "/postgres"
	err = connExec(ctx, u.String(), "CREATE DATABASE "+pgx.Identifier{cfg.Database}.Sanitize())
	// Another test process may have created it meanwhile.
	if errors.As(err, &pe) && (pe.Code == "42P04" || pe.Code == "23505") {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", cfg.Database, err)
	}
	return nil
}

func connExec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
