//! Bad input is refused with exit code 2 and a message naming the file and the field, and
//! leaves no output folder behind.

use std::path::PathBuf;
use std::process::Command;

struct Case {
    dir: PathBuf,
}

impl Case {
    fn new(name: &str, scenario: &str) -> Case {
        let dir = std::env::temp_dir().join(format!("impsim-bad-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("s.toml"), scenario).unwrap();
        Case { dir }
    }
    fn run(&self, extra: &[&str]) -> (i32, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_impsim"))
            .arg("run")
            .arg(self.dir.join("s.toml"))
            .arg("--out")
            .arg(self.dir.join("out"))
            .args(extra)
            .output()
            .unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
    }
    fn refused(&self, must_contain: &[&str]) {
        let (code, err) = self.run(&[]);
        assert_eq!(code, 2, "stderr: {err}");
        assert!(err.contains("s.toml"), "names the file: {err}");
        for m in must_contain {
            assert!(err.contains(m), "expected {m:?} in: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
        assert!(!self.dir.join("out").exists(), "no output folder on error");
        let leftovers: Vec<_> = std::fs::read_dir(&self.dir).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(leftovers.len(), 1, "nothing half-written: {leftovers:?}");
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const OK: &str = "clients = 20\nduration = \"1h\"\n";

#[test]
fn typo_in_a_field_is_refused_with_the_field_named() {
    Case::new("typo", "clients = 20\nretension = \"30m\"\n").refused(&[
        "retension",
        "did you mean `retention`?",
        "line 2",
    ]);
    Case::new("typo2", "clients = 20\n[sap]\nttl_maxx = \"1h\"\n").refused(&[
        "ttl_maxx",
        "sap",
        "did you mean `ttl_max`?",
    ]);
}

#[test]
fn an_unknown_protocol_is_refused_with_the_known_ones_named() {
    Case::new("protocol", "clients = 20\nprotocol = \"mqtt9\"\n").refused(&["protocol", "mqtt9", "imps"]);
}

#[test]
fn limits_of_the_compact_state_are_refused() {
    // Client records keep times in 48 bits and events name a client in 29 bits.
    Case::new("long", "clients = 20\nduration = \"3000d\"\n").refused(&["duration", "2920d"]);
    Case::new("many", "clients = 600000000\n").refused(&["clients", "536870912"]);
}

#[test]
fn a_warm_up_as_long_as_the_run_is_refused() {
    Case::new("warm", "clients = 20\nduration = \"1h\"\nwarmup = \"1h\"\n")
        .refused(&["warmup", "shorter than duration"]);
    Case::new("warm2", "clients = 20\nduration = \"1h\"\nwarmup = \"-5m\"\n").refused(&["warmup", "negative"]);
}

#[test]
fn negative_duration_is_refused() {
    Case::new("neg", "clients = 20\nduration = \"-5h\"\n").refused(&["duration", "negative"]);
    Case::new("negd", "[client]\noffline = { dist = \"exponential\", mean = \"-1m\" }\n")
        .refused(&["client.offline", "negative"]);
}

#[test]
fn values_out_of_range_are_refused() {
    Case::new("prob", "[client]\nlogout_prob = 1.5\n").refused(&["client.logout_prob", "[0, 1]"]);
    Case::new("ttl", "[sap]\nttl_min = \"2h\"\nttl_max = \"1h\"\n").refused(&["sap.ttl_min"]);
    Case::new("cap", "[store]\nmax_bytes = 10\n").refused(&["store.max_bytes", "one context"]);
    Case::new("type", "clients = \"many\"\n").refused(&["clients"]);
    Case::new("dist", "[network]\nrtt = { dist = \"gauss\", mean = \"1s\" }\n").refused(&["network.rtt", "allowed"]);
}

/// A byte cap is an integer or a size like "2KiB"; a negative one is refused, not read as a
/// huge cap (which would silently mean no cap at all).
#[test]
fn a_negative_byte_cap_is_refused() {
    Case::new("negcap", "[store]\nmax_bytes = -1\n").refused(&["store.max_bytes", "negative size -1"]);
    Case::new("negcap2", "[store]\nmax_bytes = \"-2KiB\"\n").refused(&["store.max_bytes"]);
    Case::new("floatcap", "[store]\nmax_bytes = 1.5e6\n").refused(&["store.max_bytes", "expected a size"]);
}

#[test]
fn missing_files_are_refused() {
    let c = Case::new("missing", OK);
    std::fs::remove_file(c.dir.join("s.toml")).unwrap();
    let (code, err) = c.run(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("s.toml") && err.contains("cannot read"), "{err}");
    Case::new("csv", "[client]\noffline = { dist = \"empirical\", file = \"gaps.csv\" }\n")
        .refused(&["client.offline", "gaps.csv"]);
}

#[test]
fn a_cost_file_is_read_checked_and_never_mixed_with_an_inline_table() {
    let c = Case::new("costfile", "clients = 20\nduration = \"1h\"\n[cost]\nfile = \"broker.toml\"\n");
    // Missing: the field and the file named.
    let (code, err) = c.run(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cost.file") && err.contains("broker.toml") && err.contains("cannot read"), "{err}");
    // A typo inside the cost file: that file and its field named, with the nearest known name.
    std::fs::write(c.dir.join("broker.toml"), "[context]\nbase = 900\nper_subscripton = 3\n").unwrap();
    let (code, err) = c.run(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("broker.toml") && err.contains("per_subscripton"), "{err}");
    // A negative number of bytes.
    std::fs::write(c.dir.join("broker.toml"), "[context]\nbase = -900\n").unwrap();
    let (code, err) = c.run(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("broker.toml") && err.contains("context.base"), "{err}");
    // A cost file cannot chain to another.
    std::fs::write(c.dir.join("broker.toml"), "file = \"other.toml\"\n").unwrap();
    let (code, err) = c.run(&[]);
    assert_eq!((code, err.contains("cannot name another file")), (2, true), "{err}");
    // Valid, then its recorded SHA-256 must match.
    std::fs::write(c.dir.join("broker.toml"), "[context]\nbase = 900\n").unwrap();
    let (code, err) = c.run(&[]);
    assert_eq!(code, 0, "{err}");
    let pinned = Case::new("costsha", "[cost]\nfile = \"broker.toml\"\nsha256 = \"00\"\n");
    std::fs::write(pinned.dir.join("broker.toml"), "[context]\nbase = 900\n").unwrap();
    let (code, err) = pinned.run(&[]);
    assert_eq!((code, err.contains("cost.file") && err.contains("content changed")), (2, true), "{err}");
    // Inline bytes beside the file are ambiguous: refused.
    let mixed = Case::new("costmix", "[cost]\nfile = \"broker.toml\"\n[cost.context]\nbase = 1\n");
    std::fs::write(mixed.dir.join("broker.toml"), "[context]\nbase = 900\n").unwrap();
    let (code, err) = mixed.run(&[]);
    assert_eq!((code, err.contains("cost.file") && err.contains("not beside")), (2, true), "{err}");
    assert!(!mixed.dir.join("out").exists(), "no output folder on error");
}

#[test]
fn empirical_csv_must_hold_non_negative_numbers() {
    let c = Case::new("csvbad", "[client]\noffline = { dist = \"empirical\", file = \"gaps.csv\" }\n");
    std::fs::write(c.dir.join("gaps.csv"), "10\nabc\n").unwrap();
    let (code, err) = c.run(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("line 2") && err.contains("abc"), "{err}");
    std::fs::write(c.dir.join("gaps.csv"), "10\n-3\n").unwrap();
    assert!(c.run(&[]).1.contains("line 2"));
    std::fs::write(c.dir.join("gaps.csv"), "# seconds\n10\n20\n").unwrap();
    let (code, err) = c.run(&[]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn an_existing_output_folder_is_not_overwritten_without_force() {
    let c = Case::new("exists", OK);
    assert_eq!(c.run(&[]).0, 0);
    let (code, err) = c.run(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(c.run(&["--force"]).0, 0);
}

#[test]
fn a_bad_override_is_refused() {
    let c = Case::new("set", OK);
    let (code, err) = c.run(&["--set", "sap.workerz=3"]);
    assert_eq!(code, 2);
    assert!(err.contains("workerz"), "{err}");
}

#[test]
fn a_run_too_large_for_the_machine_is_refused_with_the_estimate() {
    let c = Case::new("huge", "clients = 500000000\n");
    let (code, err) = c.run(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("needs about") && err.contains("GiB") && err.contains("--force-memory"), "{err}");
}

#[test]
fn zero_delay_processes_are_refused() {
    Case::new("zero", "[client]\nactivity = \"0s\"\n").refused(&["client.activity", "longer than 0s"]);
    Case::new("zero2", "[client]\noffline = { dist = \"uniform\", min = \"0s\", max = \"0s\" }\n")
        .refused(&["client.offline"]);
}

#[test]
fn an_empty_empirical_csv_is_refused() {
    let c = Case::new("csvempty", "[client]\noffline = { dist = \"empirical\", file = \"gaps.csv\" }\n");
    std::fs::write(c.dir.join("gaps.csv"), "# nothing\n\n").unwrap();
    let (code, err) = c.run(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("no values"), "{err}");
}

#[test]
fn every_case_of_the_bad_input_table_is_refused_with_its_field() {
    // (scenario text, words the message must hold): the cases of docs/bad_input.md.
    let cases: &[(&str, &[&str])] = &[
        ("[client]\noffline = { dist = \"exponential\", mean = 5 }\n", &["client.offline", "with a unit"]),
        ("duration = \"0s\"\n", &["duration", "longer than 0s"]),
        ("[client]\nsyntaxes = { xml = 0.0 }\n", &["client.syntaxes", "positive share"]),
        ("[sap]\nsyntaxes = [\"json\"]\n", &["sap.syntaxes[0]", "allowed: xml, wbxml, pts"]),
        ("[network]\nrtt = { dist = \"uniform\", min = \"2s\", max = \"1s\" }\n", &["network.rtt", "must not exceed"]),
        (
            "[client]\noffline = { dist = \"exponential\", mean = \"1h\", sigma = 2 }\n",
            &["client.offline", "does not belong"],
        ),
        ("sample_every = \"1us\"\n", &["sample_every", "timeseries rows"]),
        ("[sap]\nworkers = 0\n", &["sap.workers"]),
        ("[users]\ndevices = []\n", &["users.devices"]),
        ("[client]\nkeepalive_ratio = 1.5\n", &["client.keepalive_ratio", "S10"]),
        ("[store]\nreplace_scope = \"galaxy\"\n", &["store.replace_scope", "client", "user"]),
    ];
    for (i, (text, words)) in cases.iter().enumerate() {
        Case::new(&format!("table{i}"), text).refused(words);
    }
}

#[test]
fn an_unwritable_output_folder_is_refused_naming_it() {
    let c = Case::new("unwritable", OK);
    let out = Command::new(env!("CARGO_BIN_EXE_impsim"))
        .args(["run", c.dir.join("s.toml").to_str().unwrap(), "--out", "/proc/impsim-out"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("/proc/impsim-out") && err.contains("cannot create"), "{err}");
}

/// An empirical CSV of two columns (`id,value`) ran on its first column, the ids: any line of
/// more than one column is refused, naming the file, the field and the line.
#[test]
fn an_empirical_csv_of_several_columns_is_refused() {
    let c = Case::new(
        "twocol",
        "clients = 20\nduration = \"1h\"\n[client]\noffline = { dist = \"empirical\", file = \"data.csv\" }\n",
    );
    std::fs::write(c.dir.join("data.csv"), "1,600\n2,1200\n3,30\n").unwrap();
    let (code, err) = c.run(&[]);
    assert_eq!(code, 2, "{err}");
    for w in ["s.toml", "client.offline", "data.csv", "line 1", "\"1,600\" holds more than one column"] {
        assert!(err.contains(w), "expected {w:?} in: {err}");
    }
    assert!(!c.dir.join("out").exists());
    // One number per line is read as before.
    std::fs::write(c.dir.join("data.csv"), "# seconds\n600\n1200\n30\n").unwrap();
    assert_eq!(c.run(&[]).0, 0);
}

/// `[cost] file = ""` and a `sha256` pin without a file ran silently on the built-in costs.
#[test]
fn an_empty_cost_file_or_a_pin_without_a_file_is_refused() {
    Case::new("costempty", "clients = 20\nduration = \"1h\"\n[cost]\nfile = \"\"\n")
        .refused(&["cost.file", "an empty path"]);
    Case::new("costpin", "clients = 20\nduration = \"1h\"\n[cost]\nsha256 = \"abc\"\n")
        .refused(&["cost.sha256", "give `file` too"]);
}

/// impsim `args` in `dir`: (exit code, stderr).
fn cli_in(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_impsim")).args(args).current_dir(dir).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Exit 2 and every word in the message, no panic.
fn refused_with(r: (i32, String), words: &[&str]) {
    assert_eq!(r.0, 2, "{}", r.1);
    assert!(!r.1.contains("panicked"), "{}", r.1);
    for w in words {
        assert!(r.1.contains(w), "expected {w:?} in: {}", r.1);
    }
}

/// An unknown metric gets the column it most likely stands for, wherever a metric is named.
#[test]
fn an_unknown_metric_gets_a_did_you_mean() {
    let c = Case::new("metric", OK);
    let d = &c.dir;
    let hint = "did you mean `recovery_success_rate`?";
    refused_with(cli_in(d, &["run", "s.toml", "--check", "recovery_rate>=0.9", "--out", "o"]), &[hint]);
    refused_with(cli_in(d, &["tune", "s.toml", "--target", "recovery_rate>=0.9"]), &["--target", hint]);
    refused_with(
        cli_in(d, &["tune", "s.toml", "--budget", "retained_bytes_pek<=2MiB"]),
        &["--budget", "did you mean `retained_bytes_peak`?"],
    );
    std::fs::write(d.join("t.toml"), format!("{OK}[thresholds]\nrecovery_rate = \">=0.9\"\n")).unwrap();
    refused_with(cli_in(d, &["run", "t.toml", "--out", "o"]), &["thresholds.recovery_rate", hint]);
    std::fs::write(d.join("e.toml"), "name = \"e\"\nscenario = \"s.toml\"\nmetrics = [\"auto_logout\"]\n").unwrap();
    refused_with(cli_in(d, &["run", "e.toml", "--out", "o"]), &["metrics[0]", "did you mean `auto_logouts`?"]);
}

/// A duration without a unit says it needs one; a bound without an operator says which to write.
#[test]
fn a_bare_number_for_a_duration_or_a_bound_is_refused_readably() {
    Case::new("bare", "clients = 20\nretention = 30\n").refused(&["retention", "30 has no unit", "\"30m\""]);
    Case::new("bound", &format!("{OK}[thresholds]\nrecovery_success_rate = \"0.95\"\n")).refused(&[
        "thresholds.recovery_success_rate",
        "has no operator",
        "\">=0.95\" (at least)",
    ]);
    Case::new("bound2", &format!("{OK}[thresholds]\nrecovery_success_rate = 0.95\n"))
        .refused(&["thresholds.recovery_success_rate", "0.95 has no operator"]);
    Case::new("bound3", &format!("{OK}[thresholds]\nrecovery_success_rate = \">0.95\"\n"))
        .refused(&["\">0.95\" has no operator"]);
}

/// What a message echoes from a file or a value has its control characters escaped (an escape
/// sequence must not recolour the terminal) and a data file's line is cut, not echoed whole.
#[test]
fn echoed_values_are_escaped_and_cut() {
    let c = Case::new("echo", OK);
    let (code, err) = cli_in(&c.dir, &["run", "s.toml", "--set", "retention=\x1b[31mred\x07", "--out", "o"]);
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "raw control characters: {err:?}");
    assert!(err.contains("\\u{1b}[31mred\\u{7}"), "{err:?}");
    std::fs::write(c.dir.join("long.csv"), format!("1\n{}\n", "x".repeat(5000))).unwrap();
    std::fs::write(
        c.dir.join("l.toml"),
        format!("{OK}[client]\noffline = {{ dist = \"empirical\", file = \"long.csv\" }}\n"),
    )
    .unwrap();
    let (code, err) = cli_in(&c.dir, &["run", "l.toml", "--out", "o"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line 2") && err.contains("...") && err.len() < 400, "{err}");
    std::fs::write(c.dir.join("k.toml"), "clients = 20\n\"ret\\u001bention\" = \"1h\"\n").unwrap();
    let (code, err) = cli_in(&c.dir, &["run", "k.toml", "--out", "o"]);
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains('\x1b'), "raw control characters: {err:?}");
}

/// bench's counts must be at least 1: exit 2 saying so, not exit 1 with a path of the build.
#[test]
fn bench_refuses_zero_clients_or_repeats() {
    let c = Case::new("bench0", OK);
    for args in [&["bench", "--clients", "0"][..], &["bench", "--clients", "10,0"], &["bench", "--repeat", "0"]] {
        let (code, err) = cli_in(&c.dir, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("0 is not in 1..="), "{args:?}: {err}");
        assert!(!err.contains(env!("CARGO_MANIFEST_DIR")), "{args:?}: {err}");
    }
    assert!(!c.dir.join("results").exists());
}

/// tune, live and bench take a scenario; given an experiment they say so.
#[test]
fn an_experiment_given_where_a_scenario_is_taken_is_named_as_such() {
    let c = Case::new("notscenario", OK);
    std::fs::write(c.dir.join("e.toml"), "name = \"e\"\nscenario = \"s.toml\"\n[sweep]\nretention = [\"1m\"]\n")
        .unwrap();
    let words = ["e.toml", "is an experiment", "takes a scenario, not an experiment"];
    refused_with(cli_in(&c.dir, &["tune", "e.toml"]), &words);
    refused_with(cli_in(&c.dir, &["live", "e.toml", "--broker", "127.0.0.1:1", "--scale", "60"]), &words);
    refused_with(cli_in(&c.dir, &["bench", "--workload", "e.toml", "--clients", "10", "--repeat", "1"]), &words);
}

/// A scenario where nothing can happen runs (it is valid) but says so on stderr.
#[test]
fn a_scenario_where_nothing_can_happen_is_warned_about() {
    let c = Case::new("idle", "clients = 20\nduration = \"1h\"\nstartup = \"2h\"\n");
    let (code, err) = cli_in(&c.dir, &["run", "s.toml", "--out", "o"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: s.toml: no client starts before the run ends"), "{err}");
    std::fs::write(c.dir.join("e.toml"), "name = \"e\"\nscenario = \"s.toml\"\n[sweep]\nclients = [5, 10]\n").unwrap();
    let (code, err) = cli_in(&c.dir, &["run", "e.toml", "--out", "eo"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: e.toml: at point 0"), "{err}");
    std::fs::write(c.dir.join("u.toml"), "clients = 2\nduration = \"1us\"\n").unwrap();
    let (code, err) = cli_in(&c.dir, &["run", "u.toml", "--out", "uo"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("nothing happened in this run"), "{err}");
}

/// A spreadsheet's byte-order mark before the first value is not part of it.
#[test]
fn an_empirical_csv_with_a_byte_order_mark_is_read() {
    let c = Case::new("bom", OK);
    std::fs::write(c.dir.join("bom.csv"), "\u{feff}1\n2\n3\n").unwrap();
    std::fs::write(
        c.dir.join("b.toml"),
        format!("{OK}[client]\noffline = {{ dist = \"empirical\", file = \"bom.csv\" }}\n"),
    )
    .unwrap();
    let (code, err) = cli_in(&c.dir, &["run", "b.toml", "--out", "o"]);
    assert_eq!(code, 0, "{err}");
}
