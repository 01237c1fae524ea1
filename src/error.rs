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
    /// A broker under `impsim live` cannot be reached, refused every session, or stopped
    /// answering: the server's failure, never the model's.
    Broker(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::Input(e) => e.fmt(f),
            Error::Output(e) => e.fmt(f),
            Error::Usage(m) | Error::Refused(m) | Error::Stalled(m) | Error::Host(m) | Error::Broker(m) => {
                f.write_str(m)
            }
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

/// `text` as a message may echo it: control and invisible formatting characters escaped (a
/// value from a file must not move the cursor or recolour a terminal), cut after `max`
/// characters with "..." (a data file's line is not echoed whole).
pub(crate) fn shown(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push_str("...");
            break;
        }
        if invisible(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A message as printed: `shown` line by line (a line cut after 2,000 characters), its line
/// breaks kept.
pub fn printable(message: &str) -> String {
    message.split('\n').map(|l| shown(l, 2000)).collect::<Vec<_>>().join("\n")
}

/// Characters a terminal acts on or does not show: control codes, zero-width and direction
/// marks, the byte-order mark.
pub fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Levenshtein distance, for "did you mean".
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + (ca != *cb) as usize).min(row[j] + 1).min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The known name `name` most likely stands for: the nearest by edit distance if within a
/// third of its length, else the shortest holding every `_`-separated word of it
/// (`recovery_rate` -> `recovery_success_rate`).
pub(crate) fn nearest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let best = known.iter().min_by_key(|k| edit_distance(name, k))?;
    if edit_distance(name, best) <= name.chars().count().div_ceil(3).max(1) {
        return Some(best);
    }
    let words: Vec<&str> = name.split('_').filter(|w| !w.is_empty()).collect();
    known
        .iter()
        .filter(|k| !words.is_empty() && words.iter().all(|w| k.split('_').any(|x| x == *w)))
        .min_by_key(|k| k.len())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_are_escaped_and_cut_and_names_suggested() {
        assert_eq!(shown("a\x1b[31mb\r\u{202e}", 40), "a\\u{1b}[31mb\\r\\u{202e}");
        assert_eq!(shown("abcdef", 3), "abc...");
        let known = ["recovery_success_rate", "retained_bytes_peak", "auto_logouts"];
        assert_eq!(nearest("recovery_rate", &known), Some("recovery_success_rate"));
        assert_eq!(nearest("auto_logout", &known), Some("auto_logouts"));
        assert_eq!(nearest("retained_bytes_pek", &known), Some("retained_bytes_peak"));
        assert_eq!(nearest("zzz", &known), None);
    }
}
