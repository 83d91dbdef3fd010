package memstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/orgid/orgid/storage"
)

var errNotBucket = errors.New("memstore: value is not a token bucket")

// Take implements storage.Ephemeral with storage.Bucket.TakeGCRA, the
// algorithm redisstore runs in Lua, under the key's shard lock. The value
// is the TAT as decimal text, as on Redis.
func (s *Store) Take(_ context.Context, now time.Time, buckets ...storage.Bucket) ([]storage.BucketGrant, error) {
	params := make([][2]int64, len(buckets))
	for i, b := range buckets {
		interval, capacity, err := b.Params()
		if err != nil {
			return nil, err
		}
		params[i] = [2]int64{interval, capacity}
	}
	grants := make([]storage.BucketGrant, len(buckets))
	for i, b := range buckets {
		g, err := s.take(b, now.UnixMicro(), params[i][0], params[i][1])
		if err != nil {
			return nil, err
		}
		grants[i] = g
	}
	return grants, nil
}

func (s *Store) take(b storage.Bucket, nowUS, interval, capacity int64) (storage.BucketGrant, error) {
	storeNow := s.nowNano()
	sh := s.shard(b.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var tat int64
	if e, ok := sh.lookup(b.Key, storeNow); ok {
		stored, err := strconv.ParseInt(string(e.val), 10, 64)
		if err != nil {
			return storage.BucketGrant{}, errNotBucket
		}
		tat = stored
	}
	next, n, retry := b.TakeGCRA(nowUS, tat, interval, capacity)
	if n == 0 {
		return storage.BucketGrant{RetryAfter: retry}, nil
	}
	// The key lives as long as the bucket is not full: once the TAT is
	// past, an absent key and the stored one mean the same.
	ttl := time.Duration(next-nowUS) * time.Microsecond
	sh.m[b.Key] = entry{val: strconv.AppendInt(nil, next, 10), exp: expiry(storeNow, ttl)}
	return storage.BucketGrant{Tokens: int(n)}, nil
}
