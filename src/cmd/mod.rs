//! The subcommands, one file each; main.rs parses the arguments, calls them and maps what they
//! return to an exit code.

pub mod bench;
pub mod run;
pub mod tune;

/// How a command that did not fail ended (main.rs gives each its exit code).
pub enum Done {
    /// Everything asked was done.
    Success,
    /// Stopped by Ctrl-C or SIGTERM; what finished was written, marked partial.
    Interrupted,
    /// `tune` found no candidate that meets the target within the budgets.
    NothingMeets,
}

/// What a command returns.
pub type Outcome = Result<Done, impsim::Error>;

/// Fail with a command-line option error.
pub fn usage<T>(m: impl Into<String>) -> Result<T, impsim::Error> {
    Err(impsim::Error::Usage(m.into()))
}
