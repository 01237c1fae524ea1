#!/usr/bin/env bash
# Performance regression guard that a noisy shared machine cannot fool: counts from valgrind's
# simulated CPU, which are the same on every run of the same binary and input.
#   1. instructions per event to simulate a small workload (1,000 clients for 6 h: fits in cache);
#   2. data cache misses per event at a size beyond cache (100,000 clients for 30 min, under
#      cachegrind with fixed simulated caches: 32 KiB L1, 2 MiB last level): a larger client
#      record or a scattered access pattern, invisible to (1), shows here.
# Each workload's event count must equal the baseline's: a model change that alters the
# workload is not a speed change, and needs a new baseline (--update, committed with the reason).
# Fails when a per-event figure grows by more than THRESHOLD percent (default 5).
#
#   tests/perf/callgrind.sh            check against results/bench/callgrind_baseline.txt
#   tests/perf/callgrind.sh --update   measure and write a new baseline (commit it, and say why)
set -euo pipefail
cd "$(dirname "$0")/../.."
THRESHOLD=${THRESHOLD:-5}
BASELINE=results/bench/callgrind_baseline.txt
mkdir -p results/bench
SMALL=(bench-one experiments/default.toml --clients 1000 --duration 6h)
LARGE=(bench-one experiments/default.toml --clients 100000 --duration 30m)
CACHES=(--I1=32768,8,64 --D1=32768,8,64 --LL=2097152,16,64)
if ! command -v valgrind >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind) >/dev/null 2>&1 || true
fi
command -v valgrind >/dev/null || { echo "callgrind guard: FAILED: valgrind is not installed and could not be"; exit 1; }
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/impsim"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
events_of() { sed -E 's/.*"events":([0-9]+).*/\1/' "$1"; }

valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$BIN" "${SMALL[@]}" > "$out/small.json" 2> "$out/callgrind.log"
ir=$(awk '/^summary:/ { print $2 }' "$out/cg.out")
events=$(events_of "$out/small.json")
valgrind --tool=cachegrind --cache-sim=yes "${CACHES[@]}" --cachegrind-out-file="$out/cache.out" \
  "$BIN" "${LARGE[@]}" > "$out/large.json" 2> "$out/cachegrind.log"
# The summary line's columns: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw.
read -r d1 dl < <(awk '/^summary:/ { print $6 + $9, $7 + $10 }' "$out/cache.out")
large_events=$(events_of "$out/large.json")
[ -n "$ir" ] && [ -n "$d1" ] || { echo "callgrind guard: FAILED: no counts from valgrind"; exit 1; }
per() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }

if [ "${1:-}" = "--update" ]; then
  printf '%s\n' "# instructions to simulate: impsim ${SMALL[*]}" "instructions $ir" "events $events" \
    "# data cache misses (cachegrind ${CACHES[*]}): impsim ${LARGE[*]}" \
    "d1_misses $d1" "ll_misses $dl" "large_events $large_events" > "$BASELINE"
  echo "callgrind guard: baseline written: $(per "$ir" "$events") instructions per event ($events events);" \
    "$(per "$d1" "$large_events") L1 and $(per "$dl" "$large_events") last-level data misses per event ($large_events events)"
  exit 0
fi
base() { awk -v k="$1" '$1 == k { print $2 }' "$BASELINE"; }
fail=0
check() { # name, value, events, baseline value, baseline events
  local now was change
  now=$(per "$2" "$3")
  was=$(per "$4" "$5")
  change=$(awk -v n="$now" -v b="$was" 'BEGIN { printf "%+.2f", (n - b) * 100 / b }')
  echo "callgrind guard: $1 per event $now vs baseline $was: $change%"
  if awk -v n="$now" -v b="$was" -v t="$THRESHOLD" 'BEGIN { exit !(n > b * (1 + t / 100)) }'; then
    echo "callgrind guard: FAILED: $1 per event more than $THRESHOLD% above the baseline."
    fail=1
  fi
}
for pair in "$events:$(base events):${SMALL[*]}" "$large_events:$(base large_events):${LARGE[*]}"; do
  IFS=: read -r now was what <<< "$pair"
  if [ "$now" != "$was" ]; then
    echo "callgrind guard: FAILED: the workload changed: impsim $what processed $now events, the baseline $was."
    echo "  A model change moves the workload; measure it anew: tests/perf/callgrind.sh --update, and commit $BASELINE with the reason."
    exit 1
  fi
done
check instructions "$ir" "$events" "$(base instructions)" "$(base events)"
check "L1 data misses" "$d1" "$large_events" "$(base d1_misses)" "$(base large_events)"
check "last-level data misses" "$dl" "$large_events" "$(base ll_misses)" "$(base large_events)"
if [ "$fail" -ne 0 ]; then
  echo "  If the cost is intended, run tests/perf/callgrind.sh --update and commit $BASELINE with the reason."
  exit 1
fi
