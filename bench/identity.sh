#!/usr/bin/env bash
# Loopback load benchmark of identity tokens (DESIGN §3 "Identity tokens",
# docs/identity-services.md): each round asks orgid for a nonce, signs an
# identity token with an organization's authentication key and trades it
# at the token endpoint (jwt-bearer grant, scope "openid offline_access")
# for an organization token + ID token + refresh token. The load generator
# is bench/identity (Go: every round needs a fresh nonce and signature, which
# wrk cannot do). Prints each run and the medians.
#
#   bench/identity.sh                          # embedded store, ES256 key, 3 runs of 15 s
#   KEY_ALG=RS256 bench/identity.sh            # RS256 (or EdDSA) authentication key
#   BACKEND=postgres bench/identity.sh         # PostgreSQL + Redis (db 15) on 127.0.0.1
#   RUNS=1 DURATION=10s WORKERS=16 bench/identity.sh
#
# orgid gives one client at most 600 nonces a minute, so the rounds are
# spread over CLIENTS web applications (default 128); a run that still
# hits the limit reports rate_limited > 0.
#
# Needs go, curl and jq (and psql for BACKEND=postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${BACKEND:-embedded} KEY_ALG=${KEY_ALG:-ES256} ALG=${ALG:-ES256}
RUNS=${RUNS:-3} DURATION=${DURATION:-15s} WORKERS=${WORKERS:-16} CLIENTS=${CLIENTS:-128}
PORT=${PORT:-18083}
for cmd in go curl jq; do command -v $cmd >/dev/null || { echo "bench/identity.sh needs $cmd" >&2; exit 1; }; done
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "${DB:-}" ] && psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
wait_ready() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return; sleep 0.1; done; echo "server did not start" >&2; exit 1; }

go build -o "$tmp/orgid" ./cmd/orgid
go build -o "$tmp/loadgen" ./bench/identity
export ORGID_LOG_LEVEL=warn ORGID_ACCESS_TOKEN_ALG=$ALG ORGID_DATA_DIR=$tmp/data
export ORGID_BOOTSTRAP_CLIENT_ID=bench-admin ORGID_BOOTSTRAP_CLIENT_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')
if [ "$BACKEND" = postgres ]; then
  command -v psql >/dev/null || { echo "BACKEND=postgres needs psql" >&2; exit 1; }
  DB=orgid_bench_identity_$$
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

org=$(api -d '{"name":"Bench Identity Org"}' "$iss/api/v1/admin/organizations" | jq -r .id)
provider=$(api "$iss/api/v1/admin/organizations/$org" | jq -r .provider_id)
key=$(api -d "{\"alg\":\"$KEY_ALG\"}" "$iss/api/v1/admin/organizations/$org/keys")
kid=$(jq -r .kid <<<"$key")
jq -r .private_key_pem <<<"$key" >"$tmp/auth-key.pem"
chmod 600 "$tmp/auth-key.pem"
: >"$tmp/clients"
for i in $(seq "$CLIENTS"); do
  api -d "{\"name\":\"Identity bench $i\",\"type\":\"web\",\"redirect_uris\":[\"https://app.bench.test/callback\"]}" \
    "$iss/api/v1/admin/applications" | jq -r '.client_id + " " + .client_secret' >>"$tmp/clients"
done

gen() { "$tmp/loadgen" -issuer "$iss" -clients "$tmp/clients" -key "$tmp/auth-key.pem" -kid "$kid" -provider-id "$provider" -workers "$WORKERS" "$@"; }
echo "identity token rounds (nonce + exchange): backend=$BACKEND key=$KEY_ALG access_token=$ALG workers=$WORKERS clients=$CLIENTS duration=$DURATION"
gen -duration 2s >/dev/null # warm-up: creates most of the users (first sign-in of each sub)
: >"$tmp/results"
for i in $(seq "$RUNS"); do
  gen -duration "$DURATION" | tee -a "$tmp/results"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" "$tmp/results" | median; }
echo "median of $RUNS: $(field rps) rounds/s, exchange p50 $(field exchange_p50_ms) ms, p99 $(field exchange_p99_ms) ms; nonce p50 $(field nonce_p50_ms) ms"
