#!/usr/bin/env bash
# Every telehub benchmark behind one command:  bash tests/benchmarks/run.sh [--quick]
# Starts its own throwaway PostgreSQL 15 cluster (like .ci/run), runs each benchmark on SQLite and PostgreSQL
# where it applies, and writes JSON reports to tests/benchmarks/results/.  It measures; it never fails on time.
# Needs: the installed venv (.venv), wrk (Debian: apt-get install wrk) for the HTTP load tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
OUT=tests/benchmarks/results
mkdir -p "$OUT"
QUICK=${1:-}
OBS=1000000; ENTRIES=1000000; DURATION=15
if [ "$QUICK" = "--quick" ]; then OBS=20000; ENTRIES=20000; DURATION=5; fi

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT=${PGPORT:-55498}
PGTMP=$(mktemp -d /tmp/telehub-bench-pg.XXXXXX)
cleanup() {
  if [ -f "$PGTMP/data/postmaster.pid" ]; then
    su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D '$PGTMP/data' -m fast stop" >/dev/null 2>&1 || true
  fi
  rm -rf "$PGTMP"
}
trap cleanup EXIT INT TERM
chown postgres "$PGTMP"
su postgres -s /bin/sh -c "$PGBIN/initdb -D '$PGTMP/data' -U postgres --auth=trust -E UTF8 >/dev/null"
su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D '$PGTMP/data' -l '$PGTMP/pg.log' -w -o \"-p $PGPORT -k $PGTMP -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c max_connections=200\" start >/dev/null"
PG="postgresql+asyncpg://postgres@127.0.0.1:$PGPORT"
newdb() { psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null; echo "$PG/$1"; }

run() { echo "== $*"; "$@" || echo "!! failed: $*"; }
log() { local name=$1; shift; run "$@" 2>&1 | tee "$OUT/$name.txt"; }

# Foundation (issue 2): create, read, 100-Observation transaction, search over $OBS Observations; RSS per worker
run $PY -m tests.benchmarks.bench_fhir --engine sqlite --observations "$OBS" --duration "$DURATION" --out "$OUT/fhir-sqlite.json"
run $PY -m tests.benchmarks.bench_fhir --engine postgresql --pg-url "$(newdb bench_fhir)" --observations "$OBS" --duration "$DURATION" --out "$OUT/fhir-postgresql.json"
# Security (issue 6): overhead per read against a no-security baseline; SAML/JWT verification rates
run $PY -m tests.benchmarks.bench_security_http --out "$OUT/security-http-sqlite.json"
run $PY -m tests.benchmarks.bench_security_http --pg-url "$(newdb bench_sec)" --out "$OUT/security-http-postgresql.json"
log security $PY -m tests.benchmarks.bench_security
# Validation (issue 3): validator rates in-process and $validate / profile-validated creates over HTTP
log validator $PY -m tests.benchmarks.bench_validator
log fhir-xml $PY -m tests.benchmarks.bench_fhir_xml
run $PY -m tests.benchmarks.bench_validation_http --duration "$DURATION" --out "$OUT/validation-http-sqlite.json"
run $PY -m tests.benchmarks.bench_validation_http --duration "$DURATION" --database-url "$(newdb bench_val)" --out "$OUT/validation-http-postgresql.json"
# PHMR (issue 4): validate + derive + extract in-process, $submit-document over HTTP on both engines
log phmr $PY -m tests.benchmarks.bench_phmr
log phmr-pipeline $PY -m tests.benchmarks.bench_phmr_pipeline --duration "$DURATION" --pg-url "$PG/postgres"
# XDS (issue 5): ITI-41 over HTTP, FindDocuments over $ENTRIES entries, a 100 MB document through ITI-41/43
log xds-codec $PY -m tests.benchmarks.bench_xds_codec
log mhd-pages $PY -m tests.benchmarks.bench_mhd_pages --pg-url "$PG/postgres"
log xds $PY -m tests.benchmarks.bench_xds --part all --engines sqlite,postgresql --pg-url "$PG/postgres" --entries "$ENTRIES" --duration "$DURATION"
log search-extraction $PY -m tests.benchmarks.bench_search_extraction
echo "reports in $OUT/"
