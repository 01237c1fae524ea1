#!/usr/bin/env bash
# Performance regression guard that a noisy shared machine cannot fool: the number of
# instructions (valgrind --tool=callgrind) to simulate a small fixed workload, against the
# committed baseline. Fails when the count grows by more than THRESHOLD percent.
#
#   tests/perf/callgrind.sh            check against results/bench/callgrind_baseline.txt
#   tests/perf/callgrind.sh --update   measure and write a new baseline (commit it, and say why)
set -euo pipefail
cd "$(dirname "$0")/../.."
THRESHOLD=${THRESHOLD:-10}
BASELINE=results/bench/callgrind_baseline.txt
mkdir -p results/bench
WORKLOAD=(bench-one experiments/default.toml --clients 1000 --duration 6h)
if ! command -v valgrind >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind) >/dev/null 2>&1 || true
fi
command -v valgrind >/dev/null || { echo "callgrind guard: FAILED: valgrind is not installed and could not be"; exit 1; }
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/impsim"
out=$(mktemp -d)
valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$BIN" "${WORKLOAD[@]}" > "$out/run.json" 2> "$out/valgrind.log"
ir=$(awk '/^summary:/ { print $2 }' "$out/cg.out")
events=$(sed -E 's/.*"events":([0-9]+).*/\1/' "$out/run.json")
rm -rf "$out"
[ -n "$ir" ] || { echo "callgrind guard: FAILED: no instruction count"; exit 1; }
per_event=$(awk -v i="$ir" -v e="$events" 'BEGIN { printf "%.0f", i / e }')
if [ "${1:-}" = "--update" ]; then
  printf '%s\n' "# instructions to simulate: impsim ${WORKLOAD[*]}" "instructions $ir" "events $events" > "$BASELINE"
  echo "callgrind guard: baseline written: $ir instructions, $events events ($per_event per event)"
  exit 0
fi
base=$(awk '/^instructions/ { print $2 }' "$BASELINE")
base_events=$(awk '/^events/ { print $2 }' "$BASELINE")
change=$(awk -v n="$ir" -v b="$base" 'BEGIN { printf "%+.2f", (n - b) * 100 / b }')
echo "callgrind guard: $ir instructions ($per_event per event, $events events) vs baseline $base ($base_events events): $change%"
if awk -v n="$ir" -v b="$base" -v t="$THRESHOLD" 'BEGIN { exit !(n > b * (1 + t / 100)) }'; then
  echo "callgrind guard: FAILED: more than $THRESHOLD% more instructions than the baseline."
  echo "  If the cost is intended (a model change), run tests/perf/callgrind.sh --update and commit $BASELINE with the reason."
  exit 1
fi
