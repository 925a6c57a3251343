//! Azure Shared Access Signatures: the Event Hubs (Service Bus) token sent as
//! `Authorization`, and Blob Storage SAS URLs used as given.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{Credential, REDACTED};
use crate::error::{Error, Result};

/// What Azure leaves unescaped in a SAS: letters, digits and `-_.~`.
const SAS_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An Event Hubs (Service Bus) shared access signature:
/// `SharedAccessSignature sr=<resource>&sig=<signature>&se=<expiry>&skn=<key name>`,
/// where the signature is the base64 HMAC-SHA256 of `"<url-encoded resource>\n<expiry>"`
/// keyed with the UTF-8 bytes of the key. As a [`Credential`] it signs a fresh token,
/// valid for its time to live, for every request. `Debug` never shows the key.
///
/// ```
/// use client_core::auth::EventHubsSas;
/// use secrecy::{ExposeSecret, SecretString};
///
/// let sas = EventHubsSas::builder()
///     .resource_uri("https://example.servicebus.windows.net/myhub")
///     .key_name("RootManageSharedAccessKey")
///     .key(SecretString::from("from-a-vault"))
///     .build()?;
/// let token = sas.token(1_700_000_000);
/// assert!(token.expose_secret().starts_with("SharedAccessSignature sr=https%3a%2f%2fexample"));
/// # Ok::<(), client_core::Error>(())
/// ```
pub struct EventHubsSas {
    resource_uri: String,
    key_name: String,
    key: SecretString,
    time_to_live: Duration,
    /// The last token sent, listed among the secrets to redact.
    last: Mutex<Option<SecretString>>,
}

/// Builder of [`EventHubsSas`].
#[derive(Default)]
pub struct EventHubsSasBuilder {
    resource_uri: Option<String>,
    key_name: Option<String>,
    key: Option<SecretString>,
    time_to_live: Option<Duration>,
}

impl EventHubsSas {
    /// Starts a builder.
    pub fn builder() -> EventHubsSasBuilder {
        EventHubsSasBuilder::default()
    }

    /// The token that expires at `expiry` (epoch seconds).
    pub fn token(&self, expiry: i64) -> SecretString {
        let resource = encode_lower(&self.resource_uri);
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.key.expose_secret().as_bytes());
        let signed = ring::hmac::sign(&key, format!("{resource}\n{expiry}").as_bytes());
        let signature = base64::engine::general_purpose::STANDARD.encode(signed.as_ref());
        SecretString::from(format!(
            "SharedAccessSignature sr={resource}&sig={}&se={expiry}&skn={}",
            utf8_percent_encode(&signature, SAS_ESCAPE),
            utf8_percent_encode(&self.key_name, SAS_ESCAPE)
        ))
    }

    /// The resource the tokens are for.
    pub fn resource_uri(&self) -> &str {
        &self.resource_uri
    }
}

/// Percent-encodes with lower-case hex digits, as the Event Hubs string to sign has it
/// (`https%3a%2f%2f...`).
fn encode_lower(text: &str) -> String {
    let encoded = utf8_percent_encode(text, SAS_ESCAPE).to_string();
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            out.extend(chars.by_ref().take(2).map(|h| h.to_ascii_lowercase()));
        }
    }
    out
}

impl EventHubsSasBuilder {
    /// The resource URI (`https://{namespace}.servicebus.windows.net/{hub}`; required).
    pub fn resource_uri(mut self, uri: impl Into<String>) -> Self {
        self.resource_uri = Some(uri.into());
        self
    }

    /// The shared access policy's name (required).
    pub fn key_name(mut self, name: impl Into<String>) -> Self {
        self.key_name = Some(name.into());
        self
    }

    /// The policy's key, used as UTF-8 bytes (required).
    pub fn key(mut self, key: SecretString) -> Self {
        self.key = Some(key);
        self
    }

    /// How long each token is valid (default one hour).
    pub fn time_to_live(mut self, ttl: Duration) -> Self {
        self.time_to_live = Some(ttl);
        self
    }

    /// Checks the settings. A missing one is a [`crate::ErrorKind::Config`] error.
    pub fn build(self) -> Result<EventHubsSas> {
        let missing = |what: &str| Error::config(format!("an Event Hubs SAS needs {what}"));
        let key = self.key.ok_or_else(|| missing("a key"))?;
        if key.expose_secret().is_empty() {
            return Err(missing("a non-empty key"));
        }
        Ok(EventHubsSas {
            resource_uri: self
                .resource_uri
                .filter(|u| !u.is_empty())
                .ok_or_else(|| missing("a resource URI"))?,
            key_name: self
                .key_name
                .filter(|n| !n.is_empty())
                .ok_or_else(|| missing("a key name"))?,
            key,
            time_to_live: self.time_to_live.unwrap_or(Duration::from_secs(3600)),
            last: Mutex::new(None),
        })
    }
}

impl Credential for EventHubsSas {
    fn apply<'a>(&'a self, headers: &'a mut HeaderMap) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let ttl = i64::try_from(self.time_to_live.as_secs()).unwrap_or(i64::MAX);
            let expiry = jiff::Timestamp::now().as_second().saturating_add(ttl);
            let token = self.token(expiry);
            let mut value = HeaderValue::from_str(token.expose_secret())
                .map_err(|_| Error::config("the Event Hubs SAS is not a valid header value"))?;
            value.set_sensitive(true);
            headers.insert(header::AUTHORIZATION, value);
            *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(token);
            Ok(())
        })
    }

    /// The key, and the last token sent with its signature alone (as sent, and decoded).
    fn secrets(&self) -> Vec<SecretString> {
        let mut secrets = vec![self.key.clone()];
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(token) = last {
            let text = token.expose_secret();
            let parameters = text.strip_prefix("SharedAccessSignature ").unwrap_or(text);
            secrets.extend(query_secrets(parameters));
            secrets.push(token);
        }
        secrets
    }
}

/// The signature of a SAS query (`sig`, as sent and decoded) and the whole query.
fn query_secrets(query: &str) -> Vec<SecretString> {
    let mut secrets: Vec<SecretString> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "sig")
        .map(|(_, value)| SecretString::from(value.into_owned()))
        .collect();
    secrets.extend(
        query
            .split('&')
            .filter_map(|pair| pair.strip_prefix("sig="))
            .map(|sig| SecretString::from(sig.to_owned())),
    );
    secrets.push(SecretString::from(query.to_owned()));
    secrets
}

impl fmt::Debug for EventHubsSas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventHubsSas")
            .field("resource_uri", &self.resource_uri)
            .field("key_name", &self.key_name)
            .field("key", &REDACTED)
            .field("time_to_live", &self.time_to_live)
            .finish()
    }
}

/// The header a Blob Storage PUT must carry (without it Azure answers 400).
pub const BLOB_TYPE_HEADER: (&str, &str) = ("x-ms-blob-type", "BlockBlob");

/// A Blob Storage container URL that carries its SAS in the query, used as given.
/// `Debug` and `Display` show the URL without the query (the signature); objects are
/// addressed with [`BlobSasUrl::object_url`], which keeps the query.
#[derive(Clone)]
pub struct BlobSasUrl {
    url: Url,
}

impl BlobSasUrl {
    /// Parses a container SAS URL. Without a query (no SAS) it is a config error.
    pub fn parse(url: &str) -> Result<BlobSasUrl> {
        let url =
            Url::parse(url).map_err(|e| Error::config(format!("the Blob SAS URL does not parse: {e}")))?;
        if url.query().is_none_or(str::is_empty) {
            return Err(Error::config("the Blob SAS URL carries no SAS query"));
        }
        crate::transport::ensure_secure(&url)?;
        Ok(BlobSasUrl { url })
    }

    /// The URL of object `key` (`2026/01/02/1767312000000.json`) under the container,
    /// with the SAS query. Each segment of `key` is percent-encoded.
    pub fn object_url(&self, key: &str) -> Url {
        let mut url = self.url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            for segment in key.split('/').filter(|s| !s.is_empty()) {
                segments.push(segment);
            }
        }
        url
    }

    /// The SAS this URL carries (its whole query, and its signature `sig`, as sent and
    /// decoded), for a [`crate::Redactor`] over text a server sends back.
    pub fn secrets(&self) -> Vec<SecretString> {
        self.url.query().map(query_secrets).unwrap_or_default()
    }

    /// The container URL without the query: safe to print.
    pub fn redacted(&self) -> String {
        let mut url = self.url.clone();
        url.set_query(None);
        url.to_string()
    }
}

impl fmt::Debug for BlobSasUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobSasUrl({}?[REDACTED])", self.redacted())
    }
}

impl fmt::Display for BlobSasUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}?[REDACTED]", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_case_escapes() {
        assert_eq!(encode_lower("amqps://a.b/c d"), "amqps%3a%2f%2fa.b%2fc%20d");
    }

    #[test]
    fn blob_urls_keep_their_query_but_never_show_it() {
        let url =
            BlobSasUrl::parse("https://acct.blob.core.windows.net/container?sv=2022&sig=abc%2Bdef").unwrap();
        assert_eq!(
            url.object_url("2026/01/02/1767312000000.json").as_str(),
            "https://acct.blob.core.windows.net/container/2026/01/02/1767312000000.json?sv=2022&sig=abc%2Bdef"
        );
        let shown = format!("{url:?} {url}");
        assert!(!shown.contains("abc"), "{shown}");
        assert!(BlobSasUrl::parse("https://acct.blob.core.windows.net/container").is_err());
        assert!(BlobSasUrl::parse("http://acct.blob.core.windows.net/c?sig=x").is_err());
    }
}
