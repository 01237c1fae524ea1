//! Thresholds for pipelines: `[thresholds]` in a scenario or an experiment and `--check` on the
//! command line. Every check is printed with the value judged; a failed one exits with 99 after
//! the result is written (recorded in its manifest and report); a threshold impsim cannot read
//! is refused (exit 2) before anything runs.

use std::path::{Path, PathBuf};

mod common;

fn tmp(name: &str) -> PathBuf {
    common::fresh_dir(&format!("thr-{name}"))
}

fn impsim(args: &[&str]) -> (i32, String, String) {
    common::impsim_cli(args)
}

fn default() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml").display().to_string()
}

const SMALL: [&str; 6] = ["--set", "clients=200", "--set", "duration=\"6h\"", "--set", "warmup=\"1h\""];

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn a_breached_check_exits_99_after_writing_the_result_and_a_met_one_exits_0() {
    let d = tmp("run");
    let out = d.join("o").display().to_string();
    let def = default();
    let mut args = vec!["run", def.as_str()];
    args.extend(SMALL);
    args.extend(["--check", "recovery_success_rate>=0.99", "--check", "retained_bytes_peak<=2GiB", "--out", &out]);
    let (code, said, err) = impsim(&args);
    assert_eq!(code, 99, "{said}{err}");
    assert!(said.contains("check recovery_success_rate>=0.99: 0.") && said.contains("FAILED"), "{said}");
    assert!(said.contains("check retained_bytes_peak<=2GiB: ") && said.contains("KiB ok"), "{said}");
    let m = manifest(&d.join("o"));
    assert_eq!(m["thresholds_passed"], false);
    assert_eq!(m["thresholds"][0]["passed"], false);
    assert_eq!(m["thresholds"][1]["passed"], true);
    assert!(d.join("o/summary.csv").exists(), "the result is written all the same");

    let out2 = d.join("o2").display().to_string();
    let mut met = vec!["run", def.as_str()];
    met.extend(SMALL);
    met.extend(["--check", "recovery_success_rate>=0.01", "--out", &out2]);
    let (code, said, _) = impsim(&met);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("ok") && !said.contains("FAILED"), "{said}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn thresholds_in_a_scenario_file_are_judged_and_bad_ones_refused_naming_the_field() {
    let d = tmp("file");
    let s = d.join("s.toml");
    std::fs::write(
        &s,
        "clients = 100\nduration = \"4h\"\nwarmup = \"1h\"\n[thresholds]\nretained_bytes_peak = \"<=1KiB\"\n\
         recovery_success_rate = [\">=0\", \"<=1\"]\n",
    )
    .unwrap();
    let out = d.join("o").display().to_string();
    let (code, said, err) = impsim(&["run", &s.display().to_string(), "--out", &out]);
    assert_eq!(code, 99, "{said}{err}");
    assert!(said.contains("check retained_bytes_peak<=1KiB") && said.contains("FAILED"), "{said}");
    assert_eq!(said.matches(" ok").count(), 2, "{said}");
    std::fs::write(&s, "clients = 100\n[thresholds]\nrecovery_rate = \">=0.9\"\n").unwrap();
    let (code, _, err) = impsim(&["run", &s.display().to_string(), "--out", &d.join("o3").display().to_string()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("s.toml") && err.contains("thresholds.recovery_rate") && err.contains("not a summary.csv column"),
        "{err}"
    );
    assert!(!d.join("o3").exists());
    std::fs::write(&s, "clients = 100\n[thresholds]\nrecovery_success_rate = \"0.9\"\n").unwrap();
    let (code, _, err) = impsim(&["run", &s.display().to_string(), "--out", &d.join("o4").display().to_string()]);
    assert_eq!((code, err.contains("has no operator") && err.contains("\">=0.9\"")), (2, true), "{err}");
    let (code, _, err) = impsim(&[
        "run",
        &default(),
        "--check",
        "recovery_success_rate=>0.9",
        "--out",
        &d.join("o5").display().to_string(),
    ]);
    assert_eq!((code, err.contains("--check")), (2, true), "{err}");
    assert!(!d.join("o5").exists());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn an_experiment_judges_every_point_on_its_interval_and_reports_it() {
    let d = tmp("exp");
    let exp = d.join("e.toml");
    std::fs::write(
        &exp,
        format!(
            "name = \"thr\"\nscenario = {:?}\nreplications = 3\n[set]\nclients = 150\nduration = \"4h\"\nwarmup = \"1h\"\n\
             [sweep]\nretention = [\"0s\", \"infinite\"]\n[thresholds]\nrecovery_success_rate = \">=0.5\"\n",
            default()
        ),
    )
    .unwrap();
    let out = d.join("o");
    let (code, said, err) = impsim(&["run", &exp.display().to_string(), "--out", &out.display().to_string()]);
    assert_eq!(code, 99, "{said}{err}");
    assert!(
        said.contains("check recovery_success_rate>=0.5 at retention=0s:") && said.contains("(ci95_lo) FAILED"),
        "{said}"
    );
    assert!(said.contains("at retention=infinite:") && said.contains("(ci95_lo) ok"), "{said}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Thresholds: 1 of 2 FAILED") && report.contains("**FAILED**"), "{report}");
    let m = manifest(&out);
    assert_eq!(m["thresholds_passed"], false);
    assert_eq!(m["thresholds"].as_array().unwrap().len(), 2);
    // The same experiment with a --check: recorded, and reproduced with it.
    let out2 = d.join("o2");
    let (code, said, _) = impsim(&[
        "run",
        &exp.display().to_string(),
        "--check",
        "retained_bytes_mean<=1TiB",
        "--out",
        &out2.display().to_string(),
    ]);
    assert_eq!(code, 99, "{said}");
    assert_eq!(manifest(&out2)["experiment"]["check_args"], serde_json::json!(["retained_bytes_mean<=1TiB"]));
    let (code, said, err) =
        impsim(&["reproduce", &out2.display().to_string(), "--out", &d.join("r").display().to_string()]);
    assert_eq!(code, 0, "{said}{err}");
    let _ = std::fs::remove_dir_all(&d);
}
