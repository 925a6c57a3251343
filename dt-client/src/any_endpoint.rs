//! The escape hatch: any endpoint of the API, with the client's credentials, retries,
//! throttle, errors and origin rules, for endpoints this version does not model.

use std::borrow::Cow;

use serde::Serialize;
use serde::de::DeserializeOwned;

use client_core::http::Method;
use client_core::{RequestBuilder, RequestPreview};

use crate::client::Client;
use crate::error::Result;
use crate::list::List;
use crate::paging::TokenPages;

impl Client {
    /// A request to any endpoint of the API: `path` is relative to the base URL
    /// (`projects/p/devices`, a leading `/` ignored), and is refused when sent if it
    /// would leave the API (another origin, a `.` or `..` segment, encoded or not), so
    /// the credentials never go elsewhere. Ids from elsewhere belong in a segment
    /// encoded with [`client_core::encode_segment`].
    ///
    /// The request gets what every request of the client gets: the credential (a
    /// refused token fetched again once), retries of transient failures with backoff
    /// (`GET`, `PUT` and `DELETE` only, unless [`AnyRequest::idempotent`] says
    /// otherwise), `Retry-After` on 429, the throttle, timeouts, and DT's error body as
    /// [`ApiError`](crate::ApiError).
    ///
    /// ```no_run
    /// use dt_client::client_core::http::Method;
    /// use dt_client::serde_json::{Value, json};
    ///
    /// # async fn run(client: dt_client::Client) -> Result<(), dt_client::Error> {
    /// // An endpoint DT added after this version.
    /// let answer: Value = client
    ///     .request(Method::POST, "projects/my-project/devices:newAction")
    ///     .query("dryRun", "true")
    ///     .json(&json!({"devices": ["projects/my-project/devices/d1"]}))
    ///     .send()
    ///     .await?;
    /// println!("{answer}");
    /// # Ok(()) }
    /// ```
    pub fn request(&self, method: Method, path: &str) -> AnyRequest {
        AnyRequest {
            request: self.http.request(method, path),
        }
    }

    /// A paged list at any endpoint: its pages hold the items under `items` and page
    /// with `pageSize`, `pageToken` and `nextPageToken`, as every DT list does. The
    /// same [`List`] the modelled lists are, decoding items into `T` (a
    /// [`serde_json::Value`] for no type at all). Add query parameters with
    /// [`List::param`]. A page without the member `items` that holds another array is a
    /// [`ClientError::Decode`](crate::ClientError::Decode) naming it (a mistyped items
    /// key would otherwise read as an empty list).
    ///
    /// ```no_run
    /// use dt_client::prelude::*;
    /// use dt_client::serde_json::Value;
    ///
    /// # async fn run(client: dt_client::Client) -> Result<(), dt_client::Error> {
    /// let mut items = client.list::<Value>("organizations/my-org/things", "things").stream();
    /// while let Some(item) = items.try_next().await? {
    ///     println!("{item}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list<T: DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
        items: impl Into<Cow<'static, str>>,
    ) -> List<T> {
        let mut pages = TokenPages::new(&self.http, path.to_owned(), items, self.page_size);
        pages.strict_items();
        List::new(pages)
    }
}

/// A request to any endpoint, built by [`Client::request`]: add query parameters and a
/// JSON body, then [`send`](Self::send) it.
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct AnyRequest {
    request: RequestBuilder,
}

impl AnyRequest {
    /// Appends a query parameter (call again with the same name for a repeated key, as
    /// DT's list parameters are).
    pub fn query(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.request = self.request.query(name, value);
        self
    }

    /// Serialises `body` as the JSON body (`Content-Type: application/json`).
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        self.request = self.request.json(body);
        self
    }

    /// Declares whether repeating the request is safe, so that a transient failure is
    /// retried (by default `GET`, `PUT` and `DELETE` are, `POST` and `PATCH` are not).
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.request = self.request.idempotent(idempotent);
        self
    }

    /// The request as it would be sent, without sending it (a path that would leave
    /// the API is refused here as when sending).
    pub fn to_request(&self) -> Result<RequestPreview> {
        Ok(self.request.to_request()?)
    }

    /// Sends the request and decodes the answer into `T`: a [`serde_json::Value`] for
    /// any JSON, an `Option` for an answer that may be empty (an empty body reads as
    /// `null`), [`serde::de::IgnoredAny`] to ignore whatever comes (DT answers a
    /// `DELETE` with `{}`, which `()` does not take). A failure status is the SDK's
    /// error, DT's error body parsed.
    pub async fn send<T: DeserializeOwned>(self) -> Result<T> {
        let body = self.request.send_buffered().await?.bytes().await?;
        let text = client_core::decode::skip_bom(&body);
        let text: &[u8] = if text.iter().all(u8::is_ascii_whitespace) {
            b"null"
        } else {
            text
        };
        serde_json::from_slice(text)
            .map_err(|e| crate::Error::decode(format!("the answer is not the JSON asked for: {e}")))
    }
}

client_core::verbs! {
    impl[] AnyRequest {
        error: crate::Error;
    }
}
