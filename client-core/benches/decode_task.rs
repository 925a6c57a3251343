//! The NDJSON decoder on 100 MB of Preventos-shaped records in 64 KiB chunks, driven
//! three ways: without a runtime (`futures::executor::block_on`), on a current-thread
//! tokio runtime and on a two-worker one; with a consumer that only counts the records,
//! and with one that formats each record into a CSV line (work of about the decoder's
//! own cost, which the decoding task can overlap on another core).
//!
//! `cargo bench -p client-core --bench decode_task`

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write;
use std::hint::black_box;

use bytes::Bytes;
use client_core::{DecodeOptions, Error, RecordStream, decode};
use common::{BodyGenerator, Record, Shape};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;

const BODY_BYTES: usize = 100 * 1024 * 1024;

fn as_stream(chunks: &[Bytes]) -> impl futures::Stream<Item = Result<Bytes, Error>> + Send + 'static {
    // Cloning `Bytes` is a reference count, not a copy of the data.
    let owned: Vec<Bytes> = chunks.to_vec();
    futures::stream::iter(owned.into_iter().map(Ok))
}

/// Reads every record; with `work`, formats each into a CSV line as well.
async fn consume(mut stream: RecordStream<Record>, work: bool) -> u64 {
    let mut count = 0;
    let mut line = String::new();
    while let Some(record) = stream.next().await {
        let record = record.expect("bench records decode");
        if work {
            line.clear();
            let _ = write!(line, "{},{},{}", record.timestamp, record.signal_id, record.value);
            black_box(&line);
        } else {
            black_box(record);
        }
        count += 1;
    }
    count
}

fn decode_task(c: &mut Criterion) {
    let mut generator = BodyGenerator::new(Shape::Ndjson, BODY_BYTES);
    let chunks: Vec<Bytes> = generator.by_ref().collect();
    let records = generator.records();
    let total: usize = chunks.iter().map(Bytes::len).sum();

    let mut group = c.benchmark_group("ndjson_100MB");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(total as u64));
    let current = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a runtime");
    for work in [false, true] {
        let consumer = if work { "format" } else { "count" };
        let stream = || decode::ndjson::<Record, _>(as_stream(&chunks), DecodeOptions::default());
        group.bench_function(format!("block_on/{consumer}"), |b| {
            b.iter(|| assert_eq!(futures::executor::block_on(consume(stream(), work)), records))
        });
        group.bench_function(format!("tokio_current_thread/{consumer}"), |b| {
            b.iter(|| assert_eq!(current.block_on(consume(stream(), work)), records))
        });
        group.bench_function(format!("tokio_2_workers/{consumer}"), |b| {
            b.iter(|| {
                // The consumer on a worker too, as a client's code is.
                let task = multi.spawn(consume(stream(), work));
                assert_eq!(multi.block_on(task).expect("the consumer runs"), records)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decode_task);
criterion_main!(benches);
