#!/usr/bin/env bash
# bench_pgbench — pgbench's select-only transaction (-S), or with -b tpcb
# its TPC-B-like transaction (BEGIN; three UPDATEs, a SELECT, an INSERT;
# END, serialization failures retried: --max-tries=10), through Talus
# with each query mode (-M simple, extended, prepared), and the same
# against PostgreSQL 15 when a port is given, alternating so both see the
# same machine load.
#
#   tests/bench/bench_pgbench.sh [-s scale] [-T seconds] [-c clients]
#                                [-r rounds] [-p postgres_port]
#                                [-U postgres_user] [-d postgres_db]
#                                [-b select|tpcb]
#
# Starts the local cluster of `make up` (scripts/cluster, BUILD=build by
# default: a release build) in a temporary data folder on ports 25733+,
# (PORT and NODE_PORT from the environment override those ports),
# creates pgbench's four tables with their primary keys (as pgbench -i -s
# scale does) and loads them with COPY (with -b tpcb: pgbench -i -s scale
# itself), then runs `pgbench -n -S -M mode -c clients -j 2 -T seconds`
# for each mode, rounds times. With -p, the PostgreSQL server on
# 127.0.0.1:port (user -U, postgres by default) is loaded by pgbench -i
# -s scale in database -d (bench_pgbench by default, dropped and created
# again unless -d names an existing one) and measured the same way after
# each Talus run. Prints one line per run, then per mode the median tps of
# each server, Talus's ratio to PostgreSQL, each server's ratio of that
# mode to -M simple, and the CPU time the Talus router spent per
# transaction (user + system: what the router itself costs, whatever the
# nodes' latency); exits 1 if any run had failed transactions.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCALE=1 DURATION=10 CLIENTS=4 ROUNDS=3 PGPORT_PG= PGUSER_PG=postgres PGDB_PG=
BUILTIN=select
while getopts "s:T:c:r:p:U:d:b:" o; do
  case $o in
  s) SCALE=$OPTARG ;;
  T) DURATION=$OPTARG ;;
  c) CLIENTS=$OPTARG ;;
  r) ROUNDS=$OPTARG ;;
  p) PGPORT_PG=$OPTARG ;;
  U) PGUSER_PG=$OPTARG ;;
  d) PGDB_PG=$OPTARG ;;
  b) BUILTIN=$OPTARG ;;
  *) exit 2 ;;
  esac
done

BUILD=${BUILD:-build}
DATA=$(mktemp -d /tmp/bench_pgbench.XXXXXX)
PORT=${PORT:-25733}
NODE_PORT=${NODE_PORT:-25800}
export BUILD DATA PORT NODE_PORT
cleanup() {
  scripts/cluster down >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap cleanup EXIT
scripts/cluster up >/dev/null

case $BUILTIN in
select) BENCH_FLAGS=(-S) ;;
tpcb) BENCH_FLAGS=(--max-tries=10) ;;
*) echo "-b select or tpcb" >&2; exit 2 ;;
esac

T=(-h 127.0.0.1 -p "$PORT" -U talus talus)
if [ "$BUILTIN" = tpcb ]; then
  pgbench -q -i -s "$SCALE" "${T[@]}" >/dev/null 2>&1
else
psql -X -q -v ON_ERROR_STOP=1 "${T[@]}" <<SQL
CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler character(88));
CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler character(84));
CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler character(84));
CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler character(22));
SQL
awk -v s="$SCALE" 'BEGIN { for (i = 1; i <= s; i++) print i "\t0\t" }' |
  psql -X -q "${T[@]}" -c "COPY pgbench_branches (bid, bbalance, filler) FROM STDIN"
awk -v s="$SCALE" 'BEGIN { for (i = 1; i <= s * 10; i++) print i "\t" int((i - 1) / 10) + 1 "\t0\t" }' |
  psql -X -q "${T[@]}" -c "COPY pgbench_tellers (tid, bid, tbalance, filler) FROM STDIN"
awk -v s="$SCALE" 'BEGIN { for (i = 1; i <= s * 100000; i++) print i "\t" int((i - 1) / 100000) + 1 "\t0\t" }' |
  psql -X -q "${T[@]}" -c "COPY pgbench_accounts (aid, bid, abalance, filler) FROM STDIN"
fi

if [ -n "$PGPORT_PG" ]; then
  P=(-h 127.0.0.1 -p "$PGPORT_PG" -U "$PGUSER_PG")
  if [ -z "$PGDB_PG" ]; then
    PGDB_PG=bench_pgbench
    psql -X -q "${P[@]}" -c "DROP DATABASE IF EXISTS bench_pgbench" postgres
    psql -X -q "${P[@]}" -c "CREATE DATABASE bench_pgbench" postgres
  fi
  pgbench -q -i -s "$SCALE" "${P[@]}" "$PGDB_PG" >/dev/null 2>&1
fi

declare -A RESULTS CPU
failed=0
TICK=$(getconf CLK_TCK)
# CPU time (user + system, in clock ticks) the first router has used.
router_ticks() { awk '{ print $14 + $15 }' "/proc/$(cat "$DATA/router.pid")/stat"; }
run() { # label mode args...
  local label=$1 mode=$2 out tps fails n t0=0 us=
  shift 2
  [ "$label" != talus ] || t0=$(router_ticks)
  out=$(pgbench -n "${BENCH_FLAGS[@]}" -M "$mode" -c "$CLIENTS" -j 2 -T "$DURATION" "$@" 2>&1)
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")
  fails=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
  n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  if [ "$label" = talus ] && [ "${n:-0}" -gt 0 ]; then
    us=$(awk -v t="$(($(router_ticks) - t0))" -v n="$n" -v hz="$TICK" 'BEGIN { printf "%.0f", t * 1e6 / hz / n }')
    CPU[$mode]+="$us "
  fi
  echo "$label mode=$mode tps=${tps:-0} failed=${fails:-?}${us:+ router_cpu_us_per_tx=$us}"
  [ "${fails:-1}" = 0 ] || failed=1
  RESULTS[$label.$mode]+="${tps:-0} "
}
for r in $(seq "$ROUNDS"); do
  for m in simple extended prepared; do
    run talus "$m" "${T[@]}"
    [ -z "$PGPORT_PG" ] || run postgres "$m" "${P[@]}" "$PGDB_PG"
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
t_simple=$(median "${RESULTS[talus.simple]}")
[ -z "$PGPORT_PG" ] || p_simple=$(median "${RESULTS[postgres.simple]}")
for m in simple extended prepared; do
  t=$(median "${RESULTS[talus.$m]}")
  line="median mode=$m talus_tps=$t talus_vs_simple=$(ratio "$t" "$t_simple")"
  line+=" router_cpu_us_per_tx=$(median "${CPU[$m]}")"
  if [ -n "$PGPORT_PG" ]; then
    p=$(median "${RESULTS[postgres.$m]}")
    line+=" postgres_tps=$p postgres_vs_simple=$(ratio "$p" "$p_simple")"
    line+=" talus_vs_postgres=$(ratio "$t" "$p")"
  fi
  echo "$line"
done
exit $failed
