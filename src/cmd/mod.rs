//! The subcommands, one file each; main.rs parses the arguments, calls them and maps what they
//! return to an exit code.

pub mod bench;
pub mod live;
pub mod run;
pub mod tune;

/// The options of every command that runs a scenario: the seed and field overrides.
#[derive(clap::Args)]
pub struct ScenarioOptions {
    /// Master seed (overrides the file's `seed`; 0 to 2^63-1, as in a file).
    #[arg(long, value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    pub seed: Option<u64>,
    /// Override a scenario field, e.g. --set retention=2h --set sap.ttl_max=30m (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// How a command that did not fail ended (main.rs gives each its exit code).
pub enum Done {
    /// Everything asked was done.
    Success,
    /// Stopped by Ctrl-C or SIGTERM; what finished was written, marked partial.
    Interrupted,
    /// `tune` found no candidate that meets the target within the budgets.
    NothingMeets,
    /// `live` ran, and the model and the broker disagree on a checked figure.
    Disagrees,
}

/// What a command returns.
pub type Outcome = Result<Done, impsim::Error>;

/// Fail with a command-line option error.
pub fn usage<T>(m: impl Into<String>) -> Result<T, impsim::Error> {
    Err(impsim::Error::Usage(m.into()))
}
