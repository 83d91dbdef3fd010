package sqltest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/orgid/orgid/storage/sqlstore"
)

// SQLitePath returns the path of a database file, not yet created, in a
// directory that is removed when tb ends.
func SQLitePath(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(tb.TempDir(), "orgid.db")
}

// SQLite opens a fresh, migrated SQLite store that is closed when tb ends.
func SQLite(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	return open(tb, SQLitePath(tb))
}

func open(tb testing.TB, dsn string) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("sqltest: open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
