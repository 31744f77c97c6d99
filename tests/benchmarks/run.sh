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

run() { echo "== $*"; "$@"; }
for bench in tests/benchmarks/bench_*.py; do
  name=$(basename "$bench" .py)
  case "$name" in
    bench_fhir)
      run $PY -m tests.benchmarks.bench_fhir --engine sqlite --observations "$OBS" --duration "$DURATION" --out "$OUT/fhir-sqlite.json"
      run $PY -m tests.benchmarks.bench_fhir --engine postgresql --pg-url "$(newdb bench_fhir)" --observations "$OBS" --duration "$DURATION" --out "$OUT/fhir-postgresql.json" ;;
    *)
      # the other benchmarks take --pg-url / --entries / --quick where they support them (see each module)
      if $PY -m "tests.benchmarks.$name" --help 2>/dev/null | grep -q -- "--pg-url"; then
        run $PY -m "tests.benchmarks.$name" --pg-url "$(newdb "$name")" --entries "$ENTRIES" --out "$OUT/$name.json" || echo "!! $name failed"
      else
        run $PY -m "tests.benchmarks.$name" | tee "$OUT/$name.txt" || echo "!! $name failed"
      fi ;;
  esac
done
echo "reports in $OUT/"
