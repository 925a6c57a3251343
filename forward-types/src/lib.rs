//! The messages the With the Grid platform forwards to HTTPS endpoints (measurement and
//! notification messages), decoded into types, with helpers for the receiving service.
//! No network dependencies: use it in any receiver, whatever its HTTP stack.
//!
//! # Quickstart
//!
//! ```
//! use forward_types::{ForwardMessage, decode_body};
//!
//! let body = br#"[{"hashId":"qoa978","environmentHashId":"f1a4w1",
//!   "connectivityEnvironmentReportTypeHashId":"y124as","monitoringEnvironmentReportTypeHashId":null,
//!   "observations":[{"connectivityEnvironmentQuantityHashId":"sajia1",
//!     "monitoringEnvironmentQuantityHashId":null,"portHashId":"e13d57","channelIndex":0,
//!     "orderOfMagnitude":3,"significand":7827,"formattedValue":"7,827,000","unit":"W",
//!     "generatedAt":"2023-01-01T00:00:00.000Z","performance":1}],
//!   "deviceHashId":"j1iha9","deviceIdentifier":"device-serial-12345","deviceFields":{},
//!   "fields":{},"locationHashId":null,"locationFields":{},"userHashId":null,
//!   "generatedAt":"2023-01-01T00:00:00.000Z","createdAt":"2023-01-01T00:00:01.000Z","attempt":0}]"#;
//!
//! for message in decode_body(body)? {
//!     if let ForwardMessage::Measurement(report) = message {
//!         for observation in &report.observations {
//!             assert_eq!(observation.value().to_string(), "7827000");
//!             assert_eq!(observation.quantity_hash_id(), Some("sajia1"));
//!         }
//!     }
//! }
//! # Ok::<(), forward_types::DecodeError>(())
//! ```
//!
//! # The body
//!
//! A request body is a JSON array of one or more messages; [`decode_body`] tells
//! measurement from notification messages by their content and reports bad input with
//! the path of the offending field (`[0].observations[1].significand`). Fields the
//! document marks `string | null` are `Option`; unknown fields are accepted (and not
//! kept); `object` and `action` keep values this version does not know as `Unknown`.
//! Serialising a decoded message gives back the same JSON (timestamps are written in the
//! platform's format, UTC with milliseconds).
//!
//! # Values
//!
//! A value is `significand * 10^orderOfMagnitude` (the vendor SDK defines it so:
//! significand int32, orderOfMagnitude -128..127; this crate accepts any `i64`
//! significand, and refuses an orderOfMagnitude outside -128..=127 as a [`DecodeError`]).
//! [`MeasurementObservation::value`] gives an exact [`Decimal`]: no rounding through
//! `f64`, equality and ordering by value, and text of at most about 170 characters.
//!
//! `formattedValue` is display text only and never parsed. The document's own second
//! example shows why: significand `23041` with orderOfMagnitude `0` and formattedValue
//! `"230.41"`. By the definition that value is `23041`; the formatted text disagrees (it
//! reads as if the exponent were -2). This crate follows the definition.
//!
//! # Receiving
//!
//! - [`StaticHeaderCheck`]: constant-time check of the static header secret in an
//!   [`http::HeaderMap`] (axum, actix-web, hyper); an empty secret is refused.
//! - [`Redeliveries`]: spot redeliveries (`attempt > 0` with a kind and `hashId` already
//!   processed; a measurement and a notification may share a `hashId`).
//! - [`MAX_BODY_BYTES`]: the largest body [`decode_body`] decodes (16 MiB); stop reading
//!   a request body there too.
//! - [`ObjectKey`]: the `{YYYY}/{MM}/{DD}/{timestamp}` key of S3 destinations and the
//!   `….json` key of Azure Blob destinations, parsed and built.
//!
//! # Columns (features `arrow` and `parquet`)
//!
//! Module `columns` (feature `arrow`) makes Arrow `RecordBatch`es of measurement
//! observations, one row each with its report's members, the value exact as its
//! significand and order of magnitude (the schema is documented there);
//! `columns::parquet_from_body` (feature `parquet`) writes a request body's observations
//! as a Parquet file. Both bring `client-core` (the workspace's one columns code) and its
//! dependencies; the default build has none.
//!
//! # Reading stored messages back (feature `store`)
//!
//! `ForwardedObjects` (with feature `store`, which adds `object_store` and its network
//! dependencies; the default build has none) lists the objects of an S3 bucket, an
//! Azure Blob container or a local folder under the date prefixes of a range, parses
//! each key with [`ObjectKey`], and streams the decoded messages in key order, each
//! message (kind and `hashId`) once (redeliveries left out). Its requests go through the same `reqwest` as the
//! workspace's clients (rustls with `ring`, webpki roots). `from_url` takes the `AWS_*` or
//! `AZURE_*` settings from the environment; `from_url_with` takes them from a list. A
//! Blob container URL takes its SAS from `AZURE_STORAGE_SAS_TOKEN` (or its query). Only
//! HTTPS, or plain HTTP to a loopback host; redirects are errors. The range is listed one
//! day's prefix at a time, so memory does not grow with the range.
//!
//! The crates in this API are re-exported ([`http`], [`jiff`], [`serde_json`], and with
//! `store` `object_store` and `futures`), so a user need not depend on the same versions.
//!
//! ```ignore
//! use forward_types::ForwardedObjects;
//! use forward_types::futures::TryStreamExt;
//! use forward_types::jiff::civil::date;
//!
//! let objects = ForwardedObjects::from_url("s3://bucket/forwarded")?; // AWS_* variables
//! let mut messages = std::pin::pin!(objects.messages(date(2026, 1, 1), date(2026, 1, 31)));
//! while let Some(stored) = messages.try_next().await? {
//!     println!("{} {}", stored.key.timestamp(), stored.message.hash_id());
//! }
//! ```

// Library code handles every failure; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod body;
#[cfg(feature = "arrow")]
pub mod columns;
mod decimal;
mod measurement;
mod notification;
mod object_key;
mod receiver;
#[cfg(feature = "store")]
mod store;
mod time;

pub use body::{DecodeError, DecodeErrorKind, ForwardMessage, MAX_BODY_BYTES, MessageKind, decode_body};
pub use decimal::Decimal;
pub use measurement::{MeasurementMessage, MeasurementObservation};
pub use notification::{
    Action, DevicePayload, NotificationMessage, NotificationObservation, ObjectKind, QuantityPayload,
};
pub use object_key::{ObjectKey, ObjectKeyError};
pub use receiver::{Delivery, ReceiverError, Redeliveries, StaticHeaderCheck};
#[cfg(feature = "store")]
pub use store::{ForwardedObjects, SAS_TOKEN_VAR, StoreError, StoredMessage};
pub use time::format as format_timestamp;

/// Re-exported (feature `store`): the `futures` crate, whose `Stream`
/// [`ForwardedObjects::messages`] returns (read it with `futures::TryStreamExt`).
#[cfg(feature = "store")]
pub use futures;
/// Re-exported: the `http` crate, whose [`HeaderMap`](http::HeaderMap)
/// [`StaticHeaderCheck::verify`] takes, so a receiver need not pin a version of its own.
pub use http;
/// Re-exported: the `jiff` crate, whose `Timestamp` the messages' times are and whose
/// `civil::Date` the object keys and `ForwardedObjects` take.
pub use jiff;
/// Re-exported (feature `store`): the `object_store` crate, whose `ObjectStore` and
/// `path::Path` [`ForwardedObjects::new`] takes and whose `Error` [`StoreError::Store`]
/// holds. Build stores with this one, so they match the version this crate uses.
#[cfg(feature = "store")]
pub use object_store;
/// Re-exported: the secret type [`StaticHeaderCheck`] takes.
pub use secrecy::SecretString;
/// Re-exported: the `serde_json` crate, whose `Map`, `Value` and `Number` hold the
/// messages' free-form fields (`deviceFields`, `performance`, ...).
pub use serde_json;
