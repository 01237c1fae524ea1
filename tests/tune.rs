//! `impsim tune` finds the retention the closed form predicts. With SAP disconnects and an
//! exponential return delay of mean mu, P(recovery) = 1 - exp(-R/mu): 95% needs R = mu ln 20,
//! about 30 minutes for mu = 10 minutes.

mod common;
use impsim::experiment::tune::{Condition, RETENTION_LADDER, Search};
use std::path::Path;

/// A duration as written, in microseconds.
fn micros(text: &str) -> Option<u64> {
    impsim::engine::parse_duration(text).ok().map(|d| d.as_micros())
}

fn search(budget: Option<&str>) -> impsim::experiment::tune::Outcome {
    search_for("recovery_success_rate>=0.95", budget, 4)
}

fn search_for(target: &str, budget: Option<&str>, replications: u32) -> impsim::experiment::tune::Outcome {
    let mut base: toml::Table = toml::from_str(common::QUIET).unwrap();
    for o in ["clients=300", "duration=48h"].into_iter().chain(common::CLOSED_FORM) {
        impsim::scenario::apply_override(&mut base, o).unwrap();
    }
    Search {
        base,
        file: "quiet.toml",
        base_dir: Path::new("."),
        knob: "retention".into(),
        values: RETENTION_LADDER.iter().map(|v| toml::Value::String(v.to_string())).collect(),
        target: Condition::parse(target).unwrap(),
        budgets: budget.map(|b| Condition::parse(b).unwrap()).into_iter().collect(),
        replications,
        seed: 3,
        threads: 2,
        crn: true,
    }
    .run()
    .unwrap()
}

#[test]
fn tune_finds_the_closed_form_retention() {
    let o = search(None);
    let rec = o.recommended.clone().expect("a recommendation");
    let r = micros(&rec.value).unwrap() as f64 / 60e6;
    let expected = 10.0 * 20f64.ln(); // 29.96 minutes
    assert!(r >= expected - 1.0 && r <= expected * 1.25, "recommended {r:.1} min, closed form {expected:.1} min");
    assert!(rec.meets_target && rec.estimates[0].lo >= 0.95);
    // The search is a search: the ladder's two ends, a binary search (log2 24 < 5), three
    // bisections: at most 10 of the 24 values and refinements.
    assert!(o.evaluated.len() <= 10, "{} candidates evaluated", o.evaluated.len());
    // The quiet scenario has no warm-up: every run's steady-state check flags it, and says so.
    assert!(
        o.evaluated.iter().all(|c| c.unsteady_runs == 4),
        "{:?}",
        o.evaluated.iter().map(|c| c.unsteady_runs).collect::<Vec<_>>()
    );
    // Between the ladder's 30m and 45m the answer is refined by bisection, each midpoint rounded
    // to whole minutes (whole seconds below 10 minutes): 37m30s -> 38m, then 34m, then 32m.
    let refined: Vec<u64> = o
        .evaluated
        .iter()
        .map(|c| micros(&c.value).unwrap_or(u64::MAX))
        .filter(|d| {
            *d != u64::MAX
                && !RETENTION_LADDER
                    .contains(&impsim::engine::format_duration(impsim::engine::SimDuration::from_micros(*d)).as_str())
        })
        .collect();
    assert_eq!(
        refined,
        [32, 34, 38].map(|m| m * 60_000_000),
        "{:?}",
        o.evaluated.iter().map(|c| &c.value).collect::<Vec<_>>()
    );
    let text = impsim::experiment::tune::describe(&o, 4);
    assert!(text.contains(&format!("recommendation: retention = {}", rec.value)), "{text}");
    assert!(text.contains("recovery_success_rate ≥ 0.95: "), "{text}");
    assert!(text.contains(&format!("WARNING: in {} run(s)", 4 * o.evaluated.len())), "{text}");
    // Rates print with 4 decimals and their interval.
    let e = &rec.estimates[0];
    assert!(text.contains(&format!("{:.4} [{:.4}, {:.4}]", e.mean, e.lo, e.hi)), "{text}");
}

#[test]
fn an_impossible_budget_gives_a_compromise_not_a_recommendation() {
    // 1 retained context at peak cannot hold 95% of 300 clients' recoveries.
    let o = search(Some("retained_contexts_peak<=1"));
    assert!(o.recommended.is_none());
    let c = o.compromise.expect("a best compromise");
    assert!(c.within_budgets || c.value == "0s", "{}", c.value);
    assert!(!c.meets_target);
}

#[test]
fn conditions_parse_sizes_and_refuse_unknown_metrics() {
    assert_eq!(Condition::parse("retained_bytes_peak<=2GiB").unwrap().value, (2u64 << 30) as f64);
    assert!(Condition::parse("recovery_rate>=0.9").unwrap_err().contains("not a summary.csv column"));
    assert!(Condition::parse("recovery_success_rate=0.9").is_err());
}

/// A budget that falls as the knob grows (502s for expired contexts fall with retention) holds
/// from some value up, not up to one: tune reads that direction from the data and lets the
/// budget bind. At most 5% of ~12,000 attempts failing as expired needs R = mu ln 20 again.
#[test]
fn a_budget_that_falls_with_the_knob_binds_from_below() {
    let easy = search_for("recovery_success_rate>=0.5", None, 4);
    let easy_r = micros(&easy.recommended.expect("an answer").value).unwrap() as f64 / 60e6;
    assert!(easy_r < 15.0, "0.5 needs about 7 min, got {easy_r}");
    let o = search_for("recovery_success_rate>=0.5", Some("fail_expired<=600"), 4);
    let rec = o.recommended.expect("the falling budget is met from some retention up");
    let r = micros(&rec.value).unwrap() as f64 / 60e6;
    assert!((25.0..=45.0).contains(&r), "recommended {r:.1} min; the budget needs about 30");
    assert!(rec.within_budgets && rec.meets_target);
}

/// A budget that holds only up to some value (memory to stay under) binds from above: the
/// answer meets it, and larger values on the ladder are over budget.
#[test]
fn a_budget_that_rises_with_the_knob_binds_from_above() {
    let o = search_for("recovery_success_rate>=0.5", Some("retained_contexts_mean<=40"), 2);
    let rec = o.recommended.expect("a retention between the target's threshold and the budget's");
    assert!(rec.within_budgets && rec.meets_target);
    // Refined below 10 minutes: whole seconds.
    for c in &o.evaluated {
        let d = micros(&c.value).unwrap_or(0);
        assert_eq!(d % 1_000_000, 0, "{}", c.value);
        if d >= 600_000_000 {
            assert_eq!(d % 60_000_000, 0, "{}", c.value);
        }
    }
    let r = micros(&rec.value).unwrap() as f64 / 60e6;
    assert!(r < 15.0, "{r}");
    assert!(o.evaluated.iter().any(|c| !c.within_budgets), "the budget binds somewhere on the ladder");
}

#[test]
fn a_single_replication_answer_says_it_has_no_interval() {
    let o = search_for("recovery_success_rate>=0.95", None, 1);
    let text = impsim::experiment::tune::describe(&o, 1);
    assert!(text.contains("no interval") && text.contains("WARNING: one run per candidate"), "{text}");
    assert!(!text.contains("mean [95% CI]") && !text.contains("95% CI clears"), "{text}");
}

#[test]
fn candidate_values_must_ascend_and_bounds_be_finite() {
    use impsim::experiment::tune::check_ascending;
    let v = |xs: &[&str]| xs.iter().map(|x| toml::Value::String(x.to_string())).collect::<Vec<_>>();
    assert!(check_ascending(&v(&["1m", "5m", "1h", "infinite"])).is_ok());
    assert!(check_ascending(&v(&["1h", "5m"])).unwrap_err().contains("ascending"));
    assert!(check_ascending(&v(&["5m", "5m"])).unwrap_err().contains("ascending"));
    assert!(check_ascending(&v(&["5m", "banana"])).is_err());
    assert!(check_ascending(&[toml::Value::Integer(4), toml::Value::Integer(16)]).is_ok());
    assert!(check_ascending(&[toml::Value::Float(0.5), toml::Value::Float(1.5)]).is_ok());
    for bad in [f64::NAN, f64::INFINITY] {
        assert!(check_ascending(&[toml::Value::Float(0.5), toml::Value::Float(bad)]).is_err(), "{bad}");
    }
    assert!(check_ascending(&[]).is_err());
    for bad in ["recovery_success_rate>=nan", "recovery_success_rate>=inf", "retained_bytes_peak<=-inf"] {
        assert!(Condition::parse(bad).unwrap_err().contains("finite"), "{bad}");
    }
}

fn tune_cli(args: &[&str]) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!("impsim-tune-{}-{}", std::process::id(), args.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("quiet.toml");
    std::fs::write(&file, common::QUIET.replace("clients = 1", "clients = 20").replace("\"10h\"", "\"4h\"")).unwrap();
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_impsim")).arg("tune").arg(&file).args(args).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn the_cli_exits_3_when_nothing_meets_and_2_on_bad_input() {
    // Nothing can be recovered without Disconnects or outages: no retention meets the target.
    let (code, text) = tune_cli(&["--replications", "2", "--values", "0s,1h"]);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("no value of retention meets"), "{text}");
    let (code, text) = tune_cli(&["--values", "1h,0s"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("ascending"), "{text}");
    let (code, text) = tune_cli(&["--target", "recovery_success_rate>=nan"]);
    assert_eq!(code, 2, "{text}");
    let (code, text) = tune_cli(&["--replications", "0"]);
    assert_eq!(code, 2, "{text}");
}

#[test]
fn tune_out_writes_the_search_with_the_recommendation_marked_and_refuses_a_foreign_folder_first() {
    let d = common::fresh_dir("tune-out");
    let out = d.join("t");
    let def = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml");
    let run = |extra: &[&str]| {
        let mut args: Vec<String> =
            ["tune", &def.display().to_string(), "--set", "clients=300", "--set", "duration=\"30h\""]
                .iter()
                .map(|s| s.to_string())
                .collect();
        args.extend(["--set", "warmup=\"6h\"", "--replications", "2", "--values", "0s,30m,2h,24h"].map(String::from));
        args.extend(
            ["--budget", "retained_bytes_peak<=1GiB", "--target", "recovery_success_rate>=0.8"].map(String::from),
        );
        args.extend(extra.iter().map(|s| s.to_string()));
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        common::impsim_cli(&a)
    };
    let (code, said, err) = run(&["--out", &out.display().to_string()]);
    assert_eq!(code, 0, "{said}{err}");
    // Shown in one unit (minutes, with hours and minutes beside), the budget in its unit.
    let shown =
        said.lines().find_map(|l| l.strip_prefix("recommendation: retention = ")).expect("a recommendation").trim();
    assert!(said.contains("retained_bytes_peak ≤ 1.00 GiB: ") && !said.contains("1073741824"), "{said}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains(&format!("**Answer.** **retention = {shown}**: recovery_success_rate 0.")), "{report}");
    assert!(report.contains("| **recommended** |"), "{report}");
    // candidates.csv: every value evaluated, the recommended one meeting all.
    let csv = std::fs::read_to_string(out.join("candidates.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(rows.len(), m["evaluated"].as_array().unwrap().len(), "{csv}");
    let value = m["recommended"].as_str().unwrap();
    assert!(shown.starts_with(&format!("{}m", micros(value).unwrap() / 60_000_000)), "{shown} is {value}");
    let chosen = rows.iter().find(|r| r.starts_with(&format!("{value},"))).unwrap();
    assert!(chosen.contains(",1,1,"), "meets target and budget: {chosen}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("data:image/png;base64,").count(), 3, "target, its zoom and budget plots inlined");
    // The plots place the values by value (a duration axis), and zoom on the answer.
    let target = std::fs::read_to_string(out.join("target.svg")).unwrap();
    let texts: Vec<&str> = target.lines().map(str::trim).collect();
    assert!(target.contains("retention (log scale, 0 past the break)") && texts.contains(&"0s"), "{target}");
    assert!(!texts.contains(&"2h") || texts.contains(&"24h"), "ticks by value, not one per candidate: {target}");
    let zoom = std::fs::read_to_string(out.join("target_zoom.svg")).unwrap();
    assert!(zoom.contains(&format!("recommended: {shown}")) && zoom.contains("target ≥ 0.8"), "{zoom}");
    // One line per candidate on a stderr that is not a terminal.
    let lines = err.lines().filter(|l| l.trim_start().starts_with("candidate ")).count();
    assert_eq!(lines, rows.len(), "{err}");
    assert!(m["command"].as_str().unwrap().contains("--replications 2 --out DIR"), "{m}");
    for f in m["files"].as_array().unwrap() {
        assert!(out.join(f.as_str().unwrap()).is_file(), "{f}");
    }
    // A folder impsim did not write is refused at once (exit 2, before any run), and kept.
    let foreign = d.join("mine");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let (code, said, err) = run(&["--out", &foreign.display().to_string(), "--force"]);
    assert_ne!(code, 0, "{said}{err}");
    assert!(!said.contains("recommendation"), "refused before searching: {said}");
    assert_eq!(std::fs::read_to_string(foreign.join("notes.txt")).unwrap(), "mine");
    // A search that fails leaves nothing behind, not even its hidden staging folder.
    let failed = d.join("failed");
    let (code, said, err) = run(&["--out", &failed.display().to_string(), "--knob", "clients"]);
    assert_eq!(code, 2, "--values is needed for another knob: {said}{err}");
    let (code, said, err) = common::impsim_cli(&[
        "tune",
        &def.display().to_string(),
        "--knob",
        "clients",
        "--values",
        "0,100",
        "--out",
        &failed.display().to_string(),
    ]);
    assert_eq!(code, 2, "0 clients is refused: {said}{err}");
    let left: Vec<_> = std::fs::read_dir(&d).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(!failed.exists() && !d.join(".failed.partial").exists(), "{left:?}");
    // Its own folder it replaces with --force.
    let (code, said, err) = run(&["--out", &out.display().to_string(), "--force"]);
    assert_eq!(code, 0, "{said}{err}");
    let _ = std::fs::remove_dir_all(&d);
}

/// Two runs at 100% of a few dozen attempts do not certify ">= 0.99": the rate's interval is
/// never narrower than the Wilson interval of the attempts behind it (it recommended 6h with
/// "1.0000 [1.0000, 1.0000]"), so no value qualifies and tune exits 3.
#[test]
fn a_rate_at_100_percent_of_few_attempts_is_no_recommendation() {
    let default = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml");
    let (code, said, err) = common::impsim_cli(&[
        "tune",
        &default.display().to_string(),
        "--set",
        "clients=10",
        "--set",
        "duration=\"10h\"",
        "--set",
        "warmup=\"2h\"",
        "--set",
        "client.client_id_change_prob=0",
        "--set",
        "client.abandon_prob=0",
        "--target",
        "recovery_success_rate>=0.99",
        "--replications",
        "2",
    ]);
    assert_eq!(code, 3, "{said}{err}");
    assert!(said.contains("1.0000 [0.8") && !said.contains("[1.0000, 1.0000]"), "{said}");
}

/// The scenario's `[thresholds]` bind tune as they bind an experiment's answer: with a target of
/// 0.5 (about 7 minutes of retention) and a threshold of 0.95 on the same rate (about 30), the
/// answer meets the threshold too.
#[test]
fn the_scenarios_thresholds_bind_the_answer() {
    let mut base: toml::Table = toml::from_str(common::QUIET).unwrap();
    for o in ["clients=300", "duration=48h", "thresholds.recovery_success_rate=\">=0.95\""]
        .into_iter()
        .chain(common::CLOSED_FORM)
    {
        impsim::scenario::apply_override(&mut base, o).unwrap();
    }
    let o = Search {
        base,
        file: "quiet.toml",
        base_dir: Path::new("."),
        knob: "retention".into(),
        values: RETENTION_LADDER.iter().map(|v| toml::Value::String(v.to_string())).collect(),
        target: Condition::parse("recovery_success_rate>=0.5").unwrap(),
        budgets: vec![],
        replications: 2,
        seed: 3,
        threads: 2,
        crn: true,
    }
    .run()
    .unwrap();
    let rec = o.recommended.clone().expect("an answer");
    let r = micros(&rec.value).unwrap() as f64 / 60e6;
    assert!(r >= 25.0 && rec.meets_thresholds, "recommended {r:.1} min: the threshold needs about 30");
    assert!(o.evaluated.iter().any(|c| c.meets_target && !c.meets_thresholds), "the threshold binds somewhere");
    let text = impsim::experiment::tune::describe(&o, 2);
    assert!(text.contains("recovery_success_rate ≥ 0.95 (threshold): "), "{text}");
}
