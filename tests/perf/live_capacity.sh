#!/usr/bin/env bash
# The load generator's capacity on this machine (issue 23), against Mosquitto processes on the
# same machine. A benchmark: it states the figures (results/bench/README.md keeps them), it
# asserts none. Two parts:
#   one   one driver process at the open-file limit: CLIENTS (default 19,000) virtual clients
#         against one broker, a busy population (an activity a simulated minute, at --scale 60:
#         one a second per online client) for 3 minutes of real time;
#   many  TOTAL (default 100,000) virtual clients as SHARDS (default 6) driver processes against
#         as many brokers, a quieter population (--scale 10) for 3 minutes, merged.
# For each it prints the verdict, the strict check, the driver's lateness, exchanges per second,
# memory per client and each process's CPU, and the machine's load before and after.
#   tests/perf/live_capacity.sh one [CLIENTS]
#   tests/perf/live_capacity.sh many [TOTAL] [SHARDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PART=${1:-one}
BASE=$(mktemp -d /tmp/impsim-capacity.XXXXXX)
PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$BASE"
}
trap stop_all EXIT
skip() { echo "live capacity: SKIPPED: $*"; exit 0; }
source tests/live/broker.sh
cargo build --release -q
BIN="$ROOT/${CARGO_TARGET_DIR:-target}/release/impsim"
# N brokers, each in its own folder: sets BROKERS (--broker options) and PIDS.
start_brokers() {
  BROKERS=()
  for i in $(seq 1 "$1"); do
    WORK="$BASE/broker-$i"
    mkdir -p "$WORK"
    start_broker
    BROKERS+=(--broker "127.0.0.1:$PORT")
    PIDS+=("$PID")
  done
}
cpu() { awk '{ print ($14 + $15) / 100 }' "/proc/$1/stat"; }
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before; open-file limit $(ulimit -Hn)"
case "$PART" in
one)
  CLIENTS=${2:-19000}
  start_brokers 1
  before=$(cpu "${PIDS[0]}")
  /usr/bin/time -v "$BIN" live experiments/live_mosquitto.toml "${BROKERS[@]}" --scale 60 \
    --set "clients=$CLIENTS" --set duration=3h --set 'client.activity={ dist = "exponential", mean = "1m" }' \
    --connect-rate 3000 --max-inflight 80 --out "$BASE/out" 2>"$BASE/err" | tee "$BASE/out.txt" || true
  grep -E "Elapsed|Maximum resident|Percent of CPU" "$BASE/err" || true
  echo "broker CPU: $(awk -v a="$before" -v b="$(cpu "${PIDS[0]}")" 'BEGIN { print b - a }') s"
  sed -n '/| phase/,/^$/p' "$BASE/out/report.md"
  ;;
many)
  TOTAL=${2:-100000}
  SHARDS=${3:-6}
  start_brokers "$SHARDS"
  START=$(($(date +%s) + 5))
  run_pids=()
  for i in $(seq 1 "$SHARDS"); do
    "$BIN" live experiments/live_mosquitto.toml "${BROKERS[@]}" --scale 10 --set "clients=$TOTAL" \
      --set duration=30m --shard "$i/$SHARDS" --threads 1 --start-at "$START" --connect-rate 1000 \
      --max-inflight 40 --out "$BASE/shard-$i" >"$BASE/shard-$i.out" 2>&1 &
    run_pids+=($!)
  done
  for p in "${run_pids[@]}"; do wait "$p" || echo "a shard exited $?"; done
  for i in $(seq 1 "$SHARDS"); do tail -2 "$BASE/shard-$i.out"; done
  "$BIN" merge "$BASE"/shard-*/ --out "$BASE/merged" | tee "$BASE/merged.txt" || true
  echo "each shard's driver: CPU seconds (ramp, steady), peak memory, clients:"
  for i in $(seq 1 "$SHARDS"); do
    python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['driver']; print(' ', sys.argv[2], d['cpu_seconds'], round(d['peak_rss_bytes']/1e6,1), 'MB', d['clients'], 'clients')" \
      "$BASE/shard-$i/manifest.json" "shard $i"
  done
  echo "each broker's CPU seconds over the run:"
  for p in "${PIDS[@]}"; do echo "  pid $p: $(cpu "$p") s"; done
  sed -n '/| phase/,/^$/p' "$BASE/merged/report.md"
  ;;
*) echo "usage: $0 one [CLIENTS] | many [TOTAL] [SHARDS]"; exit 2 ;;
esac
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
