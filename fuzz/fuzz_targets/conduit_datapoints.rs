#![no_main]
//! Conduit's keyed datapoints: a response body, cut into chunks anywhere, is read into
//! `RawDatapoint`s (the lenient key: `val_date`, `dev_netid`, `dev_chid`) or refused
//! with a typed error, never a panic; each text is one line that parses back to the same
//! datapoint; and the window logic yields a response's points once, sorted, and none of
//! them again from an overlapping window that repeats them.

use client_core::{DecodeOptions, decode};
use conduit_client::RawDatapoint;
use conduit_client::fuzzing::windows;
use iot_sdk_fuzz::{assert_same, body, chunked, drain};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (chunks, whole) = chunked(data);
    let options = DecodeOptions::default().with_max_record_size(4096);
    let split = drain(decode::json_array::<RawDatapoint, _>(body(chunks), None, options));
    let one = drain(decode::json_array::<RawDatapoint, _>(
        body(vec![whole.to_vec().into()]),
        None,
        options,
    ));
    assert_same(&one, &split);
    if one.1.is_some() {
        return;
    }
    for point in &one.0 {
        assert!(
            !point.as_str().contains(['\n', '\r']),
            "one line: {:?}",
            point.as_str()
        );
        let again: RawDatapoint = serde_json::from_str(point.as_str()).expect("a datapoint's text parses");
        assert_eq!(&again, point);
        assert_eq!(
            (again.val_date(), again.dev_netid(), again.dev_chid()),
            (point.val_date(), point.dev_netid(), point.dev_chid())
        );
        let _ = point.decode::<conduit_client::Datapoint>();
    }
    if let Ok(Some((yielded, repeated))) = windows(one.0.clone()) {
        assert_eq!(yielded.len(), one.0.len(), "a first window yields every point");
        assert!(
            repeated.is_empty(),
            "an overlapping window repeats nothing: {repeated:?}"
        );
        assert!(yielded.windows(2).all(|w| (
            w[0].val_date(),
            w[0].dev_netid(),
            w[0].dev_chid(),
            w[0].as_str()
        ) <= (
            w[1].val_date(),
            w[1].dev_netid(),
            w[1].dev_chid(),
            w[1].as_str()
        )));
    }
});
