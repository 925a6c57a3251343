//! A request as it would be sent, for tests and logs: what every request builder of the
//! SDK can show without sending anything.

use std::fmt;

use bytes::Bytes;
use http::Method;
use url::Url;

/// A request as it would be sent: method, URL without its query, the query pairs in
/// order, and the body. Credentials and headers are not part of it. `Debug` and
/// `Display` show no query value and no body (a query may carry a SAS on another
/// origin's URL); read the fields for those.
///
/// Every request builder of every client has `to_request()`, which gives this for the
/// request it would send first; a test can check a request without a server:
///
/// ```
/// use client_core::HttpClient;
///
/// let client = HttpClient::builder("https://api.example.com/v1").build()?;
/// let request = client.get("values").query("from", "2026-01-01").query("id", "a b").to_request()?;
/// assert_eq!(request.method, "GET");
/// assert_eq!(request.url.as_str(), "https://api.example.com/v1/values");
/// assert_eq!(request.query_value("id"), Some("a b"));
/// assert_eq!(request.query_string(), "from=2026-01-01&id=a+b");
/// # Ok::<(), client_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestPreview {
    /// The method.
    pub method: Method,
    /// The URL without its query string.
    pub url: Url,
    /// The query pairs, decoded, in the order they are sent (repeated keys repeated).
    pub query: Vec<(String, String)>,
    /// The body, as sent (before any compression).
    pub body: Option<Bytes>,
}

impl RequestPreview {
    pub(crate) fn new(method: Method, url: &Url, body: Option<Bytes>) -> Self {
        let query = url
            .query_pairs()
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        let mut bare = url.clone();
        bare.set_query(None);
        RequestPreview {
            method,
            url: bare,
            query,
            body,
        }
    }

    /// The value of the first query pair named `name`.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every value of the query pairs named `name`, in order.
    pub fn query_values(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The query string as sent (`application/x-www-form-urlencoded`).
    pub fn query_string(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.query)
            .finish()
    }

    /// The body as JSON, when it is JSON.
    pub fn json_body(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(self.body.as_ref()?).ok()
    }
}

impl fmt::Debug for RequestPreview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestPreview")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field(
                "query",
                &self
                    .query
                    .iter()
                    .map(|(name, _)| name.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.as_ref().map(Bytes::len))
            .finish()
    }
}

impl fmt::Display for RequestPreview {
    /// `GET https://api.example.com/v1/values`: the method and the URL without its query.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url)
    }
}
