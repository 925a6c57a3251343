//! Helpers shared by the sandbox tests.
#![allow(dead_code, missing_docs, unreachable_pub)]

use conduit_client::Datapoint;

/// A datapoint's identity: `(dev_netid, dev_chid, val_date)`.
pub type Identity = (String, i64, i64);

/// The identities of `points`, in their order.
pub fn identities(points: &[Datapoint]) -> Vec<Identity> {
    points
        .iter()
        .map(|p| {
            (
                p.dev_netid.clone().unwrap(),
                p.dev_chid.unwrap(),
                p.val_date.unwrap().as_second(),
            )
        })
        .collect()
}

/// Checks a read's items (`got`) against the simulator's truth as multisets: each item
/// created in the range as often as it was created, and beyond those only items of
/// `edges` (created in the second before the range or exactly at its end: the API's end
/// conventions are unknown), each at most as often as it was created there.
pub fn check_once<K>(got: &[K], truth: &[K], edges: &[K]) -> Result<(), String>
where
    K: std::hash::Hash + Eq + std::fmt::Debug + Clone,
{
    use std::collections::HashMap;
    let count = |items: &[K]| {
        let mut counts: HashMap<K, i64> = HashMap::new();
        for item in items {
            *counts.entry(item.clone()).or_default() += 1;
        }
        counts
    };
    let (got, truth, edges) = (count(got), count(truth), count(edges));
    let missing: Vec<(&K, &i64)> = truth
        .iter()
        .filter(|(item, n)| got.get(*item).copied().unwrap_or(0) < **n)
        .collect();
    if let Some(first) = missing.first() {
        return Err(format!(
            "{} lost or fewer than created, e.g. {first:?}",
            missing.len()
        ));
    }
    let extra: Vec<(&K, i64)> = got
        .iter()
        .map(|(item, n)| (item, n - truth.get(item).copied().unwrap_or(0)))
        .filter(|(item, more)| *more > edges.get(*item).copied().unwrap_or(0))
        .collect();
    if let Some(first) = extra.first() {
        return Err(format!(
            "{} yielded more often than created (duplicates, or outside the range), e.g. {first:?}",
            extra.len()
        ));
    }
    Ok(())
}

/// The identities created at the range's edges: in the second before `from`, and at `to`.
pub fn edge_identities(sim: &sandbox::conduit::Sandbox, from: i64, to: i64) -> Vec<Identity> {
    let mut edges = sim.points_created_in(from - 1, from);
    edges.extend(sim.points_created_in(to, to + 1));
    edges
}

/// The record texts created at the range's edges.
pub fn edge_records(sim: &sandbox::conduit::Sandbox, from: i64, to: i64) -> Vec<String> {
    let mut edges = sim.records_created_in(from - 1, from);
    edges.extend(sim.records_created_in(to, to + 1));
    edges
}
