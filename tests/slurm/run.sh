#!/usr/bin/env bash
# Runs a small experiment as a Slurm job array on a single-node Slurm started here (as root, on
# localhost), merges the shards and checks that the bytes equal a single-machine run.
# If Slurm cannot be installed or started on this machine the test says SKIPPED and exits 0;
# once the job array has run, any difference in the results fails it.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
EXP=experiments/login_modes.toml
SHARDS=3
WORK=$(mktemp -d /tmp/impsim-slurm.XXXXXX)
STATE=/tmp/impsim-slurm-state
skip() { echo "slurm test: SKIPPED: $*"; stop; exit 0; }
fail() { echo "slurm test: FAILED: $*"; tail -20 "$STATE/ctld.log" "$STATE/d.log" 2>/dev/null; stop; exit 1; }
stop() {
  for f in "$STATE/slurmctld.pid" "$STATE/slurmd.pid"; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  return 0
}

if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge) \
    > "$WORK/apt.log" 2>&1 || skip "could not install slurmctld, slurmd, slurm-client and munge (see $WORK/apt.log)"
fi

cargo build --release --quiet || fail "cargo build --release"
BIN=$(cd "$ROOT" && realpath "${CARGO_TARGET_DIR:-target}/release/impsim")
export IMPSIM="$BIN"

# munge: a key and the daemon.
mkdir -p /etc/munge /var/run/munge /var/log/munge /var/lib/munge
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
chown -R munge:munge /etc/munge /var/run/munge /var/log/munge /var/lib/munge 2>/dev/null
chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || munged --force || skip "munged would not start"

# slurm: a one-node cluster on this host.
rm -rf "$STATE" && mkdir -p "$STATE/state" "$STATE/spool" /etc/slurm
HOST=$(hostname)
cat > /etc/slurm/slurm.conf <<CONF
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
slurmctld || skip "slurmctld would not start"
slurmd || skip "slurmd would not start"
for _ in $(seq 1 30); do
  sinfo -h -o %t 2>/dev/null | grep -q idle && break
  sleep 1
done
sinfo -h -o %t 2>/dev/null | grep -q idle || skip "the node never became idle: $(sinfo 2>&1 | tail -2)"

# The job array, with the ready script users run (experiments/slurm_array.sbatch).
timeout 600 sbatch --wait --array=1-$SHARDS --output="$WORK/slurm-%A_%a.out" \
  experiments/slurm_array.sbatch "$EXP" "$WORK/shards" \
  || fail "sbatch --wait: $(cat "$WORK"/slurm-*.out 2>/dev/null | tail -5)"
[ "$(ls -d "$WORK"/shards/shard-* 2>/dev/null | wc -l)" = "$SHARDS" ] || fail "expected $SHARDS shard folders"

"$BIN" merge "$WORK"/shards/shard-* --out "$WORK/merged" || fail "impsim merge"
"$BIN" run "$EXP" --out "$WORK/single" 2>/dev/null || fail "single-machine run"
for f in runs.csv points.csv timeseries.csv run_timeseries.csv report.md; do
  cmp "$WORK/merged/$f" "$WORK/single/$f" || fail "$f of the merged Slurm shards differs from a single-machine run"
done
echo "slurm test: $SHARDS array tasks on a local Slurm, merged: byte-identical to a single-machine run"
stop
rm -rf "$WORK"
