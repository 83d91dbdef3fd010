package redisstore

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/orgid/orgid/storage"
)

// mapErr turns a go-redis error into the storage contract: a missing key is
// storage.ErrNotFound, and anything that means "Redis is not there right
// now" wraps storage.ErrUnavailable (callers answer 503 and retry later),
// keeping the cause for the log. Everything else is an internal fault.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return storage.ErrNotFound
	case unavailable(err):
		return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
	}
	return fmt.Errorf("redisstore: %w", err)
}

func unavailable(err error) bool {
	var netErr net.Error // dial and I/O failures, timeouts, context.DeadlineExceeded
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, io.EOF), // the server closed the connection
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, redis.ErrClosed), // our own client, after Close
		errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, redis.ErrPoolExhausted):
		return true
	}
	// Replies of a Redis that is up but cannot serve yet: still loading its
	// data set after a restart, a replica or a master mid-failover, or out
	// of client slots. They pass once it recovers, like a network fault.
	return redis.IsLoadingError(err) ||
		redis.IsReadOnlyError(err) ||
		redis.IsMasterDownError(err) ||
		redis.IsClusterDownError(err) ||
		redis.IsTryAgainError(err) ||
		redis.IsMaxClientsError(err)
}
