//! The fast path of `conduit_client::Datapoint` against serde: on the fixed corpus and on generated records,
//! whatever it decodes, serde decodes the same (see `client_core::decode::FastJson`).

use client_core::decode::fast_json::check_fast_path;
use conduit_client::Datapoint;
use sandbox::fast_json::{Kind, objects, on_corpus, on_generated};

const KEYS: &[(&str, Kind)] = &[
    ("val_date", Kind::Integer),
    ("dev_netid", Kind::Text),
    ("dev_chid", Kind::Integer),
    ("val_raw", Kind::Number),
    ("val_calibrated", Kind::Number),
    ("val_type", Kind::Text),
    ("dev_tag", Kind::Text),
    ("dev_error", Kind::Integer),
    ("loc_lat", Kind::Number),
];

#[test]
fn the_fixed_corpus_decodes_as_serde_decodes_it() {
    let taken = on_corpus(check_fast_path::<Datapoint>);
    // The corpus holds usual records of this type, which the fast path must take.
    assert!(taken >= 3, "the fast path took only {taken} lines of the corpus");
}

#[test]
fn generated_records_decode_as_serde_decodes_them() {
    let taken = on_generated(objects(KEYS), 3000, check_fast_path::<Datapoint>);
    // The generated records must reach the fast path, not only serde (nine members,
    // each now and then of any kind, so the share taken is small but steady).
    assert!(
        taken >= 45,
        "the fast path took only {taken} of 3000 records (at least 1.5% must)"
    );
}
