//! An export's checkpoints: the read id, and the state that makes a resumed export cut
//! its windows exactly as the killed one did (so that a checkpoint's `skip` inside a
//! window counts the same records).

use std::sync::Arc;

use client_core::{Checkpoint, Position};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::export_params::ExportParams;

/// The API part of an export's read id.
const READ_API: &str = "preventos.export";

/// How the windows from a checkpoint's position on are cut: the checkpoint's `state`.
///
/// The window lengths come from the catalog when the export starts, and are kept here
/// rather than planned again on resume: a catalog that changed in between would cut
/// other windows, and a `skip` inside a window would count other records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "windows", rename_all = "snake_case")]
pub(crate) enum ExportState {
    /// The first window, of `length`, is still to come: it is fetched with every signal,
    /// and tells whether the server sends records by signal, then time (then each signal
    /// is read alone, in windows of its `signals` length).
    Undecided {
        /// Windows of every signal together.
        length: SignedDuration,
        /// Each signal's window length when read alone (empty for one signal).
        signals: Vec<SignalWindows>,
    },
    /// Every window holds every signal.
    Together {
        /// The window length.
        length: SignedDuration,
    },
    /// Signal by signal, in the server's order; the window at the position is of
    /// `signals[index]`.
    BySignal {
        /// The signals in the order they are read, each with its window length.
        signals: Vec<SignalWindows>,
        /// The signal being read.
        index: usize,
    },
}

/// One signal's window length when the export reads signal by signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SignalWindows {
    pub(crate) signal: String,
    pub(crate) length: SignedDuration,
}

/// Where an export's windows start, and how its checkpoints are written.
#[derive(Debug, Clone)]
pub(crate) struct Begin {
    /// The read id.
    pub(crate) read: String,
    /// The checkpoint the read starts from: the one it resumes from, or a fresh
    /// `Start` with the planned state.
    pub(crate) start: Checkpoint,
    /// The first window's start.
    pub(crate) from: Timestamp,
    /// How the windows from `from` on are cut.
    pub(crate) state: ExportState,
}

/// The window after the one just read (its start and state), or `None` when the read
/// is complete.
pub(crate) type Next = Option<(Timestamp, ExportState)>;

impl Begin {
    /// The checkpoint after a window, given where the next one starts.
    pub(crate) fn checkpoint_after(&self, next: &Next) -> Result<Checkpoint> {
        Ok(match next {
            Some((from, state)) => {
                Checkpoint::new(self.read.clone(), Position::Window { from: *from, skip: 0 })
                    .with_state(state_json(state)?)
            }
            None => Checkpoint::new(self.read.clone(), Position::Done),
        })
    }
}

fn state_json(state: &ExportState) -> Result<Value> {
    serde_json::to_value(state).map_err(|e| Error::config(format!("an export state is not JSON: {e}")))
}

impl ExportParams {
    /// The read id: every parameter that changes which records the export yields or
    /// their text (not the concurrency, nor the catalog: the state keeps the windows).
    pub(crate) fn read_id(&self) -> Result<String> {
        let (from, to) = self.bounds()?;
        let signals = serde_json::to_string(&self.signals)
            .map_err(|e| Error::config(format!("signal ids are not JSON: {e}")))?;
        let (from, to) = (from.to_string(), to.to_string());
        let meta = self.meta.map(|m| m.to_string()).unwrap_or_default();
        Ok(Checkpoint::read_id(
            READ_API,
            &[
                ("env", &self.env),
                ("site", &self.site),
                ("signals", &signals),
                ("from", &from),
                ("to", &to),
                ("tzi", self.tzi.as_deref().unwrap_or("")),
                ("format", self.format.as_str()),
                ("csvPreset", self.csv_preset.as_ref().map_or("", |p| p.as_str())),
                ("meta", &meta),
            ],
        ))
    }

    /// The catalog given, or the environment's catalog from the API.
    pub(crate) async fn resolve_catalog(&self) -> Result<Arc<Catalog>> {
        match &self.catalog {
            Some(catalog) => Ok(catalog.clone()),
            None => Ok(Arc::new(self.client.catalog_for([&self.env]).await?)),
        }
    }

    /// The state of a fresh export: window lengths from the catalog.
    fn planned_state(&self, catalog: &Catalog) -> Result<ExportState> {
        let length = self.window_length(catalog)?;
        let mut signals = Vec::new();
        if self.signals.len() > 1 {
            for signal in &self.signals {
                let mut single = self.clone();
                single.signals = vec![signal.clone()];
                signals.push(SignalWindows {
                    signal: signal.clone(),
                    length: single.window_length(catalog)?,
                });
            }
        }
        Ok(ExportState::Undecided { length, signals })
    }

    /// Where the export starts: at the start of its range with windows from the catalog,
    /// or where its checkpoint says (which must be this export's); `None` when the
    /// checkpoint says the export is complete. The catalog is read only when the
    /// windows are not in the checkpoint.
    pub(crate) async fn begin(&self) -> Result<Option<Begin>> {
        let (range_start, to) = self.bounds()?;
        let read = self.read_id()?;
        let Some(resume) = &self.resume else {
            let catalog = self.resolve_catalog().await?;
            let state = self.planned_state(&catalog)?;
            let start = Checkpoint::new(read.clone(), Position::Start).with_state(state_json(&state)?);
            return Ok(Some(Begin {
                read,
                start,
                from: range_start,
                state,
            }));
        };
        resume.check(&read)?;
        let from = match &resume.position {
            Position::Done => return Ok(None),
            Position::Start => range_start,
            Position::Window { from, .. } if range_start <= *from && *from < to => *from,
            other => {
                return Err(Error::config(format!(
                    "the checkpoint's position {other:?} is not a window of this export"
                )));
            }
        };
        let state = if resume.state.is_null() {
            let catalog = self.resolve_catalog().await?;
            self.planned_state(&catalog)?
        } else {
            let state: ExportState = serde_json::from_value((*resume.state).clone())
                .map_err(|e| Error::config(format!("the checkpoint's state is not an export's: {e}")))?;
            self.check_state(&state)?;
            state
        };
        Ok(Some(Begin {
            read,
            start: resume.clone(),
            from,
            state,
        }))
    }

    /// A state read back from a checkpoint names this export's signals, positive
    /// lengths, and a signal that exists.
    fn check_state(&self, state: &ExportState) -> Result<()> {
        let lengths_ok = |signals: &[SignalWindows]| {
            signals
                .iter()
                .all(|s| s.length > SignedDuration::ZERO && self.signals.contains(&s.signal))
        };
        // Signal by signal, every signal of the export has its windows.
        let covered = |signals: &[SignalWindows]| {
            self.signals
                .iter()
                .all(|id| signals.iter().any(|s| &s.signal == id))
        };
        let ok = match state {
            ExportState::Undecided { length, signals } => {
                *length > SignedDuration::ZERO
                    && lengths_ok(signals)
                    && (self.signals.len() < 2 || covered(signals))
            }
            ExportState::Together { length } => *length > SignedDuration::ZERO,
            ExportState::BySignal { signals, index } => {
                *index < signals.len() && lengths_ok(signals) && covered(signals)
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Error::config(
                "the checkpoint's state does not describe this export's windows",
            ))
        }
    }
}
