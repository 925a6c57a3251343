//! Auto-split export: a whole range in budget-sized windows, stitched without loss or
//! duplicates.

use std::collections::{HashMap, VecDeque};
use std::marker::PhantomData;

use client_core::{RecordStream, split_range};
use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use serde::de::DeserializeOwned;

use crate::catalog::Catalog;
use crate::client::Client;
use crate::error::{Error, Result, TooLarge};
use crate::plan::Cost;
use crate::record::{Record, TimedRecord};
use crate::values::{Format, TimeBound};

/// An export of some signals of one site over `[from, to)`, however long, decoding
/// records into `T` (by default [`Record`]; [`Export::records`] for your own type).
///
/// Windows come from the catalog (the finest `baseInterval`, the distinct DB queries,
/// `limits.maxRawDbPoints`); when the server still answers 413 for a window, the window
/// is cut again to the server's recommended length (or halved). Windows are half-open
/// and, when stitching, a record not after the last one emitted for its signal is
/// dropped, so nothing is lost or repeated at a boundary whatever the server's
/// inclusive/exclusive convention.
#[derive(Debug)]
#[must_use = "an export does nothing until streamed"]
pub struct Export<T = Record> {
    client: Client,
    env: String,
    site: String,
    signals: Vec<String>,
    from: Timestamp,
    to: Timestamp,
    tzi: Option<String>,
    format: Format,
    _records: PhantomData<fn() -> T>,
}

impl<T> Clone for Export<T> {
    fn clone(&self) -> Self {
        Export {
            client: self.client.clone(),
            env: self.env.clone(),
            site: self.site.clone(),
            signals: self.signals.clone(),
            from: self.from,
            to: self.to,
            tzi: self.tzi.clone(),
            format: self.format,
            _records: PhantomData,
        }
    }
}

impl Client {
    /// An auto-split export of `signal_ids` at `site` over `[from, to)`.
    pub fn export<I, S>(&self, env: &str, site: &str, signal_ids: I, from: Timestamp, to: Timestamp) -> Export
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Export {
            client: self.clone(),
            env: env.to_owned(),
            site: site.to_owned(),
            signals: signal_ids.into_iter().map(Into::into).collect(),
            from,
            to,
            tzi: None,
            format: Format::Ndjson,
            _records: PhantomData,
        }
    }
}

impl<T> Export<T> {
    /// The same export, decoding records into your own type `U`.
    pub fn records<U>(self) -> Export<U> {
        Export {
            client: self.client,
            env: self.env,
            site: self.site,
            signals: self.signals,
            from: self.from,
            to: self.to,
            tzi: self.tzi,
            format: self.format,
            _records: PhantomData,
        }
    }

    /// The time zone of returned timestamps (`tzi`).
    pub fn time_zone(mut self, tzi: &str) -> Self {
        self.tzi = Some(tzi.to_owned());
        self
    }

    /// Fetch as JSON instead of NDJSON (the records are the same).
    pub fn json(mut self) -> Self {
        self.format = Format::Json;
        self
    }

    /// The windows the catalog plans for this export.
    pub fn plan(&self, catalog: &Catalog) -> Result<Vec<(Timestamp, Timestamp)>> {
        let site = catalog.site(&self.env, &self.site).ok_or_else(|| {
            Error::InvalidRequest(format!(
                "site `{}` of environment `{}` is not in the catalog",
                self.site, self.env
            ))
        })?;
        let longest = Cost::of(site, &self.signals)?.longest_window(catalog.limits.max_raw_db_points)?;
        Ok(split_range(self.from, self.to, longest)?)
    }
}

impl<T: DeserializeOwned + TimedRecord + Send + 'static> Export<T> {
    /// Streams every record of the range, planned from `catalog`.
    pub fn stream(self, catalog: &Catalog) -> RecordStream<T, Error> {
        let planned = self.plan(catalog);
        RecordStream::new(async_stream::try_stream! {
            let mut pending: VecDeque<(Timestamp, Timestamp)> = planned?.into();
            let mut last_emitted: HashMap<String, Timestamp> = HashMap::new();
            while let Some((start, end)) = pending.pop_front() {
                let mut request = self
                    .client
                    .site_values(&self.env, &self.site, self.signals.clone())
                    .range(TimeBound::Instant(start), TimeBound::Instant(end));
                if let Some(tzi) = &self.tzi {
                    request = request.time_zone(tzi);
                }
                let request = request.records::<T>();
                let mut records = match self.format {
                    Format::Json => request.json(),
                    _ => request.ndjson(),
                };
                let mut first = true;
                while let Some(record) = records.next().await {
                    let record = match record {
                        Err(Error::RequestTooLarge(api)) if first => {
                            let length = replan_length(start, end, TooLarge::from_api(&api).recommended_range)?;
                            tracing::info!(%start, %end, new_window_s = length.as_secs(), "413 for a planned window; splitting it");
                            for window in split_range(start, end, length)?.into_iter().rev() {
                                pending.push_front(window);
                            }
                            break;
                        }
                        other => other?,
                    };
                    first = false;
                    let at = record.timestamp();
                    if at < start || at >= end {
                        continue;
                    }
                    if last_emitted.get(record.signal_id()).is_some_and(|last| at <= *last) {
                        continue;
                    }
                    last_emitted.insert(record.signal_id().to_owned(), at);
                    yield record;
                }
            }
        })
    }
}

/// The window length to use after a 413: the server's recommendation if it is shorter
/// than the window, else half of it; never below one second.
fn replan_length(
    start: Timestamp,
    end: Timestamp,
    recommended: Option<(Timestamp, Timestamp)>,
) -> Result<SignedDuration> {
    let current = end.duration_since(start);
    let length = match recommended {
        Some((from, to)) if to > from && to.duration_since(from) < current => to.duration_since(from),
        _ => current / 2,
    };
    if length < SignedDuration::from_secs(1) {
        return Err(Error::InvalidRequest(format!(
            "the server refuses even a one-second window at {start}"
        )));
    }
    Ok(length)
}
