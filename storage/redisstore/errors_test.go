package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/orgid/orgid/storage"
)

func TestMapErr(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{}}
	tests := []struct {
		name string
		err  error
		want error // nil: internal, neither not found nor unavailable
	}{
		{"nil reply", redis.Nil, storage.ErrNotFound},
		{"dial error", refused, storage.ErrUnavailable},
		{"connection refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), storage.ErrUnavailable},
		{"connection reset", syscall.ECONNRESET, storage.ErrUnavailable},
		{"server hung up", io.EOF, storage.ErrUnavailable},
		{"torn reply", io.ErrUnexpectedEOF, storage.ErrUnavailable},
		{"client closed", redis.ErrClosed, storage.ErrUnavailable},
		{"pool timeout", redis.ErrPoolTimeout, storage.ErrUnavailable},
		{"pool exhausted", redis.ErrPoolExhausted, storage.ErrUnavailable},
		{"deadline", context.DeadlineExceeded, storage.ErrUnavailable},
		{"loading", errors.New("LOADING Redis is loading the dataset in memory"), storage.ErrUnavailable},
		{"read-only replica", errors.New("READONLY You can't write against a read only replica."), storage.ErrUnavailable},
		{"wrong type", errors.New("WRONGTYPE Operation against a key holding the wrong kind of value"), nil},
		{"not an integer", errors.New("ERR value is not an integer or out of range"), nil},
		{"canceled", context.Canceled, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mapErr(tc.err)
			if got == nil {
				t.Fatal("mapErr returned nil for an error")
			}
			for _, sentinel := range []error{storage.ErrNotFound, storage.ErrUnavailable} {
				if errors.Is(got, sentinel) != (sentinel == tc.want) {
					t.Errorf("mapErr(%v) = %v; errors.Is(%v) = %v", tc.err, got, sentinel, !(sentinel == tc.want))
				}
			}
			// The cause stays reachable for the log.
			if tc.want != storage.ErrNotFound && !errors.Is(got, tc.err) {
				t.Errorf("mapErr(%v) = %v lost its cause", tc.err, got)
			}
		})
	}
	if err := mapErr(nil); err != nil {
		t.Errorf("mapErr(nil) = %v", err)
	}
}

func TestMillis(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{{"1ns", 1}, {"1ms", 1}, {"1500us", 2}, {"1m", 60000}} {
		d, _ := time.ParseDuration(tc.in)
		got, err := millis(d)
		if err != nil || got != tc.want {
			t.Errorf("millis(%s) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, d := range []string{"0s", "-1s"} {
		ttl, _ := time.ParseDuration(d)
		if _, err := millis(ttl); err == nil {
			t.Errorf("millis(%s) = nil error, want one", d)
		}
	}
}
