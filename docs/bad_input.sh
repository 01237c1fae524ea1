#!/usr/bin/env bash
# Regenerate docs/bad_input.md from the real binary: every case below is run and its exit code
# and message recorded as printed (lists of allowed names shortened to "..."). Run it after
# changing a message: `bash docs/bad_input.sh`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
cargo build --release --quiet
BIN="$ROOT/${CARGO_TARGET_DIR:-target}/release/impsim"
[ -x "$BIN" ] || BIN="${CARGO_TARGET_DIR}/release/impsim"
W=$(mktemp -d /tmp/impsim-bad.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"
mkdir -p home/.ssh
touch home/.ssh/id_ed25519
export HOME="$W/home"
OUT="$ROOT/docs/bad_input.md"
rows=()
# row LABEL COMMAND...: run it here, record the exit code and the message on one line.
row() {
  local label=$1 rc=0 text
  shift
  text=$("$@" 2>&1 >/dev/null </dev/null) || rc=$?
  text=$(tr '\n' ' ' <<<"$text" | sed -E 's/expected one of `[^?]*`(,| )/expected one of ...\1/; s/ +/ /g; s/ $//; s/\|/\\|/g' | cut -c1-400)
  rows+=("| $label | $rc | $text |")
}
s() { printf '%b' "$2" > "$1"; }
ok='clients = 20\nduration = "1h"\n'
s ok.toml "$ok"
s s0.toml 'clients = 20\nretension = "30m"\n';            row "unknown field (typo)" "$BIN" run s0.toml --out o
s s1.toml '[sap]\nttl_maxx = "1h"\n';                     row "unknown field in a section" "$BIN" run s1.toml --out o
s s2.toml 'clients = "many"\n';                           row "wrong type" "$BIN" run s2.toml --out o
s s3.toml 'duration = "-5h"\n';                           row "negative duration" "$BIN" run s3.toml --out o
s s4.toml '[client]\noffline = { dist = "exponential", mean = 5 }\n'; row "duration without unit" "$BIN" run s4.toml --out o
s s5.toml 'duration = "0s"\n';                            row "zero duration where not allowed" "$BIN" run s5.toml --out o
s s_long.toml 'duration = "3000d"\n';                     row "run longer than 8 years (client records keep 48-bit times)" "$BIN" run s_long.toml --out o
s s_many.toml 'clients = 600000000\n';                    row "more clients than events can name (2^29)" "$BIN" run s_many.toml --out o
s s6.toml '[client]\nactivity = { dist = "fixed", value = "0s" }\n'; row "a recurring process with zero delay" "$BIN" run s6.toml --out o
s s7.toml '[client]\nlogout_prob = 1.5\n';                row "probability outside [0, 1]" "$BIN" run s7.toml --out o
s s8.toml '[client]\nkeepalive_ratio = 1.5\n';            row "KeepAlive later than the TTL" "$BIN" run s8.toml --out o
s s9.toml '[client]\nsyntaxes = { xml = 0.0 }\n';         row "shares that are all zero" "$BIN" run s9.toml --out o
s s10.toml '[sap]\nsyntaxes = ["json"]\n';                row "unknown syntax" "$BIN" run s10.toml --out o
s s11.toml '[store]\nreplace_scope = "galaxy"\n';         row "unknown enum value" "$BIN" run s11.toml --out o
s s12.toml '[sap]\nttl_min = "2h"\nttl_max = "1h"\n';     row "ttl_min above ttl_max" "$BIN" run s12.toml --out o
s s13.toml '[sap]\nworkers = 0\n';                        row "no SAP worker" "$BIN" run s13.toml --out o
s s14.toml '[network]\nrtt = { dist = "gauss" }\n';       row "unknown distribution" "$BIN" run s14.toml --out o
s s15.toml '[client]\noffline = { dist = "weibull", shape = 0, scale = "5m" }\n'; row "impossible distribution parameter" "$BIN" run s15.toml --out o
s s16.toml '[network]\nrtt = { dist = "uniform", min = "2s", max = "1s" }\n'; row "uniform with min > max" "$BIN" run s16.toml --out o
s s17.toml '[client]\noffline = { dist = "exponential", mean = "5m", sigma = 1 }\n'; row "parameter that does not belong to the distribution" "$BIN" run s17.toml --out o
s s18.toml '[store]\nmax_bytes = 10\n';                   row "retention cap smaller than one context" "$BIN" run s18.toml --out o
s s19.toml 'sample_every = "1us"\n';                      row "timeseries with too many rows" "$BIN" run s19.toml --out o
s s20.toml '[client]\noffline = { dist = "empirical", file = "gaps.csv" }\n'; row "empirical CSV missing" "$BIN" run s20.toml --out o
s empty.csv '# nothing\n'
s s21.toml '[client]\noffline = { dist = "empirical", file = "empty.csv" }\n'; row "empirical CSV empty" "$BIN" run s21.toml --out o
s words.csv '1\nabc\n'
s s22.toml '[client]\noffline = { dist = "empirical", file = "words.csv" }\n'; row "empirical CSV not numeric" "$BIN" run s22.toml --out o
s neg.csv '1\n-3\n'
s s23.toml '[client]\noffline = { dist = "empirical", file = "neg.csv" }\n'; row "empirical CSV with a negative value" "$BIN" run s23.toml --out o
s good.csv '1\n2\n3\n'
s s23b.toml "[client]\noffline = { dist = \"empirical\", file = \"good.csv\", sha256 = \"$(printf '0%.0s' {1..64})\" }\n"; row "empirical CSV whose content is not the pinned SHA-256" "$BIN" run s23b.toml --out o
s s23c.toml '[client]\noffline = { dist = "empirical", file = "/dev/zero" }\n'; row "empirical CSV that is a device" "$BIN" run s23c.toml --out o
row "scenario file missing" "$BIN" run s24.toml --out o
row "scenario file that is a device" "$BIN" run /dev/zero --out o
mkfifo fifo.toml; row "scenario file that is a FIFO (not waited on)" "$BIN" run fifo.toml --out o
{ printf '# '; head -c 2000000 /dev/zero | tr '\0' x; printf '\nclients = 20\n'; } > big.toml; row "scenario file over 1 MiB" "$BIN" run big.toml --out o
printf 'clients = 20\n\xff\xfe\n' > bin.toml;             row "scenario file that is not UTF-8" "$BIN" run bin.toml --out o
{ printf 'clients = ['; head -c 10000 /dev/zero | tr '\0' 1; printf '\n'; } > longline.toml; row "a 10 kB line (the excerpt is cut)" "$BIN" run longline.toml --out o
row "--set naming no field" "$BIN" run ok.toml --set sap.workerz=3 --out o
s s26.toml 'scenario = "ok.toml"\n[sweep]\nretension = ["5m"]\n'; row "sweep axis naming no field" "$BIN" run s26.toml --out o
s s27.toml 'scenario = "ok.toml"\n[sweep]\nretention = []\n'; row "empty sweep axis" "$BIN" run s27.toml --out o
s s27b.toml "scenario = \"ok.toml\"\n[sweep]\nretention = [$(seq -s, -f '"%gs"' 1 400)]\nseed = [$(seq -s, 1 400)]\n"; row "sweep of more than 10,000 points" "$BIN" run s27b.toml --out o
s s27c.toml 'scenario = "ok.toml"\nreplications = 4294967295\n'; row "replications that cannot fit in memory" "$BIN" run s27c.toml --out o
s s28.toml 'clients = 500000000\nduration = "1d"\n';      row "run too large for the memory this process can use" "$BIN" run s28.toml --out o
s s28b.toml '[client]\nactivity = { dist = "exponential", mean = "1us" }\n'; row "a run of an absurd number of events" "$BIN" run s28b.toml --out o
s s28c.toml 'name = "../x"\nclients = 20\n';               row "a name that is not a safe file-name fragment" "$BIN" run s28c.toml --force
mkdir -p out29; touch out29/notes.txt; row "existing output folder" "$BIN" run ok.toml --out out29
row "--force on a folder with files impsim did not write" "$BIN" run ok.toml --out out29 --force
row "--force on the working folder" "$BIN" run ok.toml --out . --force
row "--force on a home folder" "$BIN" run ok.toml --out "$HOME" --force
row "--out naming a file" "$BIN" run ok.toml --out ok.toml
row "unwritable output folder" "$BIN" run ok.toml --out /proc/impsim-out
s t.csv 'my,data\n';                                      row "--trace onto a file impsim did not write" "$BIN" run ok.toml --out o --trace t.csv --force
s s31.toml 'name = "s31"\nscenario = "ok.toml"\n'
"$BIN" run s31.toml --out out31 >/dev/null 2>&1
row "--resume of a complete folder" "$BIN" run s31.toml --out out31 --resume
row "--resume with nothing to resume" "$BIN" run s31.toml --out out32 --resume
row "--trace with an experiment" "$BIN" run s31.toml --out o --trace t2.csv
s s33.toml 'name = "s33"\nscenario = "ok.toml"\nreplications = 2\n'
"$BIN" run s33.toml --shard 1/2 --out sh1 >/dev/null 2>&1
row "merge of one shard given twice" "$BIN" merge sh1 sh1 --out m
row "merge missing a shard" "$BIN" merge sh1 --out m
row "--check on an unknown metric (did you mean)" "$BIN" run ok.toml --check 'recovery_rate>=0.95' --out o
row "tune --target on an unknown metric" "$BIN" tune ok.toml --target 'recovery_rate>=0.95'
s s40.toml 'clients = 20\nretention = 30\n';              row "a duration without a unit (a bare number)" "$BIN" run s40.toml --out o
s s41.toml 'clients = 20\n[thresholds]\nrecovery_success_rate = "0.95"\n'; row "a threshold without an operator" "$BIN" run s41.toml --out o
s s42.toml 'clients = 20\n[thresholds]\nrecovery_success_rate = 0.95\n'; row "a threshold as a bare number" "$BIN" run s42.toml --out o
s s43.toml 'name = "e"\nscenario = "ok.toml"\nmetrics = ["auto_logout"]\n'; row "an experiment metric that is no column" "$BIN" run s43.toml --out o
row "a control character in a value (escaped)" "$BIN" run ok.toml --set "$(printf 'retention=\033[31mred')" --out o
{ printf '1\n'; head -c 5000 /dev/zero | tr '\0' x; printf '\n'; } > long.csv
s s44.toml '[client]\noffline = { dist = "empirical", file = "long.csv" }\n'; row "empirical CSV with a 5 kB line (the echo is cut)" "$BIN" run s44.toml --out o
row "tune given an experiment" "$BIN" tune s31.toml
row "tune with replications that cannot fit in memory" "$BIN" tune ok.toml --replications 4294967295
row "bench --clients 0" "$BIN" bench --clients 0
row "bench --repeat 0" "$BIN" bench --repeat 0
row "--trace into the run's staging folder" "$BIN" run ok.toml --out q --trace .q.partial/t.csv
row "compare --md and --json naming one file" "$BIN" compare out31 out31 --md x.md --json ./x.md
mkfifo page.md; row "compare --md onto a FIFO with --force (not waited on)" "$BIN" compare out31 out31 --md page.md --force
mkdir -p out45; mkfifo out45/manifest.json; row "--force on a folder whose manifest.json is a FIFO" "$BIN" run ok.toml --out out45 --force
mkdir -p empty-dir; row "an empty home folder as --out" env HOME="$W/empty-dir" "$BIN" run ok.toml --out empty-dir
printf '1,600\n2,1200\n' > twocol.csv
s s46.toml 'clients = 20\n[client]\noffline = { dist = "empirical", file = "twocol.csv" }\n'; row "empirical CSV of two columns (id,value)" "$BIN" run s46.toml --out o
s s47.toml 'clients = 20\n[cost]\nfile = ""\n';                 row "[cost] file = \"\" (an empty path)" "$BIN" run s47.toml --out o
s s48.toml 'clients = 20\n[cost]\nsha256 = "abc"\n';            row "[cost] sha256 without a file" "$BIN" run s48.toml --out o
s s49.toml 'name = "e"\nscenario = "ok.toml"\n[sweep]\nretention = ["60s", "5m", "1m"]\n'; row "a sweep value twice, spelled differently (60s, 1m)" "$BIN" run s49.toml --out o
s s50.toml 'name = "e"\nscenario = "ok.toml"\n[sweep]\n"client.logout_prob" = [1, 1.0]\n'; row "two sweep points of one scenario (1 and 1.0)" "$BIN" run s50.toml --out o
s s51.toml 'name = "e"\nscenario = "ok.toml"\n[sweep]\n"thresholds.recovery_success_rate" = [">=0.5", ">=0.9"]\n'; row "a swept threshold" "$BIN" run s51.toml --out o
row "--seed above 2^64-1" "$BIN" run ok.toml --seed 18446744073709551616 --out o
row "--junit onto a file impsim did not write" "$BIN" run ok.toml --junit s0.toml --force --out o
L="$ROOT/experiments/live_mosquitto.toml"
row "live: a broker at 0.0.0.0" "$BIN" live "$L" --broker 0.0.0.0:1883 --scale 60
row "live: a broker not on loopback" "$BIN" live "$L" --broker 192.0.2.1:1883 --scale 60
row "live: --shard 0/2 (shards count from 1)" "$BIN" live "$L" --broker 127.0.0.1:1 --scale 60 --shard 0/2
row "live: the same broker twice" "$BIN" live "$L" --broker 127.0.0.1:1 --broker 127.0.0.1:1 --scale 60
row "live: --deadline 0s" "$BIN" live "$L" --broker 127.0.0.1:1 --scale 60 --deadline 0s
row "live: --source-addrs not an address" "$BIN" live "$L" --broker 127.0.0.1:1 --scale 60 --source-addrs 127.0.0.x
row "live: --start-at long past" "$BIN" live "$L" --broker 127.0.0.1:1 --scale 60 --start-at 1
row "live: 50,000 clients in one process (open files 20,000)" "$BIN" live "$L" --broker 127.0.0.1:1 --scale 60 --set clients=50000
row "live: a broker not running" "$BIN" live "$L" --broker 127.0.0.1:1 --scale 60
{
  echo "# Bad input and what impsim says"
  echo
  echo "Every input problem exits with code 2, names the file and the field (with line and column when"
  echo "the TOML parser knows them), says what is allowed, and writes no output folder. Each row was"
  echo "produced by \`docs/bad_input.sh\`, which runs the real binary on the input described (lists of"
  echo "allowed names shortened here to \"...\"); \`tests/bad_input.rs\`, \`tests/adversarial.rs\`,"
  echo "\`tests/experiments.rs\` and \`tests/interrupt.rs\` check each case."
  echo
  echo "| input | exit | message |"
  echo "|---|---|---|"
  printf '%s\n' "${rows[@]}" | sed "s|$W/||g; s|$W|.|g"
} > "$OUT"
echo "wrote $OUT (${#rows[@]} cases)"
