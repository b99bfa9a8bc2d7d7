#!/usr/bin/env bash
# Run bench_router against a 3-node cluster with replicas = 1 and with
# replicas = 3 (point selects and single-row inserts at 1, 8 and 32
# connections), each cluster started from the build tree in a fresh
# temporary directory and stopped by PID.
#
#   tests/bench/run_replication.sh [BUILD]      (default: build)
#
# Environment: SECONDS_PER_PHASE (default 5), ROWS (default 10000),
# CONNS (default "1 8 32"), KEEP=1 keeps the directories (logs).
# Output: bench_router's lines, prefixed with "replicas=R".
set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD=${1:-build}
SECS=${SECONDS_PER_PHASE:-5}
ROWS=${ROWS:-10000}
CONNS=${CONNS:-"1 8 32"}
PIDS=()

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 150); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap stop_all EXIT

run_cluster() { # replicas
  local r=$1 dir port conf
  dir=$(mktemp -d /tmp/talus-bench-XXXXXX)
  conf="$dir/cluster.conf"
  port=$(free_port)
  {
    echo "shards = 6"
    echo "replicas = $r"
    echo "request_timeout_ms = 5000"
    echo "router.listen = 127.0.0.1:$port"
    for i in 1 2 3; do
      echo "node.$i.rpc = 127.0.0.1:$(free_port)"
      echo "node.$i.raft = 127.0.0.1:$(free_port)"
      echo "node.$i.dir = $dir/node$i"
    done
  } >"$conf"
  for i in 1 2 3; do
    mkdir -p "$dir/node$i"
    "$BUILD/node/talus-node" --config "$conf" --id "$i" \
      >"$dir/node$i.log" 2>&1 </dev/null &
    PIDS+=($!)
  done
  "$BUILD/router/talus-router" --config "$conf" >"$dir/router.log" 2>&1 \
    </dev/null &
  PIDS+=($!)
  "$BUILD/shardctl/shardctl" --config "$conf" wait --timeout 60 \
    --router "127.0.0.1:$port" >/dev/null
  for c in $CONNS; do
    "$BUILD/tests/bench_router" -p "$port" -n "$ROWS" -c "$c" -d "$SECS" |
      sed "s/^/replicas=$r /"
  done
  stop_all
  if [ "${KEEP:-0}" = 1 ]; then
    echo "logs: $dir" >&2
  else
    rm -rf "$dir"
  fi
}

run_cluster 1
run_cluster 3
