//! The IMPS session model, in the source's vocabulary: virtual clients, the SAP, session
//! contexts and the store that retains them, costs, distributions, and what a run measures.
//! Nothing here reads a file or knows of a command line.

pub mod behaviour;
pub mod client;
pub mod context;
pub mod cost;
pub mod dist;
pub mod metrics;
pub mod params;
pub mod protocol;
pub mod sap;
pub mod sim;

pub use params::Params;
pub use sim::{Census, Observer, Outcome, Sim, Transaction};
