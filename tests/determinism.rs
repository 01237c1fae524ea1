//! Same scenario and seed, same bytes: summary.csv, timeseries.csv and the trace, whether
//! runs happen one after another or at the same time on several threads; another seed, another
//! run. And a client's whole history depends only on (seed, client): adding clients that do not
//! compete with it for the SAP changes none of its transactions.

use impsim::folder::{RunOutput, run_to_folder};
use impsim::model::Transaction;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("impsim-det-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// summary.csv, timeseries.csv and the trace of one run, as bytes.
fn run_once(dir: &Path, seed: u64) -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml");
    let mut p =
        impsim::scenario::load(&path, &["clients=800".into(), "duration=8h".into(), "warmup=2h".into()]).unwrap();
    p.seed = seed;
    let trace = dir.with_extension("trace.csv");
    let spec = RunOutput {
        dir,
        force: true,
        trace: Some(&trace),
        source: "default.toml",
        source_sha256: "",
        overrides: &[],
        checks: &[],
    };
    run_to_folder(p, &spec).unwrap();
    let files = ["summary.csv", "timeseries.csv"].map(|f| std::fs::read(dir.join(f)).unwrap());
    let mut out = files.to_vec();
    out.push(std::fs::read(&trace).unwrap());
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_file(trace);
    out
}

/// summary.csv without its `seed` column: what the run measured, not what it was told.
fn measured(summary: &[u8]) -> Vec<(String, String)> {
    let text = std::str::from_utf8(summary).unwrap();
    let mut lines = text.lines();
    let (head, row) = (lines.next().unwrap(), lines.next().unwrap());
    assert!(lines.next().is_none(), "summary.csv is one header and one row");
    let pairs: Vec<(String, String)> =
        head.split(',').zip(row.split(',')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(pairs.len(), head.split(',').count(), "as many values as columns");
    pairs.into_iter().filter(|(k, _)| k != "seed").collect()
}

#[test]
fn same_seed_gives_byte_identical_outputs_sequentially_and_on_threads() {
    let a = run_once(&tmp("a"), 7);
    assert!(a[2].len() > 100_000, "the trace holds the whole transaction stream");
    let b = run_once(&tmp("b"), 7);
    for (i, name) in ["summary.csv", "timeseries.csv", "the trace"].iter().enumerate() {
        assert!(a[i] == b[i], "a rerun with the same seed changed {name}");
    }
    let threads: Vec<_> = ["c", "d"]
        .iter()
        .map(|n| {
            let dir = tmp(n);
            std::thread::spawn(move || run_once(&dir, 7))
        })
        .collect();
    for t in threads {
        assert!(t.join().unwrap() == a, "a concurrent run with the same seed changed the bytes");
    }
    // Another seed is another run: other transactions and other numbers, not only another
    // value in the `seed` column.
    let other = run_once(&tmp("e"), 8);
    assert!(other[2] != a[2], "seed 8 gives the same trace as seed 7: the seed is not used");
    assert_ne!(measured(&other[0]), measured(&a[0]), "seed 8 measures the same summary as seed 7");
    assert!(other[1] != a[1], "seed 8 gives the same timeseries as seed 7");
}

/// Every transaction of each client, by client. The SAP numbers Session-IDs in the order it
/// hands them out, across all clients, so each client's IDs are renumbered in the order that
/// client first used them (0 stays 0: no Session-ID): the same sessions, the same pattern.
fn by_client(trace: Vec<Transaction>) -> BTreeMap<u32, Vec<Transaction>> {
    let mut out: BTreeMap<u32, Vec<Transaction>> = BTreeMap::new();
    let mut names: BTreeMap<(u32, u64), u64> = BTreeMap::new();
    for mut t in trace {
        if t.session_id != 0 {
            let next = names.iter().filter(|((c, _), _)| *c == t.client).count() as u64 + 1;
            t.session_id = *names.entry((t.client, t.session_id)).or_insert(next);
        }
        out.entry(t.client).or_default().push(t);
    }
    out
}

fn population(clients: u32, seed: u64) -> BTreeMap<u32, Vec<Transaction>> {
    // Default clients, but a SAP with no service time: nobody waits behind another client, so
    // nothing but the draws could make one client's history depend on the others.
    let mut o = vec![format!("clients={clients}"), format!("seed={seed}"), "duration=24h".into(), "warmup=0s".into()];
    for k in
        ["login", "keepalive", "logout", "negotiation", "subscribe", "activity", "version_discovery", "resubscribe"]
    {
        o.push(format!("sap.service.{k}=0s"));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml");
    let p = impsim::scenario::load(&path, &o).unwrap();
    let (_, trace) = impsim::run::simulate(p, Vec::new());
    by_client(trace)
}

#[test]
fn adding_clients_leaves_every_transaction_of_the_others_unchanged() {
    // A client's profile and every draw depend only on (seed, client, purpose): each of the
    // first 10 clients has the same whole history, transaction for transaction, in a population
    // of 10 and of 20.
    let (small, big) = (population(10, 1), population(20, 1));
    assert_eq!(small.len(), 10, "every client of the small population transacts");
    for (c, rows) in &small {
        assert!(rows.len() > 20, "client {c} has a day of transactions");
        let other = &big[c];
        let first = rows.iter().zip(other).position(|(x, y)| x != y);
        assert!(
            first.is_none() && rows.len() == other.len(),
            "client {c}: {} transactions among 10 clients, {} among 20; first difference at #{:?}: {:?} vs {:?}",
            rows.len(),
            other.len(),
            first,
            first.map(|i| &rows[i]),
            first.map(|i| &other[i])
        );
    }
    let sessions: u64 = small.values().map(|rows| rows.iter().map(|t| t.session_id).max().unwrap_or(0)).sum();
    assert!(sessions >= 15, "the 10 clients hold {sessions} sessions in a day: too few to compare");
    // The comparison can fail: under another seed the same clients live other histories.
    let reseeded = population(20, 2);
    for c in 0..10 {
        assert_ne!(small[&c], reseeded[&c], "client {c} has the same history under seeds 1 and 2");
    }
}
