//! Outputs: CSV tables, the manifest, the transaction trace. Every file is written under a
//! temporary name and renamed when complete, and a run's folder appears only when all of its
//! files are written, so an interrupted run never leaves a result that looks complete.

pub(crate) mod document;
mod glyphs;
pub mod plot;
pub mod quantity;
pub(crate) mod settings;
pub mod tables;
pub mod trace;

use std::io::Write;
use std::path::{Path, PathBuf};

pub use crate::error::{OutputError, out_err};

/// A run's output folder, filled in a hidden sibling `.NAME.partial` and renamed into place on
/// `commit`. The staging folder is locked while a process writes it, so two runs on one `--out`
/// cannot mix; a sweep journals each finished run there (see `journal`), so work survives a
/// SIGKILL or an out-of-memory kill and `--resume` picks it up.
pub(crate) struct Staging {
    target: PathBuf,
    tmp: PathBuf,
    force: bool,
    /// Held for the staging folder's life: the lock is released when the process ends, however.
    _lock: std::fs::File,
}

/// The staging folders this process holds, so that an abort (a second Ctrl-C) removes exactly
/// those (see `abandon_all`), never another process's.
static HELD: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn held() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    HELD.lock().unwrap_or_else(|e| e.into_inner())
}

/// Drop every staging folder this process holds, as `Staging::abandon` does (a journal of
/// finished runs is kept for `--resume`): what an abort leaves is nothing half-written.
pub fn abandon_all() {
    for tmp in held().drain(..) {
        // The writer may still be adding a file meanwhile: try again until the folder is gone.
        for _ in 0..100 {
            remove_staging(&tmp);
            if std::fs::symlink_metadata(&tmp).is_err() || journal_runs(&tmp.join(JOURNAL)) > 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}

fn remove_staging(tmp: &Path) {
    if journal_runs(&tmp.join(JOURNAL)) > 0 {
        return;
    }
    if let Ok(d) = std::fs::read_dir(tmp) {
        for e in d.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
    }
    let _ = std::fs::remove_dir(tmp);
}

/// The staging folder's lock file and the sweep journal inside it.
const LOCK: &str = ".lock";
pub(crate) const JOURNAL: &str = "journal.jsonl";

/// Whether `target` may become the output folder: a folder of its own (not a symlink, not a
/// file, not a protected place), empty, or replaceable with `force` (see `replaceable`).
fn may_replace(target: &Path, force: bool) -> Result<(), OutputError> {
    if let Ok(m) = std::fs::symlink_metadata(target) {
        if m.file_type().is_symlink() {
            return Err(out_err(target, "is a symbolic link; give the folder itself as --out"));
        }
        if !m.is_dir() {
            return Err(out_err(target, "exists and is not a folder; --out names a folder"));
        }
        // Even empty, these are never an output folder (it would be removed and replaced).
        if let Some(why) = protected(target) {
            return Err(out_err(target, format!("cannot be an output folder: {why}; choose a folder of its own")));
        }
        let empty = std::fs::read_dir(target).map(|mut d| d.next().is_none()).unwrap_or(false);
        if !empty && !force {
            let partial =
                read_text(&target.join("manifest.json"), MANIFEST_LIMIT).is_ok_and(|t| t.contains("\"partial\": true"));
            return Err(out_err(
                target,
                if partial {
                    "holds the partial result of an interrupted sweep; finish it with --resume, or pass --force to replace it"
                } else {
                    "the output folder exists and is not empty; choose another --out or pass --force to replace it"
                },
            ));
        }
        if !empty {
            replaceable(target).map_err(|m| out_err(target, format!("will not replace it: {m}")))?;
        }
    }
    Ok(())
}

/// Lock the staging folder: a second process writing the same output is refused.
fn lock_staging(target: &Path, tmp: &Path) -> Result<std::fs::File, OutputError> {
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(tmp.join(LOCK))
        .map_err(|e| out_err(tmp, format!("cannot create the staging lock: {e}")))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(out_err(
                target,
                format!(
                    "another impsim process is writing this output now (its staging folder {} is locked); \
                     wait for it or choose another --out",
                    tmp.display()
                ),
            ));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(out_err(tmp, format!("cannot lock: {e}"))),
    }
    Ok(lock)
}

impl Staging {
    /// Refuse an existing non-empty folder unless `force` and it is a folder impsim wrote
    /// (see `replaceable`); refuse a staging folder another process is writing; create the
    /// parent if needed. A stale staging folder (its process gone) is cleared, unless it holds
    /// a journal of finished runs: then it is kept with `keep_journal` (`--resume`), cleared
    /// with `force`, and otherwise refused, so finished work is never dropped silently.
    pub fn new(target: &Path, force: bool, keep_journal: bool) -> Result<Staging, OutputError> {
        let target = &out_folder(target)?;
        may_replace(target, force)?;
        let parent = parent_of(target);
        std::fs::create_dir_all(&parent)
            .map_err(|e| out_err(target, format!("cannot create its parent folder {}: {e}", parent.display())))?;
        let tmp = staging_path(target);
        match create_staging(&tmp) {
            Ok(()) => {}
            // Left by an earlier impsim, or planted: trusted only if it is impsim's (see below).
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => ours_staging(&tmp)?,
            Err(e) => return Err(out_err(target, format!("cannot create the output folder here: {e}"))),
        }
        let lock = lock_staging(target, &tmp)?;
        let journal = tmp.join(JOURNAL);
        let finished = journal_runs(&journal);
        if finished > 0 && !keep_journal && !force {
            return Err(out_err(
                target,
                format!(
                    "{} holds {finished} finished run(s) of an interrupted sweep; finish it with --resume, \
                     or pass --force to discard them",
                    tmp.display()
                ),
            ));
        }
        // Clear what an earlier, dead process left (only the files a staging folder holds).
        for entry in std::fs::read_dir(&tmp).map_err(|e| out_err(&tmp, e))?.flatten() {
            let name = entry.file_name();
            if name == LOCK || (keep_journal && name == JOURNAL) {
                continue;
            }
            let p = entry.path();
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                return Err(out_err(&tmp, "holds a folder impsim did not write; remove it by hand"));
            }
            std::fs::remove_file(&p).map_err(|e| out_err(&p, format!("cannot clear a stale staging file: {e}")))?;
        }
        held().push(tmp.clone());
        Ok(Staging { target: target.to_path_buf(), tmp, force, _lock: lock })
    }

    pub(crate) fn path(&self, file: &str) -> PathBuf {
        self.tmp.join(file)
    }

    /// Move the finished folder into place. A folder it replaces (checked by `replaceable`
    /// again, in case it changed meanwhile) loses exactly the files its manifest lists.
    pub(crate) fn commit(self) -> Result<PathBuf, OutputError> {
        held().retain(|t| t != &self.tmp);
        let replaced = match std::fs::symlink_metadata(&self.target) {
            Err(_) => None,
            Ok(_) if std::fs::read_dir(&self.target).map(|mut d| d.next().is_none()).unwrap_or(false) => {
                let _ = std::fs::remove_dir(&self.target);
                None
            }
            Ok(_) if self.force => {
                let files =
                    replaceable(&self.target).map_err(|m| out_err(&self.target, format!("--force refused: {m}")))?;
                let old = parent_of(&self.target).join(format!(
                    ".{}.replaced-{}",
                    short_name(&file_name(&self.target)),
                    std::process::id()
                ));
                std::fs::rename(&self.target, &old)
                    .map_err(|e| out_err(&self.target, format!("cannot move the old folder aside: {e}")))?;
                Some((old, files))
            }
            Ok(_) => return Err(out_err(&self.target, "appeared while the run was in progress; not replaced")),
        };
        if let Err(e) = std::fs::rename(&self.tmp, &self.target) {
            if let Some((old, _)) = &replaced {
                let _ = std::fs::rename(old, &self.target);
            }
            return Err(out_err(
                &self.target,
                format!("cannot move the results into place: {e}; the finished files are in {}", self.tmp.display()),
            ));
        }
        // The journal goes only now: killed a moment earlier, the finished runs were still in
        // it (and a folder left holding it is still impsim's, see `replaceable`).
        let _ = std::fs::remove_file(self.target.join(JOURNAL));
        let _ = std::fs::remove_file(self.target.join(LOCK));
        if let Some((old, files)) = replaced {
            for f in files {
                let _ = std::fs::remove_file(old.join(f));
            }
            let _ = std::fs::remove_dir(&old);
        }
        Ok(self.target.clone())
    }

    /// Drop the staging folder (on error), keeping a journal of finished runs if there is one.
    pub(crate) fn abandon(self) {
        held().retain(|t| t != &self.tmp);
        remove_staging(&self.tmp);
    }

    /// Move the folder into place if writing it succeeded; otherwise drop it and pass the error on.
    pub(crate) fn finish<T, E: From<OutputError>>(self, written: Result<T, E>) -> Result<(T, PathBuf), E> {
        match written {
            Ok(v) => Ok((v, self.commit()?)),
            Err(e) => {
                self.abandon();
                Err(e)
            }
        }
    }
}

/// Create the staging folder `tmp` with its lock file in one step: both are made under a name of
/// this process's own and renamed into place, so a process killed at any moment never leaves a
/// `tmp` without its lock (which a later run would rightly refuse to touch). AlreadyExists if
/// `tmp` is there.
fn create_staging(tmp: &Path) -> std::io::Result<()> {
    if std::fs::symlink_metadata(tmp).is_ok() {
        return Err(std::io::ErrorKind::AlreadyExists.into());
    }
    let name = tmp.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let fresh = tmp.with_file_name(format!("{name}.new-{}", std::process::id()));
    // A leftover of a killed process that had this pid: ours by name, holding at most a lock.
    if std::fs::read_dir(&fresh).is_ok_and(|d| d.flatten().all(|e| e.file_name() == LOCK)) {
        let _ = std::fs::remove_file(fresh.join(LOCK));
        let _ = std::fs::remove_dir(&fresh);
    }
    std::fs::create_dir(&fresh)?;
    let made = std::fs::File::create(fresh.join(LOCK)).and_then(|_| std::fs::rename(&fresh, tmp));
    if made.is_err() {
        let _ = std::fs::remove_file(fresh.join(LOCK));
        let _ = std::fs::remove_dir(&fresh);
        if std::fs::symlink_metadata(tmp).is_ok() {
            return Err(std::io::ErrorKind::AlreadyExists.into()); // another process was first
        }
    }
    made
}

/// Whether an existing staging folder is one impsim made, so that clearing it deletes nothing
/// else: a real folder (not a symbolic link) holding impsim's lock file and nothing but regular
/// files of the kinds impsim writes there.
fn ours_staging(tmp: &Path) -> Result<(), OutputError> {
    let refuse = |why: &str| {
        Err(out_err(tmp, format!("{why}, so it is not impsim's staging folder; move it away or choose another --out")))
    };
    let m = std::fs::symlink_metadata(tmp).map_err(|e| out_err(tmp, e))?;
    if !m.is_dir() {
        return refuse("is a symbolic link or a file");
    }
    if !std::fs::symlink_metadata(tmp.join(LOCK)).is_ok_and(|m| m.is_file()) {
        return refuse("has no lock file");
    }
    for entry in std::fs::read_dir(tmp).map_err(|e| out_err(tmp, e))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        let kind =
            [".csv", ".svg", ".png", ".md", ".html", ".json", ".jsonl", ".partial"].iter().any(|x| name.ends_with(x));
        if !regular || !(name == LOCK || (kind && !name.starts_with('.'))) {
            return refuse(&format!("holds \"{name}\""));
        }
    }
    Ok(())
}

/// Finished runs in a journal: its lines after the header.
fn journal_runs(path: &Path) -> usize {
    let Ok(f) = open_regular(path) else { return 0 };
    let mut lines = 0usize;
    let mut r = std::io::BufReader::new(f);
    loop {
        let buf = match std::io::BufRead::fill_buf(&mut r) {
            Ok([]) | Err(_) => break,
            Ok(b) => b,
        };
        lines += buf.iter().filter(|&&c| c == b'\n').count();
        let n = buf.len();
        std::io::BufRead::consume(&mut r, n);
    }
    lines.saturating_sub(1)
}

/// The most of a manifest impsim reads back (a 10,000-point experiment's is tens of MiB).
pub(crate) const MANIFEST_LIMIT: u64 = 256 << 20;

/// Open `path` for reading only if it is a regular file: opened without blocking (a FIFO
/// would wait for a writer forever, even through SIGTERM) and checked on the handle, so what
/// is read is what was checked. A device such as /dev/zero is refused too (it never ends).
pub fn open_regular(path: &Path) -> Result<std::fs::File, String> {
    let f = open_nonblocking(path).map_err(|e| e.to_string())?;
    let meta = f.metadata().map_err(|e| e.to_string())?;
    if meta.is_file() {
        Ok(f)
    } else if meta.is_dir() {
        Err("is a folder".into())
    } else {
        Err("is not a regular file (a pipe or a device)".into())
    }
}

#[cfg(target_os = "linux")]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)
}

#[cfg(not(target_os = "linux"))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// The first `limit` bytes (or fewer) of the regular file `path`: how impsim looks at a file
/// that may be its own before replacing it (see `open_regular`).
pub fn read_head(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    open_regular(path)?.take(limit).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// The whole regular file `path` as text, refused beyond `limit` bytes (see `open_regular`):
/// how impsim reads back a manifest or a table it wrote.
pub fn read_text(path: &Path, limit: u64) -> Result<String, String> {
    let bytes = read_head(path, limit.saturating_add(1))?;
    if bytes.len() as u64 > limit {
        return Err(format!("is larger than {} MiB, more than impsim writes there", limit >> 20));
    }
    String::from_utf8(bytes).map_err(|e| format!("is not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
}

/// The output folder as a path whose last part is its name: `d/.` is `d`; `d/..` and `/` name
/// folders by position, so they are resolved (they must exist) or refused.
pub(crate) fn out_folder(target: &Path) -> Result<PathBuf, OutputError> {
    use std::path::Component;
    let mut parts: Vec<Component> = target.components().collect();
    while parts.len() > 1 && parts.last() == Some(&Component::CurDir) {
        parts.pop();
    }
    let cleaned: PathBuf = parts.iter().collect();
    match parts.last() {
        Some(Component::Normal(_)) => Ok(cleaned),
        Some(_) => cleaned.canonicalize().map_err(|e| out_err(target, format!("cannot resolve the folder: {e}"))),
        None => Err(out_err(target, "give a folder name as --out")),
    }
}

fn parent_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name(target: &Path) -> String {
    target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into())
}

/// Where `target` is staged: a hidden sibling, the same for every process, so a later
/// `--resume` finds the journal of a killed one.
pub fn staging_path(target: &Path) -> PathBuf {
    parent_of(target).join(format!(".{}.partial", short_name(&file_name(target))))
}

/// `name`, or for a name too long to take a prefix and suffix within the file-name limit (255
/// bytes) its first 100 bytes and a hash of the whole: what helper names are built on, so any
/// name allowed for the result itself is allowed for them.
fn short_name(name: &str) -> String {
    if name.len() <= 200 {
        return name.to_string();
    }
    let mut cut = 100;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{}", &name[..cut], &sha256_hex(name.as_bytes())[..16])
}

/// Why `dir` may never be an output folder, if so: `/`, the working folder or one above it, a
/// home folder or one above it, a repository root.
fn protected(dir: &Path) -> Option<String> {
    let real = match dir.canonicalize() {
        Ok(r) => r,
        Err(e) => return Some(format!("cannot resolve the folder: {e}")),
    };
    if real.parent().is_none() {
        return Some("it is the root folder".into());
    }
    if let Ok(cwd) = std::env::current_dir().and_then(|c| c.canonicalize())
        && cwd.starts_with(&real)
    {
        return Some("it is the working folder or holds it".into());
    }
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from).and_then(|h| h.canonicalize().ok())
        && home.starts_with(&real)
    {
        return Some("it is a home folder or holds one".into());
    }
    if real.join(".git").exists() {
        return Some("it is a repository root".into());
    }
    None
}

/// Whether `--force` may replace `dir`, and if so the files to delete: only a folder impsim
/// wrote, which its manifest.json shows (impsim's version and the list of every file it
/// wrote) and which holds nothing else. Never `/`, the working folder or one above it, a home
/// folder or one above it, or a repository root, whatever they hold.
pub(crate) fn replaceable(dir: &Path) -> Result<Vec<String>, String> {
    if let Some(why) = protected(dir) {
        return Err(why);
    }
    let mp = dir.join("manifest.json");
    let text = match read_text(&mp, MANIFEST_LIMIT) {
        Ok(t) => t,
        Err(_) if std::fs::symlink_metadata(&mp).is_err() => {
            return Err(
                "it has no manifest.json, so impsim did not write it; remove it yourself or choose another --out"
                    .into(),
            );
        }
        Err(why) => return Err(format!("its manifest.json {why}, so impsim did not write it; remove it yourself")),
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| "its manifest.json is not impsim's; remove the folder yourself")?;
    let ours = v.get("impsim_version").or_else(|| v.get("experiment").and_then(|e| e.get("impsim_version")));
    let files: Vec<String> = match (ours, v.get("files").and_then(|f| f.as_array())) {
        (Some(_), Some(files)) => files.iter().filter_map(|f| f.as_str().map(String::from)).collect(),
        _ => return Err("its manifest.json does not list the files impsim wrote (not impsim's, or an older impsim's); remove the folder yourself".into()),
    };
    for f in &files {
        if f.contains('/') || f.contains('\\') || f.starts_with('.') {
            return Err(format!("its manifest lists \"{f}\", which is not a file impsim writes"));
        }
    }
    let mut foreign = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let regular = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        // A journal and lock stay behind if the process died between moving the folder into
        // place and removing them; they are impsim's own.
        if !regular || !(files.contains(&name) || name == JOURNAL || name == LOCK) {
            foreign.push(name);
        }
    }
    if !foreign.is_empty() {
        foreign.sort();
        return Err(format!(
            "it holds {} impsim did not write ({}); move them away or choose another --out",
            if foreign.len() == 1 { "a file" } else { "files" },
            foreign.join(", ")
        ));
    }
    let mut files = files;
    files.extend([JOURNAL.to_string(), LOCK.to_string()]);
    Ok(files)
}

/// The files a manifest lists for `dir`: every file impsim wrote there (not hidden ones, not
/// the journal), manifest.json included, sorted (so `--force` knows exactly what it may replace).
pub(crate) fn manifest_files(dir: &Path) -> Result<Vec<String>, OutputError> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| out_err(dir, e))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && n != JOURNAL && n != "manifest.json")
        .collect();
    files.push("manifest.json".into());
    files.sort();
    Ok(files)
}

/// Write a whole file atomically: to `<name>.partial`, then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let tmp = partial_name(path);
    let mut f = create_new(&tmp).map_err(|e| out_err(path, e))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| out_err(path, format!("cannot write: {e}")))?;
    std::fs::rename(&tmp, path).map_err(|e| out_err(path, format!("cannot rename into place: {e}")))
}

/// SHA-256 of `bytes` in hex: how a manifest identifies an input file's content or a run.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Create a temporary file that must not exist yet (never following a symbolic link, never
/// truncating a file someone else put there).
pub(crate) fn create_new(tmp: &Path) -> Result<std::fs::File, String> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(tmp).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!("{} exists (left by an interrupted run, or not impsim's); remove it and run again", tmp.display())
        } else {
            format!("cannot create {}: {e}", tmp.display())
        }
    })
}

/// The name a file is written under until complete: `path` with `.partial` appended.
pub fn partial_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.len() <= 200 {
        let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".partial");
        return path.with_file_name(name);
    }
    path.with_file_name(format!("{}.partial", short_name(&name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A staging folder appears with its lock or not at all; what a killed process leaves
    /// under its own temporary name never blocks the next run.
    #[test]
    fn a_staging_folder_is_created_with_its_lock_in_one_step() {
        let base = std::env::temp_dir().join(format!("impsim-staging-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        let tmp = base.join(".out.partial");
        // A leftover of this pid's name, holding only a lock: cleared.
        let leftover = base.join(format!(".out.partial.new-{}", std::process::id()));
        std::fs::create_dir(&leftover).unwrap();
        std::fs::write(leftover.join(LOCK), b"").unwrap();
        create_staging(&tmp).unwrap();
        assert!(tmp.join(LOCK).is_file(), "the lock came with the folder");
        assert!(!leftover.exists(), "the leftover was renamed into place or removed");
        assert_eq!(create_staging(&tmp).unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
        assert!(ours_staging(&tmp).is_ok());
        // A leftover holding anything else is not ours to remove: the staging still succeeds
        // only if the name is free, and the leftover stays.
        std::fs::remove_file(tmp.join(LOCK)).unwrap();
        std::fs::remove_dir(&tmp).unwrap();
        std::fs::create_dir(&leftover).unwrap();
        std::fs::write(leftover.join("notes.txt"), b"mine").unwrap();
        assert!(create_staging(&tmp).is_err());
        assert_eq!(std::fs::read(leftover.join("notes.txt")).unwrap(), b"mine");
        assert!(!tmp.exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}

/// `impsim SUBCOMMAND FILE --seed SEED --set 'k=v'... --check 'c'... --out OUT`, each quoted for a
/// POSIX shell where it needs it: the command a report or a hint tells a person to run.
pub fn command_line(
    subcommand: &str,
    file: &str,
    seed: u64,
    overrides: &[String],
    checks: &[String],
    out: &str,
) -> String {
    let mut words =
        vec!["impsim".to_string(), subcommand.to_string(), shell_word(file), "--seed".into(), seed.to_string()];
    for (flag, values) in [("--set", overrides), ("--check", checks)] {
        for v in values {
            words.push(flag.into());
            words.push(shell_word(v));
        }
    }
    words.push("--out".into());
    words.push(shell_word(out));
    words.join(" ")
}

/// `w` as one POSIX shell word: as it is when it is plain, else in single quotes.
pub fn shell_word(w: &str) -> String {
    let plain = !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain { w.to_string() } else { format!("'{}'", w.replace('\'', "'\\''")) }
}

/// The git commit impsim was built from, when built from a checkout (build.rs), for manifests.
pub const COMMIT: Option<&str> = option_env!("IMPSIM_GIT_COMMIT");

#[cfg(test)]
mod command_tests {
    use super::*;

    #[test]
    fn a_command_line_quotes_only_what_a_shell_would_split() {
        assert_eq!(shell_word("experiments/a.toml"), "experiments/a.toml");
        assert_eq!(shell_word("clients=2000"), "clients=2000");
        assert_eq!(shell_word("duration=\"2h\""), "'duration=\"2h\"'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(
            command_line("run", "my exp.toml", 7, &["a=1".into(), "b={x=1}".into()], &["x>=1".into()], "out"),
            "impsim run 'my exp.toml' --seed 7 --set a=1 --set 'b={x=1}' --check 'x>=1' --out out"
        );
    }
}

/// A finished result's manifest.json as JSON, for commands that read results (`reproduce`,
/// `compare`): refused, naming the file, when it cannot be read, is not JSON, or is partial.
pub fn finished_manifest(path: &Path) -> Result<serde_json::Value, crate::Error> {
    let refuse = |why: String| crate::Error::Usage(format!("{}: {why}", path.display()));
    let text = read_text(path, MANIFEST_LIMIT).map_err(|e| refuse(format!("cannot read it: {e}")))?;
    let m: serde_json::Value = serde_json::from_str(&text).map_err(|e| refuse(format!("not JSON: {e}")))?;
    if m["partial"] == true {
        return Err(refuse("the result is partial (interrupted); finish it with --resume first".into()));
    }
    Ok(m)
}
