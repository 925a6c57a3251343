//! The platform's side: delivering batches to a destination with one of the document's
//! authentication methods, redelivering non-2xx answers with `attempt` incremented and
//! the same `hashId`.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use client_core::auth::{
    BlobSasUrl, ClientCredentials, Credential, EventHubsSas, SecretPlacement, SigV4, TokenCache,
};
use client_core::http::{HeaderMap, HeaderValue, Method};
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::Value;
use url::Url;

/// How the platform authenticates to a destination.
#[non_exhaustive]
pub enum Auth {
    /// A static header (`POST`).
    StaticHeader {
        /// The header name.
        name: String,
        /// The header value.
        value: SecretString,
    },
    /// OAuth2 client credentials (`POST` with a bearer token, cached and refreshed).
    OAuth2 {
        /// The destination's token endpoint.
        token_url: String,
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: SecretString,
        /// Whether the secret goes in the form body or a Basic header.
        secret_in_basic_header: bool,
        /// The scope to ask for, if any.
        scope: Option<String>,
    },
    /// AWS SigV4 (`PUT` to `{YYYY}/{MM}/{DD}/{timestamp}` under the URL).
    SigV4 {
        /// The access key id.
        access_key_id: String,
        /// The secret access key.
        secret_access_key: SecretString,
        /// A session token, if any.
        session_token: Option<SecretString>,
        /// The region.
        region: String,
    },
    /// Azure Blob Storage: the URL carries the SAS (`PUT` to
    /// `{YYYY}/{MM}/{DD}/{timestamp}.json` under it, with `x-ms-blob-type: BlockBlob`).
    BlobSas,
    /// Azure Event Hubs SAS (`POST`).
    EventHubsSas {
        /// The shared access policy's name.
        key_name: String,
        /// Its key.
        key: SecretString,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Auth::StaticHeader { .. } => "StaticHeader([REDACTED])",
            Auth::OAuth2 { .. } => "OAuth2([REDACTED])",
            Auth::SigV4 { .. } => "SigV4([REDACTED])",
            Auth::BlobSas => "BlobSas",
            Auth::EventHubsSas { .. } => "EventHubsSas([REDACTED])",
        })
    }
}

enum Signer {
    Header(String, SecretString),
    Token(TokenCache),
    SigV4(SigV4),
    Blob(BlobSasUrl),
    EventHubs(EventHubsSas),
}

/// What happened to one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// The attempt number the messages carried (0 for the first delivery).
    pub attempt: u32,
    /// The destination's status, when it answered.
    pub status: Option<u16>,
    /// The object key, for S3 and Blob destinations.
    pub key: Option<String>,
    /// Why the request failed, when it did not get an answer.
    pub error: Option<String>,
}

impl Attempt {
    /// Whether the destination accepted the batch (2xx).
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The platform delivering to one destination.
pub struct Platform {
    url: Url,
    signer: Signer,
    http: reqwest::Client,
    max_attempts: u32,
    retry_delay: Duration,
    /// The last `{timestamp}` used: keys stay unique when deliveries share a millisecond.
    last_stamp: AtomicI64,
}

impl fmt::Debug for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut url = self.url.clone();
        url.set_query(None);
        f.debug_struct("Platform")
            .field("url", &url.as_str())
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl Platform {
    /// A platform delivering to `url` with `auth`: 5 attempts at most, 1 second apart.
    ///
    /// `url` (and an OAuth2 token URL) must be `https://`, or plain `http://` to a
    /// loopback host; any other is refused here, before a connection. A redirect is never
    /// followed: an attempt answered with one is a failed attempt, with the reason.
    pub fn new(url: &str, auth: Auth) -> Result<Platform, String> {
        let url = Url::parse(url).map_err(|e| format!("the destination URL does not parse: {e}"))?;
        // The credentials of every method go to this URL: never in clear over a network.
        client_core::ensure_secure(&url).map_err(|e| e.to_string())?;
        let signer = match auth {
            Auth::StaticHeader { name, value } => Signer::Header(name, value),
            Auth::OAuth2 {
                token_url,
                client_id,
                client_secret,
                secret_in_basic_header,
                scope,
            } => {
                let placement = if secret_in_basic_header {
                    SecretPlacement::BasicHeader
                } else {
                    SecretPlacement::RequestBody
                };
                let mut builder = ClientCredentials::builder()
                    .token_url(token_url)
                    .client_id(client_id)
                    .client_secret_in(client_secret, placement);
                if let Some(scope) = scope {
                    builder = builder.scope(scope);
                }
                Signer::Token(builder.build_cached().map_err(|e| e.to_string())?)
            }
            Auth::SigV4 {
                access_key_id,
                secret_access_key,
                session_token,
                region,
            } => {
                let mut builder = SigV4::builder()
                    .access_key_id(access_key_id)
                    .secret_access_key(secret_access_key)
                    .region(region);
                if let Some(token) = session_token {
                    builder = builder.session_token(token);
                }
                Signer::SigV4(builder.build().map_err(|e| e.to_string())?)
            }
            Auth::BlobSas => Signer::Blob(BlobSasUrl::parse(url.as_str()).map_err(|e| e.to_string())?),
            Auth::EventHubsSas { key_name, key } => {
                let mut resource = url.clone();
                resource.set_query(None);
                Signer::EventHubs(
                    EventHubsSas::builder()
                        .resource_uri(resource.as_str().trim_end_matches('/'))
                        .key_name(key_name)
                        .key(key)
                        .build()
                        .map_err(|e| e.to_string())?,
                )
            }
        };
        let mut http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30));
        // Every request goes to `url`'s host. Plain HTTP is allowed to a loopback host only
        // because it never leaves the machine: a proxy (HTTP_PROXY, ALL_PROXY) would carry
        // the credentials elsewhere, in clear.
        if client_core::is_loopback(&url) {
            http = http.no_proxy();
        }
        let http = http.build().map_err(|e| e.to_string())?;
        Ok(Platform {
            url,
            signer,
            http,
            max_attempts: 5,
            retry_delay: Duration::from_secs(1),
            last_stamp: AtomicI64::new(i64::MIN),
        })
    }

    /// At most `attempts` attempts per batch, `delay` apart (zero in tests).
    pub fn with_retries(mut self, attempts: u32, delay: Duration) -> Self {
        self.max_attempts = attempts.max(1);
        self.retry_delay = delay;
        self
    }

    /// Delivers one batch (a JSON array of messages) until a 2xx answer or the last
    /// attempt; each attempt sets every message's `attempt`. Returns every attempt.
    pub async fn deliver(&self, batch: &[Value]) -> Vec<Attempt> {
        let mut attempts = Vec::new();
        let mut messages = batch.to_vec();
        for attempt in 0..self.max_attempts {
            for message in &mut messages {
                if let Some(object) = message.as_object_mut() {
                    object.insert("attempt".into(), Value::from(attempt));
                }
            }
            let body = Value::Array(messages.clone()).to_string().into_bytes();
            let outcome = self.send(attempt, body).await;
            let delivered = outcome.delivered();
            attempts.push(outcome);
            if delivered {
                break;
            }
            if attempt + 1 < self.max_attempts && !self.retry_delay.is_zero() {
                tokio::time::sleep(self.retry_delay).await;
            }
        }
        attempts
    }

    /// One attempt: the URL, method and headers of the method, then the request.
    async fn send(&self, attempt: u32, body: Vec<u8>) -> Attempt {
        let now_ms = Timestamp::now().as_millisecond();
        let previous = self.last_stamp.fetch_max(now_ms, Ordering::SeqCst);
        let ms = if previous >= now_ms {
            // Same millisecond as an earlier delivery: the next free one.
            self.last_stamp.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            now_ms
        };
        let now = Timestamp::from_millisecond(ms).unwrap_or_else(|_| Timestamp::now());
        let date = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let stamp = ms.to_string();
        let day = format!("{:04}/{:02}/{:02}", date.year(), date.month(), date.day());
        let (method, url, key) = match &self.signer {
            Signer::SigV4(_) => {
                let key = format!("{day}/{stamp}");
                (Method::PUT, under(&self.url, &key), Some(key))
            }
            Signer::Blob(container) => {
                let key = format!("{day}/{stamp}.json");
                (Method::PUT, container.object_url(&key), Some(key))
            }
            _ => (Method::POST, self.url.clone(), None),
        };
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let signed = match &self.signer {
            Signer::Header(name, value) => {
                use secrecy::ExposeSecret;
                match (
                    name.parse::<client_core::http::HeaderName>(),
                    HeaderValue::from_str(value.expose_secret()),
                ) {
                    (Ok(name), Ok(mut value)) => {
                        value.set_sensitive(true);
                        headers.insert(name, value);
                        Ok(())
                    }
                    _ => Err("the static header is not a valid header".to_owned()),
                }
            }
            Signer::Token(cache) => cache.apply(&mut headers).await.map_err(|e| e.to_string()),
            Signer::EventHubs(sas) => sas.apply(&mut headers).await.map_err(|e| e.to_string()),
            Signer::Blob(_) => {
                headers.insert(
                    client_core::BLOB_TYPE_HEADER.0,
                    HeaderValue::from_static(client_core::BLOB_TYPE_HEADER.1),
                );
                Ok(())
            }
            Signer::SigV4(signer) => signer
                .sign(&method, &url, &headers, &body, SystemTime::now())
                .map(|signed| headers.extend(signed))
                .map_err(|e| e.to_string()),
        };
        if let Err(error) = signed {
            return Attempt {
                attempt,
                status: None,
                key,
                error: Some(error),
            };
        }
        let request = self.http.request(method, url).headers(headers.clone()).body(body);
        match request.send().await {
            Ok(response) if response.status().is_redirection() => Attempt {
                attempt,
                status: Some(response.status().as_u16()),
                key,
                // Never followed (the client has no redirect policy): the signed request,
                // and its credentials, go to the destination only.
                error: Some("the destination answered with a redirect; not followed".into()),
            },
            Ok(response) => {
                let status = response.status().as_u16();
                if status == 401 {
                    if let Signer::Token(cache) = &self.signer {
                        // A refused token is dropped: the next attempt gets a fresh one.
                        cache.on_unauthorized(&headers);
                    }
                }
                Attempt {
                    attempt,
                    status: Some(status),
                    key,
                    error: None,
                }
            }
            Err(error) => Attempt {
                attempt,
                status: None,
                key,
                error: Some(error.without_url().to_string()),
            },
        }
    }
}

/// `key` appended to the path of `base`, each segment encoded.
fn under(base: &Url, key: &str) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty();
        for segment in key.split('/') {
            segments.push(segment);
        }
    }
    url
}
