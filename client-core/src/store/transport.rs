//! `object_store`'s HTTP carried by the workspace's one `reqwest` (rustls with ring,
//! webpki roots).
//!
//! `object_store`'s own `aws`/`azure`/`gcp` features bring a second `reqwest` and the `aws-lc`
//! TLS library, a large C build. Its `aws-base`/`azure-base`/`gcp-base` features take the HTTP client
//! from an [`HttpConnector`] instead, and its `ring` feature signs with `ring`, which the
//! workspace already has: S3, Azure Blob or Google Cloud Storage then adds no HTTP or TLS stack.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use http_body_util::BodyExt;
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpResponse, HttpResponseBody,
    HttpService,
};
use object_store::{ClientConfigKey, ClientOptions};

/// `object_store`'s own defaults: a connection within 5 s, and no read waiting more than
/// 30 s. The read timeout is per read rather than for the whole response, so a large
/// object on a slow link is not cut off while data still flows.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const READ_TIMEOUT: Duration = Duration::from_secs(30);

const USER_AGENT: &str = crate::CORE_USER_AGENT;

/// Whether `host` is this machine (`localhost`, a loopback address), where nothing
/// travels over a network.
fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether `host` is a cloud's instance metadata endpoint, which the stores' credential
/// providers ask over plain HTTP (EC2 and ECS, EKS Pod Identity, GKE, Azure managed
/// identity): an IPv4 link-local address (`169.254.0.0/16`, never routed off the link),
/// AWS's IPv6 ones (`fd00:ec2::254`, `fd00:ec2::23`), or `metadata.google.internal`.
fn is_metadata_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("metadata.google.internal") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_link_local(),
        Ok(std::net::IpAddr::V6(ip)) => {
            ip == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
                || ip == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23)
        }
        Err(_) => false,
    }
}

/// Whether plain HTTP may go to `host`, and never through a proxy: this machine, or an
/// instance metadata endpoint on its link.
fn is_local_host(host: &str) -> bool {
    is_loopback_host(host) || is_metadata_host(host)
}

/// Whether a request may go to `url`: HTTPS anywhere, plain HTTP to loopback and
/// instance metadata hosts only.
pub(super) fn allowed(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => url.host_str().is_some_and(is_local_host),
        _ => false,
    }
}

/// Why a request to `url` is refused, naming its host only (the query may be a SAS).
pub(super) fn refused_message(url: &url::Url) -> String {
    format!(
        "refusing {}:// to `{}`: only https:// is allowed, plain http:// only to a loopback host or an instance metadata endpoint",
        url.scheme(),
        url.host_str().unwrap_or_default()
    )
}

/// Builds the stores' HTTP clients on `reqwest`. Of the [`ClientOptions`] it honours
/// `allow_http` (`AWS_ALLOW_HTTP`, and Azurite's emulator setting; even then plain HTTP
/// goes to loopback and instance metadata hosts only), `proxy_url` (never for those) and the default
/// headers; the timeouts are the constants above. Redirects are not followed: `object_store` reports them as errors.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct ReqwestConnector;

impl HttpConnector for ReqwestConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        let allow_http = options
            .get_config_value(&ClientConfigKey::AllowHttp)
            .is_some_and(|value| value.eq_ignore_ascii_case("true"));
        let builder = || {
            let builder = reqwest::Client::builder()
                .https_only(!allow_http)
                // A redirect could take the request's credentials elsewhere.
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(CONNECT_TIMEOUT)
                .read_timeout(READ_TIMEOUT)
                .user_agent(USER_AGENT);
            match options.get_default_headers() {
                Some(headers) => builder.default_headers(headers.clone()),
                None => builder,
            }
        };
        let mut remote = builder();
        if let Some(proxy) = options.get_config_value(&ClientConfigKey::ProxyUrl) {
            remote = remote.proxy(reqwest::Proxy::all(proxy.as_str()).map_err(generic)?);
        }
        // Plain HTTP to a loopback host (an emulator) or an instance metadata endpoint is
        // allowed only because it never leaves the machine or its link: neither the
        // `ProxyUrl` option nor the environment's proxy (HTTP_PROXY, ALL_PROXY) may carry
        // its signature, SAS or credentials elsewhere, in clear.
        Ok(HttpClient::new(ReqwestService {
            remote: remote.build().map_err(generic)?,
            loopback: builder().no_proxy().build().map_err(generic)?,
        }))
    }
}

fn generic(error: reqwest::Error) -> object_store::Error {
    object_store::Error::Generic {
        store: "HTTP client",
        source: Box::new(error),
    }
}

/// The stores' HTTP: `remote` for every host but loopback and metadata ones, which `loopback` (never
/// through a proxy) serves.
#[derive(Debug)]
struct ReqwestService {
    remote: reqwest::Client,
    loopback: reqwest::Client,
}

#[async_trait::async_trait]
impl HttpService for ReqwestService {
    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let url = reqwest::Url::parse(&parts.uri.to_string())
            .map_err(|e| HttpError::new(HttpErrorKind::Request, e))?;
        // `AWS_ALLOW_HTTP` allows http:// to any endpoint: keep it to local hosts. Checked
        // before connecting; `Unknown` is not retried.
        if !allowed(&url) {
            return Err(HttpError::new(
                HttpErrorKind::Unknown,
                io::Error::new(io::ErrorKind::PermissionDenied, refused_message(&url)),
            ));
        }
        let url_is_local = url.host_str().is_some_and(is_local_host);
        let mut outgoing = reqwest::Request::new(parts.method, url);
        *outgoing.headers_mut() = parts.headers;
        // A body held in one piece goes as it is, with its length; a multi-part payload is
        // streamed frame by frame.
        *outgoing.body_mut() = Some(match body.as_bytes() {
            Some(bytes) => reqwest::Body::from(bytes.clone()),
            None => reqwest::Body::wrap(body),
        });
        let http = if url_is_local {
            &self.loopback
        } else {
            &self.remote
        };
        let response = http.execute(outgoing).await.map_err(http_error)?;
        let (parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
        Ok(HttpResponse::from_parts(
            parts,
            HttpResponseBody::new(body.map_err(http_error)),
        ))
    }
}

/// Classifies a `reqwest` failure the way `object_store`'s retry logic reads it: timeouts,
/// refused connections and connections cut mid-way are retried (when the request is
/// idempotent); anything else is not.
fn http_error(error: reqwest::Error) -> HttpError {
    let kind = if error.is_timeout() {
        HttpErrorKind::Timeout
    } else if error.is_connect() {
        HttpErrorKind::Connect
    } else if error.is_decode() {
        HttpErrorKind::Decode
    } else {
        io_kind(&error).unwrap_or(if error.is_body() || error.is_request() {
            HttpErrorKind::Request
        } else {
            HttpErrorKind::Unknown
        })
    };
    // The URL may hold a SAS; `object_store` adds the URL itself where it is not secret.
    HttpError::new(kind, error.without_url())
}

fn io_kind(error: &(dyn StdError + 'static)) -> Option<HttpErrorKind> {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            match io.kind() {
                io::ErrorKind::TimedOut => return Some(HttpErrorKind::Timeout),
                io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof => return Some(HttpErrorKind::Interrupted),
                _ => {}
            }
        }
        source = cause.source();
    }
    None
}
