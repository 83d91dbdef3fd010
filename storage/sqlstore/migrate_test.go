package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver, to inspect databases directly

	"github.com/orgid/orgid/migrations"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/sqlstore"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

// rawDB opens the database behind dsn without sqlstore.
func rawDB(t testing.TB, dialect, dsn string) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if dialect == sqlstore.DialectPostgres {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// wantMigrationsOnce checks that schema_migrations holds each file exactly once.
func wantMigrationsOnce(t *testing.T, db *sql.DB) {
	t.Helper()
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v %v", files, err)
	}
	var rows, versions int
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows != len(files) || versions != len(files) {
		t.Errorf("schema_migrations has %d rows for %d versions, want %d of each", rows, versions, len(files))
	}
}

type dialectCase struct {
	dialect string
	dsn     func(t *testing.T) string
}

var dialects = []dialectCase{
	{sqlstore.DialectSQLite, func(t *testing.T) string { return sqltest.SQLitePath(t) }},
	{sqlstore.DialectPostgres, func(t *testing.T) string { return sqltest.PostgresURL(t) }},
}

func TestMigrateIdempotent(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.dialect, func(t *testing.T) {
			ctx := context.Background()
			dsn := d.dsn(t)
			s, err := sqlstore.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			if s.Dialect() != d.dialect {
				t.Errorf("Dialect() = %q, want %q", s.Dialect(), d.dialect)
			}
			if err := s.CreateTenant(ctx, storage.Tenant{ID: "kept"}); err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Errorf("second Migrate: %v", err)
			}
			s.Close()

			s, err = sqlstore.Open(ctx, dsn)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer s.Close()
			if _, err := s.GetTenant(ctx, "kept"); err != nil {
				t.Errorf("data lost on reopen: %v", err)
			}
			wantMigrationsOnce(t, rawDB(t, d.dialect, dsn))
		})
	}
}

// Replicas starting together on a fresh database: all start, and each
// migration is applied once.
func TestMigrateConcurrentOpen(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.dialect, func(t *testing.T) {
			dsn := d.dsn(t)
			const n = 4
			stores := make([]*sqlstore.Store, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					stores[i], errs[i] = sqlstore.Open(context.Background(), dsn)
				}()
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Open %d: %v", i, err)
					continue
				}
				stores[i].Close()
			}
			wantMigrationsOnce(t, rawDB(t, d.dialect, dsn))
		})
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.dialect, func(t *testing.T) {
			ctx := context.Background()
			dsn := d.dsn(t)
			s, err := sqlstore.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			db := rawDB(t, d.dialect, dsn)
			if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999999, 'future', 0)`); err != nil {
				t.Fatal(err)
			}
			s, err = sqlstore.Open(ctx, dsn)
			if !errors.Is(err, sqlstore.ErrSchemaTooNew) {
				if s != nil {
					s.Close()
				}
				t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
			}
		})
	}
}

func TestOpenUnreachablePostgres(t *testing.T) {
	_, err := sqlstore.Open(context.Background(), "postgres://postgres@127.0.0.1:1/x?connect_timeout=1&sslmode=disable")
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Open of a closed port: %v, want ErrUnavailable", err)
	}
}

func TestOpenSQLiteDSNForms(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{
		filepath.Join(dir, "plain", "orgid.db"),
		"sqlite:" + filepath.Join(dir, "prefixed", "orgid.db"),
		"sqlite://" + filepath.Join(dir, "slashes", "orgid.db"),
		"file:" + filepath.Join(dir, "file", "orgid.db") + "?_pragma=cache_size(-4000)",
	} {
		s, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			t.Errorf("Open(%q): %v", dsn, err)
			continue
		}
		if err := s.Ping(context.Background()); err != nil {
			t.Errorf("Ping(%q): %v", dsn, err)
		}
		s.Close()
	}
	for _, sub := range []string{"plain", "prefixed", "slashes", "file"} {
		if _, err := os.Stat(filepath.Join(dir, sub, "orgid.db")); err != nil {
			t.Errorf("database file in %s: %v", sub, err)
		}
	}
	if _, err := sqlstore.Open(context.Background(), ":memory:"); err == nil {
		t.Error("Open(:memory:) succeeded; reader and writer pools cannot share it")
	}
}
