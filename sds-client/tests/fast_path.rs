//! The fast path of `sds_client::Observation` against serde: on the fixed corpus and on generated records,
//! whatever it decodes, serde decodes the same (see `client_core::decode::FastJson`).

use client_core::decode::fast_json::check_fast_path;
use sandbox::fast_json::{Kind, objects, on_corpus, on_generated};
use sds_client::Observation;

const KEYS: &[(&str, Kind)] = &[("timestamp", Kind::EpochMs), ("value", Kind::Number)];

#[test]
fn the_fixed_corpus_decodes_as_serde_decodes_it() {
    let taken = on_corpus(check_fast_path::<Observation>);
    // The corpus holds usual records of this type, which the fast path must take.
    assert!(taken >= 3, "the fast path took only {taken} lines of the corpus");
}

#[test]
fn generated_records_decode_as_serde_decodes_them() {
    let taken = on_generated(objects(KEYS), 3000, check_fast_path::<Observation>);
    // The generated records must reach the fast path, not only serde.
    assert!(
        taken >= 300,
        "the fast path took only {taken} of 3000 records (at least a tenth must)"
    );
}
