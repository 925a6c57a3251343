//! The fast path of `dt_client::Event` against serde: on the fixed corpus and on generated records,
//! whatever it decodes, serde decodes the same (see `client_core::decode::FastJson`).

use client_core::decode::fast_json::check_fast_path;
use dt_client::Event;
use sandbox::fast_json::{DT_EVENT, Kind, objects, on_corpus, on_generated};

#[test]
fn the_fixed_corpus_decodes_as_serde_decodes_it() {
    let taken = on_corpus(check_fast_path::<Event>);
    // The corpus holds usual records of this type, which the fast path must take.
    assert!(taken >= 3, "the fast path took only {taken} lines of the corpus");
}

#[test]
fn generated_records_decode_as_serde_decodes_them() {
    let taken = on_generated(objects(DT_EVENT), 3000, check_fast_path::<Event>);
    // The generated records must reach the fast path, not only serde (five members that
    // must all be usual and agree, so the share taken is small: about 67 of 3000, with a
    // standard deviation of about 8 over runs; the bound is 5 of those below).
    assert!(
        taken >= 25,
        "the fast path took only {taken} of 3000 records (at least 25 must)"
    );
}

#[test]
fn pages_of_events_decode_as_serde_decodes_them() {
    use client_core::decode::fast_json::vec_from_slice_fast;
    use client_core::decode::fast_path;

    let lines: Vec<&str> = sandbox::fast_json::CORPUS.lines().collect();
    let mut arrays: Vec<String> = lines.iter().map(|line| format!("[{line}]")).collect();
    arrays.push(format!("[{}]", lines.join(",")));
    arrays.extend(
        lines
            .windows(2)
            .map(|pair| format!(" [ {} , {} ] ", pair[0], pair[1])),
    );
    for text in arrays {
        let fast = vec_from_slice_fast(text.as_bytes(), fast_path::<Event, Event>());
        let serde = serde_json::from_slice::<Vec<Event>>(text.as_bytes());
        assert_eq!(
            format!("{:?}", fast.map_err(|e| e.to_string())),
            format!("{:?}", serde.map_err(|e| e.to_string())),
            "{text}"
        );
    }
}

#[test]
fn generated_payloads_decode_as_serde_decodes_them() {
    use dt_client::{ConnectionStatus, Count, Temperature};

    const TEMPERATURE: &[(&str, Kind)] = &[
        ("value", Kind::Number),
        ("updateTime", Kind::Timestamp),
        ("samples", Kind::Samples),
        ("isBackfilled", Kind::Bool),
    ];
    const CONNECTION: &[(&str, Kind)] = &[
        ("connection", Kind::Text),
        ("available", Kind::Texts),
        ("updateTime", Kind::Timestamp),
    ];
    const COUNT: &[(&str, Kind)] = &[("total", Kind::Integer), ("updateTime", Kind::Timestamp)];
    let taken = [
        on_generated(objects(TEMPERATURE), 2000, check_fast_path::<Temperature>),
        on_generated(objects(CONNECTION), 1000, check_fast_path::<ConnectionStatus>),
        on_generated(objects(COUNT), 1000, check_fast_path::<Count>),
    ];
    // Each type's usual payloads must reach the fast path (the shares: 2000 and 1000).
    assert!(
        taken[0] >= 100 && taken[1] >= 50 && taken[2] >= 50,
        "the fast path took only {taken:?}"
    );
}
