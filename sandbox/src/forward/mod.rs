//! A With the Grid platform simulator: it delivers batches of forwarded messages to any
//! destination exactly as the forwarding document describes, and in-process sinks that
//! check what they receive.
//!
//! - [`Platform`]: `POST` with a static header; `POST` with an OAuth2 client-credentials
//!   token (secret in the body or a Basic header; cached, dropped after a 401); `PUT` to
//!   S3 at `{YYYY}/{MM}/{DD}/{timestamp}` signed with SigV4; `PUT` to Blob Storage at
//!   `{YYYY}/{MM}/{DD}/{timestamp}.json` with the SAS URL and `x-ms-blob-type: BlockBlob`;
//!   `POST` to Event Hubs with a SAS token. A non-2xx answer is redelivered with
//!   `attempt` incremented and the same `hashId`. `{timestamp}` is the delivery's epoch
//!   milliseconds, made unique per platform (a delivery in the same millisecond as the
//!   one before takes the next).
//! - [`generate::batches`]: deterministic measurement and notification batches.
//! - [`Sink`]: one destination of each kind, checking the header, the token, the SigV4
//!   signature or the SAS (with code of its own, not the platform's) and keeping the
//!   objects, optionally in a folder.

mod checks;
pub mod generate;
mod platform;
mod sinks;

pub use platform::{Attempt, Auth, Platform};
pub use sinks::{Sink, SinkConfig, SinkKind};
