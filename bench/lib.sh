# Shared by the loopback benchmarks (bench/m2m.sh, bench/identity.sh):
# source it after setting PORT and BACKEND. It makes $tmp (removed on
# exit, with the server and any benchmark database), and offers:
#
#   start_orgid NAME   build and start orgid on 127.0.0.1:$PORT, on the
#                      embedded store or, with BACKEND=postgres, on a fresh
#                      database orgid_bench_NAME_$$ and Redis db 15; sets
#                      $iss and $mgmt (a management token of the bootstrap
#                      client) and defines api (curl with that token)
#   field KEY          the median of KEY=… over the lines of $tmp/results

tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "${DB:-}" ] && psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

wait_ready() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return; sleep 0.1; done; echo "server did not start" >&2; exit 1; }

start_orgid() {
  go build -o "$tmp/orgid" ./cmd/orgid
  export ORGID_LOG_LEVEL=warn ORGID_ACCESS_TOKEN_ALG=$ALG ORGID_DATA_DIR=$tmp/data
  # The load comes from one address and few clients: no token rate limits
  # unless the caller sets them (to measure what the limiter costs).
  export ORGID_TOKEN_RATE_LIMIT_CLIENT=${ORGID_TOKEN_RATE_LIMIT_CLIENT:-0} ORGID_TOKEN_RATE_LIMIT_IP=${ORGID_TOKEN_RATE_LIMIT_IP:-0}
  export ORGID_BOOTSTRAP_CLIENT_ID=bench-admin ORGID_BOOTSTRAP_CLIENT_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')
  if [ "$BACKEND" = postgres ]; then
    command -v psql >/dev/null || { echo "BACKEND=postgres needs psql" >&2; exit 1; }
    DB=orgid_bench_$1_$$
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
}

api() { curl -fs -H "Authorization: Bearer $mgmt" -H 'Content-Type: application/json' "$@"; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" "$tmp/results" | median; }
