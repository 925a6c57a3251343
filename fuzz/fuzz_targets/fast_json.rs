#![no_main]
//! The fast JSON paths against serde, differentially: for any input, whatever the fast
//! path of Preventos `Record`, Conduit `Datapoint`, SDS `Observation` or DT `Event`
//! decodes, serde decodes to the same record (doubles compared bit for bit through
//! `Debug`); and the NDJSON and JSON-array decoders yield the same records and errors
//! with the fast path as without, however the body is cut into chunks; and an array of
//! DT events decodes as serde decodes it (records and error messages), and so does a DT
//! history page, whole.
//!
//! Seed it with the fixed corpus: `mkdir -p corpus/fast_json && split -l 1 -d
//! ../sandbox/src/fast_json/corpus.ndjson corpus/fast_json/seed-`.

use client_core::decode::{JsonArrayDecoder, NdjsonDecoder, decode_stream, fast_path};
use client_core::decode::fast_json::{check_fast_path};
use client_core::{DecodeOptions, ErrorKind};
use conduit_client::Datapoint;
use dt_client::Event;
use iot_sdk_fuzz::{body, chunked, drain};
use libfuzzer_sys::fuzz_target;
use preventos_client::Record;
use sds_client::Observation;

fn same<T: std::fmt::Debug>(with: (Vec<T>, Option<ErrorKind>), without: (Vec<T>, Option<ErrorKind>)) {
    assert_eq!(format!("{with:?}"), format!("{without:?}"));
}

fuzz_target!(|data: &[u8]| {
    let (chunks, whole) = chunked(data);
    for check in [
        check_fast_path::<Record>,
        check_fast_path::<Datapoint>,
        check_fast_path::<Observation>,
        check_fast_path::<Event>,
    ] {
        if let Err(difference) = check(whole) {
            panic!("{difference}");
        }
    }
    let options = DecodeOptions::default().with_max_record_size(4096);
    let ndjson = |fast| drain(decode_stream(body(chunks.clone()), NdjsonDecoder::new(options).with_fast_path(fast)));
    same(ndjson(fast_path::<Record, Record>()), ndjson(None));
    let array = |fast| {
        drain(decode_stream(
            body(chunks.clone()),
            JsonArrayDecoder::<Datapoint>::new(None, options).with_fast_path(fast),
        ))
    };
    same(array(fast_path::<Datapoint, Datapoint>()), array(None));
    // DT's pages: an array of events, decoded whole.
    let fast = client_core::decode::fast_json::vec_from_slice_fast(whole, fast_path::<Event, Event>());
    let serde = serde_json::from_slice::<Vec<Event>>(whole);
    assert_eq!(
        format!("{:?}", fast.map_err(|e| e.to_string())),
        format!("{:?}", serde.map_err(|e| e.to_string()))
    );
    if let Err(difference) = dt_client::fuzzing::check_history_page(whole) {
        panic!("{difference}");
    }
});
