//! The discrete-event engine: simulated time, the pending-event queue and the random streams.
//! It knows nothing of IMPS; the model in `crate::model` gives meaning to event payloads.

pub mod queue;
pub mod rng;
pub mod time;

pub use queue::EventQueue;
pub use rng::RngKey;
pub use time::{SimTime, format_duration, parse_duration, parse_size};
