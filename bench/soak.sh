#!/usr/bin/env bash
# Soak: orgid's mixed load (client credentials organization tokens,
# refresh → organization token chains, management writes) at a fixed rate
# against ONE replica for DURATION, one row a minute: requests, throughput,
# p50, p99, orgid's RSS (/proc/<pid>/status VmRSS), goroutines
# (go_goroutines from /metrics) and open fds; then a verdict comparing the
# last minutes with the first ones after the warm-up.
#
#   bench/soak.sh                                   # 30 min, embedded store
#   DURATION=3m bench/soak.sh                       # a short proof run
#   ORGID_BENCH_DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' \
#   ORGID_BENCH_REDIS_URL=redis://127.0.0.1:6379/15 bench/soak.sh
#   RATE=200 WORKERS=16 WARMUP=5m INTERVAL=1m PORT=18083 bench/soak.sh
#
# On PostgreSQL it creates a database orgid_soak_<pid> on the server the URL
# names (through the URL's own database, which is not touched) and drops it
# at the end. Needs curl; psql for PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30m} RATE=${RATE:-100} WORKERS=${WORKERS:-8} WARMUP=${WARMUP:-5m} INTERVAL=${INTERVAL:-1m}
PORT=${PORT:-18083}
tmp=$(mktemp -d)
pid= DB=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "$DB" ] && psql -q "$ORGID_BENCH_DATABASE_URL" -c "DROP DATABASE IF EXISTS $DB" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/orgid" ./cmd/orgid
go build -o "$tmp/soak" ./bench/soak
export ORGID_DATA_DIR=$tmp/data ORGID_LOG_LEVEL=warn
# The load comes from one address and few clients: no token rate limits
# unless the caller sets them (to measure what the limiter costs).
export ORGID_TOKEN_RATE_LIMIT_CLIENT=${ORGID_TOKEN_RATE_LIMIT_CLIENT:-0} ORGID_TOKEN_RATE_LIMIT_IP=${ORGID_TOKEN_RATE_LIMIT_IP:-0}
export ORGID_BOOTSTRAP_CLIENT_ID=soak-admin ORGID_BOOTSTRAP_CLIENT_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')
backend=embedded
if [ -n "${ORGID_BENCH_DATABASE_URL:-}" ]; then
  command -v psql >/dev/null || { echo "ORGID_BENCH_DATABASE_URL needs psql" >&2; exit 1; }
  DB=orgid_soak_$$
  psql -q "$ORGID_BENCH_DATABASE_URL" -c "CREATE DATABASE $DB"
  # The same server and parameters, the new database.
  export ORGID_DATABASE_URL=$(sed -E "s#^(postgres(ql)?://[^/]+)/[^?]*#\1/$DB#" <<<"$ORGID_BENCH_DATABASE_URL")
  export ORGID_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
  backend=postgres
  if [ -n "${ORGID_BENCH_REDIS_URL:-}" ]; then
    export ORGID_REDIS_URL=$ORGID_BENCH_REDIS_URL
    backend=postgres+redis
  fi
fi
"$tmp/orgid" serve --addr "127.0.0.1:$PORT" 2>"$tmp/serve.log" &
pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "orgid did not start:" >&2; cat "$tmp/serve.log" >&2; exit 1; }
echo "orgid $(git describe --always --dirty 2>/dev/null || echo '?') on $backend, pid $pid, 127.0.0.1:$PORT"
"$tmp/soak" -issuer "http://127.0.0.1:$PORT/t/default" -client-id "$ORGID_BOOTSTRAP_CLIENT_ID" -client-secret "$ORGID_BOOTSTRAP_CLIENT_SECRET" \
  -pid "$pid" -rate "$RATE" -workers "$WORKERS" -duration "$DURATION" -warmup "$WARMUP" -interval "$INTERVAL"
if grep -q 'level=ERROR\|"level":"ERROR"' "$tmp/serve.log"; then
  echo "orgid logged errors:"; grep 'level=ERROR\|"level":"ERROR"' "$tmp/serve.log" | sort | uniq -c | sort -rn | head -20
fi
