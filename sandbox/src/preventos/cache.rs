//! Values bodies rendered once and kept ([`Config::cache_bodies`](super::Config)): the
//! same request again is answered with the stored chunks, so that serving costs next to
//! nothing (a benchmark warms the cache untimed, then times only the client and the
//! configured latency). The chunks are the generator's own, cut where it cuts them, so a
//! cached body is the generated body byte for byte and faults cut it at the same place.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::generate::Generator;
use super::plan::ValuesPlan;
use crate::server::lock;

/// One chunk of a body and the records in it.
pub(super) type Chunk = (Bytes, u64);

/// The bodies rendered so far, by what they hold.
#[derive(Debug, Default)]
pub(super) struct BodyCache {
    bodies: Mutex<HashMap<String, Arc<[Chunk]>>>,
}

impl BodyCache {
    /// The chunks of `plan`'s body: stored ones, or rendered now and stored.
    pub(super) fn chunks(&self, plan: ValuesPlan) -> Arc<[Chunk]> {
        let key = key(&plan);
        if let Some(chunks) = lock(&self.bodies).get(&key) {
            return chunks.clone();
        }
        let mut generator = Generator::new(plan);
        let chunks: Arc<[Chunk]> = std::iter::from_fn(|| generator.next_chunk()).collect();
        lock(&self.bodies).insert(key, chunks.clone());
        chunks
    }

    /// Bodies stored.
    pub(super) fn len(&self) -> usize {
        lock(&self.bodies).len()
    }
}

/// Everything a body depends on besides the simulator's configuration (its readings):
/// the plan's signals, range, limit, time zone, format and `meta` (which names the
/// environment, site and `tzi`). Two requests with the same key get the same bytes.
fn key(plan: &ValuesPlan) -> String {
    format!(
        "{:?}|{}|{}|{}|{:?}|{:?}|{:?}|{}",
        plan.signals,
        plan.step,
        plan.start,
        plan.end,
        plan.take,
        plan.tz.iana_name(),
        plan.format,
        plan.meta
    )
}
