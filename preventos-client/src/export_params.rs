//! The parameters of an export, whatever type it decodes records into: what the builder
//! sets, and what planning (`export_plan.rs`) and fetching (`export_windows.rs`) read.
//! Kept apart from `export.rs` so that the helpers and the builder import this file and
//! never each other.

use std::sync::Arc;

use client_core::Checkpoint;
use jiff::Timestamp;
use jiff::civil::Date;

use crate::catalog::Catalog;
use crate::client::Client;
use crate::format::{CsvPreset, Format};

/// The parameters of an export.
#[derive(Clone)]
pub(crate) struct ExportParams {
    pub(crate) client: Client,
    pub(crate) env: String,
    pub(crate) site: String,
    pub(crate) signals: Vec<String>,
    pub(crate) range: Option<ExportRange>,
    pub(crate) tzi: Option<String>,
    pub(crate) format: Format,
    pub(crate) csv_preset: Option<CsvPreset>,
    pub(crate) meta: Option<bool>,
    pub(crate) concurrency: usize,
    /// Shared by the clones a signal-by-signal export makes.
    pub(crate) catalog: Option<Arc<Catalog>>,
    /// The checkpoint the export goes on from.
    pub(crate) resume: Option<Checkpoint>,
}

/// What an export covers, as set on the builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExportRange {
    /// A local day in the export's time zone.
    Date(Date),
    /// `[from, to)`.
    Instants(Timestamp, Timestamp),
}
