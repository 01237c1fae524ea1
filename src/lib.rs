//! impsim: a deterministic discrete-event simulator of OMA IMPS session management, session
//! context retention and session recovery. See README.md and ARCHITECTURE.md.
//!
//! Layers, inner to outer: `engine` (time, events, random streams; knows nothing of IMPS),
//! `model` (the protocol: clients, SAP, context store; knows nothing of files), and the edge:
//! `input` (files read once), `scenario` (TOML in), `output` (files out) and `run` (one run, end
//! to end). `stats` is output analysis (intervals, warm-up detection), knowing nothing of IMPS
//! either. Every failure is an [`Error`]; the command line alone turns it into an exit code.
//!
//! # Use as a library
//!
//! What a program does with impsim, in three examples that `cargo test` runs.
//!
//! **Run a scenario** in memory and read its figures (the columns of summary.csv,
//! [`run::summary_columns`]; the typed counters are in `report.outcome.metrics`):
//!
//! ```
//! use impsim::{run::simulate, scenario};
//! use std::path::Path;
//!
//! let text = r#"
//!     name = "doc"
//!     clients = 300
//!     duration = "12h"
//!     warmup = "2h"
//!     retention = "30m"
//! "#;
//! let params = scenario::parse(text, "doc.toml", Path::new("."), &["seed=7".to_string()])?;
//! let (report, ()) = simulate(params, ());
//! let rate = report.metric("recovery_success_rate");
//! assert!(rate > 0.0 && rate <= 1.0);
//! assert_eq!(report.get("no_such_column"), None);
//! assert!(report.outcome.metrics.c.recovery_successes > 0);
//! # Ok::<(), impsim::Error>(())
//! ```
//!
//! **Run an experiment** (a sweep with replications, on every core) into a folder, then **read
//! the result** back, as `impsim run experiments/retention_sweep.toml` would write it:
//!
//! ```
//! use impsim::experiment::{self, NoProgress, Shard, results::read_runs};
//! use impsim::folder::{SweepOptions, experiment_to_folder};
//! use std::path::Path;
//! use std::sync::atomic::AtomicBool;
//!
//! let text = r#"
//!     name = "doc_sweep"
//!     scenario = "default.toml"
//!     replications = 2
//!     [set]
//!     clients = 100
//!     duration = "6h"
//!     warmup = "1h"
//!     [sweep]
//!     retention = ["0s", "2h"]
//! "#;
//! // Where the file would be: its scenario is read from beside it.
//! let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/doc_sweep.toml");
//! let exp = experiment::from_text(text, &file, &[])?;
//! let dir = std::env::temp_dir().join(format!("impsim-doc-{}", std::process::id()));
//! let opts = SweepOptions { threads: 2, shard: Shard::all(), force: false, resume: false };
//! experiment_to_folder(&exp, &dir, &opts, &NoProgress, &AtomicBool::new(false))?;
//!
//! let (_meta, runs) = read_runs(&dir)?;
//! assert_eq!(runs.len(), 4); // 2 points x 2 replications
//! let rate = |point| runs.iter().filter(move |r| r.point == point).map(|r| r.get("recovery_success_rate").unwrap());
//! // Without retention only a session the SAP still holds can be recovered; 2 h keeps most.
//! assert!(rate(1).all(|kept| rate(0).all(|none| kept > none + 0.2)));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), impsim::Error>(())
//! ```

// What stays public is documented (the rest is pub(crate)).
#![warn(missing_docs)]

pub mod bench;
pub mod check;
pub mod compare;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod folder;
pub mod guard;
pub mod input;
pub mod live;
pub mod model;
pub mod output;
pub mod reproduce;
pub mod run;
mod run_report;
pub mod scenario;
pub mod stats;

pub use error::Error;
