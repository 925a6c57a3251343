#![no_main]
//! JSON arrays, top-level and under a key: never a panic or a hang, and chunking never
//! changes the outcome.

use client_core::{DecodeOptions, decode};
use iot_sdk_fuzz::{assert_same, body, chunked, drain};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let (chunks, whole) = chunked(data);
    let options = DecodeOptions::default().with_max_record_size(256);
    for key in [None, Some("values")] {
        let split = drain(decode::json_array::<Value, _>(body(chunks.clone()), key, options));
        let one = drain(decode::json_array::<Value, _>(body(vec![whole.to_vec().into()]), key, options));
        assert_same(&one, &split);
    }
});
