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
