//! `impsim reproduce` reruns a result from its manifest alone (its file, seed, `--set`
//! overrides and shard) and says whether every file comes out the same: exit 0 when they do,
//! 5 when one differs, 2 when an input changed since or the manifest is not reproducible.

use std::path::{Path, PathBuf};

mod common;

fn tmp(name: &str) -> PathBuf {
    common::fresh_dir(&format!("repro-{name}"))
}

fn impsim(args: &[&str]) -> (i32, String, String) {
    common::impsim_cli(args)
}

fn experiment(dir: &Path) -> String {
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml");
    let text = format!(
        "name = \"r\"\nscenario = {:?}\nreplications = 2\n[set]\nclients = 100\nduration = \"3h\"\nwarmup = \"1h\"\n\
         [sweep]\nretention = [\"5m\", \"1h\"]\n",
        default.display().to_string()
    );
    let p = dir.join("exp.toml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn an_experiment_run_with_overrides_reproduces_byte_for_byte_from_its_manifest() {
    let d = tmp("exp");
    let exp = experiment(&d);
    let out = d.join("out").display().to_string();
    let (code, _, err) = impsim(&["run", &exp, "--seed", "9", "--set", "clients=150", "--out", &out]);
    assert_eq!(code, 0, "{err}");
    // The manifest and the report say how it was made, overrides and seed included.
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/manifest.json")).unwrap()).unwrap();
    assert_eq!(m["experiment"]["overrides"], serde_json::json!(["clients=150"]));
    assert_eq!(m["experiment"]["seed"], "9", "a seed is a string in JSON");
    let report = std::fs::read_to_string(d.join("out/report.md")).unwrap();
    assert!(report.contains("--seed 9 --set clients=150 --out DIR"), "{report}");

    let again = d.join("again").display().to_string();
    let (code, said, err) = impsim(&["reproduce", &out, "--out", &again, "--threads", "1"]);
    assert_eq!(code, 0, "{said}{err}");
    assert!(said.contains("reproduced:") && said.contains("identical  runs.csv"), "{said}");
    // Without the override the rerun would be another experiment: the 150 clients are in runs.csv.
    assert_eq!(std::fs::read(d.join("out/runs.csv")).unwrap(), std::fs::read(d.join("again/runs.csv")).unwrap());

    // A result edited by hand does not reproduce, and reproduce names the file.
    let runs = d.join("out/runs.csv");
    let mut text = std::fs::read_to_string(&runs).unwrap();
    let at = text.rfind(',').unwrap() + 1;
    text.replace_range(at..at + 1, if &text[at..at + 1] == "1" { "2" } else { "1" });
    std::fs::write(&runs, text).unwrap();
    let third = d.join("third").display().to_string();
    let (code, said, _) = impsim(&["reproduce", &out, "--out", &third]);
    assert_eq!(code, 5, "{said}");
    assert!(said.contains("DIFFERS    runs.csv") && said.contains("NOT reproduced"), "{said}");

    // An input that changed since is refused before anything runs.
    std::fs::write(&exp, std::fs::read_to_string(&exp).unwrap().replace("\"1h\"]", "\"2h\"]")).unwrap();
    let fourth = d.join("fourth");
    let (code, _, err) =
        impsim(&["reproduce", &format!("{out}/manifest.json"), "--out", &fourth.display().to_string()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("exp.toml") && err.contains("has changed since"), "{err}");
    assert!(!fourth.exists());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_scenario_run_reproduces_and_the_rerun_never_goes_into_the_result() {
    let d = tmp("run");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml").display().to_string();
    let out = d.join("out").display().to_string();
    let (code, _, err) = impsim(&[
        "run",
        &scenario,
        "--seed",
        "4",
        "--set",
        "clients=120",
        "--set",
        "duration=\"2h\"",
        "--set",
        "warmup=\"30m\"",
        "--out",
        &out,
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, said, err) = impsim(&["reproduce", &out, "--out", &d.join("again").display().to_string()]);
    assert_eq!(code, 0, "{said}{err}");
    assert!(said.contains("identical  summary.csv") && said.contains("identical  manifest.json"), "{said}");
    let (code, _, err) = impsim(&["reproduce", &out, "--out", &out, "--force"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("never goes into the result"), "{err}");
    // Not a result impsim wrote.
    std::fs::write(d.join("x.json"), "{}").unwrap();
    let (code, _, err) = impsim(&["reproduce", &d.join("x.json").display().to_string()]);
    assert_eq!((code, err.contains("not a manifest impsim wrote")), (2, true), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn shards_are_merged_on_one_set_of_thresholds_and_what_cannot_be_reproduced_is_refused() {
    let d = tmp("shards");
    let exp = experiment(&d);
    let s = |p: &Path| p.display().to_string();
    let (s1, s2, s2b) = (d.join("s1"), d.join("s2"), d.join("s2b"));
    let check = "recovery_success_rate>=0";
    let run = |shard: &str, out: &Path, with_check: bool| {
        let mut a = vec!["run", exp.as_str(), "--shard", shard, "--out"];
        let o = s(out);
        a.push(&o);
        if with_check {
            a.extend(["--check", check]);
        }
        let (code, _, err) = impsim(&a);
        assert_eq!(code, 0, "{err}");
    };
    run("1/2", &s1, true);
    run("2/2", &s2, false);
    run("2/2", &s2b, true);
    // Shards judged on different thresholds are not merged, in either order.
    for pair in [[&s1, &s2], [&s2, &s1]] {
        let (code, _, err) = impsim(&["merge", &s(pair[0]), &s(pair[1]), "--out", &s(&d.join("m0"))]);
        assert_eq!((code, err.contains("other thresholds")), (2, true), "{err}");
    }
    let merged = d.join("m");
    let (code, said, err) = impsim(&["merge", &s(&s1), &s(&s2b), "--out", &s(&merged)]);
    assert_eq!(code, 0, "{said}{err}");
    assert!(said.contains("check recovery_success_rate>=0 at retention=5m:"), "{said}");
    // A merged result names no inputs of its own; a shard is not a whole result to compare.
    let (code, _, err) = impsim(&["reproduce", &s(&merged)]);
    assert_eq!((code, err.contains("merged result")), (2, true), "{err}");
    let (code, _, err) = impsim(&["compare", &s(&s1), &s(&merged)]);
    assert_eq!((code, err.contains("one shard")), (2, true), "{err}");
    // The rerun never goes inside the result it checks.
    let (code, _, err) = impsim(&["reproduce", &s(&s1), "--out", &s(&s1.join("again"))]);
    assert_eq!((code, err.contains("never goes into the result")), (2, true), "{err}");
    assert!(!s1.join("again").exists());
    let _ = std::fs::remove_dir_all(&d);
}

/// A seed above 2^53 survives JSON readers that hold numbers as doubles (jq printed another
/// seed), and every seed impsim prints goes back through `--seed`: a replication's seed from
/// runs.csv (above i64::MAX, once refused) reruns that replication alone, byte for byte.
#[test]
fn every_seed_impsim_prints_reruns_through_seed() {
    let d = tmp("seed");
    let exp = experiment(&d);
    let out = d.join("out");
    let (code, _, err) = impsim(&["run", &exp, "--out", &out.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let header: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let big = runs
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
        .find(|r| r[col("seed")].parse::<u64>().unwrap() > i64::MAX as u64)
        .expect("a replication seed above 2^63 (each is a uniform 64-bit draw)");
    let (seed, retention) = (big[col("seed")].clone(), big[col("retention")].clone());
    let single = d.join("single");
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml");
    let (code, _, err) = impsim(&[
        "run",
        &default.display().to_string(),
        "--seed",
        &seed,
        "--set",
        "clients=100",
        "--set",
        "duration=\"3h\"",
        "--set",
        "warmup=\"1h\"",
        "--set",
        &format!("retention=\"{retention}\""),
        "--out",
        &single.display().to_string(),
    ]);
    assert_eq!(code, 0, "--seed {seed}: {err}");
    // The single run is that replication: the same summary figures.
    let summary = std::fs::read_to_string(single.join("summary.csv")).unwrap();
    let (sh, sv) = {
        let mut l = summary.lines();
        (l.next().unwrap().split(',').collect::<Vec<_>>(), l.next().unwrap().split(',').collect::<Vec<_>>())
    };
    for c in ["seed", "recovery_attempts", "recovery_successes", "retained_bytes_mean", "events"] {
        assert_eq!(sv[sh.iter().position(|h| *h == c).unwrap()], big[col(c)], "{c}");
    }
    // In JSON the seed is a string, everywhere: exact for any reader.
    let sj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(single.join("summary.json")).unwrap()).unwrap();
    assert_eq!(sj["seed"], seed.as_str());
    assert_eq!(sj["metrics"]["seed"]["value"], seed.as_str());
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(single.join("manifest.json")).unwrap()).unwrap();
    assert_eq!((&m["seed"], &m["scenario"]["seed"]), (&serde_json::json!(seed), &serde_json::json!(seed)));
    // A double cannot hold it: what jq would have printed for a number.
    assert_ne!((seed.parse::<u64>().unwrap() as f64) as u64, seed.parse::<u64>().unwrap());
    // And reproduce reruns it from the string.
    let (code, said, err) =
        impsim(&["reproduce", &single.display().to_string(), "--out", &d.join("again").display().to_string()]);
    assert_eq!(code, 0, "{said}{err}");
    // A seed in a scenario file may be written as a string too.
    let scen = d.join("s.toml");
    std::fs::write(&scen, format!("seed = \"{seed}\"\nclients = 5\nduration = \"1h\"\n")).unwrap();
    let (code, _, err) = impsim(&["run", &scen.display().to_string(), "--out", &d.join("s").display().to_string()]);
    assert_eq!(code, 0, "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

/// A result reproduces from any working folder: its inputs (recorded relative to the folder
/// the run started in) are found from the result's own folder upwards, by their SHA-256. A copy
/// of the result with no inputs around it is refused, naming the file it looked for.
#[test]
fn a_result_reproduces_from_any_working_folder() {
    let d = tmp("anywhere");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |cwd: &Path, args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_impsim")).args(args).current_dir(cwd).output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    for (result, out) in [("results/default", "run"), ("results/login_modes", "exp")] {
        let out = d.join(out);
        let (code, said) =
            run(&d, &["reproduce", &root.join(result).display().to_string(), "--out", &out.display().to_string()]);
        assert_eq!(code, 0, "{result} from {}: {said}", d.display());
        assert!(said.contains("reproduced:"), "{said}");
    }
    // The same result copied where none of its inputs are.
    let copy = d.join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    for f in ["manifest.json", "summary.csv"] {
        std::fs::copy(root.join("results/default").join(f), copy.join(f)).unwrap();
    }
    let (code, said) =
        run(&d, &["reproduce", &copy.display().to_string(), "--out", &d.join("x").display().to_string()]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("cannot find its input experiments/default.toml"), "{said}");
    let _ = std::fs::remove_dir_all(&d);
}
