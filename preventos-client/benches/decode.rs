//! Typed decoding alone, the fast path against serde: one million NDJSON records of the
//! usual shape in memory, fed to the NDJSON decoder in 64 KiB chunks in this thread, into
//! [`preventos_client::Record`]s with the fast path and without it (serde alone). Prints
//! records/s of each, the best of five rounds, and their ratio (the issue's target: 3).
//!
//! `cargo bench -p preventos-client --bench decode [-- RECORDS]`

use std::time::Instant;

use client_core::DecodeOptions;
use client_core::decode::{ChunkDecoder, NdjsonDecoder, fast_path};
use preventos_client::Record;

/// The body: one value a second of two signals, offsets and gaps as the sandbox sends.
fn body(records: usize) -> Vec<u8> {
    let start: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("a timestamp");
    let zone = jiff::tz::TimeZone::fixed(jiff::tz::offset(2));
    let mut text = String::with_capacity(records * 80);
    for i in 0..records {
        let at = (start + jiff::SignedDuration::from_secs(i as i64 / 2)).to_zoned(zone.clone());
        let signal = if i % 2 == 0 { "Velocity" } else { "Depth" };
        let value = if i % 97 == 0 {
            "null".to_owned()
        } else {
            format!("{:.3}", (i % 1000) as f64 * 0.731)
        };
        text.push_str(&format!(
            r#"{{"timestamp":"{}","signalId":"{signal}","value":{value}}}"#,
            at.strftime("%Y-%m-%dT%H:%M:%S%:z")
        ));
        text.push('\n');
    }
    text.into_bytes()
}

/// Records/s decoding `body` into `Record`s, the best of five rounds.
fn rate(body: &[u8], fast: bool) -> (f64, usize) {
    let mut best = f64::INFINITY;
    let mut count = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let path = if fast { fast_path::<Record, Record>() } else { None };
        let mut decoder = NdjsonDecoder::<Record>::new(DecodeOptions::default()).with_fast_path(path);
        let mut out = Vec::with_capacity(1024);
        count = 0;
        for chunk in body.chunks(64 * 1024) {
            decoder.feed(chunk, &mut out).expect("records decode");
            count += out.len();
            out.clear();
        }
        decoder.finish(&mut out).expect("the body ends");
        count += out.len();
        best = best.min(started.elapsed().as_secs_f64());
    }
    (count as f64 / best, count)
}

fn main() {
    let records: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let body = body(records);
    let (serde, n1) = rate(&body, false);
    let (fast, n2) = rate(&body, true);
    assert_eq!((n1, n2), (records, records));
    println!(
        "{records} records, {:.1} MB: fast {fast:.0} records/s, serde {serde:.0} records/s, ratio {:.2}",
        body.len() as f64 / 1e6,
        fast / serde
    );
}
