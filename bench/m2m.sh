#!/usr/bin/env bash
# Loopback load benchmark of client-credentials organization tokens (issue 5):
# wrk, 16 connections, against orgid on the embedded store or on PostgreSQL +
# Redis, with ES256 or RS256 access tokens; and the same wrk run against
# bench/bare, a handler that only checks a SHA-256 secret and signs an
# equal JWT: the ceiling of this machine. Prints each run and the medians.
#
#   bench/m2m.sh                               # embedded store, ES256, 3 runs of 15 s
#   ALG=RS256 bench/m2m.sh
#   BACKEND=postgres bench/m2m.sh              # PostgreSQL + Redis on 127.0.0.1
#   TARGET=bare ALG=RS256 bench/m2m.sh         # the reference handler
#   RUNS=5 DURATION=30s CONNECTIONS=16 THREADS=2 bench/m2m.sh
#
# Needs wrk (apt-get install wrk), curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
ALG=${ALG:-ES256} BACKEND=${BACKEND:-embedded} TARGET=${TARGET:-orgid}
RUNS=${RUNS:-3} DURATION=${DURATION:-15s} CONNECTIONS=${CONNECTIONS:-16} THREADS=${THREADS:-2}
PORT=${PORT:-18082}
for cmd in wrk curl jq; do command -v $cmd >/dev/null || { echo "bench/m2m.sh needs $cmd" >&2; exit 1; }; done
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "${DB:-}" ] && psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
wait_ready() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return; sleep 0.1; done; echo "server did not start" >&2; exit 1; }

if [ "$TARGET" = bare ]; then
  go build -o "$tmp/bare" ./bench/bare
  "$tmp/bare" -addr "127.0.0.1:$PORT" -alg "$ALG" -client-id bench -client-secret bench-secret &
  pid=$!
  sleep 0.5
  url=http://127.0.0.1:$PORT/token id=bench secret=bench-secret org=org_bench
  curl -fs -u bench:bench-secret -d "grant_type=client_credentials&organization_id=$org" "$url" >/dev/null || { echo "bare did not answer" >&2; exit 1; }
else
  go build -o "$tmp/orgid" ./cmd/orgid
  export ORGID_LOG_LEVEL=warn ORGID_ACCESS_TOKEN_ALG=$ALG ORGID_DATA_DIR=$tmp/data
  export ORGID_BOOTSTRAP_CLIENT_ID=bench-admin ORGID_BOOTSTRAP_CLIENT_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')
  if [ "$BACKEND" = postgres ]; then
    DB=orgid_bench_m2m_$$
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $DB"
    export ORGID_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable"
    export ORGID_REDIS_URL=${ORGID_REDIS_URL:-redis://127.0.0.1:6379/15}
    export ORGID_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
  fi
  "$tmp/orgid" serve --addr "127.0.0.1:$PORT" 2>"$tmp/serve.log" &
  pid=$!
  iss=http://127.0.0.1:$PORT/t/default
  wait_ready "http://127.0.0.1:$PORT/readyz"
  mgmt=$(curl -fs -u "$ORGID_BOOTSTRAP_CLIENT_ID:$ORGID_BOOTSTRAP_CLIENT_SECRET" -d grant_type=client_credentials -d "resource=$iss/api" "$iss/oauth/token" | jq -r .access_token)
  api() { curl -fs -H "Authorization: Bearer $mgmt" -H 'Content-Type: application/json' "$@"; }
  org=$(api -d '{"name":"Bench Org"}' "$iss/api/v1/admin/organizations" | jq -r .id)
  app=$(api -d '{"name":"Integration","type":"m2m"}' "$iss/api/v1/admin/applications")
  id=$(jq -r .client_id <<<"$app") secret=$(jq -r .client_secret <<<"$app")
  api -d "{\"application_id\":\"$id\",\"roles\":[\"admin\"]}" "$iss/api/v1/admin/organizations/$org/applications" >/dev/null
  url=$iss/oauth/token
  check=$(curl -fs -u "$id:$secret" -d "grant_type=client_credentials&organization_id=$org" "$url")
  [ "$(jq -r .access_token <<<"$check" | cut -d. -f1 | base64 -d 2>/dev/null | jq -r .alg)" = "$ALG" ] || { echo "unexpected token: $check" >&2; exit 1; }
fi

cat >"$tmp/cc.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&organization_id=$org"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $(printf '%s:%s' "$id" "$secret" | base64 -w0)"
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
LUA

echo "client_credentials + organization_id: target=$TARGET backend=$BACKEND alg=$ALG connections=$CONNECTIONS threads=$THREADS duration=$DURATION"
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "$tmp/cc.lua" "$url" >/dev/null # warm-up
: >"$tmp/results"
for i in $(seq "$RUNS"); do
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$tmp/cc.lua" "$url" | grep '^RESULT' | tee -a "$tmp/results"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" "$tmp/results" | median; }
echo "median of $RUNS: $(field rps) tokens/s, p50 $(field p50_ms) ms, p99 $(field p99_ms) ms"
