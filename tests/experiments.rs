//! Experiments: results never depend on threads, sharding or the other points.

use impsim::experiment::{self, NoProgress, Shard};
use impsim::folder::{SweepOptions, experiment_to_folder, merge_shards};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("impsim-exp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn write_experiment(dir: &Path, sweep: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml");
    let text = format!(
        "name = \"t\"\nscenario = {:?}\nreplications = 2\nseed = 5\n[set]\nclients = 200\nduration = \"6h\"\nwarmup = \"1h\"\n[sweep]\n{sweep}\n",
        default.display().to_string()
    );
    let p = dir.join("exp.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn run(exp: &Path, out: &Path, threads: usize, shard: Shard) {
    let e = experiment::load(exp, &[]).unwrap_or_else(|e| panic!("{e}"));
    experiment_to_folder(
        &e,
        out,
        &SweepOptions { force: true, shard, ..SweepOptions::new(threads) },
        &NoProgress,
        &AtomicBool::new(false),
    )
    .unwrap();
}

fn read(dir: &Path, f: &str) -> Vec<u8> {
    std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(f).display()))
}

const OUTPUTS: [&str; 5] = ["runs.csv", "points.csv", "timeseries.csv", "run_timeseries.csv", "report.md"];

#[test]
fn thread_count_and_sharding_do_not_change_a_byte() {
    let base = tmp("shards");
    let exp = write_experiment(&base, "retention = [\"0s\", \"30m\", \"infinite\"]");
    run(&exp, &base.join("one"), 1, Shard::all());
    run(&exp, &base.join("two"), 2, Shard::all());
    for f in OUTPUTS {
        assert_eq!(read(&base.join("one"), f), read(&base.join("two"), f), "{f} differs with 2 threads");
    }
    for i in 1..=3 {
        run(&exp, &base.join(format!("s{i}")), 2, Shard { index: i, count: 3 });
        assert!(!base.join(format!("s{i}/points.csv")).exists(), "a shard writes only its runs");
    }
    let shards: Vec<PathBuf> = (1..=3).map(|i| base.join(format!("s{i}"))).collect();
    merge_shards(&shards, &base.join("merged"), true).unwrap();
    for f in OUTPUTS {
        assert_eq!(read(&base.join("one"), f), read(&base.join("merged"), f), "{f} differs after merge");
    }
    // Incomplete or duplicated shards are refused.
    assert!(merge_shards(&shards[..2], &base.join("bad"), true).unwrap_err().to_string().contains("runs"));
    let dup = vec![shards[0].clone(), shards[0].clone(), shards[1].clone(), shards[2].clone()];
    assert!(merge_shards(&dup, &base.join("bad"), true).unwrap_err().to_string().contains("given twice"));
    // A copy of a shard under another name holds the same runs: refused as runs in two shards.
    let copy = base.join("s1-copy");
    std::fs::create_dir_all(&copy).unwrap();
    for e in std::fs::read_dir(&shards[0]).unwrap().flatten() {
        std::fs::copy(e.path(), copy.join(e.file_name())).unwrap();
    }
    let dup = vec![shards[0].clone(), copy, shards[1].clone(), shards[2].clone()];
    assert!(merge_shards(&dup, &base.join("bad"), true).unwrap_err().to_string().contains("two shards"));
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_points_results_do_not_depend_on_the_other_points() {
    let base = tmp("points");
    let both = write_experiment(&base.join("a"), "retention = [\"5m\", \"2h\"]");
    let alone = write_experiment(&base.join("b"), "retention = [\"2h\"]");
    run(&both, &base.join("both"), 2, Shard::all());
    run(&alone, &base.join("alone"), 2, Shard::all());
    let rows = |d: &Path| -> Vec<String> {
        String::from_utf8(read(d, "runs.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.splitn(3, ',').nth(2).unwrap().to_string())
            .collect()
    };
    let both_rows = rows(&base.join("both"));
    let alone_rows = rows(&base.join("alone"));
    assert_eq!(&both_rows[2..], &alone_rows[..], "the 2h point's runs are the same with or without the 5m point");
    assert_ne!(both_rows[0], both_rows[1], "replications differ");
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_sweep_axis_that_names_no_field_is_refused() {
    let base = tmp("badaxis");
    let exp = write_experiment(&base, "retension = [\"5m\"]");
    let e = experiment::load(&exp, &[]).unwrap_err().to_string();
    assert!(e.contains("retension") && e.contains("sweep axis"), "{e}");
    let exp = write_experiment(&base, "retention = []");
    let e = experiment::load(&exp, &[]).unwrap_err().to_string();
    assert!(e.contains("sweep.retention") && e.contains("non-empty"), "{e}");
    let exp = write_experiment(&base, "retention = [\"-5m\"]");
    assert!(experiment::load(&exp, &[]).unwrap_err().to_string().contains("negative"));
    let _ = std::fs::remove_dir_all(&base);
}

/// Common random numbers: with `crn = true` replication r of every point uses the same seed, so
/// the difference between two retention values is estimated with less noise (paired
/// differences) than from independent replications: measured 0.57x the width here.
#[test]
fn common_random_numbers_narrow_the_interval_of_a_difference() {
    // Retained memory moves with the whole population's behaviour, which CRN holds in common. (A
    // difference of two recovery rates gains less, ~0.7x at best: it is itself binomial noise.)
    const METRIC: &str = "retained_bytes_mean";
    let width = |crn: bool| {
        let base = tmp(if crn { "crn" } else { "independent" });
        std::fs::create_dir_all(&base).unwrap();
        let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml");
        let text = format!(
            "name = \"c\"\nscenario = {:?}\nreplications = 8\nseed = 5\ncrn = {crn}\n[set]\nclients = 300\n\
             duration = \"8h\"\nwarmup = \"2h\"\n[sweep]\nretention = [\"10m\", \"20m\"]\n",
            default.display().to_string()
        );
        std::fs::write(base.join("exp.toml"), text).unwrap();
        let e = experiment::load(&base.join("exp.toml"), &[]).unwrap();
        assert_eq!(e.crn, crn);
        let ran = experiment::run(&e, Shard::all(), 2, &NoProgress, &AtomicBool::new(false), &Default::default(), None)
            .unwrap();
        let rate =
            |p: usize| ran.records.iter().filter(|r| r.point == p).map(|r| r.get(METRIC).unwrap()).collect::<Vec<_>>();
        let (a, b) = (rate(1), rate(0));
        let _ = std::fs::remove_dir_all(&base);
        let paired = impsim::stats::paired_difference(&a, &b);
        assert!(paired.mean > 0.0, "longer retention keeps more: {paired:?}");
        if crn {
            paired.hi - paired.lo
        } else {
            // Independent replications: the difference of two independent means.
            let (ea, eb) = (impsim::stats::estimate(&a), impsim::stats::estimate(&b));
            let se = (ea.sd * ea.sd / 8.0 + eb.sd * eb.sd / 8.0).sqrt();
            2.0 * impsim::stats::t975(14) * se
        }
    };
    let (crn, independent) = (width(true), width(false));
    assert!(crn < 0.75 * independent, "CRN interval {crn:.4} against independent {independent:.4}");
}

#[test]
fn a_points_interval_stays_in_its_metrics_range() {
    use impsim::experiment::results::{Meta, RunRecord, estimates};
    let exp = experiment::from_text(
        "name = \"clip\"\nreplications = 2\n[scenario]\nclients = 10\n",
        std::path::Path::new("clip.toml"),
        &[],
    )
    .unwrap();
    let meta = Meta::of(&exp);
    let record = |r: u32, rate: &str, attempts: &str| RunRecord {
        point: 0,
        replication: r,
        columns: vec!["recovery_success_rate".into(), "recovery_attempts".into()],
        values: vec![rate.into(), attempts.into()],
        samples: vec![],
    };
    let est = estimates(&meta, &[record(0, "1.0", "1"), record(1, "0.9", "100")]);
    let rate = est[0]["recovery_success_rate"];
    // Mean 0.95, sd 0.0707, t(1) = 12.71: the raw interval is 0.95 -/+ 0.635.
    assert!((rate.mean - 0.95).abs() < 1e-12);
    assert!((rate.lo - (0.95 - 12.706204736 * 0.05)).abs() < 1e-6 && rate.hi == 1.0, "{rate:?}");
    // A count's t interval (50.5 -/+ 629) reaches below 0: it is clipped there, its top kept.
    let attempts = est[0]["recovery_attempts"];
    assert_eq!(attempts.lo, 0.0, "{attempts:?}");
    assert!((attempts.hi - (50.5 + 12.706204736 * 49.5)).abs() < 1e-3, "{attempts:?}");
}

/// A swept value's spelling does not make another point: "60s" and "1m" are one label and one
/// seed (they ran under different seeds and gave different results), the same value twice on
/// an axis is refused naming both spellings, as are two points that resolve to one scenario.
#[test]
fn equal_values_spelled_differently_are_one_point() {
    let d = tmp("spelling");
    let load = |sweep: &str| experiment::load(&write_experiment(&d, sweep), &[]);
    let a = load("retention = [\"60s\", \"2h\"]").unwrap();
    let b = load("retention = [\"1m\", \"120m\"]").unwrap();
    let labels = |e: &experiment::Experiment| {
        let m = experiment::results::Meta::of(e);
        (0..e.points.len()).map(|p| m.point_label(p)).collect::<Vec<_>>()
    };
    assert_eq!(labels(&a), ["retention=1m", "retention=2h"]);
    assert_eq!(labels(&a), labels(&b));
    let (oa, ob) = (d.join("a"), d.join("b"));
    run(&write_experiment(&d, "retention = [\"60s\", \"2h\"]"), &oa, 2, Shard::all());
    run(&write_experiment(&d, "retention = [\"1m\", \"120m\"]"), &ob, 2, Shard::all());
    assert_eq!(read(&oa, "runs.csv"), read(&ob, "runs.csv"), "the same seeds and results");
    // Sizes too, and a day is 24h.
    let c = load("\"store.max_bytes\" = [\"2048KiB\", \"3MiB\"]").unwrap();
    assert_eq!(labels(&c), ["store.max_bytes=2MiB", "store.max_bytes=3MiB"]);
    assert_eq!(labels(&load("retention = [\"1d\", \"5m\"]").unwrap()), ["retention=24h", "retention=5m"]);
    // The same value twice.
    let e = load("retention = [\"60s\", \"5m\", \"1m\"]").unwrap_err().to_string();
    assert!(e.contains("sweep.retention") && e.contains("60s and 1m are the same value (1m)"), "{e}");
    // Two points of one scenario (a real number written as an integer and as a real).
    let e = load("\"client.logout_prob\" = [1, 1.0]").unwrap_err().to_string();
    assert!(e.contains("are the same scenario"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

/// A threshold is judged with one bound at every point; a swept bound was silently judged with
/// the first point's at all of them.
#[test]
fn a_swept_threshold_is_refused() {
    let d = tmp("swept-threshold");
    let e =
        experiment::load(&write_experiment(&d, "\"thresholds.recovery_success_rate\" = [\">=0.5\", \">=0.9\"]"), &[])
            .unwrap_err()
            .to_string();
    assert!(e.contains("sweep.thresholds.recovery_success_rate") && e.contains("cannot be swept"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}
