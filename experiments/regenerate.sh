#!/usr/bin/env bash
# Rerun every reference experiment and the default scenario into results/.
# Do this on purpose when a model change alters results, and say why in the commit.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
for e in retention_sweep client_id_churn ttl_keepalive sap_restart_storm login_modes; do
  ./target/release/impsim run "experiments/$e.toml" --out "results/$e" --force
done
./target/release/impsim run experiments/default.toml --seed 7 --out results/default --force
./target/release/impsim tune experiments/default.toml --set clients=2000 --budget 'retained_bytes_peak<=2MiB' --out results/tune_retention --force
