package redisstore

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Forms of ORGID_REDIS_URL (userinfo, when given, authenticates to the
// Redis servers that hold the data):
//
//	redis://[user:password@]host:6379[/db][?options]      one Redis
//	rediss://…                                              the same over TLS
//	redis+sentinel://[user:password@]host1:26379,host2:26379/mymaster[/db][?options]
//	                                                        the master named mymaster, found through
//	                                                        Redis Sentinel (sentinel_username= and
//	                                                        sentinel_password= authenticate to Sentinels)
//	redis+cluster://[user:password@]host1:6379,host2:6379[?options]
//	                                                        Redis Cluster, seeded with these nodes
//
// rediss+sentinel:// and rediss+cluster:// use TLS. Options are go-redis's
// URL options (dial_timeout, pool_size, …; see redis.ParseURL,
// ParseFailoverURL and ParseClusterURL).

// parseURL turns ORGID_REDIS_URL into a client. The client respects
// context deadlines, so that the store timeout (internal/storecall) bounds
// every call, not go-redis's own read and write timeouts.
func parseURL(raw string) (redis.UniversalClient, string, error) {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, "", errors.New("not a URL (want redis://, rediss://, redis+sentinel:// or redis+cluster://)")
	}
	base, kind, _ := strings.Cut(scheme, "+")
	if base != "redis" && base != "rediss" {
		return nil, "", fmt.Errorf("unknown scheme %q", scheme)
	}
	switch kind {
	case "":
		o, err := redis.ParseURL(raw)
		if err != nil {
			return nil, "", err
		}
		o.ContextTimeoutEnabled = true
		return redis.NewClient(o), o.Addr, nil
	case "sentinel":
		o, err := parseSentinelURL(base, raw)
		if err != nil {
			return nil, "", err
		}
		o.ContextTimeoutEnabled = true
		return redis.NewFailoverClient(o), "sentinel " + strings.Join(o.SentinelAddrs, ",") + " master " + o.MasterName, nil
	case "cluster":
		o, err := parseClusterURL(base, raw)
		if err != nil {
			return nil, "", err
		}
		o.ContextTimeoutEnabled = true
		return redis.NewClusterClient(o), "cluster " + strings.Join(o.Addrs, ","), nil
	}
	return nil, "", fmt.Errorf("unknown scheme %q", scheme)
}

// hostList splits the host part of a URL with several hosts; net/url
// cannot parse one, so the hosts are cut out first and u is the URL with
// only the first of them.
func hostList(base, raw string) (u *url.URL, hosts []string, err error) {
	_, rest, _ := strings.Cut(raw, "://")
	authority, path := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	userinfo := ""
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, authority = authority[:i+1], authority[i+1:]
	}
	for h := range strings.SplitSeq(authority, ",") {
		if h == "" {
			return nil, nil, errors.New("empty host in the host list")
		}
		hosts = append(hosts, h)
	}
	u, err = url.Parse(base + "://" + userinfo + hosts[0] + path)
	if err != nil {
		// url's errors quote the URL, which may hold a password.
		return nil, nil, errors.New("malformed URL")
	}
	return u, hosts, nil
}

func parseSentinelURL(base, raw string) (*redis.FailoverOptions, error) {
	u, hosts, err := hostList(base, raw)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if parts[0] == "" || len(parts) > 2 {
		return nil, errors.New("the path must be /{master name}[/{db}]")
	}
	// Rewrite into go-redis's own form: the first Sentinel as host, the
	// others as addr=, the master's credentials as username=/password=
	// and the Sentinels' as userinfo.
	q := u.Query()
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	q.Set("master_name", parts[0])
	if len(parts) == 2 {
		q.Set("db", parts[1])
	}
	if u.User != nil {
		q.Set("username", u.User.Username())
		if p, ok := u.User.Password(); ok {
			q.Set("password", p)
		}
	}
	u.User = nil
	if su, sp := q.Get("sentinel_username"), q.Get("sentinel_password"); su != "" || sp != "" {
		u.User = url.UserPassword(su, sp)
	}
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	u.Path, u.RawQuery = "", q.Encode()
	return redis.ParseFailoverURL(u.String())
}

func parseClusterURL(base, raw string) (*redis.ClusterOptions, error) {
	u, hosts, err := hostList(base, raw)
	if err != nil {
		return nil, err
	}
	if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
		// Redis Cluster has only database 0.
		return nil, errors.New("Redis Cluster has no database but 0")
	}
	q := u.Query()
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	u.Path, u.RawQuery = "", q.Encode()
	return redis.ParseClusterURL(u.String())
}
