package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/orgid/orgid/storage"
)

// millis converts a TTL to Redis PX milliseconds, refusing one that would
// never expire: go-redis reads a zero TTL as "no expiry", which would let
// ephemeral state live forever. Sub-millisecond TTLs round up to 1ms, the
// least Redis keeps.
func millis(ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, fmt.Errorf("redisstore: ttl %v is not positive", ttl)
	}
	return int64((ttl + time.Millisecond - 1) / time.Millisecond), nil
}

// Set implements storage.Ephemeral with SET key value PX ttl.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ms, err := millis(ttl)
	if err != nil {
		return err
	}
	cmd := redis.NewStatusCmd(ctx, "set", s.key(key), value, "px", ms)
	_ = s.c.Process(ctx, cmd)
	return mapErr(cmd.Err())
}

// Create implements storage.Ephemeral with SET key value NX PX ttl, which
// Redis answers with nil when the key exists.
func (s *Store) Create(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ms, err := millis(ttl)
	if err != nil {
		return err
	}
	cmd := redis.NewStatusCmd(ctx, "set", s.key(key), value, "nx", "px", ms)
	_ = s.c.Process(ctx, cmd)
	err = mapErr(cmd.Err())
	if errors.Is(err, storage.ErrNotFound) {
		return storage.ErrAlreadyExists
	}
	return err
}

// Get implements storage.Ephemeral with GET.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := s.c.Get(ctx, s.key(key)).Bytes()
	if err != nil {
		return nil, mapErr(err)
	}
	return b, nil
}

// Swap implements storage.Ephemeral with SET key value XX KEEPTTL GET
// (Redis 6.2+): XX writes nothing when the key is absent, KEEPTTL keeps its
// expiry, and GET returns the value replaced, all in one atomic command.
func (s *Store) Swap(ctx context.Context, key string, value []byte) ([]byte, error) {
	cmd := redis.NewStringCmd(ctx, "set", s.key(key), value, "xx", "keepttl", "get")
	_ = s.c.Process(ctx, cmd)
	b, err := cmd.Bytes()
	if err != nil {
		return nil, mapErr(err)
	}
	return b, nil
}

// Delete implements storage.Ephemeral with DEL.
func (s *Store) Delete(ctx context.Context, key string) error {
	return mapErr(s.c.Del(ctx, s.key(key)).Err())
}
