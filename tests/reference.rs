//! Every committed reference result in results/ still comes out byte for byte: each folder is
//! rerun by pasting into a shell the command its own report.md gives (so every rerun command a
//! user copies runs as written), and every file it holds is compared (CSV
//! tables, report.md, SVG and PNG plots: the plots are drawn with a bundled font and encoded
//! with fixed settings, so they are deterministic too). manifest.json is compared without the
//! fields that describe the machine (wall time, speed, memory). A change that alters results
//! fails here; regenerate them on purpose with experiments/regenerate.sh and say why.
//! (Cargo runs tests from the package root, so paths match the ones in the committed files.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

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

/// The command that reproduces `results/<name>`, as its committed report.md gives it: the code
/// span after "Reproduce with" or "Rerun with".
fn pasted_command(name: &str) -> String {
    let report = std::fs::read_to_string(Path::new("results").join(name).join("report.md")).unwrap();
    let said = ["Reproduce with", "Rerun with"]
        .iter()
        .find_map(|k| report.find(k))
        .unwrap_or_else(|| panic!("results/{name}/report.md gives no rerun command"));
    let at = said + report[said..].find("`impsim ").expect("a command in a code span") + 1;
    report[at..].split('`').next().unwrap().to_string()
}

/// Paste `command` into a shell at the package root, with `impsim` this build and `DIR` (or
/// `HOST:PORT`) filled in as a user would; its exit code and what it said.
fn paste(command: &str, dir: &Path) -> (i32, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_impsim")).parent().unwrap();
    let line = command.replace(" DIR", &format!(" '{}'", dir.display())).replace("HOST:PORT", "127.0.0.1:1");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let o = std::process::Command::new("bash").arg("-c").arg(&line).env("PATH", path).output().unwrap();
    (o.status.code().unwrap_or(-1), format!("{line}: {}", String::from_utf8_lossy(&o.stderr)))
}

/// Rerun `results/<name>` by pasting the command its report.md gives, and compare every file.
fn pasted_rerun_reproduces(name: &str) {
    let out = out_dir(name);
    let (code, said) = paste(&pasted_command(name), &out);
    assert_eq!(code, 0, "the rerun command of results/{name}/report.md does not run when pasted: {said}");
    same_as_committed(&out, name);
}

/// `impsim run experiments/<name>.toml --out results/<name>`, as its report.md says.
fn experiment_reproduces(name: &str) {
    assert!(pasted_command(name).starts_with(&format!("impsim run experiments/{name}.toml ")));
    pasted_rerun_reproduces(name);
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
    assert!(script.contains("tune experiments/default.toml --set clients=2000 --budget 'retained_bytes_peak<=2MiB' --out results/tune_retention"));
}

#[test]
fn tune_retention_reference_search_reproduces() {
    let c = pasted_command("tune_retention");
    assert!(c.contains("--budget 'retained_bytes_peak<="), "pasted as written, no entity: {c}");
    pasted_rerun_reproduces("tune_retention");
}

#[test]
fn default_scenario_reference_run_reproduces() {
    assert!(pasted_command("default").starts_with("impsim run experiments/default.toml --seed 7 "));
    pasted_rerun_reproduces("default");
}

/// The live run's command needs a broker; pasted against a port where none listens it must get
/// as far as connecting (its options all parse, its scenario is found).
#[test]
fn the_live_reference_command_parses_when_pasted() {
    let c = pasted_command("live_mosquitto");
    let (code, said) = paste(&c, &out_dir("live"));
    assert!(said.contains("cannot connect") && said.contains("is the broker running"), "{code}: {said}");
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
