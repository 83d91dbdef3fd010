package redistest

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// advanceScript moves Redis's clock forward by ARGV[2] ms for the keys
// matching ARGV[1]: each key's TTL shrinks by that much, and a key whose TTL
// would reach zero is deleted, which is what Redis itself would have done
// by then. Keys are collected first because SCAN may return a key twice,
// and shortening one twice would skip time. A key without TTL is left
// alone. Running as one script makes the jump atomic for the test's keys.
var advanceScript = redis.NewScript(`
local keys, cursor = {}, "0"
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do keys[k] = true end
until cursor == "0"
local d = tonumber(ARGV[2])
for k in pairs(keys) do
  local ttl = redis.call('PTTL', k)
  if ttl >= 0 then
    if ttl <= d then
      redis.call('DEL', k)
    else
      redis.call('PEXPIRE', k, ttl - d)
    end
  end
end
return 0
`)

// Advance shortens the TTL of every key under prefix by d, deleting those
// it would expire: Redis keeps time on the server clock, which a test cannot
// move, so the keys are moved instead. This goes through Redis's real TTL
// bookkeeping (PTTL, PEXPIRE, KEEPTTL) rather than around it.
func Advance(ctx context.Context, c redis.Scripter, prefix string, d time.Duration) error {
	return advanceScript.Run(ctx, c, nil, matchPattern(prefix), d.Milliseconds()).Err()
}
