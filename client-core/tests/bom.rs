//! A UTF-8 byte-order mark at the start of a body: every decoder skips it, however the
//! chunks cut it, and it never becomes part of a CSV header name; the raw copies keep
//! the bytes as the server sent them.

use bytes::Bytes;
use client_core::decode::{self, UTF8_BOM};
use client_core::{CsvFormat, DecodeOptions, Error, HttpClient};
use futures::{StreamExt, stream};
use serde::Deserialize;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, PartialEq, Deserialize)]
struct Row {
    timestamp: String,
    value: String,
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            timestamp: "t1".into(),
            value: "1".into(),
        },
        Row {
            timestamp: "t2".into(),
            value: "2".into(),
        },
    ]
}

const NDJSON: &str = "{\"timestamp\":\"t1\",\"value\":\"1\"}\n{\"timestamp\":\"t2\",\"value\":\"2\"}\n";
const ARRAY: &str = "[{\"timestamp\":\"t1\",\"value\":\"1\"},{\"timestamp\":\"t2\",\"value\":\"2\"}]";
const WRAPPED: &str =
    "{\"values\":[{\"timestamp\":\"t1\",\"value\":\"1\"},{\"timestamp\":\"t2\",\"value\":\"2\"}]}";
const CSV: &str = "timestamp,value\nt1,1\nt2,2\n";

fn with_bom(body: &str) -> Vec<u8> {
    [UTF8_BOM, body.as_bytes()].concat()
}

fn chunks(parts: Vec<&[u8]>) -> impl futures::Stream<Item = Result<Bytes, Error>> + Send + 'static {
    let owned: Vec<Result<Bytes, Error>> = parts.into_iter().map(|p| Ok(Bytes::copy_from_slice(p))).collect();
    stream::iter(owned)
}

async fn collect<T>(mut stream: decode::RecordStream<T>) -> Result<Vec<T>, Error> {
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item?);
    }
    Ok(items)
}

type Decoder = fn(Vec<&[u8]>) -> decode::RecordStream<Row>;

/// The ways of cutting `body` in two or three: every split point (the mark split after
/// its first byte among them), the mark alone, and a byte at a time.
fn cuttings(body: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut all: Vec<Vec<&[u8]>> = (0..=body.len()).map(|i| vec![&body[..i], &body[i..]]).collect();
    all.push(vec![&body[..1], &body[1..2], &body[2..]]);
    all.push(body.chunks(1).collect());
    all
}

#[tokio::test]
async fn every_decoder_skips_a_mark_however_the_chunks_cut_it() {
    let decoders: Vec<(&str, &str, Decoder)> = vec![
        ("ndjson", NDJSON, |p| {
            decode::ndjson(chunks(p), DecodeOptions::default())
        }),
        ("array", ARRAY, |p| {
            decode::json_array(chunks(p), None, DecodeOptions::default())
        }),
        ("wrapped", WRAPPED, |p| {
            decode::json_array(chunks(p), Some("values"), DecodeOptions::default())
        }),
        ("csv", CSV, |p| {
            decode::csv_records(
                chunks(p),
                CsvFormat::DEFAULT,
                DecodeOptions::default().with_final_newline_required(true),
            )
        }),
    ];
    for (name, body, decoder) in decoders {
        let body = with_bom(body);
        for parts in cuttings(&body) {
            let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
            let items = collect(decoder(parts)).await;
            assert_eq!(
                items.as_ref().ok(),
                Some(&rows()),
                "{name} cut {lens:?}: {items:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_mark_is_never_part_of_a_csv_header_name() {
    let body = with_bom(CSV);
    for parts in cuttings(&body) {
        let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        let rows = collect(decode::csv_rows(
            chunks(parts),
            CsvFormat::DEFAULT,
            DecodeOptions::default(),
        ))
        .await
        .unwrap();
        assert_eq!(rows[0].header(), ["timestamp", "value"], "cut {lens:?}");
        assert_eq!(rows[0].get("timestamp"), Some("t1"), "cut {lens:?}");
    }
}

#[tokio::test]
async fn lines_skip_a_mark_and_a_body_that_only_starts_like_one_is_kept() {
    let body = with_bom("a\nb");
    for parts in cuttings(&body) {
        let lines = collect(decode::lines(chunks(parts), DecodeOptions::default()))
            .await
            .unwrap();
        assert_eq!(lines, [Bytes::from("a"), Bytes::from("b")]);
    }
    // Two bytes of a mark and no more are data, not skipped.
    let lines = collect(decode::lines(
        chunks(vec![b"\xEF", b"\xBB"]),
        DecodeOptions::default(),
    ))
    .await
    .unwrap();
    assert_eq!(lines, [Bytes::from_static(b"\xEF\xBB")]);
    // Only the start of a body: a mark inside it is data.
    let err = collect(decode::ndjson::<Value, _>(
        chunks(vec![b"{}\n\xEF\xBB\xBF{}\n"]),
        DecodeOptions::default(),
    ))
    .await
    .unwrap_err();
    assert_eq!(err.kind(), client_core::ErrorKind::Decode);
}

/// A server that answers every request with `body`, delivered in `parts` (flushed
/// one by one), then closes.
async fn server(body: Vec<u8>, parts: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = vec![0u8; 4096];
                let _ = socket.read(&mut request).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                socket.write_all(head.as_bytes()).await.unwrap();
                let size = body.len().div_ceil(parts.max(1)).max(1);
                for part in body.chunks(size) {
                    socket.write_all(part).await.unwrap();
                    socket.flush().await.unwrap();
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn a_whole_json_body_with_a_mark_parses() {
    let client = HttpClient::builder(server(with_bom(WRAPPED), 1).await)
        .build()
        .unwrap();
    let document: Value = client.get("values").send().await.unwrap().json().await.unwrap();
    assert_eq!(document["values"][1]["value"], "2");
    let document: Value = client.get("values").json_response().await.unwrap();
    assert_eq!(document["values"][0]["value"], "1");
}

#[tokio::test]
async fn copies_keep_the_mark_as_the_server_sent_it() {
    let body = with_bom(CSV);
    let client = HttpClient::builder(server(body.clone(), 3).await)
        .build()
        .unwrap();
    let mut copied = Vec::new();
    let written = client
        .get("export")
        .send()
        .await
        .unwrap()
        .copy_to(&mut copied)
        .await
        .unwrap();
    assert_eq!((written, &copied), (body.len() as u64, &body));
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("export.csv");
    client
        .get("export")
        .send()
        .await
        .unwrap()
        .write_to(&path)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), body);
    // The decoders of the same body skip it.
    let rows = client
        .get("export")
        .send()
        .await
        .unwrap()
        .csv_rows(CsvFormat::DEFAULT, DecodeOptions::default());
    assert_eq!(collect(rows).await.unwrap()[0].header(), ["timestamp", "value"]);
}
