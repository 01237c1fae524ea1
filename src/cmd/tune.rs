//! `impsim tune`: the smallest knob value that meets a target within budgets.

use super::{Done, Outcome, ScenarioOptions, usage};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct TuneArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// The field to tune (a dotted path).
    #[arg(long, default_value = "retention")]
    pub knob: String,
    /// Candidate values in ascending order, comma-separated (default for retention: 0s..infinite).
    #[arg(long, value_delimiter = ',')]
    pub values: Vec<String>,
    /// What must hold, e.g. recovery_success_rate>=0.95.
    #[arg(long, default_value = "recovery_success_rate>=0.95")]
    pub target: String,
    /// A limit, e.g. retained_bytes_peak<=2GiB (repeatable).
    #[arg(long)]
    pub budget: Vec<String>,
    /// Runs per candidate value.
    #[arg(long, default_value_t = 5)]
    pub replications: u32,
    #[command(flatten)]
    pub scenario_options: ScenarioOptions,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Independent seeds per candidate instead of common random numbers (replication r of
    /// every candidate using the same seed, the default).
    #[arg(long)]
    pub independent: bool,
    /// Write the search to this folder: candidates.csv, a plot per bound with the
    /// recommendation marked, report.md, report.html, manifest.json.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the --out folder if impsim wrote it.
    #[arg(long)]
    pub force: bool,
    /// Run even if the memory estimate exceeds what this process can use.
    #[arg(long)]
    pub force_memory: bool,
    /// Run even if the estimated event count of a run is absurd (more than 1e11, hours of work).
    #[arg(long)]
    pub force_events: bool,
}

pub fn tune(a: TuneArgs) -> Outcome {
    let TuneArgs {
        scenario,
        knob,
        values,
        target,
        budget,
        replications,
        scenario_options: ScenarioOptions { seed, set },
        threads,
        independent,
        out,
        force,
        force_memory,
        force_events,
    } = a;
    let crn = !independent;
    use impsim::experiment::tune::{Condition, RETENTION_LADDER, Search, check_ascending, describe};
    let (mut base, file_sha256) = impsim::scenario::read_table_hashed(&scenario)?;
    for o in &set {
        if let Err(m) = impsim::scenario::apply_override(&mut base, o) {
            return usage(format!("--set {o}: {m}"));
        }
    }
    let target = match Condition::parse(&target) {
        Ok(c) => c,
        Err(e) => return usage(format!("--target {e}")),
    };
    let mut budgets = Vec::new();
    for b in &budget {
        match Condition::parse(b) {
            Ok(c) => budgets.push(c),
            Err(e) => return usage(format!("--budget {e}")),
        }
    }
    let given_values = values.clone();
    let ladder: Vec<String> = if !values.is_empty() {
        values
    } else if knob == "retention" {
        RETENTION_LADDER.iter().map(|s| s.to_string()).collect()
    } else {
        return usage(format!("--values: give the candidate values of {knob} in ascending order"));
    };
    if replications == 0 {
        return usage("--replications must be at least 1");
    }
    let values = ladder
        .iter()
        .map(|v| {
            toml::from_str::<toml::Table>(&format!("v = {v}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or_else(|| toml::Value::String(v.trim().to_string()))
        })
        .collect::<Vec<_>>();
    if let Err(e) = check_ascending(&values) {
        return usage(e);
    }
    // The file's seed: an integer, or a string for one above 2^63-1.
    let file_seed = base.get("seed").and_then(|s| {
        s.as_integer().and_then(|i| u64::try_from(i).ok()).or_else(|| s.as_str().and_then(|t| t.trim().parse().ok()))
    });
    let seed = seed.or(file_seed).unwrap_or(1);
    let file = scenario.display().to_string();
    let inputs = impsim::experiment::tune_report::TuneInputs {
        name: base.get("name").and_then(|n| n.as_str()).unwrap_or("scenario").to_string(),
        file: file.clone(),
        file_sha256,
        seed,
        replications,
        crn,
        overrides: set.clone(),
        knob: knob.clone(),
        values: given_values,
    };
    let dir = scenario.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let search =
        Search { base, file: &file, base_dir: &dir, knob, values, target, budgets, replications, seed, threads, crn };
    // The guards `run` has: a search of absurd size is refused with the estimate, not aborted.
    let parallel = threads.clamp(1, replications as usize);
    let (need, longest) = search.resources(parallel)?;
    impsim::guard::check_memory(&file, need, parallel, force_memory)?;
    impsim::guard::check_events(&format!("{file} (its longest run)"), longest, force_events)?;
    // A search cut short has no answer: the runs in progress finish, nothing is written.
    super::on_signal(
        "interrupted: finishing the runs in progress; no result is written (Ctrl-C again to abort)",
        "aborted: no result written",
        Vec::new(),
    );
    // Claimed before the search: a bad --out is refused before minutes of work.
    let folder = match &out {
        Some(d) => Some(impsim::experiment::tune_report::Folder::claim(d, force)?),
        None => None,
    };
    let started = std::time::Instant::now();
    // A line per candidate as it is evaluated: rewritten in place on a terminal, one each otherwise (logs, CI).
    let terminal = std::io::stderr().is_terminal();
    let count = std::cell::Cell::new(0usize);
    let progress = |c: &impsim::experiment::tune::Candidate| {
        count.set(count.get() + 1);
        let missed: Vec<&str> = [
            (!c.meets_target, "misses the target"),
            (!c.within_budgets, "over budget"),
            (!c.meets_thresholds, "misses a threshold"),
        ]
        .into_iter()
        .filter_map(|(m, t)| m.then_some(t))
        .collect();
        let verdict = if missed.is_empty() { "meets all".to_string() } else { missed.join(", ") };
        let line = format!(
            "  candidate {}: {}={} {verdict} ({:.1} s)",
            count.get(),
            search.knob,
            c.value,
            started.elapsed().as_secs_f64()
        );
        if terminal {
            say_err_part!("\r{line}\x1b[K");
        } else {
            say_err!("{line}");
        }
    };
    let result = search.run_with(&progress, &crate::STOP);
    if terminal && count.get() > 0 {
        say_err_part!("\r\x1b[K");
    }
    match result {
        Ok(None) => {
            if let Some(f) = folder {
                f.abandon();
            }
            say_err!("interrupted: the search was stopped before its answer; nothing written");
            Ok(Done::Interrupted)
        }
        Ok(Some(outcome)) => {
            say_part!("{}", describe(&outcome, replications));
            say!("  ({} candidates in {:.1} s)", outcome.evaluated.len(), started.elapsed().as_secs_f64());
            if let Some(f) = folder {
                let dir = f.write(&outcome, &inputs)?;
                say!("  wrote {} (report.md, report.html, candidates.csv, plots)", dir.display());
            }
            // Like a failed threshold: a pipeline must not read "no answer" as success.
            if outcome.recommended.is_some() { Ok(Done::Success) } else { Ok(Done::NothingMeets) }
        }
        Err(e) => {
            if let Some(f) = folder {
                f.abandon();
            }
            Err(e.into())
        }
    }
}
