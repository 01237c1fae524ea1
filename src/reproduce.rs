//! `impsim reproduce`: read a result's manifest, check that its inputs are the ones it was made
//! from (their SHA-256), rerun it exactly (file, seed, `--set` overrides, shard) and compare the
//! two folders byte for byte (the manifest as JSON, without what describes the machine).

use crate::Error;
use crate::experiment::{Experiment, Shard};
use crate::model::Params;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// manifest.json fields that describe the machine, the moment or the build, not the result.
pub const VOLATILE: [&str; 5] = ["wall_seconds", "events_per_second", "peak_rss_bytes", "threads", "impsim_commit"];

/// What to rerun.
pub enum Rerun {
    /// One scenario run.
    Run {
        /// The resolved scenario (file, overrides and seed applied).
        params: Box<Params>,
        /// The scenario file, as the manifest names it.
        source: String,
        /// Its SHA-256 (checked equal to the manifest's).
        sha256: String,
        /// The `--set` overrides it ran with.
        overrides: Vec<String>,
        /// The `--check` conditions it ran with.
        checks: Vec<String>,
    },
    /// An experiment, or one shard of it.
    Experiment {
        /// The experiment, resolved again from its file with its overrides and seed.
        exp: Box<Experiment>,
        /// The shard the folder holds.
        shard: Shard,
    },
}

/// A result to reproduce.
pub struct Plan {
    /// The result's folder.
    pub folder: PathBuf,
    /// What to run.
    pub rerun: Rerun,
    /// The impsim version that wrote the result.
    pub written_by: String,
}

fn refuse(manifest: &Path, why: impl std::fmt::Display) -> Error {
    Error::Usage(format!("{}: {why}", manifest.display()))
}

/// Where a file named by the manifest (`file`, a path as the run was given it, so relative to
/// the folder it was started in) is now, checked to hold the bytes it had then (`sha256`).
/// Looked for as written from here, then from the result's folder and each folder above it
/// (a result kept inside the tree it was made in, reproduced from anywhere), and, for a
/// relative path, nowhere else: the first with the recorded bytes wins.
fn locate(manifest: &Path, folder: &Path, file: &str, sha256: &str) -> Result<PathBuf, Error> {
    let written = Path::new(file);
    let mut candidates = vec![written.to_path_buf()];
    if written.is_relative() {
        let start = std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf());
        candidates.extend(start.ancestors().map(|a| a.join(written)));
    }
    let mut changed = None;
    for c in &candidates {
        // Only regular files (and standard input never): a FIFO here would block.
        if !c.metadata().is_ok_and(|m| m.is_file()) {
            continue;
        }
        match crate::input::read(c, crate::input::TEXT_LIMIT) {
            Ok(input) if input.sha256 == sha256 => return Ok(c.clone()),
            Ok(input) => {
                changed.get_or_insert((c.clone(), input.sha256));
            }
            Err(_) => {}
        }
    }
    Err(match changed {
        Some((at, now)) => refuse(
            manifest,
            format!(
                "its input {file} has changed since ({} has SHA-256 {now} where the manifest says {sha256})",
                at.display()
            ),
        ),
        None => refuse(
            manifest,
            format!(
                "cannot find its input {file}: looked for it from here and from the result's folder and each folder above it"
            ),
        ),
    })
}

/// Read the manifest at `path` (a result folder or its manifest.json) and what rerunning it takes.
pub fn plan(path: &Path) -> Result<Plan, Error> {
    let (folder, mp) = if path.is_dir() {
        (path.to_path_buf(), path.join("manifest.json"))
    } else {
        (
            path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf(),
            path.to_path_buf(),
        )
    };
    let m = crate::output::finished_manifest(&mp)?;
    let written_by = m["impsim_version"]
        .as_str()
        .or(m["experiment"]["impsim_version"].as_str())
        .ok_or_else(|| refuse(&mp, "not a manifest impsim wrote (no impsim_version)"))?
        .to_string();
    if m["mode"] == "live" {
        return Err(refuse(
            &mp,
            "a live run against a broker cannot be reproduced byte for byte (the broker and the network are real); \
             rerun it with the command in its report.md, its simulated column comes out the same",
        ));
    }
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default()
    };
    let rerun = if let Some(meta) = m.get("experiment") {
        let meta: crate::experiment::results::Meta = serde_json::from_value(meta.clone())
            .map_err(|e| refuse(&mp, format!("not an experiment manifest: {e}")))?;
        let Some(inputs) = m["inputs"].as_array() else {
            return Err(refuse(
                &mp,
                "a merged result records no inputs of its own: reproduce each shard's folder, or rerun the experiment whole",
            ));
        };
        let recorded: Vec<(String, String)> = inputs
            .iter()
            .map(|i| (i["file"].as_str().unwrap_or("").to_string(), i["sha256"].as_str().unwrap_or("").to_string()))
            .collect();
        // The experiment file is the first input; the others (its scenario) resolve from it.
        let (first, sha) = recorded.first().ok_or_else(|| refuse(&mp, "records no inputs"))?;
        let at = locate(&mp, &folder, first, sha)?;
        let mut exp = crate::experiment::load(&at, &meta.overrides)?;
        let now: Vec<&String> = exp.inputs.iter().map(|(_, h)| h).collect();
        let then: Vec<&String> = recorded.iter().map(|(_, h)| h).collect();
        if now != then {
            return Err(refuse(
                &mp,
                format!("the inputs of {} have changed since (their SHA-256 differ from the manifest's)", at.display()),
            ));
        }
        // Named as the manifest names them, wherever they were found: the rerun's manifest is
        // compared with the original's.
        exp.inputs = recorded;
        exp.file = meta.file.clone();
        exp.seed = meta.seed;
        exp.add_checks(&meta.check_args).map_err(|m| refuse(&mp, m))?;
        if !crate::experiment::results::Meta::of(&exp).same_experiment(&meta) {
            return Err(refuse(&mp, format!("{} no longer resolves to the scenarios the manifest records", meta.file)));
        }
        let shard = match m["shard"].as_str() {
            Some(s) => Shard::parse(s).map_err(|e| refuse(&mp, format!("shard {s}: {e}")))?,
            None => Shard::all(),
        };
        Rerun::Experiment { exp: Box::new(exp), shard }
    } else if let Some(source) = m["scenario_file"].as_str() {
        let sha256 = m["scenario_sha256"].as_str().unwrap_or("").to_string();
        let at = locate(&mp, &folder, source, &sha256)?;
        let overrides = strings(&m["overrides"]);
        let mut params = crate::scenario::load(&at, &overrides)?;
        // A string since seeds above 2^53 are not JSON-safe numbers; a number in older manifests.
        params.seed = m["seed"]
            .as_u64()
            .or_else(|| m["seed"].as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| refuse(&mp, "no seed"))?;
        if serde_json::to_value(&params).ok().as_ref() != Some(&m["scenario"]) {
            return Err(refuse(&mp, format!("{source} no longer resolves to the scenario the manifest records")));
        }
        let checks = strings(&m["check_args"]);
        Rerun::Run { params: Box::new(params), source: source.to_string(), sha256, overrides, checks }
    } else if let Some(c) = m["command"].as_str().filter(|_| m.get("tune").is_some()) {
        return Err(refuse(
            &mp,
            format!(
                "a tune search, which reproduce does not rerun; rerun it with `{c}` and compare its candidates.csv"
            ),
        ));
    } else {
        return Err(refuse(&mp, "neither a run's nor an experiment's manifest"));
    };
    Ok(Plan { folder, rerun, written_by })
}

/// How two result folders compare.
#[derive(Debug, Default, PartialEq)]
pub struct Comparison {
    /// Files with the same bytes (manifest.json: the same JSON without `VOLATILE`).
    pub identical: Vec<String>,
    /// Files in both that differ.
    pub differ: Vec<String>,
    /// Files only the original has.
    pub missing: Vec<String>,
    /// Files only the rerun has.
    pub extra: Vec<String>,
}

impl Comparison {
    /// Every file the same, none missing or added.
    pub fn reproduced(&self) -> bool {
        self.differ.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

fn listing(dir: &Path) -> Result<BTreeSet<String>, Error> {
    Ok(std::fs::read_dir(dir)
        .map_err(|e| Error::Output(crate::output::out_err(dir, e)))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect())
}

/// `v` without the `VOLATILE` fields, at any depth.
pub fn without_volatile(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for k in VOLATILE {
                m.remove(k);
            }
            m.values_mut().for_each(without_volatile);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(without_volatile),
        _ => {}
    }
}

/// A result's file, whole: only a regular file (a FIFO planted in a folder would hang).
fn read_all(p: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    crate::output::open_regular(p)?.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// Compare every file of two result folders.
pub fn compare_folders(original: &Path, rerun: &Path) -> Result<Comparison, Error> {
    let (a, b) = (listing(original)?, listing(rerun)?);
    let mut c = Comparison {
        missing: a.difference(&b).cloned().collect(),
        extra: b.difference(&a).cloned().collect(),
        ..Comparison::default()
    };
    for f in a.intersection(&b) {
        let read = |d: &Path| read_all(&d.join(f)).map_err(|e| Error::Output(crate::output::out_err(&d.join(f), e)));
        let (x, y) = (read(original)?, read(rerun)?);
        let same = if f == "manifest.json" {
            let parse = |b: &[u8]| {
                serde_json::from_slice::<serde_json::Value>(b).ok().map(|mut v| {
                    without_volatile(&mut v);
                    v
                })
            };
            parse(&x).is_some() && parse(&x) == parse(&y)
        } else {
            x == y
        };
        if same { c.identical.push(f.clone()) } else { c.differ.push(f.clone()) }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let d = std::env::temp_dir().join(format!("impsim-repro-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for (f, t) in files {
            std::fs::write(d.join(f), t).unwrap();
        }
        d
    }

    #[test]
    fn folders_compare_file_by_file_and_the_manifest_without_the_machine() {
        let a = folder(
            "a",
            &[
                ("summary.csv", "x\n1\n"),
                ("manifest.json", r#"{"seed": 1, "wall_seconds": 3.2, "inner": {"threads": 2}}"#),
                ("old.csv", "o"),
                (".NAME.partial", ""),
            ],
        );
        let b = folder(
            "b",
            &[
                ("summary.csv", "x\n1\n"),
                ("manifest.json", r#"{"seed": 1, "wall_seconds": 9.9, "inner": {"threads": 8}}"#),
                ("new.csv", "n"),
            ],
        );
        let c = compare_folders(&a, &b).unwrap();
        assert_eq!(c.identical, ["manifest.json", "summary.csv"]);
        assert_eq!((c.missing, c.extra), (vec!["old.csv".to_string()], vec!["new.csv".to_string()]));
        std::fs::write(b.join("summary.csv"), "x\n2\n").unwrap();
        std::fs::write(b.join("manifest.json"), r#"{"seed": 2, "wall_seconds": 9.9}"#).unwrap();
        std::fs::remove_file(b.join("new.csv")).unwrap();
        std::fs::write(b.join("old.csv"), "o").unwrap();
        let c = compare_folders(&a, &b).unwrap();
        assert_eq!(c.differ, ["manifest.json", "summary.csv"]);
        assert!(!c.reproduced());
        let c = compare_folders(&a, &a).unwrap();
        assert!(c.reproduced() && c.identical.len() == 3);
        for d in [a, b] {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
