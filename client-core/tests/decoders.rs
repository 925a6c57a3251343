//! Streaming decoders: chunk boundaries, truncation, limits, bad input.

use bytes::Bytes;
use client_core::decode::{self, CsvRow};
use client_core::{CsvFormat, DecodeOptions, Error, ErrorKind};
use futures::{StreamExt, stream};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Point {
    timestamp: String,
    signal_id: String,
    value: f64,
}

fn point(ts: &str, signal: &str, value: f64) -> Point {
    Point {
        timestamp: ts.into(),
        signal_id: signal.into(),
        value,
    }
}

fn sample_points() -> Vec<Point> {
    vec![
        point("2026-05-31T00:00:00+03:00", "Velocity", 0.42),
        point("2026-05-31T00:01:00+03:00", "Depth, \"main\" [m]", -12.5),
        point("2026-05-31T00:02:00+03:00", "Velocity", 1e-3),
    ]
}

const NDJSON: &str = concat!(
    "{\"timestamp\":\"2026-05-31T00:00:00+03:00\",\"signalId\":\"Velocity\",\"value\":0.42}\n",
    "\r\n",
    "{\"timestamp\":\"2026-05-31T00:01:00+03:00\",\"signalId\":\"Depth, \\\"main\\\" [m]\",\"value\":-12.5,\"extra\":{\"a\":[1,2]}}\r\n",
    "{\"timestamp\":\"2026-05-31T00:02:00+03:00\",\"signalId\":\"Velocity\",\"value\":0.001}\n",
);

const ARRAY: &str = concat!(
    " [ {\"timestamp\":\"2026-05-31T00:00:00+03:00\",\"signalId\":\"Velocity\",\"value\":0.42},\n",
    "{\"timestamp\":\"2026-05-31T00:01:00+03:00\",\"signalId\":\"Depth, \\\"main\\\" [m]\",\"value\":-12.5,\"x\":\"]}\"} ,",
    "{\"timestamp\":\"2026-05-31T00:02:00+03:00\",\"signalId\":\"Velocity\",\"value\":0.001}] \n",
);

const WRAPPED: &str = concat!(
    "{\"meta\":{\"signals\":[\"Velocity\",\"Depth\"],\"note\":\"values: [not this]\"},\"values\":[",
    "{\"timestamp\":\"2026-05-31T00:00:00+03:00\",\"signalId\":\"Velocity\",\"value\":0.42},",
    "{\"timestamp\":\"2026-05-31T00:01:00+03:00\",\"signalId\":\"Depth, \\\"main\\\" [m]\",\"value\":-12.5},",
    "{\"timestamp\":\"2026-05-31T00:02:00+03:00\",\"signalId\":\"Velocity\",\"value\":0.001}",
    "],\"next\":null,\"count\":3}",
);

const CSV_FINNISH: &str = concat!(
    "timestamp;signalId;value\n",
    "2026-05-31T00:00:00+03:00;Velocity;0,42\n",
    "2026-05-31T00:01:00+03:00;\"Depth, \"\"main\"\" [m]\";-12,5\r\n",
    "2026-05-31T00:02:00+03:00;Velocity;1,0e-3",
);

fn chunks(parts: Vec<&[u8]>) -> impl futures::Stream<Item = Result<Bytes, Error>> + Send + 'static {
    let owned: Vec<Result<Bytes, Error>> = parts.into_iter().map(|p| Ok(Bytes::copy_from_slice(p))).collect();
    stream::iter(owned)
}

async fn collect<T>(stream: decode::RecordStream<T>) -> (Vec<T>, Option<Error>) {
    let mut items = Vec::new();
    let mut stream = stream;
    while let Some(item) = stream.next().await {
        match item {
            Ok(item) => items.push(item),
            Err(err) => {
                assert!(stream.next().await.is_none(), "a stream ends after its error");
                return (items, Some(err));
            }
        }
    }
    (items, None)
}

type Decoder = fn(Vec<&[u8]>) -> decode::RecordStream<Point>;

fn decoders() -> Vec<(&'static str, &'static str, Decoder)> {
    vec![
        ("ndjson", NDJSON, |p| {
            decode::ndjson(chunks(p), DecodeOptions::default())
        }),
        ("array", ARRAY, |p| {
            decode::json_array(chunks(p), None, DecodeOptions::default())
        }),
        ("wrapped", WRAPPED, |p| {
            decode::json_array(chunks(p), Some("values"), DecodeOptions::default())
        }),
        ("csv", CSV_FINNISH, |p| {
            decode::csv_records(chunks(p), CsvFormat::FINNISH, DecodeOptions::default())
        }),
    ]
}

#[tokio::test]
async fn every_split_point_gives_the_same_records() {
    for (name, body, decoder) in decoders() {
        let bytes = body.as_bytes();
        for split in 0..=bytes.len() {
            let (items, err) = collect(decoder(vec![&bytes[..split], &bytes[split..]])).await;
            assert!(err.is_none(), "{name} split at {split}: {err:?}");
            assert_eq!(items, sample_points(), "{name} split at {split}");
        }
        for second in (1..bytes.len()).step_by(7) {
            for first in (0..second).step_by(5) {
                let parts = vec![&bytes[..first], &bytes[first..second], &bytes[second..]];
                let (items, err) = collect(decoder(parts)).await;
                assert!(err.is_none(), "{name} split at {first},{second}: {err:?}");
                assert_eq!(items, sample_points(), "{name} split at {first},{second}");
            }
        }
        let single_bytes: Vec<&[u8]> = bytes.chunks(1).collect();
        let (items, err) = collect(decoder(single_bytes)).await;
        assert!(err.is_none(), "{name} byte by byte: {err:?}");
        assert_eq!(items, sample_points(), "{name} byte by byte");
    }
}

#[tokio::test]
async fn an_array_cut_before_its_bracket_is_truncated() {
    let cut = ARRAY.trim_end().trim_end_matches(']');
    let (items, err) = collect(decode::json_array::<Point, _>(
        chunks(vec![cut.as_bytes()]),
        None,
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(items, sample_points());
    assert_eq!(err.unwrap().kind(), ErrorKind::Truncated);

    let cut = &WRAPPED[..WRAPPED.len() - 1]; // without the final `}`
    let (_, err) = collect(decode::json_array::<Point, _>(
        chunks(vec![cut.as_bytes()]),
        Some("values"),
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(err.unwrap().kind(), ErrorKind::Truncated);

    let cut = &ARRAY[..ARRAY.find("-12.5").unwrap()];
    let (items, err) = collect(decode::json_array::<Point, _>(
        chunks(vec![cut.as_bytes()]),
        None,
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(items.len(), 1);
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Truncated);
    assert!(err.to_string().contains("after 1 elements"), "{err}");
}

#[tokio::test]
async fn an_ndjson_line_cut_mid_record_is_truncated() {
    let cut = &NDJSON[..NDJSON.len() - 10];
    let (items, err) = collect(decode::ndjson::<Point, _>(
        chunks(vec![cut.as_bytes()]),
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(items.len(), 2);
    assert_eq!(err.unwrap().kind(), ErrorKind::Truncated);
}

#[tokio::test]
async fn a_csv_row_cut_short_is_an_error() {
    let cut = &CSV_FINNISH[..CSV_FINNISH.rfind(";1,0").unwrap()];
    let (items, err) = collect(decode::csv_records::<Point, _>(
        chunks(vec![cut.as_bytes()]),
        CsvFormat::FINNISH,
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(items.len(), 2);
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(
        err.to_string()
            .contains("CSV row 3 has 2 fields; the header has 3"),
        "{err}"
    );
}

#[tokio::test]
async fn records_over_the_limit_are_refused() {
    let options = DecodeOptions::default().with_max_record_size(100);
    let long_line = format!(
        "{{\"timestamp\":\"{}\",\"signalId\":\"x\",\"value\":1}}\n",
        "9".repeat(200)
    );
    // Arriving in pieces, so the limit must hold before the line's end is seen.
    let pieces: Vec<&[u8]> = long_line.as_bytes().chunks(16).collect();
    let (_, err) = collect(decode::ndjson::<Point, _>(chunks(pieces), options)).await;
    assert_eq!(err.unwrap().kind(), ErrorKind::RecordTooLarge);

    let array = format!("[{}]", long_line.trim_end());
    let pieces: Vec<&[u8]> = array.as_bytes().chunks(16).collect();
    let (_, err) = collect(decode::json_array::<Point, _>(chunks(pieces), None, options)).await;
    assert_eq!(err.unwrap().kind(), ErrorKind::RecordTooLarge);

    let csv = format!("timestamp;signalId;value\n{};x;1\n", "9".repeat(200));
    let pieces: Vec<&[u8]> = csv.as_bytes().chunks(16).collect();
    let (_, err) = collect(decode::csv_records::<Point, _>(
        chunks(pieces),
        CsvFormat::FINNISH,
        options,
    ))
    .await;
    assert_eq!(err.unwrap().kind(), ErrorKind::RecordTooLarge);
}

#[tokio::test]
async fn a_huge_line_is_refused_without_buffering_it() {
    // 64 MiB without a newline against the default 1 MiB limit: fails after ~1 MiB.
    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
    let body = stream::iter((0..1024).map(move |_| Ok::<_, Error>(chunk.clone())));
    let (_, err) = collect(decode::ndjson::<Point, _>(body, DecodeOptions::default())).await;
    assert_eq!(err.unwrap().kind(), ErrorKind::RecordTooLarge);
}

#[tokio::test]
async fn invalid_utf8_is_a_decode_error() {
    let mut line = b"{\"timestamp\":\"2026-05-31T00:00:00+03:00\",\"signalId\":\"Vel".to_vec();
    line.extend_from_slice(&[0xff, 0xfe]);
    line.extend_from_slice(b"\",\"value\":1}\n");
    let (_, err) = collect(decode::ndjson::<Point, _>(
        chunks(vec![&line]),
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(err.unwrap().kind(), ErrorKind::Decode);

    let mut array = b"[".to_vec();
    array.extend_from_slice(&line[..line.len() - 1]);
    array.push(b']');
    let (_, err) = collect(decode::json_array::<Point, _>(
        chunks(vec![&array]),
        None,
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(err.unwrap().kind(), ErrorKind::Decode);

    let csv = b"timestamp,signalId,value\n2026,\xff\xfe,1\n";
    let (_, err) = collect(decode::csv_rows(
        chunks(vec![csv]),
        CsvFormat::DEFAULT,
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(err.unwrap().kind(), ErrorKind::Decode);
    let (_, err) = collect(decode::csv_records::<Point, _>(
        chunks(vec![csv]),
        CsvFormat::DEFAULT,
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(err.unwrap().kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn malformed_json_names_the_record() {
    let body =
        b"{\"timestamp\":\"t\",\"signalId\":\"s\",\"value\":1}\n{\"timestamp\":\"t\",\"value\":oops}\n";
    let (items, err) = collect(decode::ndjson::<Point, _>(
        chunks(vec![body]),
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(items.len(), 1);
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("NDJSON line 2"), "{err}");

    let (_, err) = collect(decode::json_array::<Point, _>(
        chunks(vec![b"{\"a\":1}"]),
        None,
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(err.unwrap().kind(), ErrorKind::Decode);
    let (_, err) = collect(decode::json_array::<Point, _>(
        chunks(vec![b"[1,2] trailing"]),
        None,
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(err.unwrap().kind(), ErrorKind::Decode);
    let (_, err) = collect(decode::json_array::<Point, _>(
        chunks(vec![b"{\"meta\":{}}"]),
        Some("values"),
        DecodeOptions::default(),
    ))
    .await;
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(
        err.to_string().contains("no the `values` array") || err.to_string().contains("`values`"),
        "{err}"
    );
}

#[tokio::test]
async fn empty_bodies() {
    let (items, err) = collect(decode::ndjson::<Point, _>(
        chunks(vec![]),
        DecodeOptions::default(),
    ))
    .await;
    assert!(
        items.is_empty() && err.is_none(),
        "an empty NDJSON body is zero records"
    );
    let (_, err) = collect(decode::json_array::<Point, _>(
        chunks(vec![b""]),
        None,
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(err.unwrap().kind(), ErrorKind::Truncated);
    let (_, err) = collect(decode::csv_rows(
        chunks(vec![]),
        CsvFormat::DEFAULT,
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(err.unwrap().kind(), ErrorKind::Truncated);
    let (items, err) = collect(decode::json_array::<Point, _>(
        chunks(vec![b" [ ] "]),
        None,
        DecodeOptions::default(),
    ))
    .await;
    assert!(
        items.is_empty() && err.is_none(),
        "an empty array is zero records"
    );
    let (items, err) = collect(decode::csv_rows(
        chunks(vec![b"a,b\n"]),
        CsvFormat::DEFAULT,
        DecodeOptions::default(),
    ))
    .await;
    assert!(items.is_empty() && err.is_none(), "a header alone is zero rows");
}

#[tokio::test]
async fn csv_rows_keep_text_and_read_numbers_with_the_preset() {
    let (rows, err) = collect(decode::csv_rows(
        chunks(vec![CSV_FINNISH.as_bytes()]),
        CsvFormat::FINNISH,
        DecodeOptions::default(),
    ))
    .await;
    assert!(err.is_none());
    let rows: Vec<CsvRow> = rows;
    assert_eq!(rows[0].header(), ["timestamp", "signalId", "value"]);
    assert_eq!(rows[1].get("signalId"), Some("Depth, \"main\" [m]"));
    assert_eq!(rows[1].get("value"), Some("-12,5"));
    assert_eq!(rows[1].get_f64("value").unwrap().unwrap(), -12.5);
    assert!(rows[1].get_f64("signalId").unwrap().is_err());
    assert!(rows[1].get_f64("missing").is_none());
}

/// A server that announces `announced` bytes of body, sends `body`, and closes.
async fn short_body_server(announced: usize, body: &'static [u8]) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = vec![0u8; 4096];
        let _ = socket.read(&mut request).await;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ncontent-length: {announced}\r\n\r\n"
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(body).await.unwrap();
        socket.shutdown().await.unwrap();
    });
    format!("http://{address}")
}

#[tokio::test]
async fn a_body_cut_by_the_server_is_truncated_after_the_whole_records() {
    let url = short_body_server(NDJSON.len() + 500, NDJSON.as_bytes()).await;
    let client = client_core::HttpClient::builder(url).build().unwrap();
    let response = client.get("values").send().await.unwrap();
    let (items, err) = collect(decode::ndjson::<Point, _>(
        response.bytes_stream(),
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(items, sample_points());
    assert_eq!(err.unwrap().kind(), ErrorKind::Truncated);
}

#[tokio::test]
async fn a_cut_body_leaves_no_file_and_a_whole_one_is_renamed_into_place() {
    let folder = tempfile::tempdir().unwrap();
    let target = folder.path().join("2026-05-31.ndjson");

    let url = short_body_server(NDJSON.len() + 500, NDJSON.as_bytes()).await;
    let client = client_core::HttpClient::builder(url).build().unwrap();
    let response = client.get("values").send().await.unwrap();
    let err = decode::write_to_file(response.bytes_stream(), &target)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Truncated);
    assert_eq!(
        std::fs::read_dir(folder.path()).unwrap().count(),
        0,
        "no file, temporary or final"
    );

    let url = short_body_server(NDJSON.len(), NDJSON.as_bytes()).await;
    let client = client_core::HttpClient::builder(url).build().unwrap();
    let response = client.get("values").send().await.unwrap();
    let written = decode::write_to_file(response.bytes_stream(), &target)
        .await
        .unwrap();
    assert_eq!(written, NDJSON.len() as u64);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), NDJSON);
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 1);
}

#[tokio::test]
async fn an_atomic_file_dropped_before_commit_leaves_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let target = folder.path().join("out.csv");
    {
        let mut file = client_core::AtomicFile::create(&target).await.unwrap();
        file.write_all(b"partial").await.unwrap();
    }
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn copy_to_writer_counts_bytes() {
    let mut out = Vec::new();
    let written = decode::copy_to_writer(chunks(vec![b"ab", b"", b"cde"]), &mut out)
        .await
        .unwrap();
    assert_eq!((written, out.as_slice()), (5, b"abcde".as_slice()));
}

#[tokio::test]
async fn scalar_elements_split_anywhere() {
    let body = b"[1, 22,-3.5e2 ,true,null,\"x,]\",[4,[5]],{\"k\":[]}]";
    let expected: Vec<serde_json::Value> = serde_json::from_slice::<Vec<serde_json::Value>>(body).unwrap();
    for split in 0..=body.len() {
        let stream = decode::json_array::<serde_json::Value, _>(
            chunks(vec![&body[..split], &body[split..]]),
            None,
            DecodeOptions::default(),
        );
        let (items, err) = collect(stream).await;
        assert!(err.is_none(), "split at {split}: {err:?}");
        assert_eq!(items, expected, "split at {split}");
    }
}

#[tokio::test]
async fn a_csv_body_cut_inside_its_last_field_is_truncated_when_a_line_end_is_required() {
    let strict = DecodeOptions::default().with_final_newline_required(true);
    // Cut inside the last value: the row still has all its fields.
    let cut = "timestamp;value\n2026-05-31T00:00:00Z;0,42\n2026-05-31T00:01:00Z;12";
    let (rows, err) = collect(decode::csv_rows(
        chunks(vec![cut.as_bytes()]),
        CsvFormat::FINNISH,
        strict,
    ))
    .await;
    assert_eq!(rows.len(), 1, "only the rows before the cut");
    assert_eq!(rows[0].fields(), ["2026-05-31T00:00:00Z", "0,42"]);
    assert_eq!(err.unwrap().kind(), ErrorKind::Truncated);
    // Without the requirement the cut row looks whole: why every client turns it on.
    let (rows, err) = collect(decode::csv_rows(
        chunks(vec![cut.as_bytes()]),
        CsvFormat::FINNISH,
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!((rows.len(), err.is_none()), (2, true));
    // A whole body, `\n` or `\r\n` terminated, passes.
    for whole in [format!("{cut}5\n"), format!("{cut}5\r\n")] {
        let (rows, err) = collect(decode::csv_rows(
            chunks(vec![whole.as_bytes()]),
            CsvFormat::FINNISH,
            strict,
        ))
        .await;
        assert!(err.is_none(), "{err:?}");
        assert_eq!(rows[1].fields(), ["2026-05-31T00:01:00Z", "125"]);
    }
}

#[tokio::test]
async fn a_csv_row_of_many_empty_fields_counts_against_the_limit() {
    // 1 KiB of delimiters is 1,024 empty fields: tiny text, 8 KiB of field boundaries.
    let mut body = "a\n".to_owned();
    body.push_str(&";".repeat(1024));
    body.push('\n');
    let options = DecodeOptions::default().with_max_record_size(4096);
    let (rows, err) = collect(decode::csv_rows(
        chunks(vec![body.as_bytes()]),
        CsvFormat::FINNISH,
        options,
    ))
    .await;
    assert!(rows.is_empty());
    assert_eq!(err.unwrap().kind(), ErrorKind::RecordTooLarge);
}

#[tokio::test]
async fn a_large_element_in_one_byte_chunks_is_decoded_whole() {
    // 256 KiB in one string member, fed a byte at a time: the decoder scans it once
    // instead of re-parsing it from its start at every chunk.
    let big = "x".repeat(256 * 1024);
    let body =
        format!(r#"{{"meta":{{"k":"{big}"}},"values":[{{"timestamp":"t","signalId":"{big}","value":1}}]}}"#);
    let parts: Vec<&[u8]> = body.as_bytes().chunks(1).collect();
    let (items, err) = collect(decode::json_array::<Point, _>(
        chunks(parts),
        Some("values"),
        DecodeOptions::default(),
    ))
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].signal_id.len(), big.len());
}

#[tokio::test]
async fn response_methods_decode_like_the_free_functions() {
    let url = short_body_server(NDJSON.len(), NDJSON.as_bytes()).await;
    let client = client_core::HttpClient::builder(url).build().unwrap();
    let response = client.get("values").send().await.unwrap();
    let (items, err) = collect(response.ndjson::<Point>(DecodeOptions::default())).await;
    assert!(err.is_none());
    assert_eq!(items, sample_points());
}

/// Elements whose numbers serde skips rather than parses (members the record type does
/// not have): a number cut after `-`, `.` or `e` must wait for the next chunk, not be
/// refused as invalid.
#[tokio::test]
async fn skipped_numbers_cut_anywhere_still_decode() {
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct OnlyId {
        id: u32,
    }
    let body = br#"{"values":[{"id":1,"value":-14.933e+2,"x":[1.5,-0.25]},{"v":-1E-3,"id":2}]}"#;
    let want = vec![OnlyId { id: 1 }, OnlyId { id: 2 }];
    for split in 0..=body.len() {
        let stream = decode::json_array::<OnlyId, _>(
            chunks(vec![&body[..split], &body[split..]]),
            Some("values"),
            DecodeOptions::default(),
        );
        let (items, err) = collect(stream).await;
        assert!(err.is_none(), "split at {split}: {err:?}");
        assert_eq!(items, want, "split at {split}");
    }
    // A number that really is invalid is still refused, wherever the body is cut.
    let bad = br#"[{"id":1,"value":14.x}]"#;
    for split in 0..=bad.len() {
        let stream = decode::json_array::<OnlyId, _>(
            chunks(vec![&bad[..split], &bad[split..]]),
            None,
            DecodeOptions::default(),
        );
        let (_, err) = collect(stream).await;
        assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::Decode), "split at {split}");
    }
}

/// A body cut right after a line break inside a quoted field ends with a line
/// terminator, so the final-newline rule passes it; the open field must not be closed
/// into a short, wrong record.
#[tokio::test]
async fn a_csv_body_cut_after_a_line_break_inside_quotes_is_truncated() {
    let whole = "timestamp;signalId;value\n2026-05-31T00:00:00Z;Velocity;0,42\n2026-05-31T00:01:00Z;\"Depth\nmain\";-12,5\n";
    let cut_at = whole.find("Depth\n").unwrap() + "Depth\n".len();
    // Right after the line break (and after a `\r\n` there), with or without the
    // final-newline rule; elsewhere in the quotes the rule already catches it.
    let crlf = whole.replace("Depth\n", "Depth\r\n");
    let crlf_cut = &crlf[..cut_at + 1];
    let cases = [
        (&whole[..cut_at], vec![true, false]),
        (crlf_cut, vec![true, false]),
        (&whole[..cut_at - 6], vec![true]),
        (&whole[..cut_at - 1], vec![true]),
    ];
    for (cut, rules) in cases {
        for strict in rules {
            let options = DecodeOptions::default().with_final_newline_required(strict);
            for split in 0..=cut.len() {
                let parts = vec![&cut.as_bytes()[..split], &cut.as_bytes()[split..]];
                let (rows, err) = collect(decode::csv_rows(chunks(parts), CsvFormat::FINNISH, options)).await;
                assert_eq!(
                    rows.len(),
                    1,
                    "{cut:?} split at {split}: only the row before the cut"
                );
                let err = err.unwrap_or_else(|| panic!("{cut:?} split at {split}: no error"));
                assert_eq!(err.kind(), ErrorKind::Truncated, "{cut:?} strict {strict}: {err}");
                let parts = vec![&cut.as_bytes()[..split], &cut.as_bytes()[split..]];
                let (points, err) = collect(decode::csv_records::<Point, _>(
                    chunks(parts),
                    CsvFormat::FINNISH,
                    options,
                ))
                .await;
                assert_eq!(
                    (points.len(), err.map(|e| e.kind())),
                    (1, Some(ErrorKind::Truncated))
                );
            }
        }
    }
    // A header cut inside its quotes is cut too; the whole body still reads.
    let (_, err) = collect(decode::csv_rows(
        chunks(vec![b"\"a\n"]),
        CsvFormat::DEFAULT,
        DecodeOptions::default(),
    ))
    .await;
    assert_eq!(err.unwrap().kind(), ErrorKind::Truncated);
    let (rows, err) = collect(decode::csv_rows(
        chunks(vec![whole.as_bytes()]),
        CsvFormat::FINNISH,
        DecodeOptions::default(),
    ))
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(rows[1].get("signalId"), Some("Depth\nmain"));
    // Quotes closed right at the end, and escaped quotes, are whole.
    for ok in [
        "a\n\"x\"\n",
        "a\n\"x\"",
        "a\n\"x\"\"\"\n",
        "a\n\"\"\n",
        "a\nx\r",
        "a\n\"x\"\r",
    ] {
        let (rows, err) = collect(decode::csv_rows(
            chunks(vec![ok.as_bytes()]),
            CsvFormat::DEFAULT,
            DecodeOptions::default(),
        ))
        .await;
        assert!(err.is_none(), "{ok:?}: {err:?}");
        assert_eq!(rows.len(), 1, "{ok:?}");
    }
}
