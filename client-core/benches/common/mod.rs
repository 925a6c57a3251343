//! Synthetic bodies shaped like the Preventos NDJSON record of DESIGN.md.
#![allow(dead_code, missing_docs, unreachable_pub)]

use bytes::Bytes;
use serde::Deserialize;

/// `{"timestamp":"2026-05-31T00:00:00+03:00","signalId":"Velocity","value":0.42}`
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub timestamp: String,
    pub signal_id: String,
    pub value: f64,
}

pub const CHUNK: usize = 64 * 1024;
const SIGNALS: [&str; 4] = ["Velocity", "Depth", "Temperature", "Pressure"];

/// The kind of body to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Ndjson,
    Array,
    Wrapped,
    Csv,
}

impl Shape {
    pub fn parse(name: &str) -> Option<Shape> {
        Some(match name {
            "ndjson" => Shape::Ndjson,
            "array" => Shape::Array,
            "wrapped" => Shape::Wrapped,
            "csv" => Shape::Csv,
            _ => return None,
        })
    }
}

/// Writes record `i` in the shape's syntax (without separators).
pub fn write_record(shape: Shape, i: u64, out: &mut Vec<u8>) {
    use std::io::Write;
    let seconds = i * 60;
    let (day, rest) = (seconds / 86_400, seconds % 86_400);
    let (h, m) = (rest / 3600, (rest % 3600) / 60);
    let signal = SIGNALS[(i % 4) as usize];
    let value = ((i * 7919) % 100_000) as f64 / 1000.0 - 20.0;
    let day = 1 + day % 28;
    let _ = match shape {
        Shape::Csv => write!(out, "2026-05-{day:02}T{h:02}:{m:02}:00+03:00,{signal},{value}"),
        _ => write!(
            out,
            "{{\"timestamp\":\"2026-05-{day:02}T{h:02}:{m:02}:00+03:00\",\"signalId\":\"{signal}\",\"value\":{value}}}"
        ),
    };
}

/// Produces a body of at least `target_bytes` lazily, chunk by chunk.
pub struct BodyGenerator {
    shape: Shape,
    target: usize,
    produced: usize,
    next_record: u64,
    started: bool,
    finished: bool,
    pending: Vec<u8>,
}

impl BodyGenerator {
    pub fn new(shape: Shape, target_bytes: usize) -> Self {
        BodyGenerator {
            shape,
            target: target_bytes,
            produced: 0,
            next_record: 0,
            started: false,
            finished: false,
            pending: Vec::new(),
        }
    }

    pub fn records(&self) -> u64 {
        self.next_record
    }
}

impl Iterator for BodyGenerator {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if self.finished && self.pending.is_empty() {
            return None;
        }
        if !self.started {
            self.started = true;
            self.pending.extend_from_slice(match self.shape {
                Shape::Ndjson => b"",
                Shape::Array => b"[",
                Shape::Wrapped => b"{\"meta\":{\"site\":\"bench\"},\"values\":[",
                Shape::Csv => b"timestamp,signalId,value\n",
            });
        }
        while !self.finished && self.pending.len() < CHUNK {
            if self.produced + self.pending.len() >= self.target {
                self.finished = true;
                self.pending.extend_from_slice(match self.shape {
                    Shape::Ndjson | Shape::Csv => b"",
                    Shape::Array => b"]",
                    Shape::Wrapped => b"]}",
                });
                break;
            }
            if self.next_record > 0 && matches!(self.shape, Shape::Array | Shape::Wrapped) {
                self.pending.push(b',');
            }
            write_record(self.shape, self.next_record, &mut self.pending);
            if matches!(self.shape, Shape::Ndjson | Shape::Csv) {
                self.pending.push(b'\n');
            }
            self.next_record += 1;
        }
        let take = self.pending.len().min(CHUNK);
        let chunk: Vec<u8> = self.pending.drain(..take).collect();
        self.produced += chunk.len();
        Some(Bytes::from(chunk))
    }
}
