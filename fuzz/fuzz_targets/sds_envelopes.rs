#![no_main]
//! SDS's response envelopes (observations pages, data-query responses, lists): any
//! body is read or refused with a typed error, never a panic; what is read keeps each
//! item's text as sent.

use libfuzzer_sys::fuzz_target;
use sds_client::fuzzing::{data_response, list_page, observations_page};

fuzz_target!(|data: &[u8]| {
    if let Ok((observations, meta, _print)) = observations_page(data) {
        for observation in &observations {
            // The text as sent parses back to the same observation.
            let again: sds_client::RawObservation =
                serde_json::from_str(observation.as_str()).expect("an observation's text parses");
            assert_eq!(&again, observation);
            let _ = observation.decode::<sds_client::Observation>();
        }
        let _ = format!("{meta:?}");
    }
    if let Ok(timestamps) = data_response(data) {
        let parsed: Vec<jiff::Timestamp> = timestamps
            .iter()
            .map(|t| t.parse().expect("a kept timestamp parses"))
            .collect();
        assert!(
            parsed.windows(2).all(|w| w[0] <= w[1]),
            "the points are in time order"
        );
    }
    for keys in [&["sensors"][..], &["nodes", "devices"]] {
        if let Ok((items, next)) = list_page(data, keys) {
            let _ = (items.len(), next);
        }
    }
});
