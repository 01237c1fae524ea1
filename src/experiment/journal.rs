//! The journal of an experiment in progress (one JSON line per finished run, so a killed sweep
//! resumes), and the checks that a result folder's runs are whole: each run once, in range,
//! matching its checksum.

use super::results::{Meta, RunRecord};
use crate::output::{OutputError, out_err, write_atomic};
use std::path::Path;

/// Finished runs appended one JSON line each to the staging folder as they complete, so a
/// sweep killed by SIGKILL or the out-of-memory killer loses only the runs in progress. The
/// first line names the experiment and shard; each run's line carries its checksum. A line
/// is written with one `write` call, so a kill leaves at worst one incomplete last line.
pub struct Journal {
    /// The file and the length of its complete lines.
    file: std::sync::Mutex<(std::fs::File, u64)>,
    path: std::path::PathBuf,
}

impl Journal {
    /// Start the journal afresh with the runs already done (from a resumed folder or an
    /// earlier journal), written whole before any new run starts.
    pub fn create(path: &Path, meta: &Meta, shard: Option<&str>, done: &[RunRecord]) -> Result<Journal, OutputError> {
        let mut text = serde_json::json!({ "experiment": meta, "shard": shard }).to_string();
        text.push('\n');
        for r in done {
            text.push_str(&journal_line(r));
        }
        write_atomic(path, text.as_bytes())?;
        let file = std::fs::OpenOptions::new().append(true).open(path).map_err(|e| out_err(path, e))?;
        Ok(Journal { file: std::sync::Mutex::new((file, text.len() as u64)), path: path.to_path_buf() })
    }

    /// Append a finished run. A write that fails (a full disk) is cut back to the last complete
    /// line, so the journal stays readable and `--resume` can use what it holds.
    pub(crate) fn append(&self, r: &RunRecord) -> Result<(), OutputError> {
        use std::io::Write;
        let line = journal_line(r);
        let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let (f, len) = &mut *guard;
        match f.write_all(line.as_bytes()) {
            Ok(()) => {
                *len += line.len() as u64;
                Ok(())
            }
            Err(e) => {
                let _ = f.set_len(*len);
                Err(out_err(
                    &self.path,
                    format!(
                        "cannot journal a finished run: {e}; the runs journaled so far are kept: make room, then --resume"
                    ),
                ))
            }
        }
    }
}

pub(super) fn journal_line(r: &RunRecord) -> String {
    let mut line = serde_json::json!({
        "point": r.point, "replication": r.replication, "columns": r.columns, "values": r.values,
        "samples": r.samples, "sha256": r.checksum(),
    })
    .to_string();
    line.push('\n');
    line
}

/// The runs a journal holds, if it belongs to this experiment and shard. An incomplete last
/// line (the process was killed while writing it) is dropped: that run is simply run again.
pub fn read_journal(path: &Path, meta: &Meta, shard: Option<&str>) -> Result<Vec<RunRecord>, OutputError> {
    if std::fs::symlink_metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        return Ok(Vec::new());
    }
    let text = match crate::output::read_text(path, u64::MAX >> 1) {
        Ok(t) => t,
        // Unreadable is not empty: starting afresh would rewrite it and drop its runs.
        Err(e) => return Err(out_err(path, format!("cannot read the journal of finished runs: {e}"))),
    };
    let mut lines = text.split_inclusive('\n');
    let Some(head) = lines.next() else { return Ok(Vec::new()) };
    let head: serde_json::Value =
        serde_json::from_str(head).map_err(|e| out_err(path, format!("not an impsim journal: {e}")))?;
    let theirs: Meta = serde_json::from_value(head["experiment"].clone())
        .map_err(|e| out_err(path, format!("not an impsim journal: {e}")))?;
    if !theirs.same_experiment(meta) || head["shard"].as_str() != shard {
        return Err(out_err(
            path,
            "this journal belongs to another experiment (or shard); --resume needs the same one (a run without --resume, with --force, discards it)",
        ));
    }
    if let Some(why) = theirs.other_checks(meta) {
        return Err(out_err(path, why));
    }
    let mut records = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for line in lines {
        if !line.ends_with('\n') {
            break; // cut short by a kill
        }
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
            out_err(path, format!("a damaged line: {e}; delete it (that run is then run again) or the journal"))
        })?;
        let r: Option<RunRecord> = (|| {
            let strings = |x: &serde_json::Value| -> Option<Vec<String>> {
                x.as_array()?.iter().map(|s| s.as_str().map(String::from)).collect()
            };
            Some(RunRecord {
                point: v["point"].as_u64()? as usize,
                replication: u32::try_from(v["replication"].as_u64()?).ok()?,
                columns: strings(&v["columns"])?,
                values: strings(&v["values"])?,
                samples: v["samples"].as_array()?.iter().map(strings).collect::<Option<_>>()?,
            })
        })();
        let r = r.ok_or_else(|| out_err(path, "a line that is not a run"))?;
        if r.point >= meta.points.len()
            || r.replication >= meta.replications
            || v["sha256"].as_str() != Some(&r.checksum())
        {
            return Err(out_err(
                path,
                format!(
                    "run {}/{}: damaged or out of range; delete its line (that run is then run again) or the journal",
                    r.point, r.replication
                ),
            ));
        }
        if seen.insert((r.point, r.replication)) {
            records.push(r);
        }
    }
    Ok(records)
}

/// Every run of the folder exactly once, in range, and as written: its checksum is the one
/// the manifest recorded (which also finds a run whose samples were cut short).
pub(super) fn check_runs(
    dir: &Path,
    manifest: &serde_json::Value,
    meta: &Meta,
    records: &[RunRecord],
) -> Result<(), OutputError> {
    let mp = dir.join("manifest.json");
    let Some(sums) = manifest.get("run_sha256").and_then(|s| s.as_object()) else {
        return Err(out_err(&mp, "has no per-run checksums (written by an older impsim); run the experiment again"));
    };
    let mut seen = std::collections::BTreeSet::new();
    for r in records {
        let key = format!("{}/{}", r.point, r.replication);
        if r.replication >= meta.replications {
            return Err(out_err(
                dir,
                format!(
                    "run {key}: replication {} is out of range (the experiment has {})",
                    r.replication, meta.replications
                ),
            ));
        }
        if !seen.insert((r.point, r.replication)) {
            return Err(out_err(dir, format!("run {key} appears twice in runs.csv")));
        }
        match sums.get(&key).and_then(|s| s.as_str()) {
            Some(s) if s == r.checksum() => {}
            Some(_) => {
                return Err(out_err(
                    dir,
                    format!(
                        "run {key}: its rows differ from what was written (checksum mismatch; edited or truncated?)"
                    ),
                ));
            }
            None => return Err(out_err(dir, format!("run {key} is not in the manifest"))),
        }
    }
    if sums.len() != records.len() {
        let missing: Vec<&String> =
            sums.keys().filter(|k| !records.iter().any(|r| format!("{}/{}", r.point, r.replication) == **k)).collect();
        return Err(out_err(
            dir,
            format!(
                "runs.csv lacks run(s) the manifest lists: {}",
                missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(())
}
