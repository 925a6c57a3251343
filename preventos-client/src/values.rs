//! Values: the request builder with every documented parameter, and the client's
//! methods that start one (`site_values`, `signal_values`, `values_url`).
//!
//! Its rules are in `values_rules.rs`, its terminals in `values_terminals.rs`.

use std::fmt;
use std::marker::PhantomData;

use client_core::{DecodeOptions, encode_segment};
use jiff::SignedDuration;
use jiff::civil::Date;

use crate::client::Client;
use crate::error::Result;
use crate::format::{CsvPreset, Format};
use crate::record::Record;
use crate::time_bound::TimeBound;

/// A values request, decoding records into `T` (by default the crate's [`Record`]; call
/// [`ValuesQuery::records`] for your own type). Build it from [`Client::site_values`],
/// [`Client::signal_values`] or [`Client::values_url`], set the parameters, then end it
/// with a terminal:
///
/// - [`send`](Self::send): the one response, decoded in its [`Format`], as a
///   [`Page`](crate::Page) (its records, and the JSON `meta` members);
/// - [`stream`](Self::stream): the records, decoded as they arrive;
/// - [`csv_rows`](Self::csv_rows): CSV rows as text;
/// - [`copy_to`](Self::copy_to) / [`write_to`](Self::write_to): the server's bytes as
///   sent (`write_to` atomically);
/// - [`to_request`](Self::to_request): the request, without sending it.
///
/// The document's rules are checked before anything is sent: `date` excludes
/// `from`/`to`; a complete export needs `date` or both `from` and `to`; an open range
/// (one end, or none) is a partial read and needs `take`; `tzi` must be an IANA zone.
///
/// ```no_run
/// use preventos_client::{Client, CsvPreset, Format, TryStreamExt};
///
/// # async fn run(client: Client) -> Result<(), preventos_client::Error> {
/// let day = preventos_client::jiff::civil::date(2026, 5, 31);
/// let request = client
///     .site_values("100", "site-ref", ["Velocity", "Depth"])
///     .date(day)
///     .time_zone("Europe/Helsinki");
/// let mut records = request.clone().stream();
/// while let Some(record) = records.try_next().await? {
///     println!("{} {} {:?}", record.timestamp, record.signal_id, record.value);
/// }
/// let stored = request
///     .format(Format::Csv)
///     .csv_preset(CsvPreset::Finnish)
///     .write_to("2026-05-31.csv")
///     .await?;
/// println!("{} rows, {} bytes", stored.records, stored.bytes);
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until read"]
pub struct ValuesQuery<T = Record> {
    pub(crate) params: ValuesParams,
    _records: PhantomData<fn() -> T>,
}

/// The parameters of a values request, whatever type it decodes records into.
#[derive(Clone)]
pub(crate) struct ValuesParams {
    pub(crate) client: Client,
    pub(crate) path: String,
    pub(crate) env: String,
    pub(crate) site: String,
    pub(crate) signals: Vec<String>,
    pub(crate) site_level: bool,
    pub(crate) date: Option<Date>,
    pub(crate) from: Option<TimeBound>,
    pub(crate) to: Option<TimeBound>,
    pub(crate) tzi: Option<String>,
    pub(crate) format: Option<Format>,
    pub(crate) csv_preset: Option<CsvPreset>,
    pub(crate) take: Option<u32>,
    pub(crate) aggregation: Option<String>,
    pub(crate) interval: Option<SignedDuration>,
    pub(crate) meta: Option<bool>,
    pub(crate) decode: DecodeOptions,
}

impl Client {
    /// Site-level values of `signal_ids` (`GET /environments/{env}/sites/{site}/values`).
    pub fn site_values<I, S>(&self, env: &str, site: &str, signal_ids: I) -> ValuesQuery
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let signals: Vec<String> = signal_ids.into_iter().map(Into::into).collect();
        let path = format!(
            "environments/{}/sites/{}/values",
            encode_segment(env),
            encode_segment(site)
        );
        ValuesQuery::new(self.clone(), path, env, site, signals, true)
    }

    /// Signal-level values (`GET /environments/{env}/sites/{site}/signals/{signal}/values`).
    pub fn signal_values(&self, env: &str, site: &str, signal_id: &str) -> ValuesQuery {
        let path = format!(
            "environments/{}/sites/{}/signals/{}/values",
            encode_segment(env),
            encode_segment(site),
            encode_segment(signal_id)
        );
        ValuesQuery::new(self.clone(), path, env, site, vec![signal_id.to_owned()], false)
    }

    /// Follows a catalog `valuesUrl` (relative to the base URL, query string included):
    /// its path, and its `signalIds` and other parameters taken as if set on the builder.
    pub fn values_url(&self, values_url: &str) -> Result<ValuesQuery> {
        ValuesQuery::from_url(self.clone(), values_url)
    }
}

impl<T> Clone for ValuesQuery<T> {
    fn clone(&self) -> Self {
        ValuesQuery {
            params: self.params.clone(),
            _records: PhantomData,
        }
    }
}

impl ValuesQuery<Record> {
    pub(crate) fn new(
        client: Client,
        path: String,
        env: &str,
        site: &str,
        signals: Vec<String>,
        site_level: bool,
    ) -> Self {
        let params = ValuesParams {
            client,
            path,
            env: env.to_owned(),
            site: site.to_owned(),
            signals,
            site_level,
            date: None,
            from: None,
            to: None,
            tzi: None,
            format: None,
            csv_preset: None,
            take: None,
            aggregation: None,
            interval: None,
            meta: None,
            // A CSV body cut inside its last field must not pass for a whole one.
            decode: DecodeOptions::default()
                .with_final_newline_required(true)
                .with_metrics_label(crate::client::METRICS_LABEL),
        };
        ValuesQuery {
            params,
            _records: PhantomData,
        }
    }
}

impl<T> ValuesQuery<T> {
    /// The same request, decoding records into your own type `U` (any `Deserialize`
    /// type: a struct of your own, `serde_json::Value`, or [`RawRecord`](crate::RawRecord)
    /// for each NDJSON or JSON record's text as sent). CSV rows need a row type with a
    /// field per header column: see [`stream`](Self::stream).
    pub fn records<U>(self) -> ValuesQuery<U> {
        ValuesQuery {
            params: self.params,
            _records: PhantomData,
        }
    }

    /// One completed local day in `tzi` (preferred for daily exports).
    pub fn date(mut self, date: Date) -> Self {
        self.params.date = Some(date);
        self
    }

    /// The start of a bounded range.
    pub fn from(mut self, from: impl Into<TimeBound>) -> Self {
        self.params.from = Some(from.into());
        self
    }

    /// The end of a bounded range.
    pub fn to(mut self, to: impl Into<TimeBound>) -> Self {
        self.params.to = Some(to.into());
        self
    }

    /// Both ends, sent as `from` and `to` (instants are `jiff::Timestamp`s; the API
    /// reads dates and local times in `tzi`).
    pub fn range(self, from: impl Into<TimeBound>, to: impl Into<TimeBound>) -> Self {
        self.from(from).to(to)
    }

    /// The IANA time zone for dates and returned timestamps (`tzi`; default UTC).
    pub fn time_zone(mut self, tzi: &str) -> Self {
        self.params.tzi = Some(tzi.to_owned());
        self
    }

    /// The response format (default NDJSON): what is asked for, what
    /// [`send`](Self::send) and [`stream`](Self::stream) decode, and what
    /// [`write_to`](Self::write_to) stores.
    pub fn format(mut self, format: Format) -> Self {
        self.params.format = Some(format);
        self
    }

    /// The CSV preset.
    pub fn csv_preset(mut self, preset: CsvPreset) -> Self {
        self.params.csv_preset = Some(preset);
        self
    }

    /// At most `take` records (a partial read; the API clamps above 10,000).
    pub fn take(mut self, take: u32) -> Self {
        self.params.take = Some(take);
        self
    }

    /// An aggregation mode, sent as is.
    pub fn aggregation(mut self, mode: &str) -> Self {
        self.params.aggregation = Some(mode.to_owned());
        self
    }

    /// The aggregation bucket, sent as an ISO 8601 duration (`PT1H`).
    pub fn interval(mut self, interval: SignedDuration) -> Self {
        self.params.interval = Some(interval);
        self
    }

    /// `meta=false` suppresses metadata (JSON: a bare array).
    pub fn meta(mut self, meta: bool) -> Self {
        self.params.meta = Some(meta);
        self
    }

    /// Decoder limits (record size; CSV's final line terminator, required by default).
    pub fn decode_options(mut self, options: DecodeOptions) -> Self {
        self.params.decode = options;
        self
    }

    /// The environment id.
    pub fn environment(&self) -> &str {
        &self.params.env
    }

    /// The site id.
    pub fn site(&self) -> &str {
        &self.params.site
    }

    /// The signal ids.
    pub fn signal_ids(&self) -> &[String] {
        &self.params.signals
    }

    /// The format that will be requested.
    pub fn requested_format(&self) -> Format {
        self.params.format.unwrap_or_default()
    }
}

impl<T> fmt::Debug for ValuesQuery<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValuesQuery")
            .field("path", &self.params.path)
            .field("query", &self.query_pairs())
            .finish()
    }
}
