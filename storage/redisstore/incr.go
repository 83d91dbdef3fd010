package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// incrScript adds ARGV[1] to the counter KEYS[1] and gives it a TTL of
// ARGV[2] ms unless it already has one, returning {count, ms left}. INCRBY
// then EXPIRE as two commands would leave a counter without TTL (a rate
// limit that never resets) if the client died between them; the script runs
// atomically. INCRBY 0 on a missing key creates it at 0, as Incr promises.
var incrScript = redis.NewScript(`
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = tonumber(ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return {n, ttl}
`)

// Incr implements storage.Ephemeral with incrScript: one round trip
// (EVALSHA, with a one-time EVAL when the server has not cached it yet).
func (s *Store) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, time.Duration, error) {
	ms, err := millis(ttl)
	if err != nil {
		return 0, 0, err
	}
	res, err := incrScript.Run(ctx, s.c, []string{s.key(key)}, delta, ms).Int64Slice()
	if err != nil {
		return 0, 0, mapErr(err)
	}
	if len(res) != 2 {
		return 0, 0, fmt.Errorf("redisstore: incr script returned %v", res)
	}
	return res[0], time.Duration(res[1]) * time.Millisecond, nil
}
