//! impsim: a deterministic discrete-event simulator of OMA IMPS session management, session
//! context retention and session recovery. See README.md and ARCHITECTURE.md.
//!
//! Layers, inner to outer: `engine` (time, events, random streams; knows nothing of IMPS),
//! `model` (the protocol: clients, SAP, context store; knows nothing of files), and the edge:
//! `input` (files read once), `scenario` (TOML in), `output` (files out) and `run` (one run, end to end). `stats` is
//! output analysis (intervals, warm-up detection), knowing nothing of IMPS either.

pub mod bench;
pub mod engine;
pub mod experiment;
pub mod folder;
pub mod guard;
pub mod input;
pub mod model;
pub mod output;
pub mod run;
pub mod scenario;
pub mod stats;
