package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/orgid/orgid/storage/redisstore"
)

// EnvURL names the environment variable holding the Redis URL for tests,
// e.g. redis://127.0.0.1:6379/0. Tests that need Redis skip without it.
const EnvURL = "ORGID_TEST_REDIS_URL"

// URL returns $ORGID_TEST_REDIS_URL, or skips the test when it is unset.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(EnvURL)
	if url == "" {
		t.Skip(EnvURL + " not set")
	}
	return url
}

// New returns a store on the Redis at $ORGID_TEST_REDIS_URL whose keys all
// start with a prefix unique to this call, and an advance function that
// moves time forward by d for those keys (see Advance). It skips the test
// when the variable is unset. Cleanup deletes the prefix's keys and closes
// the store.
func New(t testing.TB) (*redisstore.Store, func(d time.Duration)) {
	t.Helper()
	url := URL(t)
	prefix := "orgidtest:" + randomHex() + ":"
	ctx := context.Background()
	s, err := redisstore.New(ctx, url, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	// A separate client for the test's own commands keeps redisstore's API
	// free of test-only accessors.
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	admin := redis.NewClient(opt)
	t.Cleanup(func() {
		if err := deletePrefix(context.Background(), admin, prefix); err != nil {
			t.Errorf("redistest: cleanup of %s*: %v", prefix, err)
		}
		admin.Close()
		s.Close()
	})
	advance := func(d time.Duration) {
		t.Helper()
		if err := Advance(ctx, admin, prefix, d); err != nil {
			t.Fatalf("redistest: advance %v: %v", d, err)
		}
	}
	return s, advance
}

func randomHex() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// matchPattern escapes prefix for SCAN MATCH (glob syntax) and appends "*".
func matchPattern(prefix string) string {
	var b strings.Builder
	for _, r := range prefix {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('*')
	return b.String()
}

func deletePrefix(ctx context.Context, c *redis.Client, prefix string) error {
	iter := c.Scan(ctx, 0, matchPattern(prefix), 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	return c.Del(ctx, keys...).Err()
}
