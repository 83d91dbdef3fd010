// Package sqlstore is orgid's durable storage.Store on SQLite (the embedded
// default, pure Go through modernc.org/sqlite) and PostgreSQL (pgx).
//
// Both dialects share database/sql and one set of SQL texts; the schema comes
// from the numbered files in package migrations, applied by Open. Errors are
// mapped to the storage sentinels at this boundary (errors.go), so callers
// never see a driver error they would have to understand.
package sqlstore
