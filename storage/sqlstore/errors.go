package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/orgid/orgid/storage"
)

// SQLite result codes (https://www.sqlite.org/rescode.html). Extended codes
// carry the primary code in their low byte.
const (
	sqliteBusy           = 5
	sqliteLocked         = 6
	sqliteIOErr          = 10
	sqliteFull           = 13
	sqliteCantOpen       = 14
	sqliteConstraintFK   = 787  // SQLITE_CONSTRAINT_FOREIGNKEY
	sqliteConstraintPK   = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteConstraintUniq = 2067 // SQLITE_CONSTRAINT_UNIQUE
)

// errInvalid marks a value the store refuses to write, such as malformed
// JSON. It is no storage sentinel: callers validate input before it gets here.
var errInvalid = errors.New("invalid value")

// wrap maps a database error to the storage sentinel it stands for and
// names the operation; nil stays nil. The driver error stays wrapped too,
// for logs and errors.As, but callers only ever test the sentinels.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if s := sentinel(err); s != nil && !errors.Is(err, s) {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, s, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// failf returns a sentinel error for a condition the store found itself
// (as opposed to one the database reported).
func failf(op string, s error, format string, args ...any) error {
	return fmt.Errorf("sqlstore: %s: %w: %s", op, s, fmt.Sprintf(format, args...))
}

// sentinel is the one place that knows what driver errors mean.
func sentinel(err error) error {
	for _, s := range []error{storage.ErrNotFound, storage.ErrAlreadyExists, storage.ErrConflict, storage.ErrUnavailable} {
		if errors.Is(err, s) {
			return s
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrNotFound
	}

	var le *sqlite.Error
	if errors.As(err, &le) {
		switch code := le.Code(); {
		case code == sqliteConstraintUniq || code == sqliteConstraintPK:
			return storage.ErrAlreadyExists
		case code == sqliteConstraintFK:
			return storage.ErrNotFound
		}
		switch le.Code() & 0xff {
		case sqliteBusy, sqliteLocked, sqliteIOErr, sqliteFull, sqliteCantOpen:
			// BUSY/LOCKED reach us only after busy_timeout has run out.
			return storage.ErrUnavailable
		}
		return nil
	}

	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			return storage.ErrAlreadyExists
		case pe.Code == "23503": // foreign_key_violation
			return storage.ErrNotFound
		case strings.HasPrefix(pe.Code, "08"), // connection_exception
			pe.Code == "53300", // too_many_connections
			pe.Code == "57P01", // admin_shutdown
			pe.Code == "57P02", // crash_shutdown
			pe.Code == "57P03": // cannot_connect_now
			return storage.ErrUnavailable
		}
		return nil
	}

	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce),
		errors.As(err, &ne),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		// A pool wait or query that ran out of time: the database is too
		// slow or gone, which is what ErrUnavailable tells the caller.
		errors.Is(err, context.DeadlineExceeded),
		pgconn.Timeout(err):
		return storage.ErrUnavailable
	}
	return nil
}

// affected returns how many rows the statement that gave res and err
// changed, or its error wrapped for op.
func affected(op string, res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(op, err)
	}
	return n, nil
}

// oneRow checks the outcome of an UPDATE or DELETE of one record by its
// key: ErrNotFound when it matched no row.
func oneRow(op, what string, res sql.Result, err error) error {
	n, err := affected(op, res, err)
	if err != nil {
		return err
	}
	if n == 0 {
		return failf(op, storage.ErrNotFound, "no such %s", what)
	}
	return nil
}
