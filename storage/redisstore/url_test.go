package redisstore

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestParseURL(t *testing.T) {
	t.Run("single", func(t *testing.T) {
		c, where, err := parseURL("redis://:pw@127.0.0.1:6380/3?dial_timeout=2s")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		o := c.(*redis.Client).Options()
		if o.Addr != "127.0.0.1:6380" || o.DB != 3 || o.Password != "pw" || o.DialTimeout != 2*time.Second || !o.ContextTimeoutEnabled || where != o.Addr {
			t.Errorf("options %+v, where %q", o, where)
		}
	})
	t.Run("sentinel", func(t *testing.T) {
		o, err := parseSentinelURL("redis", "redis+sentinel://app:pw@127.0.0.1:26379,127.0.0.2:26380/mymaster/2?sentinel_password=spw&pool_size=7")
		if err != nil {
			t.Fatal(err)
		}
		if o.MasterName != "mymaster" || o.DB != 2 || o.Username != "app" || o.Password != "pw" ||
			o.SentinelPassword != "spw" || o.PoolSize != 7 || o.TLSConfig != nil ||
			!slices.Equal(o.SentinelAddrs, []string{"127.0.0.1:26379", "127.0.0.2:26380"}) {
			t.Errorf("options %+v", o)
		}
		o, err = parseSentinelURL("rediss", "rediss+sentinel://127.0.0.1:26379/mymaster")
		if err != nil {
			t.Fatal(err)
		}
		if o.MasterName != "mymaster" || o.DB != 0 || o.TLSConfig == nil || o.Password != "" || o.SentinelPassword != "" {
			t.Errorf("options %+v", o)
		}
	})
	t.Run("cluster", func(t *testing.T) {
		o, err := parseClusterURL("redis", "redis+cluster://:pw@127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002?read_only=true")
		if err != nil {
			t.Fatal(err)
		}
		if o.Password != "pw" || !o.ReadOnly || !slices.Equal(o.Addrs, []string{"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"}) {
			t.Errorf("options %+v", o)
		}
		c, where, err := parseURL("redis+cluster://127.0.0.1:7000")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, ok := c.(*redis.ClusterClient); !ok || !strings.HasPrefix(where, "cluster ") {
			t.Errorf("client %T, where %q", c, where)
		}
	})
	for _, bad := range []string{
		"127.0.0.1:6379",                             // no scheme
		"http://127.0.0.1:6379",                      // not Redis
		"redis+valkey://127.0.0.1:6379",              // unknown kind
		"redis+sentinel://127.0.0.1:26379",           // no master name
		"redis+sentinel://127.0.0.1:26379/m/1/x",     // too long a path
		"redis+sentinel://127.0.0.1:26379,/m",        // empty host
		"redis+sentinel://127.0.0.1:26379/m?bogus=1", // unknown option
		"redis+cluster://127.0.0.1:7000/1",           // Cluster has db 0 only
		"redis://127.0.0.1:6379/x",                   // bad db
	} {
		if c, _, err := parseURL(bad); err == nil {
			c.Close()
			t.Errorf("parseURL(%q) accepted", bad)
		}
	}
	// A password never appears in a parse error.
	if _, _, err := parseURL("redis+sentinel://u:s3cret@127.0.0.1:26379/%zz"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v", err)
	}
}
