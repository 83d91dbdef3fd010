package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/storage/redisstore"
	"github.com/orgid/orgid/storage/redisstore/redistest"
	"github.com/orgid/orgid/storage/storagetest"
)

// TestSentinelConformance runs the ephemeral conformance suite on a store
// that finds its Redis through Redis Sentinel: a redis-server --sentinel
// this test starts on loopback, monitoring the test Redis as mymaster.
// Sentinel only watches (with no replica there is nothing to fail over
// to), so the shared Redis is not changed.
func TestSentinelConformance(t *testing.T) {
	redisURL := redistest.URL(t)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	master, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(master.Addr)
	sentinel := startSentinel(t, bin, host, port)

	u := url.URL{Scheme: "redis+sentinel", Host: sentinel, Path: fmt.Sprintf("/mymaster/%d", master.DB)}
	if master.Password != "" {
		u.User = url.UserPassword(master.Username, master.Password)
	}
	admin := redis.NewClient(master)
	t.Cleanup(func() { admin.Close() })
	storagetest.RunEphemeral(t, func(t *testing.T) storagetest.EphemeralHarness {
		ctx := context.Background()
		var b [8]byte
		rand.Read(b[:])
		prefix := "orgidtest:sentinel:" + hex.EncodeToString(b[:]) + ":"
		s, err := redisstore.New(ctx, u.String(), redisstore.WithPrefix(prefix))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			s.Close()
			iter := admin.Scan(ctx, 0, prefix+"*", 100).Iterator()
			for iter.Next(ctx) {
				admin.Del(ctx, iter.Val())
			}
		})
		return storagetest.EphemeralHarness{Store: s, Advance: func(d time.Duration) {
			if err := redistest.Advance(ctx, admin, prefix, d); err != nil {
				t.Fatal(err)
			}
		}}
	})
}

// startSentinel starts a Sentinel on a free loopback port that monitors
// host:port as mymaster, waits until it knows the master, and returns its
// address. The process is killed when t ends.
func startSentinel(t *testing.T, bin, host, port string) string {
	t.Helper()
	addr := e2etest.FreeAddr(t)
	_, sport, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf") // Sentinel rewrites its configuration: a file of its own
	if err := os.WriteFile(conf, fmt.Appendf(nil, "port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster %s %s 1\n", sport, dir, host, port), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, conf, "--sentinel")
	out := &e2etest.Buffer{} // the Sentinel writes while the test may read
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	c := redis.NewSentinelClient(&redis.Options{Addr: addr})
	defer c.Close()
	// Wait for it to listen and to know the master: a start-up, not a
	// behaviour under test.
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := c.GetMasterAddrByName(ctx, "mymaster").Result()
		cancel()
		if err == nil {
			return addr
		}
		if i == 100 {
			t.Fatalf("sentinel on %s did not come up: %v\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
