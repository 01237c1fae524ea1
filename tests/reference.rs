//! The committed reference results still come out byte for byte. A change that alters results
//! fails here; regenerate them on purpose with experiments/regenerate.sh and say why.
//! (Cargo runs tests from the package root, so paths match the ones in the committed files.)

use impsim::experiment::{self, NoProgress, Shard};
use impsim::run::{RunOutput, experiment_to_folder, run_to_folder};
use std::path::Path;
use std::sync::atomic::AtomicBool;

fn same(a: &Path, b: &Path, files: &[&str]) {
    for f in files {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        assert!(
            x == y,
            "{} differs from the committed {}; if intended, run experiments/regenerate.sh",
            f,
            b.join(f).display()
        );
    }
}

#[test]
fn login_modes_reference_experiment_reproduces() {
    let out = std::env::temp_dir().join(format!("impsim-ref-{}", std::process::id()));
    let exp = experiment::load(Path::new("experiments/login_modes.toml"), &[]).unwrap();
    experiment_to_folder(&exp, &out, true, 2, Shard::all(), &NoProgress, &AtomicBool::new(false), false).unwrap();
    same(
        &out,
        Path::new("results/login_modes"),
        &["runs.csv", "points.csv", "timeseries.csv", "run_timeseries.csv", "report.md", "recovery.svg"],
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn default_scenario_reference_run_reproduces() {
    let out = std::env::temp_dir().join(format!("impsim-ref-default-{}", std::process::id()));
    let mut p = impsim::scenario::load(Path::new("experiments/default.toml"), &[]).unwrap();
    p.seed = 7;
    let spec = RunOutput { dir: &out, force: true, trace: None, source: "experiments/default.toml", overrides: &[] };
    run_to_folder(p, &spec).unwrap();
    same(&out, Path::new("results/default"), &["summary.csv", "timeseries.csv", "timeseries.svg"]);
    let _ = std::fs::remove_dir_all(&out);
}
