//! A values body decoded in its format: one code path for `send`, `stream`, the record
//! count of `copy_to`, and an export's CSV windows.

use std::any::TypeId;
use std::borrow::Cow;

use bytes::Bytes;
use client_core::decode::{
    BomSkipper, JsonArrayDecoder, NdjsonDecoder, csv_records, decode_stream, fast_path,
};
use client_core::{CsvFormat, DecodeOptions, RecordStream};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::{Map, Value};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::{Error, Result};
use crate::format::{CsvPreset, Format, csv_format_of};
use crate::raw_record::RawRecord;
use crate::record::Record;
use crate::values::ValuesQuery;

/// How a values body is read: its format, the CSV delimiter and decimal separator, where
/// the JSON records are, and the decoder limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decoding {
    format: Format,
    csv: CsvFormat,
    /// JSON: the member holding the records; `None` for the bare array of `meta=false`.
    json_key: Option<&'static str>,
    options: DecodeOptions,
}

impl<T> ValuesQuery<T> {
    /// How this request's response is decoded.
    pub(crate) fn decoding(&self) -> Decoding {
        Decoding::new(
            self.requested_format(),
            self.params.csv_preset.as_ref(),
            self.params.meta,
            self.params.decode,
        )
    }
}

/// The JSON document's `meta` member; the records are skipped.
#[derive(Deserialize)]
struct MetaOnly {
    #[serde(default)]
    meta: Option<Value>,
}

impl Decoding {
    /// How a body asked for in `format` (with `csv_preset` and `meta`) is decoded.
    pub(crate) fn new(
        format: Format,
        csv_preset: Option<&CsvPreset>,
        meta: Option<bool>,
        options: DecodeOptions,
    ) -> Decoding {
        Decoding {
            format,
            csv: csv_format_of(csv_preset),
            json_key: (meta != Some(false)).then_some("values"),
            options,
        }
    }

    /// Refuses, before anything is sent, to decode CSV rows into the crate's one-value
    /// records: a CSV row is one timestamp with a column per signal
    /// (`timestamp;Velocity;Depth`), which [`Record`] and [`RawRecord`] cannot hold.
    /// `text_terminal` names the terminal that reads the rows as they are.
    pub(crate) fn check_record_type<T: 'static>(&self, text_terminal: &str) -> Result<()> {
        if self.format != Format::Csv {
            return Ok(());
        }
        let name = if TypeId::of::<T>() == TypeId::of::<Record>() {
            "Record"
        } else if TypeId::of::<T>() == TypeId::of::<RawRecord>() {
            "RawRecord"
        } else {
            return Ok(());
        };
        Err(Error::invalid_request(format!(
            "CSV rows are wide (`timestamp;Velocity;Depth`: one row per timestamp, one column \
             per signal) and cannot be decoded into `{name}` (one value of one signal): use \
             {text_terminal}, decode each row into a type of your own with `records::<Row>()` \
             (fields named after the header), or ask for NDJSON or JSON"
        )))
    }

    /// The members of a JSON document's `meta` object, as sent (a `meta` that is not an
    /// object is kept whole under `meta`); empty for NDJSON, CSV and the bare array.
    pub(crate) fn meta(&self, body: &[u8]) -> Result<Map<String, Value>> {
        let body = client_core::decode::skip_bom(body);
        if self.format != Format::Json || first_token(body) != Some(b'{') {
            // NDJSON, CSV, or a bare array (asked for with `meta=false`, or not).
            return Ok(Map::new());
        }
        let document: MetaOnly =
            serde_json::from_slice(body).map_err(|e| Error::decode(format!("JSON values document: {e}")))?;
        Ok(match document.meta {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(members)) => members,
            Some(other) => Map::from_iter([("meta".to_owned(), other)]),
        })
    }

    /// The records of `body`: NDJSON lines, the JSON `values` array (or the bare array),
    /// or CSV rows by header name.
    pub(crate) fn records<U, S>(self, body: S) -> RecordStream<U>
    where
        U: DeserializeOwned + Send + 'static,
        S: Stream<Item = client_core::Result<Bytes>> + Send + 'static,
    {
        match self.format {
            Format::Ndjson => decode_stream(
                body,
                NdjsonDecoder::new(self.options).with_fast_path(fast_path::<U, Record>()),
            ),
            Format::Json => json_records(body, self.json_key, self.options),
            Format::Csv => csv_records(body, self.csv, self.options),
        }
    }

    /// Copies `body` to `writer` as sent, while the format's decoder counts its records
    /// (and so finds a body that ends mid-record). Returns the records and the bytes.
    pub(crate) async fn copy_counting<S, W>(self, body: S, writer: &mut W) -> client_core::Result<(u64, u64)>
    where
        S: Stream<Item = client_core::Result<Bytes>> + Send,
        W: AsyncWrite + Unpin + ?Sized,
    {
        // The decoder owns its input, so the chunks reach it through a channel while the
        // writer gets them here.
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Bytes>(1);
        let input = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).map(Ok);
        let mut records = self.records::<IgnoredAny, _>(input);
        let copy = async move {
            let mut body = std::pin::pin!(body);
            let mut bytes = 0u64;
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                writer.write_all(&chunk).await?;
                bytes += chunk.len() as u64;
                if sender.send(chunk).await.is_err() {
                    // The decoder stopped at an error, which `count` reports.
                    break;
                }
            }
            writer.flush().await?;
            Ok::<u64, client_core::Error>(bytes)
        };
        let count = async {
            let mut count = 0u64;
            while let Some(record) = records.next().await {
                record?;
                count += 1;
            }
            Ok::<u64, client_core::Error>(count)
        };
        let (bytes, count) = futures::try_join!(copy, count)?;
        Ok((count, bytes))
    }
}

/// The first byte of `bytes` that is not JSON whitespace.
fn first_token(bytes: &[u8]) -> Option<u8> {
    bytes
        .iter()
        .copied()
        .find(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
}

/// The records of a JSON body, in the shape the server sent whatever was asked: the
/// elements of `{"meta","values":[...]}`, or of a bare array (the document's `meta=false`
/// shape, which a server may send anyway). The body's first token tells; `key` is what
/// the request asked for, used only for a body with no token at all.
fn json_records<U, S>(body: S, key: Option<&'static str>, options: DecodeOptions) -> RecordStream<U>
where
    U: DeserializeOwned + Send + 'static,
    S: Stream<Item = client_core::Result<Bytes>> + Send + 'static,
{
    RecordStream::new(async_stream::try_stream! {
        let mut body = Box::pin(body);
        // Chunks read to find the first token (whitespace only, then the one with it).
        // A byte-order mark is no token: it is taken off here (however the chunks cut
        // it), before the first token is looked for.
        let mut head = Vec::new();
        let mut first = None;
        let mut bom = BomSkipper::new();
        while first.is_none() {
            let Some(chunk) = body.next().await else {
                head.push(Bytes::from(bom.finish()));
                first = head.last().and_then(|held| first_token(held));
                break;
            };
            let chunk = chunk?;
            let chunk = match bom.strip(&chunk) {
                Cow::Borrowed(rest) if rest.len() == chunk.len() => chunk,
                other => Bytes::copy_from_slice(&other),
            };
            first = first_token(&chunk);
            head.push(chunk);
        }
        let key = match first {
            Some(b'[') => None,
            Some(_) => Some("values"),
            None => key,
        };
        let body = futures::stream::iter(head.into_iter().map(Ok)).chain(body);
        let decoder = JsonArrayDecoder::new(key, options).with_fast_path(fast_path::<U, Record>());
        let mut records = decode_stream(body, decoder);
        while let Some(record) = records.next().await {
            yield record?;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    /// A record type that skips the numbers: serde skips an unknown field through a path
    /// that reports a number cut after `.` or `e` as invalid rather than unfinished, which
    /// client-core's JSON array decoder must take as "more bytes to come".
    #[derive(Debug, serde::Deserialize)]
    struct Named {
        s: String,
    }

    #[tokio::test]
    async fn a_skipped_number_cut_by_a_chunk_boundary_is_read_whole() {
        let body = br#"[{"n":14.933,"s":"a"},{"n":-1e-5,"s":"b"},{"s":"c","t":true}]"#;
        let decoding = Decoding {
            format: Format::Json,
            csv: CsvFormat::DEFAULT,
            json_key: None,
            options: DecodeOptions::default(),
        };
        for cut in 1..body.len() {
            let chunks = || {
                futures::stream::iter([
                    Ok(Bytes::copy_from_slice(&body[..cut])),
                    Ok(Bytes::copy_from_slice(&body[cut..])),
                ])
            };
            let named: Vec<Named> = decoding
                .records(chunks())
                .try_collect()
                .await
                .unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
            let names: Vec<&str> = named.iter().map(|n| n.s.as_str()).collect();
            assert_eq!(names, ["a", "b", "c"], "cut at {cut}");
            let (records, bytes) = decoding
                .copy_counting(chunks(), &mut Vec::new())
                .await
                .unwrap_or_else(|e| panic!("copy, cut at {cut}: {e}"));
            assert_eq!((records, bytes), (3, body.len() as u64), "cut at {cut}");
        }
    }

    /// A body that starts with a UTF-8 byte-order mark: every format's records and the
    /// JSON `meta` are read as without it, the mark split across chunks or not, and the
    /// copy keeps the bytes as sent.
    #[tokio::test]
    async fn a_byte_order_mark_is_skipped_by_the_decoders_and_kept_by_the_copy() {
        let bom = b"\xEF\xBB\xBF";
        let bodies: [(Format, Option<bool>, &[u8]); 4] = [
            (Format::Ndjson, None, b"{\"s\":\"a\"}\n{\"s\":\"b\"}\n"),
            (
                Format::Json,
                None,
                br#"{"meta":{"k":1},"values":[{"s":"a"},{"s":"b"}]}"#,
            ),
            (Format::Json, Some(false), br#"[{"s":"a"},{"s":"b"}]"#),
            (Format::Csv, None, b"s,n\na,1\nb,2\n"),
        ];
        for (format, meta, body) in bodies {
            let decoding = Decoding::new(format, None, meta, DecodeOptions::default());
            let body = [&bom[..], body].concat();
            for cut in [1, 2, 3, body.len()] {
                let chunks = || {
                    futures::stream::iter([
                        Ok(Bytes::copy_from_slice(&body[..cut])),
                        Ok(Bytes::copy_from_slice(&body[cut..])),
                    ])
                };
                let named: Vec<Named> = decoding
                    .records(chunks())
                    .try_collect()
                    .await
                    .unwrap_or_else(|e| panic!("{format:?} cut at {cut}: {e}"));
                let names: Vec<&str> = named.iter().map(|n| n.s.as_str()).collect();
                assert_eq!(names, ["a", "b"], "{format:?} cut at {cut}");
                let mut copy = Vec::new();
                let (records, bytes) = decoding.copy_counting(chunks(), &mut copy).await.unwrap();
                assert_eq!(
                    (records, bytes, &copy),
                    (2, body.len() as u64, &body),
                    "{format:?}"
                );
            }
            let meta = decoding.meta(&body).unwrap();
            assert_eq!(
                meta.get("k").is_some(),
                body.ends_with(b"}"),
                "{format:?}: {meta:?}"
            );
        }
    }
}
