//! The fast path of `preventos_client::Record` against serde: on the fixed corpus and on generated records,
//! whatever it decodes, serde decodes the same (see `client_core::decode::FastJson`).

use client_core::decode::fast_json::check_fast_path;
use preventos_client::Record;
use sandbox::fast_json::{Kind, objects, on_corpus, on_generated};

const KEYS: &[(&str, Kind)] = &[
    ("timestamp", Kind::Timestamp),
    ("signalId", Kind::Text),
    ("value", Kind::Number),
];

#[test]
fn the_fixed_corpus_decodes_as_serde_decodes_it() {
    let taken = on_corpus(check_fast_path::<Record>);
    // The corpus holds usual records of this type, which the fast path must take.
    assert!(taken >= 3, "the fast path took only {taken} lines of the corpus");
}

#[test]
fn generated_records_decode_as_serde_decodes_them() {
    let taken = on_generated(objects(KEYS), 3000, check_fast_path::<Record>);
    // The generated records must reach the fast path, not only serde.
    assert!(
        taken >= 300,
        "the fast path took only {taken} of 3000 records (at least a tenth must)"
    );
}

/// What a decoder yields for one body, with and without the fast path: records and the
/// error that ended the stream, by `Debug`.
fn outcome(stream: client_core::RecordStream<Record>) -> String {
    let items: Vec<_> = futures::executor::block_on(futures::StreamExt::collect::<Vec<_>>(stream));
    format!("{items:?}")
}

#[test]
fn the_streaming_decoders_yield_the_same_with_the_fast_path() {
    use client_core::DecodeOptions;
    use client_core::decode::{JsonArrayDecoder, NdjsonDecoder, decode_stream, fast_path};

    let body = |text: String| futures::stream::iter([Ok(bytes::Bytes::from(text))]);
    let lines: Vec<&str> = sandbox::fast_json::CORPUS.lines().collect();
    let mut bodies: Vec<String> = lines.iter().map(|line| format!("{line}\n")).collect();
    bodies.push(sandbox::fast_json::CORPUS.to_owned());
    for text in bodies {
        let ndjson = |fast| {
            decode_stream(
                body(text.clone()),
                NdjsonDecoder::new(DecodeOptions::default()).with_fast_path(fast),
            )
        };
        assert_eq!(
            outcome(ndjson(fast_path::<Record, Record>())),
            outcome(ndjson(None)),
            "{text}"
        );
    }
    for line in &lines {
        let text = format!("[{line}, {line}]");
        let array = |fast| {
            decode_stream(
                body(text.clone()),
                JsonArrayDecoder::new(None, DecodeOptions::default()).with_fast_path(fast),
            )
        };
        assert_eq!(
            outcome(array(fast_path::<Record, Record>())),
            outcome(array(None)),
            "{text}"
        );
    }
}

#[test]
fn records_in_the_apis_own_layout_decode_as_serde_decodes_them() {
    use proptest::strategy::Strategy;
    use sandbox::fast_json::member_value;

    // The layout the fast path matches as a whole: these members, in this order, no space.
    let layout = (
        member_value(Kind::Timestamp),
        member_value(Kind::Text),
        member_value(Kind::Number),
    )
        .prop_map(|(at, signal, value)| {
            format!(r#"{{"timestamp":{at},"signalId":{signal},"value":{value}}}"#)
        });
    let taken = on_generated(layout, 3000, check_fast_path::<Record>);
    assert!(taken >= 300, "the fast path took only {taken} of 3000 records");
}
