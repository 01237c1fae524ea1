#!/usr/bin/env bash
# A full disk: impsim's outputs on a tiny tmpfs. A run that cannot write its files fails with
# exit 2 and a message, leaves no folder and no staging folder, and never touches the user's
# file beside it; a sweep keeps the runs it journaled (cut back to whole lines) and, once there
# is room, --resume finishes it with the bytes of an uninterrupted run. Mounting a tmpfs needs
# root; where that is not allowed this prints "diskfull test: SKIPPED: <reason>" and exits 0.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
fail() { echo "diskfull test: FAILED: $*"; exit 1; }
WORK=$(mktemp -d /tmp/impsim-diskfull.XXXXXX)
MNT="$WORK/disk"
mkdir -p "$MNT"
cleanup() { umount "$MNT" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
if ! mount -t tmpfs -o size=160k tmpfs "$MNT" 2>/dev/null; then
  echo "diskfull test: SKIPPED: cannot mount a tmpfs here (needs root)"
  exit 0
fi
cargo build --release --quiet || fail "cargo build --release"
BIN=$(realpath "${CARGO_TARGET_DIR:-$ROOT/target}/release/impsim")
cd "$WORK"
echo mine > "$MNT/keep.txt"
printf 'clients = 200\nduration = "24h"\nsample_every = "1m"\n' > s.toml
printf 'name = "df"\nreplications = 3\n[scenario]\nclients = 50\nduration = "24h"\nsample_every = "1m"\n[sweep]\nretention = ["0s", "5m", "30m"]\n' > e.toml

# A single run whose files do not fit.
set +e
out=$("$BIN" run s.toml --out "$MNT/o" 2>&1); rc=$?
set -e
[ "$rc" -eq 2 ] || fail "single run: exit $rc, expected 2: $out"
grep -q "No space left on device" <<<"$out" || fail "single run: no clear message: $out"
[ ! -e "$MNT/o" ] && [ ! -e "$MNT/.o.partial" ] || fail "single run: left $(ls -A "$MNT")"
[ "$(cat "$MNT/keep.txt")" = mine ] || fail "the user's file changed"

# A sweep that runs out of room while journaling.
set +e
out=$("$BIN" run e.toml --out "$MNT/e" --threads 1 2>&1); rc=$?
set -e
[ "$rc" -eq 2 ] || fail "sweep: exit $rc, expected 2: $out"
grep -q "make room, then --resume" <<<"$out" || fail "sweep: no resume hint: $out"
journal="$MNT/.e.partial/journal.jsonl"
[ -s "$journal" ] || fail "sweep: the journal of finished runs is gone"
[ "$(tail -c1 "$journal" | od -An -c | tr -d ' ')" = '\n' ] || fail "sweep: the journal ends mid-line"
kept=$(($(wc -l < "$journal") - 1))
[ "$kept" -ge 1 ] || fail "sweep: no finished run kept"
# Make room (a bigger disk), then resume: the bytes of an uninterrupted run.
mount -o remount,size=64m "$MNT" || fail "remount"
"$BIN" run e.toml --out "$MNT/e" --resume >/dev/null 2>&1 || fail "resume after making room"
"$BIN" run e.toml --out "$WORK/whole" >/dev/null 2>&1 || fail "uninterrupted run"
for f in runs.csv points.csv timeseries.csv run_timeseries.csv report.md; do
  cmp -s "$MNT/e/$f" "$WORK/whole/$f" || fail "$f differs after resume"
done
[ "$(cat "$MNT/keep.txt")" = mine ] || fail "the user's file changed"
echo "diskfull test: a full disk fails cleanly (exit 2, nothing left behind), a sweep kept $kept journaled runs and resumed to identical bytes"
