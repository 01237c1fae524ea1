//! Input files, read exactly once: a scenario, an experiment, an empirical CSV. `-` (or
//! /dev/stdin) is standard input, read once and kept; anything else must be a regular file
//! (a FIFO would hang, a device such as /dev/zero would never end) no bigger than the limit
//! for its kind. Each read yields the bytes and their SHA-256, which the manifest records.

use std::io::Read;
use std::path::Path;
use std::sync::Mutex;

/// Scenario and experiment files: a few KiB in practice.
pub(crate) const TEXT_LIMIT: u64 = 1 << 20;
/// Empirical CSVs: millions of observations fit.
pub(crate) const DATA_LIMIT: u64 = 256 << 20;

/// An input as read: its text and the SHA-256 of its bytes.
#[derive(Clone, Debug)]
pub(crate) struct Input {
    pub(crate) text: String,
    pub(crate) sha256: String,
}

/// Standard input, once read (a second read of a pipe would be empty).
static STDIN: Mutex<Option<Input>> = Mutex::new(None);

pub(crate) fn is_stdin(path: &Path) -> bool {
    path == Path::new("-") || path == Path::new("/dev/stdin")
}

/// Read `path` whole (at most `limit` bytes) as UTF-8 text.
pub(crate) fn read(path: &Path, limit: u64) -> Result<Input, String> {
    if is_stdin(path) {
        let mut cached = STDIN.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = &*cached {
            return Ok(i.clone());
        }
        let input = read_from(std::io::stdin().lock(), limit)?;
        *cached = Some(input.clone());
        return Ok(input);
    }
    let f = crate::output::open_regular(path).map_err(|why| {
        if why.starts_with("is a folder") {
            format!("{why}; give a file")
        } else if why.starts_with("is not a regular file") {
            format!("{why}; give a file, or - for standard input")
        } else {
            why
        }
    })?;
    let meta = f.metadata().map_err(|e| e.to_string())?;
    if meta.len() > limit {
        return Err(too_big(limit));
    }
    read_from(f, limit)
}

fn read_from(r: impl Read, limit: u64) -> Result<Input, String> {
    let mut bytes = Vec::new();
    r.take(limit + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(too_big(limit));
    }
    // Nothing at all is not a scenario: a failed generator upstream of a pipe gives this, and
    // running the built-in defaults instead would fake a result.
    if bytes.is_empty() {
        return Err("is empty (0 bytes); give the file's text (a file of only comments means the defaults)".into());
    }
    let sha256 = crate::output::sha256_hex(&bytes);
    let text =
        String::from_utf8(bytes).map_err(|e| format!("is not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))?;
    Ok(Input { text, sha256 })
}

fn too_big(limit: u64) -> String {
    format!("is larger than {} MiB, more than this kind of input can be", limit >> 20)
}
