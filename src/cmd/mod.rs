//! The subcommands, one file each; main.rs parses the arguments and calls them.

pub mod bench;
pub mod run;
pub mod tune;
