//! One error type for everything impsim can fail with, so that a program using the library can
//! tell bad input from an unwritable output or a refused run. The command line maps each kind to
//! its exit code (main.rs, and only there); the library never exits.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why an impsim operation did not complete. Every message names what was wrong (the file, the
/// field or option, and what is allowed) so it can be shown to a person as it is.
#[derive(Debug)]
pub enum Error {
    /// A scenario or experiment file, or a value given for one, is not valid input.
    Input(InputError),
    /// Command-line options are wrong or contradict each other (e.g. `--trace` on an experiment).
    Usage(String),
    /// An output folder or file cannot be created, replaced, written or read back.
    Output(OutputError),
    /// A guard refused to start: the work would not fit in memory or would take hours
    /// (`--force-memory` and `--force-events` override it).
    Refused(String),
    /// A run stopped advancing: its events kept repeating at one instant of simulated time
    /// (a scenario with zero-length periods); the message says when and what to check.
    Stalled(String),
    /// The machine failed under impsim: a child process died, the executable cannot be found.
    Host(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::Input(e) => e.fmt(f),
            Error::Output(e) => e.fmt(f),
            Error::Usage(m) | Error::Refused(m) | Error::Stalled(m) | Error::Host(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Input(e) => Some(e),
            Error::Output(e) => Some(e),
            _ => None,
        }
    }
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Error {
        Error::Input(e)
    }
}

impl From<OutputError> for Error {
    fn from(e: OutputError) -> Error {
        Error::Output(e)
    }
}

/// A refused input: which file, which field, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    /// The file refused, as named.
    pub file: String,
    /// Dotted path of the field, empty when the problem is not one field's.
    pub(crate) field: String,
    pub(crate) message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: field `{}`: {}", self.file, self.field, self.message)
        }
    }
}

impl std::error::Error for InputError {}

/// A refused input of `file`'s `field` (empty: not one field's), and why.
pub(crate) fn err(file: &str, field: &str, message: impl Into<String>) -> InputError {
    InputError { file: file.to_string(), field: field.to_string(), message: message.into() }
}

/// An output that could not be written: where, and why.
#[derive(Debug)]
pub struct OutputError {
    pub(crate) path: PathBuf,
    /// Why it could not be written.
    pub message: String,
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}
impl std::error::Error for OutputError {}

/// An output error about `path`.
pub fn out_err(path: &Path, e: impl fmt::Display) -> OutputError {
    OutputError { path: path.to_path_buf(), message: e.to_string() }
}
