//! The subcommands, one file each; main.rs parses the arguments, calls them and maps what they
//! return to an exit code.

pub mod bench;
pub mod compare;
pub mod live;
pub mod reproduce;
pub mod run;
pub mod tune;

use std::path::{Path, PathBuf};

/// The options of every command that runs a scenario: the seed and field overrides.
#[derive(clap::Args)]
pub struct ScenarioOptions {
    /// Master seed (overrides the file's `seed`): 0 to 2^64-1, so every seed impsim prints
    /// (a replication's, in runs.csv) can be given back.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a scenario field, e.g. --set retention=2h --set sap.ttl_max=30m (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// How a command that did not fail ended (main.rs gives each its exit code).
pub enum Done {
    /// Everything asked was done.
    Success,
    /// Stopped by Ctrl-C or SIGTERM; a sweep's finished runs were written, marked partial
    /// (`tune` writes nothing).
    Interrupted,
    /// `tune` found no candidate that meets the target within the budgets.
    NothingMeets,
    /// `live` ran, and the model and the broker disagree on a checked figure.
    Disagrees,
    /// `reproduce` reran a result and some file's bytes differ.
    Differs,
    /// The result was written, and a threshold (`[thresholds]`, `--check`) failed.
    ThresholdsFailed,
    /// `compare` found a significant regression.
    Regressed,
    /// `live` ran, and a check could not be judged or the load generator fell behind: nothing
    /// may be concluded about the model.
    NotJudged,
    /// `live`: a broker failed during the run (what was measured is written).
    BrokerFailed,
}

/// What a command returns.
pub type Outcome = Result<Done, impsim::Error>;

/// Fail with a command-line option error.
pub fn usage<T>(m: impl Into<String>) -> Result<T, impsim::Error> {
    Err(impsim::Error::Usage(m.into()))
}

/// Ctrl-C or SIGTERM: the first sets `STOP` and says `first` (the command then ends cleanly,
/// starting nothing new); a second says `aborted` and exits with 130 at once, removing the
/// staging folders this process holds (see `output::abandon_all`) and `files` it was writing.
pub fn on_signal(first: &'static str, aborted: &'static str, files: Vec<PathBuf>) {
    use std::sync::atomic::Ordering;
    let _ = ctrlc::set_handler(move || {
        if crate::STOP.swap(true, Ordering::SeqCst) {
            impsim::output::abandon_all();
            for f in &files {
                let _ = std::fs::remove_file(f);
            }
            say_err!("\n{aborted}");
            std::process::exit(130);
        }
        say_err!("\n{first}");
    });
}

/// Where a command writes its one output file: `out` if given (an existing file only with
/// `force`, and only if it starts with `header`, i.e. impsim wrote it), else the first free
/// name from `default` (`x.ext`, `x-2.ext`, ...).
pub fn output_file(
    out: Option<PathBuf>,
    default: &str,
    force: bool,
    header: &str,
    what: &str,
) -> Result<PathBuf, impsim::Error> {
    match out {
        None => {
            let base = PathBuf::from(default);
            let (stem, ext) =
                default.rsplit_once('/').map_or(default, |x| x.1).split_once('.').unwrap_or((default, ""));
            Ok((1u32..)
                .map(|i| if i == 1 { base.clone() } else { base.with_file_name(format!("{stem}-{i}.{ext}")) })
                .find(|p| !p.exists())
                .unwrap_or(base))
        }
        Some(p) if std::fs::symlink_metadata(&p).is_ok() => {
            if !force {
                return usage(format!("{}: exists; choose another --out or pass --force to replace it", p.display()));
            }
            // Only the head, and only of a regular file: a FIFO would hang, /dev/zero never end.
            match impsim::output::read_head(&p, header.len() as u64) {
                Ok(head) if head == header.as_bytes() => Ok(p),
                Ok(_) => usage(format!("{}: --force refused: not {what}", p.display())),
                Err(why) => usage(format!("{}: --force refused: it {why}, not {what}", p.display())),
            }
        }
        Some(p) => Ok(p),
    }
}

/// Write `text` to `out` whole (creating its folder), or nothing.
pub fn write_output_file(out: &Path, text: &[u8]) -> Result<(), impsim::Error> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        return Err(impsim::output::out_err(parent, e).into());
    }
    impsim::output::write_atomic(out, text).map_err(Into::into)
}
