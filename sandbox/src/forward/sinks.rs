//! In-process destinations that check what the platform sends (static header, OAuth2
//! token, SigV4, Blob SAS, Event Hubs SAS) and keep the objects, so round trips run
//! offline.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::server::lock;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::post;
use serde_json::json;

use super::checks;
use crate::entra::{Issuer, Registration};
use crate::server::{Resets, Running, error};

/// What a sink checks.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SinkKind {
    /// `POST` with `name: value`.
    StaticHeader {
        /// The header name.
        name: String,
        /// The expected value.
        value: String,
    },
    /// `POST` with a bearer token from the sink's own `/oauth2/token` (client
    /// credentials, the secret in the form body or a Basic header).
    OAuth2 {
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: String,
        /// Lifetime of issued tokens.
        token_lifetime: Duration,
    },
    /// S3: `PUT` of `{YYYY}/{MM}/{DD}/{timestamp}` under `/bucket`, SigV4-signed.
    S3 {
        /// The access key id.
        access_key_id: String,
        /// The secret access key.
        secret_access_key: String,
        /// The region.
        region: String,
    },
    /// Blob Storage: `PUT` of `{YYYY}/{MM}/{DD}/{timestamp}.json` under `/container`, with
    /// `x-ms-blob-type: BlockBlob` and the SAS query.
    Blob {
        /// The SAS query the container URL carries (`sv=..&sig=..`).
        sas_query: String,
    },
    /// Event Hubs: `POST` with `Authorization: SharedAccessSignature ..`.
    EventHubs {
        /// The shared access policy's name.
        key_name: String,
        /// Its key.
        key: String,
    },
}

/// A sink's settings.
///
/// # Defaults
///
/// A sink has no credentials of its own: it accepts exactly what its [`SinkKind`] names
/// (the header and value, the client id and secret with any scope, the S3 keys and
/// region, the SAS query, the Event Hubs key name and key). [`SinkConfig::new`] answers
/// at once (no 503 first) and keeps the objects in memory only. The URL to deliver to
/// ([`Sink::url`]) is `http://127.0.0.1:PORT/` followed by `ingest` (static header,
/// OAuth2), `bucket` (S3), `container?{sas_query}` (Blob) or `hub/messages` (Event
/// Hubs); the OAuth2 token endpoint ([`Sink::token_url`]) is `/oauth2/token`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SinkConfig {
    /// What it checks.
    pub kind: SinkKind,
    /// Answer 503 to this many verified requests first (to see redeliveries).
    pub fail_first: u32,
    /// Also write S3 and Blob objects under this folder, at their keys.
    pub directory: Option<PathBuf>,
}

impl SinkConfig {
    /// A sink of `kind` that accepts at once and keeps objects in memory.
    pub fn new(kind: SinkKind) -> Self {
        SinkConfig {
            kind,
            fail_first: 0,
            directory: None,
        }
    }

    /// Answers 503 to the first `count` verified requests.
    pub fn failing_first(mut self, count: u32) -> Self {
        self.fail_first = count;
        self
    }

    /// Writes S3 and Blob objects under `folder` too.
    pub fn writing_to(mut self, folder: impl Into<PathBuf>) -> Self {
        self.directory = Some(folder.into());
        self
    }
}

#[derive(Debug)]
struct Shared {
    config: SinkConfig,
    issuer: Issuer,
    objects: Mutex<Vec<(String, Vec<u8>)>>,
    refused: AtomicU64,
    failures_left: AtomicU32,
    token_url: String,
}

/// A running sink. Dropping it stops it.
#[derive(Debug)]
pub struct Sink {
    running: Running,
    shared: Arc<Shared>,
}

const BUCKET: &str = "bucket";
const CONTAINER: &str = "container";

impl Sink {
    /// Starts a sink on `127.0.0.1` with a free port.
    pub async fn start(config: SinkConfig) -> std::io::Result<Sink> {
        // The token URL names the port: bind first.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            failures_left: AtomicU32::new(config.fail_first),
            config,
            issuer: Issuer::default(),
            objects: Mutex::new(Vec::new()),
            refused: AtomicU64::new(0),
            token_url: format!("http://{address}/oauth2/token"),
        });
        let router = Router::new()
            .route("/oauth2/token", post(token))
            .fallback(receive)
            .with_state(shared.clone());
        Ok(Sink {
            running: crate::server::serve_listener(listener, router, Resets::default())?,
            shared,
        })
    }

    /// The destination URL to give the platform.
    pub fn url(&self) -> String {
        let address = self.running.address;
        match &self.shared.config.kind {
            SinkKind::S3 { .. } => format!("http://{address}/{BUCKET}"),
            SinkKind::Blob { sas_query } => format!("http://{address}/{CONTAINER}?{sas_query}"),
            SinkKind::EventHubs { .. } => format!("http://{address}/hub/messages"),
            _ => format!("http://{address}/ingest"),
        }
    }

    /// The OAuth2 sink's token endpoint.
    pub fn token_url(&self) -> String {
        self.shared.token_url.clone()
    }

    /// What was accepted: the object key (S3, Blob) or the request's number, and the body.
    pub fn objects(&self) -> Vec<(String, Vec<u8>)> {
        lock(&self.shared.objects).clone()
    }

    /// Requests refused by the check.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Token requests received (OAuth2).
    pub fn token_requests(&self) -> u64 {
        self.shared.issuer.token_requests.load(Ordering::SeqCst)
    }
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let SinkKind::OAuth2 {
        client_id,
        client_secret,
        token_lifetime,
    } = &shared.config.kind
    else {
        return error(StatusCode::NOT_FOUND, json!({"error": "not_found"}));
    };
    let mut form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    // The secret in a Basic header counts as if it were in the body.
    if let Some((id, secret)) = basic(&headers) {
        form.insert("client_id".into(), id);
        form.insert("client_secret".into(), secret);
    }
    form.entry("scope".into()).or_default();
    let registration = Registration {
        client_id: client_id.clone(),
        client_secret: Some(client_secret.clone()),
        certificate_der: None,
        scope: form.get("scope").cloned().unwrap_or_default(),
        token_lifetime: *token_lifetime,
    };
    shared.issuer.token(&registration, &shared.token_url, &form)
}

/// `(id, secret)` of `Authorization: Basic base64(urlencode(id):urlencode(secret))`.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let encoded = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

fn refuse(shared: &Shared, status: StatusCode, reason: &str) -> Response {
    shared.refused.fetch_add(1, Ordering::SeqCst);
    error(status, json!({"error": reason}))
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let header_text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (checked, key, success) = match &shared.config.kind {
        SinkKind::StaticHeader { name, value } => (
            method == Method::POST && header_text(name) == Some(value.as_str()),
            None,
            StatusCode::OK,
        ),
        SinkKind::OAuth2 { .. } => {
            let token = header_text("authorization").and_then(|v| v.strip_prefix("Bearer "));
            (
                method == Method::POST && token.is_some_and(|t| shared.issuer.is_valid(t)),
                None,
                StatusCode::OK,
            )
        }
        SinkKind::S3 {
            access_key_id,
            secret_access_key,
            region,
        } => {
            let verified = method == Method::PUT
                && checks::sigv4(
                    &method,
                    &uri,
                    &headers,
                    &body,
                    &checks::S3Key {
                        access_key_id,
                        secret_access_key,
                        region,
                    },
                )
                .is_ok();
            let key = path.strip_prefix(&format!("/{BUCKET}/")).map(str::to_owned);
            (verified, key, StatusCode::OK)
        }
        SinkKind::Blob { sas_query } => {
            if method == Method::PUT && header_text("x-ms-blob-type") != Some("BlockBlob") {
                return refuse(&shared, StatusCode::BAD_REQUEST, "x-ms-blob-type is required");
            }
            let verified = method == Method::PUT && uri.query() == Some(sas_query.as_str());
            let key = path.strip_prefix(&format!("/{CONTAINER}/")).map(str::to_owned);
            (verified, key, StatusCode::CREATED)
        }
        SinkKind::EventHubs { key_name, key } => {
            let verified = method == Method::POST
                && checks::event_hubs_sas(header_text("authorization"), key_name, key).is_ok();
            (verified, None, StatusCode::CREATED)
        }
    };
    if !checked {
        return refuse(&shared, StatusCode::UNAUTHORIZED, "authentication failed");
    }
    let key_needed = matches!(shared.config.kind, SinkKind::S3 { .. } | SinkKind::Blob { .. });
    if key_needed && key.is_none() {
        return refuse(
            &shared,
            StatusCode::NOT_FOUND,
            "no object key under the bucket or container",
        );
    }
    if shared
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return error(StatusCode::SERVICE_UNAVAILABLE, json!({"error": "sandbox fault"}));
    }
    let name = {
        let mut objects = lock(&shared.objects);
        let name = key.clone().unwrap_or_else(|| objects.len().to_string());
        objects.push((name.clone(), body.to_vec()));
        name
    };
    if let (Some(folder), Some(key)) = (&shared.config.directory, key) {
        let target = folder.join(&key);
        let written = match target.parent() {
            Some(parent) => std::fs::create_dir_all(parent).and_then(|()| std::fs::write(&target, &body)),
            None => std::fs::write(&target, &body),
        };
        if let Err(err) = written {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": format!("cannot write {name}: {err}")}),
            );
        }
    }
    let mut response = Response::default();
    *response.status_mut() = success;
    response
}
