//! Shared helpers: a quiet single-client scenario with every random process off, so a test
//! switches on exactly the behaviour it is about.
#![allow(dead_code)]

use impsim::model::cost::Primitive;
use impsim::model::sap::Status;
use impsim::model::{Params, Transaction};
use impsim::run::{Report, simulate};
use std::path::Path;

pub const QUIET: &str = r#"
name = "quiet"
clients = 1
duration = "10h"
startup = "0s"
retention = "30m"
[users]
devices = [1.0]
[context]
services = 2
capabilities = 3
presence_subscriptions = 4
notification_subscriptions = 1
joined_groups = 2
[client]
four_way_share = 0.0
versions = { "1.3" = 1.0 }
syntaxes = { wbxml = 1.0 }
requested_ttl = "10m"
keepalive_ratio = 0.8
activity = "never"
session_length = "36500d"
offline = "1h"
logout_prob = 0.0
recover_prob = 1.0
relogin_delay = "1m"
client_id_change_prob = 0.0
abandon_prob = 0.0
[transport_break]
every = "never"
duration = "10s"
[device_off]
every = "never"
duration = "10m"
[network]
rtt = "100ms"
[sap]
workers = 4
ttl_min = "1m"
ttl_max = "1h"
versions = ["1.3"]
disconnect_every = "never"
[sap.service]
login = "0s"
keepalive = "0s"
logout = "0s"
negotiation = "0s"
subscribe = "0s"
activity = "0s"
version_discovery = "0s"
resubscribe = "0s"
"#;

/// The closed-form setting (tests/closed_form.rs): SAP disconnects at rate 1/60 min per session,
/// the client back after an exponential 10 min, nothing else (no network delay, infinite TTL,
/// no hold of disconnected sessions beyond the retention).
pub const CLOSED_FORM: [&str; 6] = [
    "network.rtt=0s",
    "client.requested_ttl=infinite",
    "sap.ttl_max=infinite",
    "sap.disconnect_every={dist=\"exponential\",mean=\"60m\"}",
    "sap.reestablish_after_disconnect=false",
    "client.relogin_delay={dist=\"exponential\",mean=\"10m\"}",
];

/// The bundled default scenario (experiments/default.toml) with `--set`-style overrides.
pub fn default_scenario(overrides: &[&str]) -> Params {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml");
    impsim::scenario::load(&path, &o).unwrap_or_else(|e| panic!("{e}"))
}

/// The quiet scenario with `--set`-style overrides.
pub fn quiet(overrides: &[&str]) -> Params {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    impsim::scenario::parse(QUIET, "quiet.toml", Path::new("."), &o).unwrap_or_else(|e| panic!("{e}"))
}

pub fn run(p: Params) -> (Report, Vec<Transaction>) {
    simulate(p, Vec::new())
}

pub fn count(r: &Report, column: &str) -> u64 {
    let v = r.metric(column);
    assert!(v.is_finite(), "column {column} is {v}, not a count");
    v as u64
}

/// (primitive, inband, session_id, status) of each row, for sequence assertions.
pub fn steps(trace: &[Transaction]) -> Vec<(Primitive, bool, u64, Status)> {
    trace.iter().map(|t| (t.primitive, t.inband, t.session_id, t.status)).collect()
}

/// A counter over the whole run: the warm-up's count plus the measured window's (the trace
/// covers the whole run; the summary only the window).
pub fn whole_run(r: &Report, f: impl Fn(&impsim::model::metrics::Counters) -> u64) -> u64 {
    f(&r.outcome.metrics.warmup) + f(&r.outcome.metrics.c)
}

pub const MIN: u64 = 60_000_000;
pub const SEC: u64 = 1_000_000;

/// A fresh, empty temporary folder for test `what` (named after the process, so parallel test
/// binaries never share one).
pub fn fresh_dir(what: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("impsim-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run the impsim binary: (exit code, stdout, stderr).
pub fn impsim_cli(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_impsim")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The sum of a column over a CSV text's rows (empty cells skipped).
pub fn column_sum(csv: &str, column: &str) -> f64 {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let i = header.iter().position(|h| *h == column).unwrap_or_else(|| panic!("no column {column}"));
    lines.filter_map(|l| l.split(',').nth(i).and_then(|v| v.parse::<f64>().ok())).sum()
}
