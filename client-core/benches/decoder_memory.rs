//! Peak memory of each decoder against body size: the body is generated lazily, so a
//! flat peak RSS across sizes shows the decoders hold no more than a batch of records and
//! a chunk (driven without a runtime, they decode inline, one batch at a time).
//!
//! `cargo bench -p client-core --bench decoder_memory` runs every decoder on 100 MB and
//! 1 GB bodies, each in a child process of its own, and prints the peak RSS (VmHWM).

#[path = "common/mod.rs"]
mod common;

use std::process::Command;
use std::time::Instant;

use client_core::decode;
use client_core::{CsvFormat, DecodeOptions, Error};
use common::{BodyGenerator, Record, Shape};
use futures::StreamExt;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

fn run_one(shape: Shape, megabytes: usize) {
    let generator = BodyGenerator::new(shape, megabytes * 1024 * 1024);
    let body = futures::stream::iter(generator.map(Ok::<_, Error>));
    let options = DecodeOptions::default();
    let started = Instant::now();
    let records: u64 = futures::executor::block_on(async {
        let stream = match shape {
            Shape::Ndjson => decode::ndjson::<Record, _>(body, options),
            Shape::Array => decode::json_array::<Record, _>(body, None, options),
            Shape::Wrapped => decode::json_array::<Record, _>(body, Some("values"), options),
            Shape::Csv => decode::csv_records::<Record, _>(body, CsvFormat::DEFAULT, options),
        };
        stream
            .fold(0u64, |n, record| {
                std::hint::black_box(record.expect("bench records decode"));
                async move { n + 1 }
            })
            .await
    });
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{:<8} {:>6} MB {:>11} records {:>8.1} MB/s (incl. generation) peak RSS {:>7} KiB",
        format!("{shape:?}").to_lowercase(),
        megabytes,
        records,
        megabytes as f64 / seconds,
        peak_rss_kib()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if let [shape, megabytes] = args.as_slice() {
        if let (Some(shape), Ok(megabytes)) = (Shape::parse(shape), megabytes.parse()) {
            run_one(shape, megabytes);
            return;
        }
    }
    let exe = std::env::current_exe().expect("own path");
    for shape in ["ndjson", "array", "wrapped", "csv"] {
        for megabytes in ["100", "1000"] {
            let status = Command::new(&exe)
                .args([shape, megabytes])
                .status()
                .expect("child runs");
            assert!(status.success(), "{shape} {megabytes} MB failed");
        }
    }
}
