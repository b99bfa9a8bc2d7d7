#!/usr/bin/env bash
# psql cases of the client suite (tests/clients/README.md), in the shape of
# pg_regress: sql/CASE.sql is run through psql against the server named by
# PGHOST/PGPORT/PGUSER/PGDATABASE and its output (stdout and stderr) must
# equal expected/CASE.out; every file the case writes (\copy ... to
# '@OUT@/NAME') must equal expected/CASE.NAME, and each expected/CASE.NAME
# must have been written. In the .sql, @T@ is a table name unique to the
# run, @DATA@ this folder's data/ and @OUT@ a fresh scratch folder (\copy
# takes its argument literally, so psql variables cannot be used there).
#
# Usage: psql_test.sh [case ...]      (no case: every sql/*.sql)
# Prints `ok <case>` or `FAIL <case>: <reason>`; exits 1 if any failed, 2 on
# an unknown case. The scratch folder is kept when a case failed, or when
# CLIENTS_KEEP=1.
set -u

here=$(cd "$(dirname "$0")" && pwd)
CASE_TIMEOUT_S=30

if [ $# -eq 0 ]; then
  set -- $(cd "$here/sql" && ls *.sql | sed 's/\.sql$//')
fi

if ! command -v psql >/dev/null 2>&1; then
  for c in "$@"; do
    echo "FAIL $c: psql is not installed (scripts/install-deps installs postgresql-client)"
  done
  exit 1
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/talus-clients-psql.XXXXXX")
# The first line a unified diff @1 removes and the first it adds.
first_change() {
  local want got
  want=$(grep '^-' "$1" | grep -v '^---' | head -n 1)
  got=$(grep '^+' "$1" | grep -v '^+++' | head -n 1)
  echo "expected '${want#-}', got '${got#+}'"
}

failed=0
# The scratch folder stays when a case failed (or CLIENTS_KEEP is set).
trap '[ -n "${CLIENTS_KEEP:-}" ] || [ $failed -gt 0 ] || rm -rf "$scratch"' EXIT

for c in "$@"; do
  if [ ! -f "$here/sql/$c.sql" ]; then
    echo "FAIL $c: no such case"
    exit 2
  fi
  out="$scratch/$c"
  mkdir -p "$out"
  t="cl_psql_${c}_$$"
  sed -e "s|@T@|$t|g" -e "s|@DATA@|$here/data|g" -e "s|@OUT@|$out|g" \
    "$here/sql/$c.sql" > "$scratch/$c.sql"
  PGCONNECT_TIMEOUT=10 PGOPTIONS= PGTZ=UTC LC_ALL=C.UTF-8 \
    timeout "$CASE_TIMEOUT_S" psql -X -v ON_ERROR_STOP=0 \
    < "$scratch/$c.sql" > "$scratch/$c.out" 2>&1
  rc=$?
  why=""
  if [ $rc -eq 124 ]; then
    why="no result in $CASE_TIMEOUT_S s"
  elif [ ! -f "$here/expected/$c.out" ]; then
    why="expected/$c.out is missing"
  elif ! diff -u "$here/expected/$c.out" "$scratch/$c.out" > "$scratch/$c.diff"; then
    why="output differs: $(first_change "$scratch/$c.diff")"
  else
    for want in "$here/expected/$c".*; do
      name=${want#"$here/expected/$c."}
      [ "$name" = out ] && continue
      if [ ! -f "$out/$name" ]; then
        why="file $name not written"
      elif [ ! -f "$here/expected/$c.out" ]; then
    why="expected/$c.out is missing"
  elif ! diff -u "$want" "$out/$name" > "$scratch/$c.$name.diff"; then
        why="file $name differs: $(first_change "$scratch/$c.$name.diff")"
      fi
      [ -z "$why" ] || break
    done
  fi
  if [ -z "$why" ]; then
    echo "ok $c"
  else
    failed=$((failed + 1))
    echo "FAIL $c: $why (output in $scratch/$c.out)" | tr -s '\t' ' '
  fi
done
[ $failed -eq 0 ]
