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
. bench/lib.sh

go build -o "$tmp/loadgen" ./bench/identity
start_orgid identity

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
echo "median of $RUNS: $(field rps) rounds/s, exchange p50 $(field exchange_p50_ms) ms, p99 $(field exchange_p99_ms) ms; nonce p50 $(field nonce_p50_ms) ms"
