#!/usr/bin/env bash
# Compare the wall time of two impsim binaries on a noisy shared machine: each round starts
# both at once (one per core), so a slow phase of the host slows both alike, and prints B/A.
# Sequential medians drift by 15% or more here; the median of the paired ratios does not.
#
#   tests/perf/ab.sh OLD_BINARY NEW_BINARY [ROUNDS] [CLIENTS] [DURATION]
#   e.g. tests/perf/ab.sh /tmp/impsim-before target/release/impsim 5 1000000 3h
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 2 ] || { sed -n 2,7p "$0"; exit 2; }
a=$1 b=$2 rounds=${3:-5} clients=${4:-1000000} duration=${5:-3h}
run() { "$1" bench-one experiments/bench_1m.toml --clients "$clients" --duration "$duration" | sed -E 's/.*"wall_seconds":([0-9.]+).*/\1/'; }
ratios=()
for r in $(seq "$rounds"); do
  ta=$(mktemp) tb=$(mktemp)
  run "$a" > "$ta" & run "$b" > "$tb" & wait
  ratio=$(awk -v x="$(cat "$ta")" -v y="$(cat "$tb")" 'BEGIN { printf "%.3f", y / x }')
  echo "round $r: A $(cat "$ta") s, B $(cat "$tb") s, B/A $ratio"
  ratios+=("$ratio")
  rm -f "$ta" "$tb"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "median B/A over %d rounds: %s (below 1: B is faster)\n", NR, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
