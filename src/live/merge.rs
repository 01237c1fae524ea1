//! `impsim merge` of live shards: the folders `impsim live --shard I/N` wrote, joined into the
//! result of the whole run. The strict check is pooled over every shard's attempts, the
//! driver's count of retained sessions is the sum of the shards' (each shard's times moved to
//! shard 0's clock by their recorded starts), the brokers' `$SYS` figures come from shard 0
//! (the one that watched them), the simulation is of the whole population over the window the
//! shards drove, and a shard that fell behind or met a failing broker decides the verdict as
//! it would have alone.

use super::compare::{Comparison, Limit, Phase, compare, verdict};
use super::driver::Shard;
use super::measured::{Attempt, BrokerSeen, Ending, FAILURES_SHOWN, Measured};
use super::report::Source;
use super::scale::Scale;
use crate::Error;
use crate::model::Params;
use crate::output::{MANIFEST_LIMIT, read_text};
use crate::run::Report;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// CSV files of a shard are read up to this size.
const CSV_LIMIT: u64 = 4 << 30;

/// Whether `dir` holds a live run or shard (its manifest says `"mode": "live"`).
pub fn is_live(dir: &Path) -> bool {
    read_text(&dir.join("manifest.json"), MANIFEST_LIMIT)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .is_some_and(|m| m["mode"] == "live")
}

/// One shard folder, read.
struct ShardRead {
    dir: PathBuf,
    manifest: Value,
    shard: Shard,
    m: Measured,
    phases: Vec<Phase>,
}

fn refuse(dir: &Path, why: impl std::fmt::Display) -> Error {
    Error::Usage(format!("{}: {why}", dir.display()))
}

/// The rows of `file` in `dir` as string records, the header checked.
fn rows(dir: &Path, file: &str, header: &[&str]) -> Result<Vec<csv::StringRecord>, Error> {
    let p = dir.join(file);
    let text = read_text(&p, CSV_LIMIT).map_err(|e| refuse(&p, e))?;
    let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let got = r.headers().map_err(|e| refuse(&p, e))?.clone();
    if got.iter().collect::<Vec<_>>() != header {
        return Err(refuse(&p, format!("expected the columns {} (a live shard's file)", header.join(","))));
    }
    r.records().map(|x| x.map_err(|e| refuse(&p, e))).collect()
}

fn num(p: &Path, s: &str) -> Result<f64, Error> {
    if s.is_empty() {
        return Ok(f64::NAN);
    }
    s.parse::<f64>().map_err(|_| refuse(p, format!("`{s}` is not a number")))
}

fn index(p: &Path, s: &str, n: usize) -> Result<usize, Error> {
    s.parse::<usize>().ok().filter(|&b| b < n).ok_or_else(|| refuse(p, format!("broker `{s}` is not one of {n}")))
}

/// A phase as a shard's manifest recorded it.
fn phase_of(v: &Value, shard: Shard) -> Phase {
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let why = v["why"].as_str().unwrap_or_default().to_string();
    let name = format!("{} (shard {shard})", v["phase"].as_str().unwrap_or("steady"));
    let limit = match v["limit"].as_str().unwrap_or_default() {
        "the load generator" => Limit::LoadGenerator(format!("shard {shard}: {why}")),
        "the machine" => Limit::Machine(format!("shard {shard}: {why}")),
        "the broker" => Limit::Broker(format!("shard {shard}: {why}")),
        _ => Limit::Neither,
    };
    Phase {
        name,
        seconds: f("seconds"),
        actions: v["actions"].as_u64().unwrap_or(0),
        late_p50_ms: f("late_p50_ms"),
        late_p99_ms: f("late_p99_ms"),
        late_max_ms: f("late_max_ms"),
        driver_cores: f("driver_cores"),
        broker_cores: v["broker_cores"].as_f64(),
        machine_busy: f("machine_busy"),
        limit,
    }
}

/// Read one shard folder: its manifest, attempts, sessions and `$SYS` figures.
fn read_shard(dir: &Path) -> Result<ShardRead, Error> {
    let mp = dir.join("manifest.json");
    let text = read_text(&mp, MANIFEST_LIMIT).map_err(|e| refuse(&mp, e))?;
    let manifest: Value = serde_json::from_str(&text).map_err(|e| refuse(&mp, format!("not JSON: {e}")))?;
    if manifest["mode"] != "live" {
        return Err(refuse(dir, "not a live shard (its manifest's mode is not \"live\")"));
    }
    let shard = Shard::parse(manifest["shard"].as_str().unwrap_or_default()).map_err(|e| refuse(&mp, e))?;
    let brokers = manifest["brokers"].as_array().map_or(0, Vec::len);
    if brokers == 0 {
        return Err(refuse(&mp, "names no broker"));
    }
    let d = &manifest["driver"];
    let counts = &d["counts"];
    let count = |k: &str| counts[k].as_u64().unwrap_or(0);
    let mut m = Measured {
        fresh: count("fresh"),
        broker_closed: count("broker_closed"),
        orphans_closed: count("orphans_closed"),
        logouts: count("logouts"),
        packets: count("packets"),
        bytes: count("bytes"),
        driver_failures: count("driver_failures"),
        failure_messages: d["failure_messages"]
            .as_array()
            .map(|v| v.iter().filter_map(|x| x.as_str().map(|s| format!("shard {shard}: {s}"))).collect())
            .unwrap_or_default(),
        wall_seconds: d["wall_seconds"].as_f64().unwrap_or(0.0),
        ramp_seconds: d["ramp_seconds"].as_f64().unwrap_or(0.0),
        start_epoch: d["start_epoch"].as_f64().unwrap_or(0.0),
        threads: d["threads"].as_u64().unwrap_or(1) as usize,
        cores: d["cores"].as_u64().unwrap_or(1) as usize,
        clients: d["clients"].as_u64().unwrap_or(0) as u32,
        peak_rss: d["peak_rss_bytes"].as_u64().unwrap_or(0),
        ending: match d["ending"].as_str().unwrap_or_default() {
            e if e.starts_with("STOPPED EARLY") => Ending::Aborted(format!("shard {shard}: {e}")),
            e if e.starts_with("INTERRUPTED") => Ending::Interrupted,
            e if e.starts_with("stopped at --time-limit") => Ending::TimeLimit,
            _ => Ending::Finished,
        },
        brokers: (0..brokers)
            .map(|b| BrokerSeen {
                addr: manifest["brokers"][b].as_str().unwrap_or_default().to_string(),
                failures: counts["broker_failures"][b].as_u64().unwrap_or(0),
                monitor_lost: d["monitor_lost"][b].as_f64(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let p = dir.join("attempts.csv");
    for r in rows(
        dir,
        "attempts.csv",
        &["client", "broker", "sent_s", "session_present", "predicted", "margin_s", "connack_ms"],
    )? {
        m.attempts.push(Attempt {
            client: r[0].parse().map_err(|_| refuse(&p, format!("client `{}`", &r[0])))?,
            broker: index(&p, &r[1], brokers)?,
            sent: num(&p, &r[2])?,
            session_present: &r[3] == "1",
            predicted: match &r[4] {
                "" => None,
                x => Some(x == "1"),
            },
            margin: num(&p, &r[5]).map(|x| if x.is_nan() { 0.0 } else { x })?,
            latency: num(&p, &r[6])? / 1e3,
        });
    }
    let p = dir.join("sessions.csv");
    for r in rows(dir, "sessions.csv", &["broker", "from_s", "to_s"])? {
        let b = index(&p, &r[0], brokers)?;
        let to = num(&p, &r[2])?;
        m.brokers[b].retained_seen.push((num(&p, &r[1])?, if to.is_nan() { f64::INFINITY } else { to }));
    }
    let p = dir.join("sys.csv");
    for r in rows(dir, "sys.csv", &["broker", "real_s", "figure", "value"])? {
        let b = &mut m.brokers[index(&p, &r[0], brokers)?];
        let (t, v) = (num(&p, &r[1])?, num(&p, &r[3])?);
        match &r[2] {
            "retained" => b.retained.push((t, v)),
            "connected" => b.connected.push((t, v)),
            "heap" => b.heap.push((t, v)),
            "refresh" => b.refreshes.push(t),
            other => return Err(refuse(&p, format!("unknown figure `{other}`"))),
        }
    }
    let phases = d["phases"].as_array().map(|v| v.iter().map(|x| phase_of(x, shard)).collect()).unwrap_or_default();
    Ok(ShardRead { dir: dir.to_path_buf(), manifest, shard, m, phases })
}

/// Move every time of `m` by `by` seconds (onto shard 0's clock).
fn shift(m: &mut Measured, by: f64) {
    for a in &mut m.attempts {
        a.sent += by;
    }
    for b in &mut m.brokers {
        for v in [&mut b.retained, &mut b.connected, &mut b.heap] {
            for x in v.iter_mut() {
                x.0 += by;
            }
        }
        for x in &mut b.retained_seen {
            (x.0, x.1) = (x.0 + by, x.1 + by);
        }
        for t in &mut b.refreshes {
            *t += by;
        }
        b.monitor_lost = b.monitor_lost.map(|t| t + by);
    }
}

/// What the merge keeps of shard 0's folder while it joins the rest.
struct FirstShard {
    dir: PathBuf,
    manifest: Value,
}

/// What the merge produced.
pub struct Merged {
    /// The folder written.
    pub dir: PathBuf,
    /// The comparison of the whole run.
    pub comparison: Comparison,
}

/// Join the live shards in `dirs` into `out` (replacing a folder impsim wrote only with `force`).
pub fn merge(dirs: &[PathBuf], out: &Path, force: bool) -> Result<Merged, Error> {
    let mut shards = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for d in dirs {
        if let Ok(real) = d.canonicalize()
            && !seen.insert(real)
        {
            return Err(refuse(d, "is given twice; give each shard folder once"));
        }
        shards.push(read_shard(d)?);
    }
    let first = shards.first().ok_or_else(|| Error::Usage("impsim merge: give the shard folders".into()))?;
    let (first_dir, manifest, n) = (first.dir.clone(), first.manifest.clone(), first.shard.count);
    let first = FirstShard { dir: first_dir, manifest };
    for s in &shards {
        for key in ["scenario_sha256", "seed", "scale", "brokers", "overrides", "late_limit_ms", "scenario"] {
            if s.manifest[key] != first.manifest[key] {
                return Err(refuse(
                    &s.dir,
                    format!("this shard's {key} differs from {}'s: merge the shards of one run", first.dir.display()),
                ));
            }
        }
        if s.shard.count != n {
            return Err(refuse(&s.dir, format!("a shard of {}, not of {n}", s.shard.count)));
        }
    }
    let mut have: Vec<u32> = shards.iter().map(|s| s.shard.index).collect();
    have.sort_unstable();
    if have != (0..n).collect::<Vec<_>>() {
        let shown: Vec<String> = have.iter().map(|i| (i + 1).to_string()).collect();
        return Err(Error::Usage(format!(
            "impsim merge: the run has {n} shards and these folders hold shards {}: give each of 1..{n} once",
            shown.join(", ")
        )));
    }
    let params: Params = serde_json::from_value(first.manifest["scenario"].clone())
        .map_err(|e| refuse(&first.dir, format!("its manifest's scenario cannot be read back: {e}")))?;
    let scale = Scale::new(first.manifest["scale"].as_u64().unwrap_or(0) as u32).map_err(|e| refuse(&first.dir, e))?;
    let late_limit_ms = first.manifest["late_limit_ms"].as_f64().unwrap_or(20.0);
    shards.sort_by_key(|s| s.shard.index);
    let epoch0 = shards[0].m.start_epoch;
    let mut phases = Vec::new();
    let mut whole = Measured::default();
    for (i, s) in shards.iter_mut().enumerate() {
        let mut m = std::mem::take(&mut s.m);
        let by = m.start_epoch - epoch0;
        shift(&mut m, by);
        phases.extend(s.phases.iter().cloned());
        let (wall, ending, threads, cores, rss) =
            (m.wall_seconds + by, m.ending.clone(), m.threads, m.cores, m.peak_rss);
        // The brokers' own figures: shard 0's only (the one that watched them).
        if i > 0 {
            for b in &mut m.brokers {
                (b.retained, b.connected, b.heap, b.refreshes) = Default::default();
            }
        }
        whole.absorb(m);
        whole.wall_seconds = whole.wall_seconds.max(wall);
        whole.threads = whole.threads.max(threads);
        whole.cores = cores;
        whole.peak_rss = whole.peak_rss.max(rss);
        if whole.ending == Ending::Finished || matches!(ending, Ending::Aborted(_)) {
            whole.ending = ending;
        }
    }
    whole.sort();
    whole.failure_messages.truncate(FAILURES_SHOWN);
    whole.start_epoch = epoch0;
    whole.ramp_seconds = phases.iter().filter(|p| p.name.starts_with("ramp")).map(|p| p.seconds).fold(0.0, f64::max);
    let driven = std::time::Duration::from_secs_f64(whole.wall_seconds.max(0.0));
    let (sim, ()): (Report, ()) = crate::run::simulate(super::comparison_params(&params, scale, driven), ());
    let mut c = compare(&sim, &whole, late_limit_ms);
    // Timing is each driver process's own: the merged row is the worst shard's.
    let worst = |key: &str, q: &str| {
        shards.iter().filter_map(|s| s.manifest["driver"][key][q].as_f64()).fold(f64::NAN, f64::max)
    };
    let worst_phase = |q: &str, p: &str| {
        shards.iter().filter_map(|s| s.manifest["driver"]["lateness_ms"][p][q].as_f64()).fold(f64::NAN, f64::max)
    };
    let per_client = shards
        .iter()
        .map(|s| {
            let d = &s.manifest["driver"];
            d["peak_rss_bytes"].as_f64().unwrap_or(f64::NAN) / d["clients"].as_f64().unwrap_or(f64::NAN).max(1.0)
        })
        .fold(f64::NAN, f64::max);
    for r in &mut c.rows {
        r.live = match r.metric.as_str() {
            "reconnect_latency_ms_p50" => worst("connack_ms", "p50"),
            "reconnect_latency_ms_p99" => worst("connack_ms", "p99"),
            "driver_lateness_ms_p99_ramp" => worst_phase("p99", "ramp"),
            "driver_lateness_ms_p50" => worst_phase("p50", "steady"),
            "driver_lateness_ms_p99" => worst_phase("p99", "steady"),
            "driver_bytes_per_client" => per_client,
            _ => r.live,
        };
    }
    c.phases = phases;
    c.verdict = verdict(&whole, &c.rows, &c.phases);
    let brokers: Vec<String> = first.manifest["brokers"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x.as_str().map(String::from)).collect())
        .unwrap_or_default();
    let overrides: Vec<String> = first.manifest["overrides"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x.as_str().map(String::from)).collect())
        .unwrap_or_default();
    let src = Source {
        file: first.manifest["scenario_file"].as_str().unwrap_or_default(),
        sha256: first.manifest["scenario_sha256"].as_str().unwrap_or_default(),
        overrides: &overrides,
        brokers: &brokers,
        seed: params.seed,
        shard: Shard::WHOLE,
        late_limit_ms,
        params: &params,
    };
    let dir = super::report::write_merged(out, force, &sim, &c, &whole, scale, &src, dirs)?;
    Ok(Merged { dir, comparison: c })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_reads_back_from_the_manifest_as_it_ran() {
        let p = Params { seed: u64::MAX, clients: 1234, ..Params::default() };
        let back: Params = serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
        assert_eq!(format!("{back:?}"), format!("{p:?}"));
    }

    #[test]
    fn shifting_moves_every_time_onto_shard_zeros_clock() {
        let mut m = Measured {
            attempts: vec![Attempt {
                client: 1,
                broker: 0,
                sent: 1.0,
                session_present: true,
                predicted: None,
                margin: 0.0,
                latency: 0.0,
            }],
            brokers: vec![BrokerSeen {
                retained: vec![(2.0, 7.0)],
                retained_seen: vec![(3.0, 4.0)],
                refreshes: vec![5.0],
                monitor_lost: Some(6.0),
                ..Default::default()
            }],
            ..Default::default()
        };
        shift(&mut m, 0.5);
        assert_eq!(m.attempts[0].sent, 1.5);
        let b = &m.brokers[0];
        assert_eq!(
            (b.retained[0], b.retained_seen[0], b.refreshes[0], b.monitor_lost),
            ((2.5, 7.0), (3.5, 4.5), 5.5, Some(6.5))
        );
    }
}
