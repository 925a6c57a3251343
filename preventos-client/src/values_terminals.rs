//! The terminals of a values request (`to_request`, `send`, `stream`, `csv_rows`,
//! `copy_to`, `write_to`) and the SDK's verb traits, which delegate to them.

use std::path::Path;

use bytes::Bytes;
use client_core::decode::CsvRow;
use client_core::{Page, RecordStream, RequestPreview, Written};
use futures::TryStreamExt;
use serde::de::DeserializeOwned;
use tokio::io::AsyncWrite;

use crate::error::{Error, Result};
use crate::format::{Format, csv_format_of};
use crate::values::ValuesQuery;

/// The terminal that reads a values request's CSV rows as text, for the error that
/// refuses to decode them into one-value records.
const CSV_ROWS: &str = "`csv_rows()` for the rows as text";

impl<T> ValuesQuery<T> {
    /// The request as it would be sent, after the same checks as sending: method, URL
    /// without its query, and the query pairs (no credentials).
    pub fn to_request(&self) -> Result<RequestPreview> {
        Ok(self.prepare()?.to_request()?)
    }

    /// The core request, after the document's rules.
    fn prepare(&self) -> Result<client_core::RequestBuilder> {
        self.validate()?;
        let format = self.requested_format();
        let span = tracing::info_span!(
            "preventos_values",
            environment = %self.params.env,
            site = %self.params.site,
            signal_ids = %self.params.signals.join(","),
            range = %self.range_text(),
            format = format.as_str(),
        );
        Ok(self
            .params
            .client
            .http
            .get(&self.params.path)
            .accept(format.media_type())
            .span(span)
            .query_pairs(self.query_pairs()))
    }

    /// Sends the request and reads the whole body inside the retry loop: a body cut
    /// short is asked for again. For responses held in memory anyway (`send`, an
    /// export's windows).
    pub(crate) async fn body(&self) -> Result<Bytes> {
        Ok(self.prepare()?.send_buffered().await?.bytes().await?)
    }

    /// CSV rows as text, with the preset's delimiter and decimal separator (the request
    /// is sent as `format=csv`).
    pub fn csv_rows(self) -> RecordStream<CsvRow, Error> {
        let request = self.records::<CsvRow>().format(Format::Csv);
        let format = csv_format_of(request.params.csv_preset.as_ref());
        let options = request.params.decode;
        RecordStream::new(
            futures::stream::once(async move { request.prepare()?.send().await.map_err(Error::from) })
                .map_ok(move |response| response.csv_rows(format, options).err_into::<Error>())
                .try_flatten(),
        )
    }

    /// Sends the request and copies the body, in the requested format and exactly as the
    /// server sent it, to `writer`; the format's decoder counts the records on the way,
    /// so a body cut short is an error (the writer then holds a partial copy: use
    /// [`Self::write_to`] when that must never be visible).
    pub async fn copy_to<W>(self, writer: &mut W) -> Result<Written>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let response = self.prepare()?.send().await?;
        let (records, bytes) = self
            .decoding()
            .copy_counting(response.bytes_stream(), writer)
            .await?;
        Ok(Written::new(1, records, bytes))
    }
}

impl<T: DeserializeOwned + Send + 'static> ValuesQuery<T> {
    /// Writes the body, exactly as the server sent it, to `path` atomically: the file
    /// appears complete, or not at all.
    pub async fn write_to(self, path: impl AsRef<Path> + Send) -> Result<Written> {
        client_core::Storable::write_to(self, path).await
    }

    /// Sends the request and decodes its one response in the request's [`Format`]: the
    /// [`Page`] of its records (the API has no next page, so `next` is `None`), with
    /// `meta` holding the members of the JSON document's `meta` object as sent (empty
    /// for NDJSON, CSV and `meta=false`). The body is read whole inside the retry loop
    /// (a body cut short is asked for again), at most 64 MiB: use
    /// [`stream`](Self::stream) for larger responses.
    ///
    /// CSV rows are decoded by header name into `T`, which must be a row type (see
    /// [`stream`](Self::stream)); a CSV request decoding into [`Record`](crate::Record)
    /// or [`RawRecord`](crate::RawRecord) is an `InvalidRequest`, refused before sending.
    pub async fn send(self) -> Result<Page<T>> {
        let decoding = self.decoding();
        decoding.check_record_type::<T>(CSV_ROWS)?;
        let body = self.body().await?;
        let records = decoding.records::<T, _>(futures::stream::iter([Ok(body.clone())]));
        let items: Vec<T> = records.try_collect().await?;
        Ok(Page::new(items).with_meta(decoding.meta(&body)?))
    }

    /// The records of the response, decoded in the request's [`Format`] as they arrive:
    /// NDJSON lines, the JSON `values` array (or the bare array of `meta=false`), CSV
    /// rows. Nothing is sent until the stream is polled; it ends after the first error.
    ///
    /// A CSV row is one timestamp with a column per signal (`timestamp;Velocity;Depth`),
    /// decoded by header name into a row type of your own (with `csvPreset=finnish` its
    /// decimal commas are read as points); the crate's [`Record`](crate::Record) (one
    /// value of one signal) cannot hold it, so a CSV request decoding into `Record` or
    /// [`RawRecord`](crate::RawRecord) ends in an `InvalidRequest` before anything is
    /// sent. Read rows as text with [`csv_rows`](Self::csv_rows). The
    /// [crate docs](crate#records) show a row type.
    pub fn stream(self) -> RecordStream<T, Error> {
        let decoding = self.decoding();
        RecordStream::new(
            futures::stream::once(async move {
                decoding.check_record_type::<T>(CSV_ROWS)?;
                self.prepare()?.send().await.map_err(Error::from)
            })
            .map_ok(move |response| {
                decoding
                    .records::<T, _>(response.bytes_stream())
                    .err_into::<Error>()
            })
            .try_flatten(),
        )
    }
}

client_core::verbs! {
    impl[T: DeserializeOwned + Send + 'static] ValuesQuery<T> {
        error: Error;
        send: Page<T>;
        stream: T;
        store: Written;
    }
}
