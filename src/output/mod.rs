//! Outputs: CSV tables, the manifest, the transaction trace. Every file is written under a
//! temporary name and renamed when complete, and a run's folder appears only when all of its
//! files are written, so an interrupted run never leaves a result that looks complete.

pub mod plot;
pub mod tables;
pub mod trace;

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// An output that could not be written: where, and why.
#[derive(Debug)]
pub struct OutputError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}
impl std::error::Error for OutputError {}

pub fn out_err(path: &Path, e: impl fmt::Display) -> OutputError {
    OutputError { path: path.to_path_buf(), message: e.to_string() }
}

/// A run's output folder, filled under a temporary sibling name and renamed on `commit`.
pub struct Staging {
    target: PathBuf,
    tmp: PathBuf,
    force: bool,
}

impl Staging {
    /// Refuse an existing non-empty folder unless `force`; create the parent if needed.
    pub fn new(target: &Path, force: bool) -> Result<Staging, OutputError> {
        if target.exists() {
            let empty = std::fs::read_dir(target).map(|mut d| d.next().is_none()).unwrap_or(false);
            if !empty && !force {
                return Err(out_err(
                    target,
                    "the output folder exists and is not empty; choose another --out or pass --force to replace it",
                ));
            }
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)
            .map_err(|e| out_err(target, format!("cannot create its parent folder {}: {e}", parent.display())))?;
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
        let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir(&tmp).map_err(|e| out_err(target, format!("cannot create the output folder here: {e}")))?;
        Ok(Staging { target: target.to_path_buf(), tmp, force })
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.tmp.join(file)
    }

    /// Move the finished folder into place.
    pub fn commit(self) -> Result<PathBuf, OutputError> {
        if self.target.exists() && self.force {
            std::fs::remove_dir_all(&self.target).map_err(|e| out_err(&self.target, format!("cannot replace: {e}")))?;
        } else if self.target.exists() {
            // Existing but empty (checked in `new`).
            let _ = std::fs::remove_dir(&self.target);
        }
        std::fs::rename(&self.tmp, &self.target)
            .map_err(|e| out_err(&self.target, format!("cannot move the results into place: {e}")))?;
        Ok(self.target.clone())
    }

    /// Drop the partial folder (on error).
    pub fn abandon(self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }

    /// Move the folder into place if writing it succeeded; otherwise drop it and pass the error on.
    pub fn finish<T>(self, written: Result<T, OutputError>) -> Result<(T, PathBuf), OutputError> {
        match written {
            Ok(v) => Ok((v, self.commit()?)),
            Err(e) => {
                self.abandon();
                Err(e)
            }
        }
    }
}

/// Write a whole file atomically: to `<name>.partial`, then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let tmp = partial_name(path);
    let mut f = std::fs::File::create(&tmp).map_err(|e| out_err(path, format!("cannot create: {e}")))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| out_err(path, format!("cannot write: {e}")))?;
    std::fs::rename(&tmp, path).map_err(|e| out_err(path, format!("cannot rename into place: {e}")))
}

pub fn partial_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}
