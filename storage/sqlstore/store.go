package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orgid/orgid/storage"
)

var _ storage.Store = (*Store)(nil)

// Dialect names, as returned by Store.Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Store is a storage.Store on SQLite or PostgreSQL. A Store made by Open is
// safe for concurrent use; the Store that WithTx hands to its function is
// bound to that one transaction and must not outlive it.
type Store struct {
	dialect string

	// db takes the writes. On SQLite it is the one writer connection (SQLite
	// allows one writer at a time; queueing in Go is cheaper than spinning
	// on SQLITE_BUSY); on PostgreSQL it is the whole pool.
	db *sql.DB
	// rdb serves reads outside transactions: a pool of query-only
	// connections on SQLite (WAL lets them run beside the writer), db
	// itself on PostgreSQL.
	rdb *sql.DB
	// wstmts and rstmts cache prepared statements for db and rdb. nil on
	// PostgreSQL, where pgx already caches prepared statements per
	// connection and database/sql statements would be re-prepared on every
	// call (stdlib.OpenDBFromPool keeps no idle database/sql connections).
	wstmts, rstmts *stmtCache
	// pool is the pgx pool under db on PostgreSQL.
	pool *pgxpool.Pool

	// tx is set on a Store bound to one transaction.
	tx *sql.Tx
}

// Dialect returns DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// read returns where reads go: the transaction when bound to one, the
// reader pool otherwise.
func (s *Store) read() runner {
	if s.tx != nil {
		return runner{db: s.db, tx: s.tx, stmts: s.wstmts}
	}
	return runner{db: s.rdb, stmts: s.rstmts}
}

// write returns where writes go: the transaction when bound to one, the
// writer otherwise.
func (s *Store) write() runner {
	return runner{db: s.db, tx: s.tx, stmts: s.wstmts}
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	// On SQLite, ping a reader: the writer may be busy with a long
	// transaction, which says nothing about reachability.
	if err := s.rdb.PingContext(ctx); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Close releases the database. Closing a transaction-bound Store does
// nothing: the transaction ends with WithTx.
func (s *Store) Close() error {
	if s.tx != nil {
		return nil
	}
	var errs []error
	errs = append(errs, s.rstmts.close(), s.wstmts.close())
	if s.rdb != s.db {
		errs = append(errs, s.rdb.Close())
	}
	errs = append(errs, s.db.Close())
	if s.pool != nil {
		s.pool.Close()
	}
	return errors.Join(errs...)
}
