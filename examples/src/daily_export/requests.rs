//! The values requests of each stored day, with their correlation ids, as the client's
//! own tracing spans report them: the client returns a day's summary, not the ids of
//! the responses it was built from, and its `http_request` spans carry them.
//!
//! A day is fetched inside a [`day_span`] carrying a key; the [`RequestLog`] layer notes
//! every `http_request` span that closes under it (with the range of its
//! `preventos_values` parent), and [`RequestLog::take`] hands them over.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::FilterFn;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::manifest::ManifestRequest;

/// The span name a day is fetched in.
pub const DAY_SPAN: &str = "preventos_day";

/// Requests kept per day at most: a day is a handful of windows, so a day past this
/// bound is a runaway, and its further requests go unrecorded.
const MAX_REQUESTS_PER_DAY: usize = 1_000;

/// Days whose requests are kept at most before they are taken; a key never taken (a
/// day cancelled mid-way) is dropped oldest-first past this bound.
const MAX_DAYS: usize = 64;

/// Collects each day's values requests (install [`RequestLog::layer`] in the
/// subscriber). Cheap to clone; without the layer installed every day has none.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    days: Arc<Mutex<HashMap<u64, Vec<ManifestRequest>>>>,
    next_key: Arc<AtomicU64>,
}

impl RequestLog {
    /// A new key for a day's span.
    pub fn key(&self) -> u64 {
        self.next_key.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The requests noted under `key`, removed from the log.
    pub fn take(&self, key: u64) -> Vec<ManifestRequest> {
        self.days
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&key)
            .unwrap_or_default()
    }

    fn note(&self, key: u64, request: ManifestRequest) {
        let mut days = self.days.lock().unwrap_or_else(PoisonError::into_inner);
        if !days.contains_key(&key) && days.len() >= MAX_DAYS {
            if let Some(oldest) = days.keys().min().copied() {
                days.remove(&oldest);
            }
        }
        let requests = days.entry(key).or_default();
        if requests.len() < MAX_REQUESTS_PER_DAY {
            requests.push(request);
        }
    }

    /// The layer that feeds this log; it sees only the three spans it needs, whatever
    /// the log filter of the rest of the subscriber.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let wanted: fn(&Metadata<'_>) -> bool =
            |meta| meta.is_span() && matches!(meta.name(), "http_request" | "preventos_values" | DAY_SPAN);
        RequestLayer { log: self.clone() }.with_filter(FilterFn::new(wanted))
    }
}

/// A day's span: every request of the day's export runs inside it.
pub fn day_span(key: u64) -> tracing::Span {
    tracing::info_span!(DAY_SPAN, key)
}

/// The layer of a [`RequestLog`].
#[derive(Debug)]
pub struct RequestLayer {
    log: RequestLog,
}

/// The fields of interest of the three spans.
#[derive(Debug, Default)]
struct Fields {
    key: Option<u64>,
    range: Option<String>,
    status: Option<u16>,
    correlation_id: Option<String>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "key" => self.key = Some(value),
            "status" => self.status = u16::try_from(value).ok(),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Ok(value) = u64::try_from(value) {
            self.record_u64(field, value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "range" => self.range = Some(value.to_owned()),
            "correlation_id" => self.correlation_id = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if matches!(field.name(), "range" | "correlation_id") {
            self.record_str(field, &format!("{value:?}"));
        }
    }
}

impl<S> Layer<S> for RequestLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(fields) = span.extensions_mut().get_mut::<Fields>() {
                values.record(fields);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        if span.name() != "http_request" {
            return;
        }
        let mut request = ManifestRequest::default();
        if let Some(fields) = span.extensions().get::<Fields>() {
            request.status = fields.status;
            request.correlation_id = fields.correlation_id.clone();
        }
        let mut values_request = false;
        for ancestor in span.scope().skip(1) {
            let extensions = ancestor.extensions();
            let Some(fields) = extensions.get::<Fields>() else {
                continue;
            };
            match ancestor.name() {
                "preventos_values" => {
                    values_request = true;
                    request.range = fields.range.clone();
                }
                DAY_SPAN => {
                    if let (true, Some(key)) = (values_request, fields.key) {
                        self.log.note(key, request);
                    }
                    return;
                }
                _ => {}
            }
        }
    }
}
