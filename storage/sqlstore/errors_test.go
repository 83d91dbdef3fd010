package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/orgid/orgid/storage"
)

func TestWrapMapsDriverErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want error // nil: no sentinel
	}{
		{"no rows", sql.ErrNoRows, storage.ErrNotFound},
		{"pg unique", &pgconn.PgError{Code: "23505"}, storage.ErrAlreadyExists},
		{"pg foreign key", &pgconn.PgError{Code: "23503"}, storage.ErrNotFound},
		{"pg connection failure", &pgconn.PgError{Code: "08006"}, storage.ErrUnavailable},
		{"pg shutting down", &pgconn.PgError{Code: "57P01"}, storage.ErrUnavailable},
		{"pg too many connections", &pgconn.PgError{Code: "53300"}, storage.ErrUnavailable},
		{"pg syntax error", &pgconn.PgError{Code: "42601"}, nil},
		{"connect error", &pgconn.ConnectError{}, storage.ErrUnavailable},
		{"net error", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, storage.ErrUnavailable},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), storage.ErrUnavailable},
		{"bad conn", driver.ErrBadConn, storage.ErrUnavailable},
		{"eof", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), storage.ErrUnavailable},
		{"deadline", context.DeadlineExceeded, storage.ErrUnavailable},
		{"canceled", context.Canceled, nil},
		{"already a sentinel", fmt.Errorf("x: %w", storage.ErrConflict), storage.ErrConflict},
		{"plain", errors.New("something else"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := wrap("op", tc.err)
			if !errors.Is(got, tc.err) {
				t.Errorf("wrap lost the original error: %v", got)
			}
			for _, s := range []error{storage.ErrNotFound, storage.ErrAlreadyExists, storage.ErrConflict, storage.ErrUnavailable} {
				if is := errors.Is(got, s); is != (s == tc.want) {
					t.Errorf("errors.Is(%v, %v) = %v", got, s, is)
				}
			}
		})
	}
	if wrap("op", nil) != nil {
		t.Error("wrap(nil) != nil")
	}
}
