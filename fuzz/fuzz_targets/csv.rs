#![no_main]
//! CSV rows and typed records, both presets, with and without the final line end:
//! never a panic or a hang, and chunking never changes the outcome.

use std::collections::BTreeMap;

use client_core::{CsvFormat, DecodeOptions, decode};
use iot_sdk_fuzz::{assert_same, body, chunked, drain};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (chunks, whole) = chunked(data);
    for format in [CsvFormat::DEFAULT, CsvFormat::FINNISH] {
        for strict in [false, true] {
            let options = DecodeOptions::default()
                .with_max_record_size(256)
                .with_final_newline_required(strict);
            let split = drain(decode::csv_rows(body(chunks.clone()), format, options));
            let one = drain(decode::csv_rows(body(vec![whole.to_vec().into()]), format, options));
            let split: (Vec<Vec<String>>, _) = (split.0.iter().map(|r| r.fields().to_vec()).collect(), split.1);
            let one: (Vec<Vec<String>>, _) = (one.0.iter().map(|r| r.fields().to_vec()).collect(), one.1);
            assert_same(&one, &split);
            let typed = drain(decode::csv_records::<BTreeMap<String, String>, _>(
                body(chunks.clone()),
                format,
                options,
            ));
            let typed_one = drain(decode::csv_records::<BTreeMap<String, String>, _>(
                body(vec![whole.to_vec().into()]),
                format,
                options,
            ));
            assert_same(&typed_one, &typed);
        }
    }
});
