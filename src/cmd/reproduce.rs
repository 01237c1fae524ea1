//! `impsim reproduce RESULT`: rerun a result from its manifest (inputs checked by SHA-256, the
//! same seed, overrides and shard) into a new folder and say, file by file, whether the bytes
//! match.

use super::{Done, Outcome, usage};
use crate::STOP;
use impsim::folder::{RunOutput, SweepEnd, SweepOptions, experiment_to_folder, run_to_folder};
use impsim::reproduce::{Rerun, compare_folders, plan};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ReproduceArgs {
    /// A result folder impsim wrote (a run's or an experiment's), or its manifest.json.
    pub result: PathBuf,
    /// Where to write the rerun (default: a fresh results/runs/reproduce-<name>); never the
    /// result's own folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an existing --out folder, only if impsim wrote it.
    #[arg(long)]
    pub force: bool,
    /// Worker threads for an experiment (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn reproduce(a: ReproduceArgs) -> Outcome {
    let ReproduceArgs { result, out, force, threads } = a;
    let plan = plan(&result)?;
    let name = match &plan.rerun {
        Rerun::Run { params, .. } => format!("{}-seed{}", params.name, params.seed),
        Rerun::Experiment { exp, .. } => exp.name.clone(),
    };
    let dir =
        out.unwrap_or_else(|| impsim::folder::fresh_folder(&PathBuf::from(format!("results/runs/reproduce-{name}"))));
    let same = |a: &std::path::Path, b: &std::path::Path| match (std::fs::canonicalize(a), std::path::absolute(b)) {
        (Ok(x), Ok(y)) => x == y || std::fs::canonicalize(b).is_ok_and(|y| x == y),
        _ => false,
    };
    let inside = match (std::fs::canonicalize(&plan.folder), std::path::absolute(&dir)) {
        (Ok(r), Ok(o)) => o.starts_with(&r),
        _ => false,
    };
    if same(&plan.folder, &dir) || inside {
        return usage(format!(
            "--out {}: the rerun never goes into the result it checks; choose another folder",
            dir.display()
        ));
    }
    say_err!(
        "impsim {}: reproducing {} (written by impsim {}) into {}",
        env!("CARGO_PKG_VERSION"),
        plan.folder.display(),
        plan.written_by,
        dir.display()
    );
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    match &plan.rerun {
        Rerun::Run { params, source, sha256, overrides, checks } => {
            let spec = RunOutput { dir: &dir, force, trace: None, source, source_sha256: sha256, overrides, checks };
            run_to_folder((**params).clone(), &spec)?;
        }
        Rerun::Experiment { exp, shard } => {
            let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
            let opts = SweepOptions { threads, shard: *shard, force, resume: false };
            if let SweepEnd::Partial { .. } =
                experiment_to_folder(exp, &dir, &opts, &impsim::experiment::NoProgress, &STOP)?
            {
                say!("  interrupted: the rerun in {} is partial; nothing compared", dir.display());
                return Ok(Done::Interrupted);
            }
        }
    }
    let c = compare_folders(&plan.folder, &dir)?;
    for f in &c.identical {
        say!("  identical  {f}");
    }
    for f in &c.differ {
        say!("  DIFFERS    {f}");
    }
    for f in &c.missing {
        say!("  MISSING    {f} (the original has it, the rerun does not)");
    }
    for f in &c.extra {
        say!("  EXTRA      {f} (the rerun writes it, the original does not have it)");
    }
    if c.reproduced() {
        say!(
            "reproduced: {} files byte for byte (manifest.json without wall time, speed, memory, threads and build)",
            c.identical.len()
        );
        return Ok(Done::Success);
    }
    say!(
        "NOT reproduced: {} of {} files differ or are missing; the rerun is kept in {}",
        c.differ.len() + c.missing.len() + c.extra.len(),
        c.identical.len() + c.differ.len() + c.missing.len() + c.extra.len(),
        dir.display()
    );
    if plan.written_by != env!("CARGO_PKG_VERSION") {
        say!(
            "  (the result was written by impsim {}, this is {}: the versions may differ in the model)",
            plan.written_by,
            env!("CARGO_PKG_VERSION")
        );
    }
    Ok(Done::Differs)
}
