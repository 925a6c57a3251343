//! Shared pieces of the example programs. Each program is a binary in `src/bin/`; start
//! from the one closest to what you need.
//!
//! - `forward-decode`: decodes one forwarded request body into one JSON line per
//!   observation.
//! - `forward-receiver`: an HTTP endpoint on loopback that receives forwarded messages.
//! - `forward-push`: delivers forwarded messages to a receiver as the platform would.
//! - `forward-read`: reads forwarded messages back from S3, Azure Blob or a folder.
//! - `conduit-export`: exports a Conduit range of any length to NDJSON or CSV.
//! - `dt-events`, `dt-stream`, `dt-connectors`, `dt-receiver`: DT event history, the
//!   live stream without gaps, data connectors, and a receiver of signed pushes.
//! - `preventos-catalog`: prints the Preventos data catalog as a table.
//! - `preventos-daily-export`: the daily export daemon of the Preventos document.
//! - `sds-export`: every observation of a Sensor Data range, as the API sends it.
//! - `sds-sensors`: an iTwin's Sensor Data sensors with their metrics and units.
//!
//! The receivers (`dt-receiver`, `forward-receiver`) serve through [`serve::serve`],
//! whose limits ([`serve::Limits`]) keep a slow or hostile client from holding them.
//!
//! Every program follows the conventions of [`cli`]: exit codes 0, 1 (the operation
//! failed), 2 (usage, configuration or bad input) and 130 (Ctrl-C), one line per
//! failure, a quiet end on a closed standard output, and no temporary file left by
//! Ctrl-C.

// Library code handles every failure; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod args;
pub mod cli;
pub mod daily_export;
pub mod dt;
pub mod forward;
pub mod metrics_endpoint;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod parquet_beside;
pub mod preventos;
pub mod progress;
mod report;
pub mod resume;
pub mod resume_object;
pub mod sds;
pub mod serve;
#[cfg(test)]
mod shape_check;

pub use report::{one_line, report};
