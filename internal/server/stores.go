package server

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/config"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/memstore"
	"github.com/orgid/orgid/storage/redisstore"
	"github.com/orgid/orgid/storage/sqlstore"
)

func isPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// OpenStore opens the durable store the configuration names: PostgreSQL
// for a postgres:// URL, otherwise the embedded SQLite file in the data
// dir. Migrations are applied on open.
func OpenStore(ctx context.Context, cfg *config.Config) (*sqlstore.Store, error) {
	return openStore(ctx, cfg)
}

func openStore(ctx context.Context, cfg *config.Config) (*sqlstore.Store, error) {
	dsn := cfg.DatabaseURL
	if dsn == "" {
		dsn = filepath.Join(cfg.DataDir, "orgid.db")
	}
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open durable store: %w", err)
	}
	return st, nil
}

func openEphemeral(ctx context.Context, cfg *config.Config, now func() time.Time) (storage.Ephemeral, error) {
	if cfg.RedisURL == "" {
		return memstore.New(memstore.WithClock(now)), nil
	}
	st, err := redisstore.New(ctx, cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("open Redis: %w", err)
	}
	return st, nil
}

// backendOf names a store's backend for the store-call metrics: a bounded
// set ("sqlite", "postgres", "memory", "redis"), "other" for a store of a
// test's own making.
func backendOf(st any) string {
	switch st := st.(type) {
	case *sqlstore.Store:
		return st.Dialect()
	case *memstore.Store:
		return "memory"
	case *redisstore.Store:
		return "redis"
	}
	return "other"
}
