package redisstore

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// TestTakeLoadsScript: after SCRIPT FLUSH (what a restarted Redis looks
// like), the pipelined EVALSHA of every bucket fails with NOSCRIPT and
// Take must load the script and still take from each bucket once. The
// limiter fails open on errors, so a broken fallback would go unnoticed
// anywhere else.
func TestTakeLoadsScript(t *testing.T) {
	url := os.Getenv("ORGID_TEST_REDIS_URL")
	if url == "" {
		t.Skip("set ORGID_TEST_REDIS_URL to run against Redis")
	}
	ctx := context.Background()
	s, err := New(ctx, url, WithPrefix("orgid-test:"+secure.ID("")+":"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := storage.Bucket{Key: "a", Rate: 1, Burst: 1}
	b := storage.Bucket{Key: "b", Rate: 1, Burst: 2}
	defer s.c.Del(ctx, s.key("a"), s.key("b"))
	if err := s.c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if g, err := s.Take(ctx, now, a, b); err != nil || g[0].Tokens != 1 || g[1].Tokens != 1 {
		t.Fatalf("Take after SCRIPT FLUSH = %+v, %v; want a token from each", g, err)
	}
	if exists, err := s.c.ScriptExists(ctx, takeScript.Hash()).Result(); err != nil || !exists[0] {
		t.Fatalf("script loaded after Take: %v %v", exists, err)
	}
	// Each bucket was taken exactly once: a is empty now, b has one left.
	if g, err := s.Take(ctx, now, b); err != nil || g[0].Tokens != 1 {
		t.Fatalf("b's second token: %+v %v", g, err)
	}
	if g, err := s.Take(ctx, now, a); err != nil || g[0] != (storage.BucketGrant{RetryAfter: time.Second}) {
		t.Fatalf("a after one take = %+v, %v; want none, retry after 1s", g, err)
	}
}
