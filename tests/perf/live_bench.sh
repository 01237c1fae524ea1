#!/usr/bin/env bash
# The load generator's own capacity (issue 13): impsim live with CLIENTS virtual clients (default
# 10,000) against a local Mosquitto for about 30 s of real time, printing the driver's timing
# error (how late its scheduled actions fired, p50/p99), the exchanges it sustained per second
# and CONNECT-to-CONNACK latency. A benchmark, not a test: it states the figures, it asserts none.
#   tests/perf/live_bench.sh [CLIENTS] [SCALE]
set -euo pipefail
cd "$(dirname "$0")/../.."
CLIENTS=${1:-10000}
SCALE=${2:-60}
WORK=$(mktemp -d /tmp/impsim-live-bench.XXXXXX)
PID=""
trap 'stop_broker; rm -rf "$WORK"' EXIT
skip() { echo "live bench: SKIPPED: $*"; exit 0; }
source tests/live/broker.sh
start_broker
cargo build --release -q
BIN="${CARGO_TARGET_DIR:-target}/release/impsim"
"$BIN" live experiments/live_mosquitto.toml --broker "127.0.0.1:$PORT" --scale "$SCALE" \
  --set "clients=$CLIENTS" --set duration=30m --out "$WORK/out" --max-inflight 80 --connect-rate 3000 \
  | grep -E "figure|lateness|exchanges_per_second|reconnect_latency|recovery_attempts|session_present|strict|retained|sys_gauge|failures|bytes_per_client|limit|verdict" \
  || true # a benchmark states its figures; the verdict's exit code is not its own
