package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/orgid/orgid/storage"
)

var _ storage.Ephemeral = (*Store)(nil)

// DefaultPrefix starts every key orgid writes, so that it can share a Redis
// database with other applications.
const DefaultPrefix = "orgid:"

// Store is a storage.Ephemeral on Redis.
type Store struct {
	// c is one client, a Sentinel-backed failover client or a Cluster
	// client (see parseURL).
	c      redis.UniversalClient
	prefix string
}

// Option configures a Store.
type Option func(*Store)

// WithPrefix sets the string every key starts with (DefaultPrefix unless set).
func WithPrefix(p string) Option {
	return func(s *Store) { s.prefix = p }
}

// New connects to the Redis at url (one Redis, Sentinel or Cluster: see
// parseURL for the forms) and pings it. A Redis that cannot be reached is
// an error wrapping storage.ErrUnavailable; a malformed URL is a plain
// error.
//
// In Cluster mode every script keeps to one key (or keys of one hash
// slot, e.g. sharing a {tag}), as Redis Cluster requires.
func New(ctx context.Context, url string, opts ...Option) (*Store, error) {
	c, where, err := parseURL(url)
	if err != nil {
		// The URL may hold a password: name the problem, not the URL.
		return nil, fmt.Errorf("redisstore: parse URL: %w", err)
	}
	s := &Store{c: c, prefix: DefaultPrefix}
	for _, opt := range opts {
		opt(s)
	}
	if err := s.Ping(ctx); err != nil {
		s.c.Close()
		return nil, fmt.Errorf("redisstore: connect to %s: %w", where, err)
	}
	return s, nil
}

// Ping implements storage.Ephemeral.
func (s *Store) Ping(ctx context.Context) error {
	return mapErr(s.c.Ping(ctx).Err())
}

// Close closes the connection pool. Calls after Close fail with
// storage.ErrUnavailable.
func (s *Store) Close() error {
	return s.c.Close()
}

func (s *Store) key(k string) string { return s.prefix + k }
