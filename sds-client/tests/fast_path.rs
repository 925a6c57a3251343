//! The fast path of `sds_client::Observation` against serde: on the fixed corpus and on generated records,
//! whatever it decodes, serde decodes the same (see `client_core::decode::FastJson`).

use client_core::decode::fast_json::check_fast_path;
use std::cell::Cell;

use proptest::test_runner::{Config, TestCaseError, TestRunner};
use sandbox::fast_json::Kind;
use sds_client::Observation;

const KEYS: &[(&str, Kind)] = &[("timestamp", Kind::EpochMs), ("value", Kind::Number)];

#[test]
fn the_fixed_corpus_decodes_as_serde_decodes_it() {
    let mut taken = 0;
    for line in sandbox::fast_json::corpus() {
        taken += usize::from(check_fast_path::<Observation>(line).unwrap_or_else(|e| panic!("{e}")));
    }
    // The corpus holds usual records of this type, which the fast path must take.
    assert!(taken >= 3, "the fast path took only {taken} lines of the corpus");
}

#[test]
fn generated_records_decode_as_serde_decodes_them() {
    let mut runner = TestRunner::new(Config {
        cases: 3000,
        failure_persistence: None,
        ..Config::default()
    });
    let taken = Cell::new(0u32);
    runner
        .run(&sandbox::fast_json::objects(KEYS), |text| {
            let fast = check_fast_path::<Observation>(text.as_bytes()).map_err(TestCaseError::fail)?;
            taken.set(taken.get() + u32::from(fast));
            Ok(())
        })
        .unwrap();
    // The generated records must reach the fast path, not only serde.
    assert!(
        taken.get() >= 30,
        "the fast path took only {} of 3000 records (at least a tenth must)",
        taken.get()
    );
}
