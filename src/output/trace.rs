//! `--trace FILE`: the transaction stream as CSV, the load a SAP would see, ready to replay.

use super::{OutputError, out_err, partial_name};
use crate::model::{Observer, Transaction};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub(crate) const TRACE_HEADER: &str = "time_us,client,session_id,primitive,type,bytes,status\n";

/// Streams rows to `<FILE>.partial` and renames it to FILE when the run completes.
pub(crate) struct TraceWriter {
    path: PathBuf,
    out: BufWriter<File>,
    error: Option<std::io::Error>,
    pub(crate) rows: u64,
}

impl TraceWriter {
    /// Refuses an existing file unless `force`, and even then one that is not an impsim trace
    /// (its first line is not the trace header).
    pub fn create(path: &Path, force: bool) -> Result<TraceWriter, OutputError> {
        if let Ok(m) = std::fs::symlink_metadata(path) {
            if !m.is_file() {
                return Err(out_err(path, "exists and is not a file; --trace names a file"));
            }
            if !force {
                return Err(out_err(
                    path,
                    "the trace file exists; choose another --trace or pass --force to replace it",
                ));
            }
            let ours = super::read_head(path, TRACE_HEADER.len() as u64).is_ok_and(|h| h == TRACE_HEADER.as_bytes());
            if !ours {
                return Err(out_err(path, "--force refused: this file is not an impsim trace; remove it yourself"));
            }
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| out_err(parent, format!("cannot create the folder: {e}")))?;
        }
        let f = claim_partial(path)?;
        let mut out = BufWriter::with_capacity(1 << 20, f);
        out.write_all(TRACE_HEADER.as_bytes()).map_err(|e| out_err(path, e))?;
        Ok(TraceWriter { path: path.to_path_buf(), out, error: None, rows: 0 })
    }

    pub(crate) fn finish(mut self) -> Result<u64, OutputError> {
        if let Some(e) = self.error.take() {
            return Err(out_err(&self.path, format!("writing the trace failed: {e}")));
        }
        self.out.flush().map_err(|e| out_err(&self.path, e))?;
        std::fs::rename(partial_name(&self.path), &self.path).map_err(|e| out_err(&self.path, e))?;
        Ok(self.rows)
    }
}

/// `<FILE>.partial`, created and locked for as long as this process writes it. One left by a
/// killed run (unlocked, and an impsim trace's beginning) is taken over; one that is locked is
/// another process's live trace, refused, as is anything not an impsim trace.
fn claim_partial(path: &Path) -> Result<File, OutputError> {
    use std::io::{Read, Seek};
    let tmp = partial_name(path);
    let f = match super::create_new(&tmp) {
        Ok(f) => f,
        Err(_) if std::fs::symlink_metadata(&tmp).is_ok_and(|m| m.is_file()) => {
            let mut f = open_existing(&tmp).map_err(|e| out_err(&tmp, e))?;
            match f.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(out_err(
                        path,
                        format!("another impsim process is writing this trace now ({} is locked)", tmp.display()),
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(out_err(&tmp, format!("cannot lock: {e}"))),
            }
            let mut head = Vec::new();
            (&mut f).take(TRACE_HEADER.len() as u64).read_to_end(&mut head).map_err(|e| out_err(&tmp, e))?;
            // A killed run may not have flushed even the header: empty is its too.
            if !TRACE_HEADER.as_bytes().starts_with(&head) {
                return Err(out_err(
                    path,
                    format!(
                        "{} exists and is not an impsim trace, so not impsim's to replace; remove it yourself",
                        tmp.display()
                    ),
                ));
            }
            f.set_len(0).and_then(|()| f.rewind()).map_err(|e| out_err(&tmp, e))?;
            return Ok(f);
        }
        Err(e) => return Err(out_err(path, e)),
    };
    f.try_lock().map_err(|e| out_err(&tmp, format!("cannot lock: {e}")))?;
    Ok(f)
}

/// An existing regular file opened to be rewritten, never through a symbolic link.
#[cfg(target_os = "linux")]
fn open_existing(p: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).write(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(p)
}

#[cfg(not(target_os = "linux"))]
fn open_existing(p: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new().read(true).write(true).open(p)
}

impl Observer for TraceWriter {
    fn transaction(&mut self, t: &Transaction) {
        if self.error.is_some() {
            return;
        }
        let sid = if t.session_id == 0 { String::new() } else { t.session_id.to_string() };
        let r = writeln!(
            self.out,
            "{},{},{},{},{},{},{}",
            t.time.as_micros(),
            t.client,
            sid,
            t.primitive.name(),
            if t.inband { "inband" } else { "outband" },
            t.bytes,
            t.status.code()
        );
        match r {
            Ok(()) => self.rows += 1,
            Err(e) => self.error = Some(e),
        }
    }
}
