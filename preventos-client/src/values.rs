//! Values requests: the builder with every documented parameter, its rules, and the
//! typed streams of each format.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use client_core::decode::CsvRow;
use client_core::{CsvFormat, DecodeOptions, RecordStream, Response};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};
use serde::de::DeserializeOwned;
use tokio::io::AsyncWrite;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::record::Record;

/// The response format (`format=`; it also sets `Accept`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Format {
    /// `{"meta":..,"values":[..]}`, or a bare array with `meta=false`.
    Json,
    /// One record per line.
    #[default]
    Ndjson,
    /// A header row and one row per timestamp.
    Csv,
}

impl Format {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
        }
    }

    /// The media type sent as `Accept`.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv",
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        self.as_str()
    }
}

impl std::str::FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "json" => Ok(Format::Json),
            "ndjson" => Ok(Format::Ndjson),
            "csv" => Ok(Format::Csv),
            other => Err(Error::InvalidRequest(format!(
                "unknown format `{other}` (json, ndjson or csv)"
            ))),
        }
    }
}

/// A CSV preset (`csvPreset=`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CsvPreset {
    /// `finnish`: `;` between fields and a decimal comma (assumed; see the crate docs).
    Finnish,
    /// Another preset, sent as is and decoded as the default format.
    Other(String),
}

impl CsvPreset {
    /// The query value.
    pub fn as_str(&self) -> &str {
        match self {
            CsvPreset::Finnish => "finnish",
            CsvPreset::Other(name) => name,
        }
    }

    /// Parses a preset name.
    pub fn parse(name: &str) -> CsvPreset {
        match name {
            "finnish" => CsvPreset::Finnish,
            other => CsvPreset::Other(other.to_owned()),
        }
    }

    /// The delimiter and decimal separator to decode it with.
    pub fn csv_format(&self) -> CsvFormat {
        match self {
            CsvPreset::Finnish => CsvFormat::FINNISH,
            CsvPreset::Other(_) => CsvFormat::DEFAULT,
        }
    }
}

/// One end of a `from`/`to` range.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TimeBound {
    /// An instant, sent in UTC (`2026-05-30T21:00:00Z`).
    Instant(Timestamp),
    /// An instant with its offset (`2026-05-31T00:00:00+03:00`).
    Zoned(Zoned),
    /// A local date-time without zone, read by the API in `tzi`.
    Local(DateTime),
    /// A date: `from` means its start, `to` the end of that day, in `tzi`.
    Date(Date),
}

impl From<Timestamp> for TimeBound {
    fn from(t: Timestamp) -> Self {
        TimeBound::Instant(t)
    }
}

impl From<Zoned> for TimeBound {
    fn from(z: Zoned) -> Self {
        TimeBound::Zoned(z)
    }
}

impl From<DateTime> for TimeBound {
    fn from(d: DateTime) -> Self {
        TimeBound::Local(d)
    }
}

impl From<Date> for TimeBound {
    fn from(d: Date) -> Self {
        TimeBound::Date(d)
    }
}

impl fmt::Display for TimeBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeBound::Instant(t) => write!(f, "{t}"),
            TimeBound::Zoned(z) => write!(f, "{}", z.strftime("%Y-%m-%dT%H:%M:%S%:z")),
            TimeBound::Local(d) => write!(f, "{}", d.strftime("%Y-%m-%dT%H:%M:%S")),
            TimeBound::Date(d) => write!(f, "{d}"),
        }
    }
}

impl TimeBound {
    /// The instant this bound stands for in `tz`; a date `to` is the end of its day.
    fn instant(&self, tz: &TimeZone, is_end: bool) -> Result<Timestamp> {
        let invalid = |e: jiff::Error| Error::InvalidRequest(format!("cannot place {self} in time: {e}"));
        Ok(match self {
            TimeBound::Instant(t) => *t,
            TimeBound::Zoned(z) => z.timestamp(),
            TimeBound::Local(d) => d.to_zoned(tz.clone()).map_err(invalid)?.timestamp(),
            TimeBound::Date(d) => {
                let day = if is_end {
                    d.tomorrow().map_err(invalid)?
                } else {
                    *d
                };
                day.to_zoned(tz.clone())
                    .map_err(invalid)?
                    .start_of_day()
                    .map_err(invalid)?
                    .timestamp()
            }
        })
    }
}

/// A values request, decoding records into `T` (by default the crate's [`Record`]; call
/// [`ValuesRequest::records`] for your own type). Build it from [`Client::site_values`],
/// [`Client::signal_values`] or [`Client::values_url`], set the parameters, then read it
/// in the format you want, or store the server's bytes with [`ValuesRequest::write_to`].
///
/// The document's rules are checked before anything is sent: `date` excludes
/// `from`/`to`; a complete export needs `date` or both `from` and `to`; an open range
/// (one end, or none) is a partial read and needs `take`; `tzi` must be an IANA zone.
#[must_use = "a request does nothing until read"]
pub struct ValuesRequest<T = Record> {
    client: Client,
    path: String,
    env: String,
    site: String,
    signals: Vec<String>,
    site_level: bool,
    date: Option<Date>,
    from: Option<TimeBound>,
    to: Option<TimeBound>,
    tzi: Option<String>,
    format: Option<Format>,
    csv_preset: Option<CsvPreset>,
    take: Option<u32>,
    aggregation: Option<String>,
    interval: Option<SignedDuration>,
    meta: Option<bool>,
    decode: DecodeOptions,
    _records: PhantomData<fn() -> T>,
}

impl<T> Clone for ValuesRequest<T> {
    fn clone(&self) -> Self {
        ValuesRequest {
            client: self.client.clone(),
            path: self.path.clone(),
            env: self.env.clone(),
            site: self.site.clone(),
            signals: self.signals.clone(),
            site_level: self.site_level,
            date: self.date,
            from: self.from.clone(),
            to: self.to.clone(),
            tzi: self.tzi.clone(),
            format: self.format,
            csv_preset: self.csv_preset.clone(),
            take: self.take,
            aggregation: self.aggregation.clone(),
            interval: self.interval,
            meta: self.meta,
            decode: self.decode,
            _records: PhantomData,
        }
    }
}

impl ValuesRequest<Record> {
    pub(crate) fn new(
        client: Client,
        path: String,
        env: &str,
        site: &str,
        signals: Vec<String>,
        site_level: bool,
    ) -> Self {
        ValuesRequest {
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
            decode: DecodeOptions::default().with_final_newline_required(true),
            _records: PhantomData,
        }
    }

    /// A request from a catalog `valuesUrl`: its path, and its `signalIds` and other
    /// query parameters taken as if set on the builder.
    pub(crate) fn from_url(client: Client, values_url: &str) -> Result<Self> {
        let url = client_core::join(client.base_url(), values_url)?;
        let base = client.base_url().path();
        let path = url.path().strip_prefix(base).unwrap_or(url.path()).to_owned();
        let segments: Vec<&str> = path.split('/').collect();
        let (env, site, signal) = match segments.as_slice() {
            ["environments", env, "sites", site, "values"] => (*env, *site, None),
            ["environments", env, "sites", site, "signals", signal, "values"] => (*env, *site, Some(*signal)),
            _ => {
                return Err(Error::InvalidRequest(format!(
                    "`{}` is not a values URL",
                    url.path()
                )));
            }
        };
        let mut request = match signal {
            Some(signal) => client.signal_values(
                &decode_segment(env)?,
                &decode_segment(site)?,
                &decode_segment(signal)?,
            ),
            None => ValuesRequest::new(
                client.clone(),
                path.clone(),
                &decode_segment(env)?,
                &decode_segment(site)?,
                Vec::new(),
                true,
            ),
        };
        for (name, value) in url.query_pairs() {
            request = match name.as_ref() {
                "signalIds" => {
                    request.signals = value
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect();
                    request
                }
                "tzi" => request.time_zone(&value),
                "format" => request.format(value.parse()?),
                "csvPreset" => request.csv_preset(CsvPreset::parse(&value)),
                "meta" => request.meta(value != "false"),
                "aggregation" => request.aggregation(value.as_ref()),
                _ => request,
            };
        }
        Ok(request)
    }
}

impl<T> ValuesRequest<T> {
    /// The same request, decoding records into your own type `U` (any `Deserialize`
    /// type, `serde_json::Value` included).
    pub fn records<U>(self) -> ValuesRequest<U> {
        ValuesRequest {
            client: self.client,
            path: self.path,
            env: self.env,
            site: self.site,
            signals: self.signals,
            site_level: self.site_level,
            date: self.date,
            from: self.from,
            to: self.to,
            tzi: self.tzi,
            format: self.format,
            csv_preset: self.csv_preset,
            take: self.take,
            aggregation: self.aggregation,
            interval: self.interval,
            meta: self.meta,
            decode: self.decode,
            _records: PhantomData,
        }
    }

    /// One completed local day in `tzi` (preferred for daily exports).
    pub fn date(mut self, date: Date) -> Self {
        self.date = Some(date);
        self
    }

    /// The start of a bounded range.
    pub fn from(mut self, from: impl Into<TimeBound>) -> Self {
        self.from = Some(from.into());
        self
    }

    /// The end of a bounded range.
    pub fn to(mut self, to: impl Into<TimeBound>) -> Self {
        self.to = Some(to.into());
        self
    }

    /// Both ends.
    pub fn range(self, from: impl Into<TimeBound>, to: impl Into<TimeBound>) -> Self {
        self.from(from).to(to)
    }

    /// The IANA time zone for dates and returned timestamps (`tzi`; default UTC).
    pub fn time_zone(mut self, tzi: &str) -> Self {
        self.tzi = Some(tzi.to_owned());
        self
    }

    /// The response format.
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// The CSV preset.
    pub fn csv_preset(mut self, preset: CsvPreset) -> Self {
        self.csv_preset = Some(preset);
        self
    }

    /// At most `take` records (a partial read; the API clamps above 10,000).
    pub fn take(mut self, take: u32) -> Self {
        self.take = Some(take);
        self
    }

    /// An aggregation mode, sent as is.
    pub fn aggregation(mut self, mode: &str) -> Self {
        self.aggregation = Some(mode.to_owned());
        self
    }

    /// The aggregation bucket, sent as an ISO 8601 duration (`PT1H`).
    pub fn interval(mut self, interval: SignedDuration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// `meta=false` suppresses metadata.
    pub fn meta(mut self, meta: bool) -> Self {
        self.meta = Some(meta);
        self
    }

    /// Decoder limits (record size; CSV's final line terminator, required by default).
    pub fn decode_options(mut self, options: DecodeOptions) -> Self {
        self.decode = options;
        self
    }

    /// The environment id.
    pub fn environment(&self) -> &str {
        &self.env
    }

    /// The site id.
    pub fn site(&self) -> &str {
        &self.site
    }

    /// The signal ids.
    pub fn signal_ids(&self) -> &[String] {
        &self.signals
    }

    /// The format that will be requested.
    pub fn requested_format(&self) -> Format {
        self.format.unwrap_or_default()
    }

    /// The time zone (default UTC).
    pub fn zone(&self) -> Result<TimeZone> {
        match &self.tzi {
            None => Ok(TimeZone::UTC),
            Some(name) => TimeZone::get(name)
                .map_err(|_| Error::InvalidRequest(format!("`{name}` is not an IANA time zone (tzi)"))),
        }
    }

    /// The half-open window `[start, end)` the request covers, for a `date` or a bounded
    /// range; `None` for a partial read.
    pub fn window(&self) -> Result<Option<(Timestamp, Timestamp)>> {
        let tz = self.zone()?;
        let invalid =
            |e: jiff::Error| Error::InvalidRequest(format!("cannot place the date in {}: {e}", tz_name(&tz)));
        if let Some(date) = self.date {
            let start = date
                .to_zoned(tz.clone())
                .map_err(invalid)?
                .start_of_day()
                .map_err(invalid)?;
            let end = date
                .tomorrow()
                .map_err(invalid)?
                .to_zoned(tz.clone())
                .map_err(invalid)?
                .start_of_day()
                .map_err(invalid)?;
            return Ok(Some((start.timestamp(), end.timestamp())));
        }
        match (&self.from, &self.to) {
            (Some(from), Some(to)) => Ok(Some((from.instant(&tz, false)?, to.instant(&tz, true)?))),
            _ => Ok(None),
        }
    }

    /// Checks the document's rules.
    pub fn validate(&self) -> Result<()> {
        self.zone()?;
        if self.date.is_some() && (self.from.is_some() || self.to.is_some()) {
            return Err(Error::InvalidRequest(
                "`date` cannot be combined with `from`/`to`".into(),
            ));
        }
        let bounded = self.date.is_some() || (self.from.is_some() && self.to.is_some());
        if !bounded && self.take.is_none() {
            return Err(Error::InvalidRequest(
                "a complete export needs `date` or both `from` and `to`; an open range is a partial read and needs `take`"
                    .into(),
            ));
        }
        if self.take == Some(0) {
            return Err(Error::InvalidRequest("`take` must be at least 1".into()));
        }
        if self.site_level && self.signals.is_empty() {
            return Err(Error::InvalidRequest(
                "a site-level request needs at least one signal id".into(),
            ));
        }
        if let Some((start, end)) = self.window()? {
            if start >= end {
                return Err(Error::InvalidRequest(format!(
                    "the range is empty: {start} is not before {end}"
                )));
            }
        }
        Ok(())
    }

    /// The query string pairs, in a stable order.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if self.site_level {
            pairs.push(("signalIds", self.signals.join(",")));
        }
        if let Some(date) = self.date {
            pairs.push(("date", date.to_string()));
        }
        if let Some(from) = &self.from {
            pairs.push(("from", from.to_string()));
        }
        if let Some(to) = &self.to {
            pairs.push(("to", to.to_string()));
        }
        if let Some(tzi) = &self.tzi {
            pairs.push(("tzi", tzi.clone()));
        }
        pairs.push(("format", self.requested_format().as_str().to_owned()));
        if let Some(preset) = &self.csv_preset {
            pairs.push(("csvPreset", preset.as_str().to_owned()));
        }
        if let Some(take) = self.take {
            pairs.push(("take", take.to_string()));
        }
        if let Some(mode) = &self.aggregation {
            pairs.push(("aggregation", mode.clone()));
        }
        if let Some(interval) = self.interval {
            pairs.push(("interval", interval.to_string()));
        }
        if let Some(meta) = self.meta {
            pairs.push(("meta", meta.to_string()));
        }
        pairs
    }

    fn range_text(&self) -> String {
        match (self.date, &self.from, &self.to) {
            (Some(date), _, _) => format!("date {date}"),
            (None, Some(from), Some(to)) => format!("{from}..{to}"),
            (None, Some(from), None) => format!("{from}.."),
            (None, None, Some(to)) => format!("..{to}"),
            (None, None, None) => "latest".to_owned(),
        }
    }

    /// Sends the request and returns the response, its body unread.
    pub async fn send(&self) -> Result<Response> {
        Ok(self.prepare()?.send().await?)
    }

    /// Sends the request and reads the whole body inside the retry loop (a body cut
    /// short is asked for again); for windows an export keeps in memory anyway.
    pub(crate) async fn send_buffered(&self) -> Result<Response> {
        Ok(self.prepare()?.send_buffered().await?)
    }

    fn prepare(&self) -> Result<client_core::RequestBuilder> {
        self.validate()?;
        let format = self.requested_format();
        let span = tracing::info_span!(
            "preventos_values",
            environment = %self.env,
            site = %self.site,
            signal_ids = %self.signals.join(","),
            range = %self.range_text(),
            format = format.as_str(),
        );
        let mut request = self
            .client
            .http
            .get(&self.path)
            .accept(format.media_type())
            .span(span);
        for (name, value) in self.query_pairs() {
            request = request.query(name, value);
        }
        Ok(request)
    }

    /// Copies the body, in the requested format and exactly as the server sent it, to
    /// `writer`; a truncated body is an error (the writer then holds a partial copy: use
    /// [`Self::write_to`] when that must never be visible).
    pub async fn copy_to<W: AsyncWrite + Unpin + ?Sized>(&self, writer: &mut W) -> Result<u64> {
        Ok(self.send().await?.copy_to(writer).await?)
    }

    /// Writes the body, exactly as the server sent it, to `path` atomically: the file
    /// appears complete, or not at all.
    pub async fn write_to(&self, path: impl AsRef<Path>) -> Result<u64> {
        Ok(self.send().await?.write_to(path).await?)
    }

    /// CSV rows as text, with the preset's delimiter and decimal separator.
    pub fn csv_rows(self) -> RecordStream<CsvRow, Error> {
        let request = self.records::<CsvRow>().format(Format::Csv);
        let format = request.csv_format();
        let options = request.decode;
        from_response(request, move |response| response.csv_rows(format, options))
    }

    fn csv_format(&self) -> CsvFormat {
        self.csv_preset
            .as_ref()
            .map_or(CsvFormat::DEFAULT, CsvPreset::csv_format)
    }
}

impl<T: DeserializeOwned + Send + 'static> ValuesRequest<T> {
    /// Records as NDJSON, decoded into `T`.
    pub fn ndjson(self) -> RecordStream<T, Error> {
        let request = self.format(Format::Ndjson);
        let options = request.decode;
        from_response(request, move |response| response.ndjson(options))
    }

    /// Records as JSON, decoded into `T`: the `values` array, or the bare array when
    /// `meta=false`.
    pub fn json(self) -> RecordStream<T, Error> {
        let request = self.format(Format::Json);
        let key = if request.meta == Some(false) {
            None
        } else {
            Some("values")
        };
        let options = request.decode;
        from_response(request, move |response| response.json_array(key, options))
    }

    /// CSV rows decoded into `T` by header name (decimal commas read as numbers).
    pub fn csv(self) -> RecordStream<T, Error> {
        let request = self.format(Format::Csv);
        let format = request.csv_format();
        let options = request.decode;
        from_response(request, move |response| response.csv(format, options))
    }
}

/// Sends `request` when first polled, then decodes its body; ends after the first error.
fn from_response<R: 'static, U, F>(request: ValuesRequest<R>, decode: F) -> RecordStream<U, Error>
where
    U: Send + 'static,
    F: FnOnce(Response) -> RecordStream<U> + Send + 'static,
{
    RecordStream::new(async_stream::stream! {
        match request.send().await {
            Err(err) => yield Err(err),
            Ok(response) => {
                let mut records = decode(response);
                while let Some(record) = futures::StreamExt::next(&mut records).await {
                    let failed = record.is_err();
                    yield record.map_err(Error::from);
                    if failed {
                        return;
                    }
                }
            }
        }
    })
}

fn tz_name(tz: &TimeZone) -> &str {
    tz.iana_name().unwrap_or("the time zone")
}

fn decode_segment(segment: &str) -> Result<String> {
    Ok(client_core::decode_segment(segment)?)
}

impl<T> fmt::Debug for ValuesRequest<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValuesRequest")
            .field("path", &self.path)
            .field("query", &self.query_pairs())
            .finish()
    }
}
