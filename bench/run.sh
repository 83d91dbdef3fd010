#!/usr/bin/env bash
# Loopback load benchmark of the refresh_token grant on the embedded store.
# Builds orgid, starts it on a fresh data dir, registers a web client whose
# ID tokens are ES256, and runs loadgen against it; prints throughput,
# latency percentiles and orgid's CPU time per request.
#
#   bench/run.sh                      # 20 s, 8 workers, with openid
#   WORKERS=16 DURATION=30s OPENID=false bench/run.sh
#   PIN=1 bench/run.sh                # orgid on CPU 0, the load generator on CPU 1
set -euo pipefail
cd "$(dirname "$0")/.."
WORKERS=${WORKERS:-8} DURATION=${DURATION:-20s} OPENID=${OPENID:-true} ID_TOKEN_ALG=${ID_TOKEN_ALG:-ES256}
PORT=${PORT:-18081}
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/orgid" ./cmd/orgid
go build -o "$tmp/loadgen" ./bench/loadgen
export ORGID_DATA_DIR=$tmp/data ORGID_LOG_LEVEL=warn
# The load comes from one address and few clients: no token rate limits
# unless the caller sets them (to measure what the limiter costs).
export ORGID_TOKEN_RATE_LIMIT_CLIENT=${ORGID_TOKEN_RATE_LIMIT_CLIENT:-0} ORGID_TOKEN_RATE_LIMIT_IP=${ORGID_TOKEN_RATE_LIMIT_IP:-0}
creds=$("$tmp/orgid" apps create --type web --name load --redirect-uri http://127.0.0.1:9/cb --id-token-alg "$ID_TOKEN_ALG")
id=$(awk '/^client_id:/ {print $2}' <<<"$creds")
secret=$(awk '/^client_secret:/ {print $2}' <<<"$creds")
server_cpu=() load_cpu=()
if [ "${PIN:-}" = 1 ]; then server_cpu=(taskset -c 0) load_cpu=(taskset -c 1); fi
"${server_cpu[@]}" "$tmp/orgid" serve --addr "127.0.0.1:$PORT" 2>"$tmp/serve.log" &
pid=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
"${load_cpu[@]}" "$tmp/loadgen" -issuer "http://127.0.0.1:$PORT/t/default" -client-id "$id" -client-secret "$secret" \
  -workers "$WORKERS" -duration "$DURATION" -openid="$OPENID" -pid "$pid"
