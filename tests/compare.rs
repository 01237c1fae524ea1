//! `impsim compare OLD NEW` flags a planted regression (exit 6), passes an unchanged pair (exit
//! 0), writes Markdown and JSON, and refuses what it cannot compare.

use std::path::{Path, PathBuf};

mod common;

fn tmp(name: &str) -> PathBuf {
    common::fresh_dir(&format!("cmp-{name}"))
}

fn impsim(args: &[&str]) -> (i32, String, String) {
    common::impsim_cli(args)
}

/// The same experiment (4 replications, no sweep) with retention `r`, into `out`.
fn experiment(d: &Path, r: &str, out: &str) {
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml");
    let exp = d.join("e.toml");
    std::fs::write(
        &exp,
        format!(
            "name = \"cmp\"\nscenario = {:?}\nreplications = 4\n[set]\nclients = 300\nduration = \"8h\"\nwarmup = \"2h\"\n",
            default.display().to_string()
        ),
    )
    .unwrap();
    let set = format!("retention=\"{r}\"");
    let (code, _, err) = impsim(&["run", &exp.display().to_string(), "--set", &set, "--out", out]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_planted_regression_fails_and_an_unchanged_pair_passes() {
    let d = tmp("exp");
    let (before, after, again) = (d.join("before"), d.join("after"), d.join("again"));
    let s = |p: &Path| p.display().to_string();
    experiment(&d, "2h", &s(&before));
    experiment(&d, "2m", &s(&after));
    experiment(&d, "2h", &s(&again));
    // Retention 2h -> 2m: recovery falls (worse), retained memory falls (better).
    let json = d.join("c.json");
    let md = d.join("c.md");
    let (code, page, err) = impsim(&["compare", &s(&before), &s(&after), "--json", &s(&json), "--md", &s(&md)]);
    assert_eq!(code, 6, "{page}{err}");
    let line = |name: &str| page.lines().find(|l| l.starts_with(&format!("| {name} |"))).unwrap().to_string();
    assert!(line("recovery_success_rate").contains("**worse**"), "{page}");
    assert!(line("recovery_success_rate").contains("pooled binomial"), "{page}");
    assert!(line("retained_bytes_mean").ends_with("| better |"), "{page}");
    assert!(line("retained_bytes_mean").contains("welch") && line("retained_bytes_mean").contains("KiB"), "{page}");
    assert_eq!(std::fs::read_to_string(&md).unwrap(), page);
    let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(j["regressions"].as_u64().unwrap() >= 1);
    let rows = j["comparison"]["rows"].as_array().unwrap();
    let rate = rows.iter().find(|r| r["metric"] == "recovery_success_rate").unwrap();
    assert_eq!(rate["verdict"], "worse");
    assert!(rate["hi"].as_f64().unwrap() < 0.0, "the whole interval below 0");
    // The other way round the same change is an improvement of recovery and a regression of memory.
    let (code, page, _) = impsim(&["compare", &s(&after), &s(&before)]);
    assert_eq!(code, 6, "{page}");
    assert!(page.lines().any(|l| l.starts_with("| recovery_success_rate |") && l.ends_with("| better |")), "{page}");
    // Rerun with the same seed: the same numbers, nothing changed.
    let (code, page, err) = impsim(&["compare", &s(&before), &s(&again)]);
    assert_eq!(code, 0, "{page}{err}");
    assert!(
        page.contains("No significant regression") && !page.contains("better") && !page.contains("worse"),
        "{page}"
    );
    // --json and --md replace only what compare wrote.
    std::fs::write(d.join("mine.json"), "{\"mine\": 1}").unwrap();
    let (code, _, err) = impsim(&["compare", &s(&before), &s(&again), "--json", &s(&d.join("mine.json")), "--force"]);
    assert_eq!((code, err.contains("not a comparison impsim wrote")), (2, true), "{err}");
    let (code, _, err) = impsim(&["compare", &s(&before), &s(&again), "--json", &s(&json), "--force"]);
    assert_eq!(code, 0, "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn single_runs_compare_by_tolerance_and_nonsense_is_refused() {
    let d = tmp("run");
    let s = |p: &Path| p.display().to_string();
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml");
    let run = |out: &Path, seed: &str| {
        let args = [
            "run",
            &s(&default),
            "--seed",
            seed,
            "--set",
            "clients=200",
            "--set",
            "duration=\"6h\"",
            "--set",
            "warmup=\"1h\"",
            "--out",
            &s(out),
        ];
        assert_eq!(impsim(&args).0, 0);
    };
    let (a, b, c) = (d.join("a"), d.join("b"), d.join("c"));
    run(&a, "1");
    run(&b, "1");
    let (code, page, err) = impsim(&["compare", &s(&a), &s(&b)]);
    assert_eq!(code, 0, "{page}{err}");
    assert!(page.contains("## base") && page.contains("none (fewer than 2 runs a side)"), "{page}");
    // Another seed moves single runs; that is no regression.
    run(&c, "2");
    let (code, page, _) = impsim(&["compare", &s(&a), &s(&c)]);
    assert_eq!(code, 0, "{page}");
    assert!(page.contains("(untested)") && !page.contains("**worse**"), "{page}");
    assert!(page.contains("| recovery_success_rate |") && page.contains("pooled binomial"), "{page}");
    // A folder that is no result, a bad tolerance.
    let (code, _, err) = impsim(&["compare", &s(&a), &d.display().to_string()]);
    assert_eq!((code, err.contains("cannot read")), (2, true), "{err}");
    let (code, _, err) = impsim(&["compare", &s(&a), &s(&b), "--tolerance=-1"]);
    assert_eq!((code, err.contains("--tolerance")), (2, true), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}
