//! The HTTP transport: one reqwest client, credentials, retries, throttle, logging.

mod client;
mod request;
mod response;
mod url;

use std::time::Duration;

pub use self::url::{ensure_secure, is_loopback, join, normalize_base_url};
pub use client::{DEFAULT_CORRELATION_HEADERS, HttpClient, HttpClientBuilder};
pub use request::RequestBuilder;
pub use response::{ByteStream, Response};

pub(crate) use self::url::without_query;

use crate::error::{Error, Result};

/// The `User-Agent` product token of this crate.
pub const CORE_USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// A reqwest client with the workspace's settings: rustls, gzip, no redirects (a
/// redirect could carry credentials to another host), the given timeouts.
pub(crate) fn standard_reqwest_client(
    connect: Duration,
    overall: Option<Duration>,
) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect)
        .user_agent(CORE_USER_AGENT);
    if let Some(overall) = overall {
        builder = builder.timeout(overall);
    }
    builder
        .build()
        .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))
}
