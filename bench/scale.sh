#!/usr/bin/env bash
# Scale benchmark on PostgreSQL: refresh → organization token on an empty
# database and on one with 100,000 users, 10,000 organizations and 1,000,000
# memberships, and the plans of the token path's reads on the latter.
# Creates and drops databases orgid_bench_* on the server that
# ORGID_BENCH_DATABASE_URL names (its own database is not touched); each
# seeding takes about half a minute. Prints the plans, the runs and the
# medians of every metric.
#
#   bench/scale.sh
#   ORGID_BENCH_DATABASE_URL='postgres://postgres@db:5432/postgres?sslmode=disable' COUNT=10 BENCHTIME=5s bench/scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export ORGID_BENCH_DATABASE_URL=${ORGID_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

go test ./internal/server -count 1 -v -run '^$' -bench '^BenchmarkOrganizationScalePlans$' -benchtime 1000x
go test ./internal/server -count "${COUNT:-5}" -run '^$' \
  -bench '^BenchmarkOrganizationTokenScale$' -benchtime "${BENCHTIME:-3s}" | tee "$out"

# Medians per sub-benchmark and unit (benchstat prints the same, with
# confidence intervals, when installed: benchstat "$out").
echo
echo "medians:"
awk '$1 ~ /^BenchmarkOrganizationTokenScale\// {
  name = $1; sub(/-[0-9]+$/, "", name); sub(/^BenchmarkOrganizationTokenScale\//, "", name)
  for (i = 3; i + 1 <= NF; i += 2) { k = name SUBSEP $(i + 1); v[k, ++n[k]] = $i }
}
END {
  for (k in n) {
    m = n[k]
    for (i = 1; i <= m; i++) a[i] = v[k, i]
    for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    med = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    split(k, p, SUBSEP)
    printf "  %-8s %14.4g %s\n", p[1], med, p[2]
  }
}' "$out" | sort -k1,1 -k3,3
