//! Helpers for a service that receives forwarded messages.
//!
//! They take an [`http::HeaderMap`], the header type axum, actix-web (through its `http`
//! conversion) and hyper handlers hold, and bodies as bytes: [`decode_body`] refuses a
//! body above [`MAX_BODY_BYTES`].
//!
//! [`decode_body`]: crate::decode_body
//! [`MAX_BODY_BYTES`]: crate::MAX_BODY_BYTES

use std::collections::{HashSet, VecDeque};
use std::fmt;

use http::{HeaderMap, HeaderName};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::body::MessageKind;

/// A receiver helper that cannot be built as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiverError {
    /// The expected secret is empty: any request without the header's value would pass.
    #[error("the expected static header value is empty")]
    EmptySecret,
    /// The header name is not a valid HTTP header name.
    #[error("`{0}` is not a valid header name")]
    InvalidHeaderName(String),
}

/// Checks the static header the platform sends ("Static header" authentication) in
/// constant time, so response timing tells an attacker nothing about the secret.
///
/// ```
/// use forward_types::{SecretString, StaticHeaderCheck};
/// use forward_types::http::HeaderMap;
///
/// let check = StaticHeaderCheck::new("Authorization", SecretString::from("Bearer abc"))?;
/// let mut headers = HeaderMap::new();
/// headers.insert("authorization", "Bearer abc".parse()?);
/// assert!(check.verify(&headers));
/// // An empty secret would let through any request with an empty header: refused.
/// assert!(StaticHeaderCheck::new("Authorization", SecretString::from("")).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StaticHeaderCheck {
    name: HeaderName,
    expected: SecretString,
}

impl StaticHeaderCheck {
    /// Expects header `name` to carry `value` exactly. An empty `value` or an invalid
    /// header name is an error.
    pub fn new(name: impl AsRef<str>, value: SecretString) -> Result<Self, ReceiverError> {
        let name = name.as_ref();
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ReceiverError::InvalidHeaderName(name.to_owned()))?;
        if value.expose_secret().is_empty() {
            return Err(ReceiverError::EmptySecret);
        }
        Ok(StaticHeaderCheck {
            name,
            expected: value,
        })
    }

    /// The header name (lower case; case-insensitive on the wire).
    pub fn header_name(&self) -> &str {
        self.name.as_str()
    }

    /// Whether the request's headers carry the expected secret: exactly one header of
    /// the name, with exactly the expected value. A request repeating the header is
    /// refused, whatever its values, since proxies and frameworks disagree on which one
    /// counts.
    pub fn verify(&self, headers: &HeaderMap) -> bool {
        let mut values = headers.get_all(&self.name).iter();
        match (values.next(), values.next()) {
            (Some(value), None) => self.verify_value(Some(value.as_bytes())),
            _ => false,
        }
    }

    /// Whether `received` (the header's value, if the request had it) is the expected
    /// secret, for HTTP stacks without an [`http::HeaderMap`]. Values of a different
    /// length are refused without comparing contents.
    pub fn verify_value(&self, received: Option<&[u8]>) -> bool {
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

/// What a delivery is, judged by its kind, `hashId` and `attempt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// Not seen before: process it.
    New,
    /// A redelivery (`attempt > 0`) of a message already processed: acknowledge it
    /// without processing it again.
    Redelivery,
}

/// Remembers the last `capacity` processed messages, by kind and `hashId`, to spot
/// redeliveries. The platform redelivers with `attempt > 0` and the same `hashId` when
/// it did not get a 2xx in time; a redelivery of a message this receiver never finished
/// is [`Delivery::New`].
///
/// A `hashId` is unique within its kind only: the document's measurement example and its
/// notification example share `qoa978`. So a message is known by the pair, and a
/// notification is never taken for a redelivery of a report.
///
/// Call [`Redeliveries::classify`] before processing and [`Redeliveries::mark_processed`]
/// only after the message is safely stored, so a crash mid-way means reprocessing, not loss.
#[derive(Debug, Clone)]
pub struct Redeliveries {
    capacity: usize,
    seen: HashSet<(MessageKind, String)>,
    order: VecDeque<(MessageKind, String)>,
}

impl Redeliveries {
    /// Remembers up to `capacity` messages (at least 1).
    pub fn new(capacity: usize) -> Self {
        Redeliveries {
            capacity: capacity.max(1),
            seen: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Classifies a delivery of the message of `kind` with `hash_id`.
    pub fn classify(&self, kind: MessageKind, hash_id: &str, attempt: u32) -> Delivery {
        if attempt > 0 && self.seen.contains(&(kind, hash_id.to_owned())) {
            Delivery::Redelivery
        } else {
            Delivery::New
        }
    }

    /// Records that the message of `kind` with `hash_id` was processed; the oldest is
    /// forgotten when full.
    pub fn mark_processed(&mut self, kind: MessageKind, hash_id: &str) {
        let id = (kind, hash_id.to_owned());
        if !self.seen.insert(id.clone()) {
            return;
        }
        self.order.push_back(id);
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
    use http::HeaderValue;

    fn headers(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("authorization", HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn header_check() {
        let check = StaticHeaderCheck::new("Authorization", SecretString::from("Bearer abc")).unwrap();
        assert!(check.verify(&headers(&["Bearer abc"])));
        assert!(!check.verify(&headers(&["Bearer abd"])));
        assert!(!check.verify(&headers(&["Bearer ab"])));
        assert!(!check.verify(&headers(&[""])));
        assert!(!check.verify(&headers(&[])));
        assert!(
            !check.verify(&headers(&["Bearer abc", "Bearer abc"])),
            "a repeated header is refused"
        );
        assert!(!check.verify(&headers(&["Bearer wrong", "Bearer abc"])));
        assert!(check.verify_value(Some(b"Bearer abc")));
        assert!(!check.verify_value(None));
        assert_eq!(check.header_name(), "authorization");
        assert!(!format!("{check:?}").contains("abc"));
    }

    #[test]
    fn an_empty_secret_or_a_bad_name_is_refused() {
        assert_eq!(
            StaticHeaderCheck::new("Authorization", SecretString::from("")).unwrap_err(),
            ReceiverError::EmptySecret
        );
        assert!(matches!(
            StaticHeaderCheck::new("Bad Name", SecretString::from("x")),
            Err(ReceiverError::InvalidHeaderName(_))
        ));
    }

    #[test]
    fn redeliveries() {
        use MessageKind::{Measurement as M, Notification as N};
        let mut seen = Redeliveries::new(2);
        assert_eq!(seen.classify(M, "a", 0), Delivery::New);
        seen.mark_processed(M, "a");
        assert_eq!(seen.classify(M, "a", 1), Delivery::Redelivery);
        assert_eq!(
            seen.classify(M, "a", 0),
            Delivery::New,
            "attempt 0 is a first delivery"
        );
        assert_eq!(
            seen.classify(N, "a", 1),
            Delivery::New,
            "a notification sharing a report's hashId is another message"
        );
        assert_eq!(seen.classify(M, "b", 3), Delivery::New, "never processed here");
        seen.mark_processed(M, "b");
        seen.mark_processed(M, "c");
        assert_eq!(
            seen.classify(M, "a", 1),
            Delivery::New,
            "forgotten beyond capacity"
        );
        assert_eq!(seen.classify(M, "c", 1), Delivery::Redelivery);
    }
}
