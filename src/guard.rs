//! Resource guards, checked before anything runs: a run's memory against what this process may
//! really use (MemAvailable, the cgroup's limit, RLIMIT_AS), its event count against what
//! finishes in reasonable time, and an experiment's size. Each refusal says what was estimated
//! and how to go on (`--force-memory`, `--force-events`); forcing still ends in a clear error,
//! not an abort, when the memory cannot be had.

use crate::Error;
use crate::engine::time::MICROS;
use crate::model::params::Params;

const GIB: f64 = (1u64 << 30) as f64;

/// Bytes a run of `p` holds at its peak: per client its record (with its session at the SAP),
/// a retained context and a few pending events; per timeseries sample what its row costs on
/// the way out (measured: ~650 bytes per sample with the CSV text, plots and the steady-state
/// check, 1M samples of 100 clients peaked at 668 MB); and the process's fixed part.
pub fn run_memory(p: &Params) -> u64 {
    use crate::model::client::Client;
    use crate::model::context::Retained;
    let per_client = std::mem::size_of::<Client>() + std::mem::size_of::<Retained>() + 4 * 8;
    (p.clients as u64)
        .saturating_mul(per_client as u64)
        .saturating_add(samples(p).saturating_mul(700))
        .saturating_add(16 << 20)
}

fn samples(p: &Params) -> u64 {
    p.duration.0 / p.sample_every.0.max(MICROS) + 1
}

/// What a finished run of an experiment keeps until the end (its summary row and its samples
/// as text: ~4 KiB and ~250 bytes each).
pub(crate) fn record_memory(p: &Params) -> u64 {
    4096 + samples(p).saturating_mul(250)
}

/// Memory an experiment needs: `parallel` runs at once of the biggest point, every finished
/// run's record, and each point's resolved scenario (~100 KiB, see `MAX_POINTS`).
pub fn experiment_memory(points: &[&Params], replications: u32, parallel: usize) -> u64 {
    let biggest = points.iter().map(|p| run_memory(p)).max().unwrap_or(0);
    let records: u64 =
        points.iter().map(|p| record_memory(p).saturating_mul(replications as u64)).fold(0, u64::saturating_add);
    biggest
        .saturating_mul(parallel as u64)
        .saturating_add(records)
        .saturating_add((points.len() as u64).saturating_mul(100 << 10))
}

/// Memory a `tune` search needs: `parallel` runs at once of its biggest candidate, and for each
/// of a candidate's replications its seed and the few figures kept of the run (~128 bytes).
pub fn tune_memory(biggest: &Params, replications: u32, parallel: usize) -> u64 {
    run_memory(biggest).saturating_mul(parallel as u64).saturating_add((replications as u64).saturating_mul(128))
}

/// Bytes this process can still get: the least of the machine's MemAvailable, what its cgroup
/// (v2 or v1) allows beyond its current use, and the address space RLIMIT_AS leaves.
pub(crate) fn available_memory() -> Option<u64> {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let num = |s: Option<String>| s.and_then(|t| t.trim().parse::<u64>().ok());
    let mut limits = Vec::new();
    if let Some(s) = read("/proc/meminfo")
        && let Some(kb) = s
            .lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
    {
        limits.push(kb * 1024);
    }
    for (max, cur) in [
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ] {
        if let (Some(m), Some(c)) = (num(read(max)), num(read(cur))) {
            limits.push(m.saturating_sub(c));
        }
    }
    if let Some(l) = address_space_left() {
        limits.push(l);
    }
    limits.into_iter().min()
}

#[cfg(target_os = "linux")]
fn address_space_left() -> Option<u64> {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes the struct we pass and nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut r) } != 0 || r.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status.lines().find(|l| l.starts_with("VmSize:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(r.rlim_cur.saturating_sub(kb * 1024))
}

#[cfg(not(target_os = "linux"))]
fn address_space_left() -> Option<u64> {
    None
}

/// Refuse a run or sweep that needs more than 90% of what is available. With `force`, still
/// try to reserve the memory, so that a request the system refuses outright (RLIMIT_AS, no
/// overcommit) ends here with a message rather than in an abort half-way.
pub fn check_memory(what: &str, need: u64, parallel: usize, force: bool) -> Result<(), Error> {
    if !force
        && let Some(avail) = available_memory()
        && need > avail / 10 * 9
    {
        return Err(Error::Refused(format!(
            "{what}: needs about {:.1} GiB ({parallel} run(s) at once and the results kept) but this process can use \
             {:.1} GiB (the least of free memory, its cgroup's limit and RLIMIT_AS); use fewer clients or \
             replications, a longer sample_every or fewer --threads, or pass --force-memory to run anyway",
            need as f64 / GIB,
            avail as f64 / GIB
        )));
    }
    let mut probe: Vec<u8> = Vec::new();
    probe.try_reserve_exact(usize::try_from(need).unwrap_or(usize::MAX)).map_err(|_| {
        Error::Refused(format!(
            "{what}: the system refused {:.1} GiB of memory, which this run needs; nothing was run",
            need as f64 / GIB
        ))
    })
}

/// Events a run of `p` is expected to process: per client, every recurring process (activity,
/// transport breaks, device-off periods, SAP disconnects, the session and offline periods,
/// KeepAlives at the shortest TTL the SAP grants) at its mean rate, a few events each. An
/// upper estimate (the default scenario runs about half of it).
pub fn events(p: &Params) -> f64 {
    let mut p = p.clone();
    let mut per_second = 0.0;
    for (field, d) in p.dists_mut() {
        let recurring = field.ends_with("every")
            || field == "client.activity"
            || field == "client.offline"
            || field == "client.session_length";
        if recurring && d.mean() > 0.0 {
            per_second += 1.0 / d.mean();
        }
    }
    let keepalive = p.sap.ttl_min.0.as_micros() as f64 / 1e6 * p.client.keepalive_ratio;
    if keepalive > 0.0 {
        per_second += 1.0 / keepalive;
    }
    p.clients as f64 * (p.duration.0.as_micros() as f64 / 1e6) * per_second * 4.0
}

/// More events than this (about 5 hours at the simulator's 5-7 M events/s) need `--force-events`.
pub(crate) const EVENT_LIMIT: f64 = 1e11;

/// Refuse a run or sweep expected to process more than `EVENT_LIMIT` events, unless `force`.
pub fn check_events(what: &str, events: f64, force: bool) -> Result<(), Error> {
    if force || events <= EVENT_LIMIT {
        return Ok(());
    }
    let hours = events / 6e6 / 3600.0;
    let time = if hours < 48.0 { format!("{hours:.0} hours") } else { format!("{:.0} days", hours / 24.0) };
    Err(Error::Refused(format!(
        "{what}: would process about {events:.1e} events, {time} at 6 M events/s on one core; check the \
         distributions' means (a mean of microseconds repeats millions of times a second), or pass --force-events \
         to run anyway"
    )))
}

/// Peak resident memory of this process (Linux), if known.
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Raise this process's open-file limit towards `want` (up to the hard limit), refusing if
/// even `need` is out of reach: a live run holds a socket per virtual client, and a second one
/// for a client whose old connection is left silent. Returns the limit now in force.
#[cfg(target_os = "linux")]
pub fn raise_open_files(need: u64, want: u64) -> Result<u64, String> {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read or write the struct we pass and nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
        return Err("cannot read the open-file limit".into());
    }
    let want = want.max(need).min(r.rlim_max);
    if r.rlim_cur >= want {
        return Ok(r.rlim_cur);
    }
    if r.rlim_max < need {
        return Err(format!(
            "needs {need} open files (a socket per client, and some) but the hard limit is {}; raise it \
             (ulimit -Hn, or LimitNOFILE) or run fewer clients",
            r.rlim_max
        ));
    }
    let new = libc::rlimit { rlim_cur: want, rlim_max: r.rlim_max };
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } != 0 {
        return Err(format!("cannot raise the open-file limit from {} to {want}", r.rlim_cur));
    }
    Ok(want)
}

/// See the Linux version; elsewhere the limit is left as it is.
#[cfg(not(target_os = "linux"))]
pub fn raise_open_files(need: u64, _want: u64) -> Result<u64, String> {
    Ok(need)
}
