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
. bench/lib.sh

if [ "$TARGET" = bare ]; then
  go build -o "$tmp/bare" ./bench/bare
  "$tmp/bare" -addr "127.0.0.1:$PORT" -alg "$ALG" -client-id bench -client-secret bench-secret &
  pid=$!
  sleep 0.5
  url=http://127.0.0.1:$PORT/token id=bench secret=bench-secret org=org_bench
  curl -fs -u bench:bench-secret -d "grant_type=client_credentials&organization_id=$org" "$url" >/dev/null || { echo "bare did not answer" >&2; exit 1; }
else
  start_orgid m2m
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
echo "median of $RUNS: $(field rps) tokens/s, p50 $(field p50_ms) ms, p99 $(field p99_ms) ms"
