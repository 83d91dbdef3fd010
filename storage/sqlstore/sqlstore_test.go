package sqlstore_test

import (
	"testing"

	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestSQLite(t *testing.T) {
	storagetest.RunStore(t, func(t *testing.T) storage.Store { return sqltest.SQLite(t) })
}

// TestPostgres runs when ORGID_TEST_DATABASE_URL names a database.
func TestPostgres(t *testing.T) {
	storagetest.RunStore(t, func(t *testing.T) storage.Store { return sqltest.Postgres(t) })
}
