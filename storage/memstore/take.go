package memstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/orgid/orgid/storage"
)

var errNotBucket = errors.New("memstore: value is not a token bucket")

// Take implements storage.Ephemeral with the generic cell rate algorithm
// (GCRA), the same one redisstore runs in Lua: the bucket is one number,
// the theoretical arrival time (TAT) of the next token in microseconds of
// the caller's clock. A take moves it one interval later; it is refused when
// that would put the TAT more than the bucket's capacity ahead of now.
// The value is decimal text, as on Redis.
func (s *Store) Take(_ context.Context, now time.Time, buckets ...storage.Bucket) (bool, time.Duration, error) {
	params := make([][2]int64, len(buckets))
	for i, b := range buckets {
		interval, capacity, err := b.Params()
		if err != nil {
			return false, 0, err
		}
		params[i] = [2]int64{interval, capacity}
	}
	ok, wait := true, time.Duration(0)
	for i, b := range buckets {
		got, retry, err := s.take(b.Key, now.UnixMicro(), params[i][0], params[i][1])
		if err != nil {
			return false, 0, err
		}
		if !got {
			ok, wait = false, max(wait, retry)
		}
	}
	return ok, wait, nil
}

func (s *Store) take(key string, nowUS, interval, capacity int64) (bool, time.Duration, error) {
	storeNow := s.nowNano()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	tat := nowUS
	if e, ok := sh.lookup(key, storeNow); ok {
		stored, err := strconv.ParseInt(string(e.val), 10, 64)
		if err != nil {
			return false, 0, errNotBucket
		}
		tat = max(tat, stored)
	}
	next := tat + interval
	if ahead := next - nowUS; ahead > capacity {
		return false, time.Duration(ahead-capacity) * time.Microsecond, nil
	}
	// The key lives as long as the bucket is not full: once the TAT is
	// past, an absent key and the stored one mean the same.
	ttl := time.Duration(next-nowUS) * time.Microsecond
	sh.m[key] = entry{val: strconv.AppendInt(nil, next, 10), exp: expiry(storeNow, ttl)}
	return true, 0, nil
}
