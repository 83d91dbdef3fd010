package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/orgid/orgid/storage"
)

// takeScript is storage.Bucket.TakeGCRA (memstore's Take) in one atomic
// script: KEYS[1] holds the theoretical arrival time of the next token in
// microseconds; ARGV are now, the emission interval, the capacity (all in
// microseconds) and the most tokens wanted. It returns {tokens, 0} when
// it granted some and {0, µs until one} when not. The caller's clock is
// used rather than Redis TIME so that tests can move it; replicas' clocks
// differing by milliseconds shift a bucket by as much. string.format('%d')
// keeps the 16-digit TAT exact: Lua's tostring would round it to 14
// significant digits.
var takeScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then
  stored = tonumber(stored)
  if not stored then
    return redis.error_reply('value is not a token bucket')
  end
  if stored > tat then tat = stored end
end
local avail = math.floor((capacity - (tat - now)) / interval)
if avail < 1 then
  return {0, tat + interval - now - capacity}
end
local n = math.min(want, avail)
local nxt = tat + n * interval
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.max(1, math.ceil((nxt - now) / 1000)))
return {n, 0}
`)

// Take implements storage.Ephemeral with takeScript, one script call per
// bucket (each bucket one key, so that a Redis Cluster may keep them on
// different nodes), all sent in one pipeline: one round trip.
func (s *Store) Take(ctx context.Context, now time.Time, buckets ...storage.Bucket) ([]storage.BucketGrant, error) {
	args := make([][]any, len(buckets))
	for i, b := range buckets {
		interval, capacity, err := b.Params()
		if err != nil {
			return nil, err
		}
		args[i] = []any{now.UnixMicro(), interval, capacity, max(b.Want, 1)}
	}
	cmds := make([]*redis.Cmd, len(buckets))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, b := range buckets {
			cmds[i] = takeScript.EvalSha(ctx, p, []string{s.key(b.Key)}, args[i]...)
		}
		return nil
	})
	grants := make([]storage.BucketGrant, len(buckets))
	for i, b := range buckets {
		cmd := cmds[i]
		if err != nil && redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			// The script is not cached on that server yet (first use, or
			// a restarted Redis): Run loads it. Only this bucket is
			// retried; the others' takes stand.
			cmd = takeScript.Run(ctx, s.c, []string{s.key(b.Key)}, args[i]...)
		}
		g, cerr := takeResult(cmd)
		if cerr != nil {
			return nil, cerr
		}
		grants[i] = g
	}
	return grants, nil
}

// takeResult reads takeScript's answer.
func takeResult(cmd *redis.Cmd) (storage.BucketGrant, error) {
	res, err := cmd.Int64Slice()
	if err != nil {
		return storage.BucketGrant{}, mapErr(err)
	}
	if len(res) != 2 {
		return storage.BucketGrant{}, fmt.Errorf("redisstore: take script returned %v", res)
	}
	return storage.BucketGrant{Tokens: int(res[0]), RetryAfter: time.Duration(res[1]) * time.Microsecond}, nil
}
