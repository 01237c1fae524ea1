//! Every committed reference result in results/ still comes out byte for byte: each folder is
//! rerun the way experiments/regenerate.sh makes it, and every file it holds is compared (CSV
//! tables, report.md, SVG and PNG plots: the plots are drawn with a bundled font and encoded
//! with fixed settings, so they are deterministic too). manifest.json is compared without the
//! fields that describe the machine (wall time, speed, memory). A change that alters results
//! fails here; regenerate them on purpose with experiments/regenerate.sh and say why.
//! (Cargo runs tests from the package root, so paths match the ones in the committed files.)

use impsim::experiment::{self, NoProgress};
use impsim::folder::{RunOutput, SweepOptions, experiment_to_folder, run_to_folder};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// The experiments experiments/regenerate.sh reruns into results/<name>, besides `default`.
const EXPERIMENTS: [&str; 5] =
    ["retention_sweep", "client_id_churn", "ttl_keepalive", "sap_restart_storm", "login_modes"];
/// Folders of results/ that are not reproducible runs: measured speed on some machine, a live
/// run against a real broker, and `runs`, where a user's own runs go by default (ignored by git;
/// the README's first command writes there before its second runs these tests).
const NOT_REFERENCES: [&str; 3] = ["bench", "live_mosquitto", "runs"];
fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("impsim-ref-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

/// The rerun in `fresh` holds exactly the files of the committed `results/<name>`, with the
/// same bytes (manifest.json: the same JSON but for the volatile fields).
fn same_as_committed(fresh: &Path, name: &str) {
    let committed = Path::new("results").join(name);
    let regenerate = "if the change is intended, run experiments/regenerate.sh and commit results/ with the reason";
    let c = impsim::reproduce::compare_folders(&committed, fresh).unwrap();
    assert!(
        c.missing.is_empty() && c.extra.is_empty(),
        "results/{name}: the rerun writes {:?} that are not committed and does not write the committed {:?}; {regenerate}",
        c.extra,
        c.missing
    );
    assert!(
        c.differ.is_empty(),
        "the rerun differs from the committed {:?} of results/{name} (rerun kept in {}); {regenerate}",
        c.differ,
        fresh.display()
    );
    let _ = std::fs::remove_dir_all(fresh);
}

/// `impsim run experiments/<name>.toml --out results/<name>`.
fn experiment_reproduces(name: &str) {
    let out = out_dir(name);
    let exp = experiment::load(Path::new(&format!("experiments/{name}.toml")), &[]).unwrap();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    experiment_to_folder(
        &exp,
        &out,
        &SweepOptions { force: true, ..SweepOptions::new(threads) },
        &NoProgress,
        &AtomicBool::new(false),
    )
    .unwrap();
    same_as_committed(&out, name);
}

#[test]
fn every_committed_result_folder_is_rerun_here() {
    let mut rerun: BTreeSet<&str> = EXPERIMENTS.into_iter().collect();
    rerun.extend(["default", "tune_retention"]);
    for name in files(Path::new("results")).iter().filter(|f| Path::new("results").join(f).is_dir()) {
        assert!(
            rerun.contains(name.as_str()) || NOT_REFERENCES.contains(&name.as_str()),
            "results/{name} is committed but tests/reference.rs does not rerun it"
        );
    }
    let script = std::fs::read_to_string("experiments/regenerate.sh").unwrap();
    for name in EXPERIMENTS {
        assert!(script.contains(name), "experiments/regenerate.sh no longer makes results/{name}");
    }
    assert!(script.contains("experiments/default.toml --seed 7 --out results/default"));
    assert!(script.contains(&format!("tune {} --out results/tune_retention", TUNE.join(" "))));
}

/// `impsim tune` as experiments/regenerate.sh runs it into results/tune_retention.
const TUNE: [&str; 5] =
    ["experiments/default.toml", "--set", "clients=2000", "--budget", "'retained_bytes_peak<=2MiB'"];

#[test]
fn tune_retention_reference_search_reproduces() {
    let out = out_dir("tune_retention");
    let args: Vec<&str> = TUNE.iter().map(|a| a.trim_matches('\'')).collect();
    let done = std::process::Command::new(env!("CARGO_BIN_EXE_impsim"))
        .arg("tune")
        .args(&args)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    same_as_committed(&out, "tune_retention");
}

#[test]
fn default_scenario_reference_run_reproduces() {
    // `impsim run experiments/default.toml --seed 7 --out results/default`.
    let out = out_dir("default");
    let mut p = impsim::scenario::load(Path::new("experiments/default.toml"), &[]).unwrap();
    p.seed = 7;
    let sha256 = impsim::output::sha256_hex(&std::fs::read("experiments/default.toml").unwrap());
    let spec = RunOutput {
        dir: &out,
        force: true,
        trace: None,
        source: "experiments/default.toml",
        source_sha256: &sha256,
        overrides: &[],
        checks: &[],
    };
    run_to_folder(p, &spec).unwrap();
    same_as_committed(&out, "default");
}

#[test]
fn retention_sweep_reference_experiment_reproduces() {
    experiment_reproduces("retention_sweep");
}

#[test]
fn client_id_churn_reference_experiment_reproduces() {
    experiment_reproduces("client_id_churn");
}

#[test]
fn ttl_keepalive_reference_experiment_reproduces() {
    experiment_reproduces("ttl_keepalive");
}

#[test]
fn sap_restart_storm_reference_experiment_reproduces() {
    experiment_reproduces("sap_restart_storm");
}

#[test]
fn login_modes_reference_experiment_reproduces() {
    experiment_reproduces("login_modes");
}
