//! Decoder throughput on 100+ MB of Preventos-shaped records in 64 KiB chunks, next to
//! the ceiling: `serde_json::from_slice` of each record on the same bytes in memory.
//!
//! `cargo bench -p client-core --bench decoders`

#[path = "common/mod.rs"]
mod common;

use bytes::Bytes;
use client_core::decode;
use client_core::{CsvFormat, DecodeOptions, Error};
use common::{BodyGenerator, Record, Shape};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use std::hint::black_box;

const BODY_BYTES: usize = 100 * 1024 * 1024;

fn body(shape: Shape) -> (Vec<Bytes>, u64) {
    let mut generator = BodyGenerator::new(shape, BODY_BYTES);
    let chunks: Vec<Bytes> = generator.by_ref().collect();
    (chunks, generator.records())
}

fn count<S: futures::Stream<Item = Result<Record, Error>>>(stream: S) -> u64 {
    futures::executor::block_on(stream.fold(0u64, |n, record| {
        black_box(record.expect("bench records decode"));
        async move { n + 1 }
    }))
}

fn as_stream(chunks: &[Bytes]) -> impl futures::Stream<Item = Result<Bytes, Error>> + Send + 'static {
    // Cloning `Bytes` is a reference count, not a copy of the data.
    let owned: Vec<Bytes> = chunks.to_vec();
    futures::stream::iter(owned.into_iter().map(Ok))
}

fn decoders(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_100MB");
    group.sample_size(10);

    let (ndjson, records) = body(Shape::Ndjson);
    let total: usize = ndjson.iter().map(Bytes::len).sum();
    eprintln!(
        "ndjson body: {total} bytes, {records} records, {:.1} bytes/record",
        total as f64 / records as f64
    );
    group.throughput(Throughput::Bytes(total as u64));

    let joined: Vec<u8> = ndjson.iter().flat_map(|c| c.iter().copied()).collect();
    group.bench_function("ceiling_from_slice_per_record", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for line in joined.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                black_box(serde_json::from_slice::<Record>(line).expect("record"));
                n += 1;
            }
            assert_eq!(n, records);
        })
    });
    drop(joined);

    group.bench_function("ndjson", |b| {
        b.iter(|| {
            assert_eq!(
                count(decode::ndjson::<Record, _>(
                    as_stream(&ndjson),
                    DecodeOptions::default()
                )),
                records
            )
        })
    });
    drop(ndjson);

    for (name, shape, key) in [
        ("json_array", Shape::Array, None),
        ("json_array_under_key", Shape::Wrapped, Some("values")),
    ] {
        let (chunks, records) = body(shape);
        let total: usize = chunks.iter().map(Bytes::len).sum();
        group.throughput(Throughput::Bytes(total as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let stream =
                    decode::json_array::<Record, _>(as_stream(&chunks), key, DecodeOptions::default());
                assert_eq!(count(stream), records)
            })
        });
    }

    let (csv, records) = body(Shape::Csv);
    let total: usize = csv.iter().map(Bytes::len).sum();
    eprintln!("csv body: {total} bytes, {records} records");
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function("csv_records", |b| {
        b.iter(|| {
            let stream = decode::csv_records::<Record, _>(
                as_stream(&csv),
                CsvFormat::DEFAULT,
                DecodeOptions::default(),
            );
            assert_eq!(count(stream), records)
        })
    });
    group.finish();
}

criterion_group!(benches, decoders);
criterion_main!(benches);
