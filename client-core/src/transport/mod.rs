//! The HTTP transport: one reqwest client, credentials, retries, throttle, logging.

mod client;
mod pipeline;
mod preview;
mod request;
mod response;
mod settings;
mod tls;
mod url;

pub use self::url::{
    decode_segment, encode_segment, ensure_same_origin, ensure_secure, is_loopback, join, normalize_base_url,
};
pub use client::{DEFAULT_CORRELATION_HEADERS, HttpClient, HttpClientBuilder};
pub use preview::RequestPreview;
pub use request::RequestBuilder;
pub use response::{ByteStream, Response};
pub use settings::TransportSettings;
pub use tls::TlsRoots;

pub(crate) use self::url::redact_url_text;

use crate::error::{Error, Result};

/// The `User-Agent` product token of this crate.
pub const CORE_USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// The workspace's settings on top of `builder` (a caller's, or a fresh one): rustls with
/// the given roots, and never a redirect, whatever the caller set: a redirect could carry
/// a secret to another host.
pub(crate) fn harden(builder: reqwest::ClientBuilder, roots: &TlsRoots) -> Result<reqwest::Client> {
    roots
        .apply(builder.use_rustls_tls())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))
}

/// The proxy at `url` for every scheme (a configured proxy replaces the environment's);
/// an invalid URL is a configuration error that shows neither its password nor its query.
pub(crate) fn proxy_for_all(url: &str) -> Result<reqwest::Proxy> {
    reqwest::Proxy::all(url)
        .map_err(|_| Error::config(format!("the proxy URL `{}` is not valid", redact_url_text(url))))
}

/// The HTTP clients of token requests, hardened, with the token endpoint's connect and
/// whole-request timeouts, through `proxy` when set (else the environment's): one for
/// every host, and for a token endpoint on a loopback host one with the same settings
/// that never goes through a proxy (plain HTTP is allowed there only because it never
/// leaves the machine; a proxy would carry the client's secret elsewhere, in clear).
#[cfg(feature = "oauth2")]
pub(crate) fn token_http_client(
    connect_timeout: std::time::Duration,
    request_timeout: std::time::Duration,
    roots: &TlsRoots,
    proxy: Option<&str>,
) -> Result<TokenHttp> {
    let builder = || {
        reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(request_timeout)
            .user_agent(CORE_USER_AGENT)
    };
    let mut remote = builder();
    if let Some(url) = proxy {
        remote = remote.proxy(proxy_for_all(url)?);
    }
    let http = harden(remote, roots)?;
    let loopback = harden(builder().no_proxy(), roots)?;
    Ok(TokenHttp { http, loopback })
}

/// The HTTP clients of token requests (see [`token_http_client`]).
#[cfg(feature = "oauth2")]
#[derive(Clone)]
pub(crate) struct TokenHttp {
    http: reqwest::Client,
    loopback: reqwest::Client,
}

#[cfg(feature = "oauth2")]
impl TokenHttp {
    /// A `POST` to `url`, never through a proxy when `url` is on a loopback host.
    pub(crate) fn post(&self, url: ::url::Url) -> reqwest::RequestBuilder {
        let http = if is_loopback(&url) {
            &self.loopback
        } else {
            &self.http
        };
        http.post(url)
    }
}
