#!/usr/bin/env bash
# Runs a small experiment as a Slurm job array on a single-node Slurm started here (as root, on
# localhost), merges the shards and checks that the bytes equal a single-machine run.
# If Slurm cannot be installed or started on this machine the test prints
# "slurm test: SKIPPED: <reason>" and exits 0 (.ci/run counts it as skipped, not passed); once
# the job array has been submitted, anything that goes wrong fails it (exit 1), and so does any
# command failing unexpectedly (set -e).
# Recipe: apt-get install slurmctld slurmd slurm-client munge; a munge key; munged; slurmctld
# and slurmd with the slurm.conf below. The daemons this script starts, it stops.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
EXP=experiments/login_modes.toml
SHARDS=3
WORK=$(mktemp -d /tmp/impsim-slurm.XXXXXX)
STATE=/tmp/impsim-slurm-state
PIDFILES=()

stop() {
  local f pid
  for f in "${PIDFILES[@]}"; do
    [ -s "$f" ] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
  done
  PIDFILES=()
}
skip() {
  echo "slurm test: SKIPPED: $*"
  rm -rf "$WORK"
  exit 0
}
fail() {
  echo "slurm test: FAILED: $* (files kept in $WORK)"
  tail -20 "$STATE/ctld.log" "$STATE/d.log" 2>/dev/null || true
  exit 1
}
trap stop EXIT

if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge) \
    >/tmp/impsim-slurm-apt.log 2>&1 || skip "could not install slurmctld, slurmd, slurm-client and munge (see /tmp/impsim-slurm-apt.log)"
fi
[ "$(id -u)" = 0 ] || skip "starting munged, slurmctld and slurmd here needs root"

cargo build --release --quiet || fail "cargo build --release"
BIN=$(realpath "${CARGO_TARGET_DIR:-$ROOT/target}/release/impsim")
export IMPSIM="$BIN"
rm -rf "$STATE"
mkdir -p "$STATE/state" "$STATE/spool" /etc/slurm

# munge: a key and the daemon (ours is stopped at the end; one already running is left alone).
mkdir -p /etc/munge /run/munge /var/log/munge /var/lib/munge
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge || skip "no munge user to own its files"
chmod 400 /etc/munge/munge.key
if ! pgrep -x munged >/dev/null; then
  munged --force --pid-file="$STATE/munged.pid" >"$WORK/munged.log" 2>&1 || skip "munged would not start: $(cat "$WORK/munged.log")"
  PIDFILES+=("$STATE/munged.pid")
fi

# slurm: a one-node cluster on this host.
HOST=$(hostname)
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=local
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/ctld.log
SlurmdLogFile=$STATE/d.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
NodeName=$HOST CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
PIDFILES+=("$STATE/slurmctld.pid" "$STATE/slurmd.pid")
slurmctld || skip "slurmctld would not start: $(tail -3 "$STATE/ctld.log" 2>/dev/null)"
slurmd || skip "slurmd would not start: $(tail -3 "$STATE/d.log" 2>/dev/null)"
node=""
for _ in $(seq 1 30); do
  node=$(sinfo -h -o %t 2>/dev/null || true)
  [[ $node == *idle* ]] && break
  sleep 1
done
[[ $node == *idle* ]] || skip "the node never became idle: $(sinfo 2>&1 | tail -2 || true)"

# The job array, with the ready script users run (experiments/slurm_array.sbatch).
timeout 600 sbatch --wait --array=1-$SHARDS --output="$WORK/slurm-%A_%a.out" \
  experiments/slurm_array.sbatch "$EXP" "$WORK/shards" \
  || fail "sbatch --wait: $(cat "$WORK"/slurm-*.out 2>/dev/null | tail -5)"
shards=("$WORK"/shards/shard-*)
[ -d "${shards[0]}" ] && [ "${#shards[@]}" = "$SHARDS" ] || fail "expected $SHARDS shard folders, found: ${shards[*]}"
logs=("$WORK"/slurm-*_*.out)
[ -f "${logs[0]}" ] && [ "${#logs[@]}" = "$SHARDS" ] || fail "expected the output of $SHARDS array tasks, found: ${logs[*]}"

"$BIN" merge "${shards[@]}" --out "$WORK/merged" || fail "impsim merge"
"$BIN" run "$EXP" --out "$WORK/single" 2>/dev/null || fail "single-machine run"
for f in runs.csv points.csv timeseries.csv run_timeseries.csv report.md; do
  cmp "$WORK/merged/$f" "$WORK/single/$f" || fail "$f of the merged Slurm shards differs from a single-machine run"
done
echo "slurm test: $SHARDS array tasks on a local Slurm, merged: byte-identical to a single-machine run"

# impsim live as 2 shards of one population against one local Mosquitto, with the ready script
# users run (experiments/slurm_live.sbatch), merged, and checked against an unsharded run.
PID=""
stop_all() { stop_broker; stop; }
trap stop_all EXIT
source tests/live/broker.sh
start_broker
[ -n "$PID" ] || skip "mosquitto did not start for the live shards"
LIVE=(--broker "127.0.0.1:$PORT" --scale 60 --set duration=40m)
START=$(( $(date +%s) + 8 ))
timeout 300 sbatch --wait --array=1-2 --cpus-per-task=1 --output="$WORK/live-%A_%a.out" \
  experiments/slurm_live.sbatch experiments/live_mosquitto.toml "$WORK/live" "$START" "${LIVE[@]}" \
  || fail "sbatch --wait (live shards): $(cat "$WORK"/live-*.out 2>/dev/null | tail -5)"
"$BIN" merge "$WORK"/live/shard-* --out "$WORK/live-merged" >"$WORK/live-merge.out" 2>&1 \
  || { cat "$WORK/live-merge.out"; fail "impsim merge of the live shards exited $? ($(grep -m1 Verdict "$WORK/live-merged/report.md" 2>/dev/null))"; }
"$BIN" live experiments/live_mosquitto.toml "${LIVE[@]}" --out "$WORK/live-single" >/dev/null 2>"$WORK/live-single.err" \
  || { cat "$WORK/live-single.err"; fail "the unsharded live run exited $?"; }
# The simulated column is the whole population's: the same whether sharded or not.
cut -d, -f1,3 "$WORK/live-merged/summary.csv" >"$WORK/sim-merged"
cut -d, -f1,3 "$WORK/live-single/summary.csv" >"$WORK/sim-single"
cmp "$WORK/sim-merged" "$WORK/sim-single" || fail "the merged shards' simulation differs from the unsharded run's"
attempts=$(awk -F, '$1 == "recovery_attempts" { print $2 }' "$WORK/live-merged/summary.csv")
sim=$(awk -F, '$1 == "recovery_attempts" { print $3 }' "$WORK/live-merged/summary.csv")
awk -v l="$attempts" -v s="$sim" 'BEGIN { d = l - s; if (d < 0) d = -d; exit !(d <= 0.1 * s) }' \
  || fail "merged recovery attempts $attempts against $sim simulated"
echo "slurm test: 2 live shards on a local Slurm against Mosquitto, merged: the model agrees; the simulation is the unsharded run's"
rm -rf "$WORK"
