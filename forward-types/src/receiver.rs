//! Helpers for a service that receives forwarded messages.

use std::collections::{HashSet, VecDeque};
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// Checks the static header the platform sends ("Static header" authentication) in
/// constant time, so response timing tells an attacker nothing about the secret.
pub struct StaticHeaderCheck {
    name: String,
    expected: SecretString,
}

impl StaticHeaderCheck {
    /// Expects header `name` to carry `value` exactly.
    pub fn new(name: impl Into<String>, value: SecretString) -> Self {
        StaticHeaderCheck {
            name: name.into(),
            expected: value,
        }
    }

    /// The header name (case-insensitive on the wire).
    pub fn header_name(&self) -> &str {
        &self.name
    }

    /// Whether `received` (the header's value, if the request had it) is the expected
    /// secret. Values of a different length are refused without comparing contents.
    pub fn verify(&self, received: Option<&[u8]>) -> bool {
        let Some(received) = received else { return false };
        bool::from(self.expected.expose_secret().as_bytes().ct_eq(received))
    }
}

impl fmt::Debug for StaticHeaderCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticHeaderCheck")
            .field("name", &self.name)
            .field("expected", &"[REDACTED]")
            .finish()
    }
}

/// What a delivery is, judged by its `hashId` and `attempt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// Not seen before: process it.
    New,
    /// A redelivery (`attempt > 0`) of a message already processed: acknowledge it
    /// without processing it again.
    Redelivery,
}

/// Remembers the `hashId`s of the last `capacity` processed messages to spot
/// redeliveries. The platform redelivers with `attempt > 0` and the same `hashId` when
/// it did not get a 2xx in time; a redelivery of a message this receiver never finished
/// is [`Delivery::New`].
///
/// Call [`Redeliveries::classify`] before processing and [`Redeliveries::mark_processed`]
/// only after the message is safely stored, so a crash mid-way means reprocessing, not loss.
#[derive(Debug, Clone)]
pub struct Redeliveries {
    capacity: usize,
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl Redeliveries {
    /// Remembers up to `capacity` message ids (at least 1).
    pub fn new(capacity: usize) -> Self {
        Redeliveries {
            capacity: capacity.max(1),
            seen: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Classifies a delivery of message `hash_id`.
    pub fn classify(&self, hash_id: &str, attempt: u32) -> Delivery {
        if attempt > 0 && self.seen.contains(hash_id) {
            Delivery::Redelivery
        } else {
            Delivery::New
        }
    }

    /// Records that `hash_id` was processed; the oldest id is forgotten when full.
    pub fn mark_processed(&mut self, hash_id: &str) {
        if !self.seen.insert(hash_id.to_owned()) {
            return;
        }
        self.order.push_back(hash_id.to_owned());
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_check() {
        let check = StaticHeaderCheck::new("Authorization", SecretString::from("Bearer abc"));
        assert!(check.verify(Some(b"Bearer abc")));
        assert!(!check.verify(Some(b"Bearer abd")));
        assert!(!check.verify(Some(b"Bearer ab")));
        assert!(!check.verify(Some(b"")));
        assert!(!check.verify(None));
        assert!(!format!("{check:?}").contains("abc"));
    }

    #[test]
    fn redeliveries() {
        let mut seen = Redeliveries::new(2);
        assert_eq!(seen.classify("a", 0), Delivery::New);
        seen.mark_processed("a");
        assert_eq!(seen.classify("a", 1), Delivery::Redelivery);
        assert_eq!(
            seen.classify("a", 0),
            Delivery::New,
            "attempt 0 is a first delivery"
        );
        assert_eq!(seen.classify("b", 3), Delivery::New, "never processed here");
        seen.mark_processed("b");
        seen.mark_processed("c");
        assert_eq!(seen.classify("a", 1), Delivery::New, "forgotten beyond capacity");
        assert_eq!(seen.classify("c", 1), Delivery::Redelivery);
    }
}
