//! The error enum every API client crate exposes, with one mapping from [`Error`].

use std::convert::Infallible;
use std::fmt;
use std::time::Duration;

use crate::api_error::ApiError;
use crate::error::{Error, ErrorKind};
use crate::error_detail::ErrorDetail;

/// The errors only one API has, carried by [`ClientError::Api`].
///
/// A client crate implements this for its own enum (Conduit's "too dense to split",
/// Preventos' `request_size_unavailable`) and names its error type
/// `pub type Error = client_core::ClientError<ItsOwnEnum>;`.
pub trait ApiSpecificError: std::error::Error + Send + Sync + 'static {
    /// Claims a refused request before the shared mapping sees it (a 413 whose code means
    /// something else in this API, say). `None` leaves it to the shared variants.
    fn from_api(api: &ApiError) -> Option<Self>
    where
        Self: Sized,
    {
        let _ = api;
        None
    }

    /// Claims any `client-core` error before the shared mapping sees it (an error a
    /// stream reported in band, say). The default claims refused requests through
    /// [`ApiSpecificError::from_api`].
    fn from_core(error: &Error) -> Option<Self>
    where
        Self: Sized,
    {
        Self::from_api(&ApiError::from_core(error)?)
    }

    /// The server's error document, when this error is a refused request.
    fn api(&self) -> Option<&ApiError> {
        None
    }

    /// Whether repeating the request later may succeed.
    fn is_retryable(&self) -> bool {
        false
    }
}

/// For clients without errors of their own: a type with no values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoApiError {}

impl fmt::Display for NoApiError {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

impl std::error::Error for NoApiError {}

impl ApiSpecificError for NoApiError {}

impl From<Infallible> for NoApiError {
    fn from(never: Infallible) -> Self {
        match never {}
    }
}

/// Everything that can go wrong calling an API, in the same variants for every client
/// crate of the workspace, plus [`ClientError::Api`] for what only one API has.
///
/// | variant | meaning |
/// |---|---|
/// | `BadRequest` | 400 or 422: the server refused the request's content |
/// | `Unauthorized` | the credential was refused: a 401 from the API (after one retry with fresh credentials), or a 4xx from its token endpoint |
/// | `Forbidden` | 403 |
/// | `NotFound` | 404 |
/// | `Conflict` | 409 |
/// | `RequestTooLarge` | a server 413, with the API's details in [`ApiError::extra`] |
/// | `Throttled` | 429 when the retry policy ran out or the server asked for a longer wait than it allows |
/// | `Server` | 5xx (after retries) |
/// | `UnexpectedStatus` | any other non-success status |
/// | `Transport` | the connection failed |
/// | `Timeout` | a connect, read or request timeout expired |
/// | `Decode` | a response or a record in it could not be decoded, or a record was over the size limit |
/// | `Truncated` | the body ended before it was complete |
/// | `Auth` | credentials could not be obtained: the token endpoint failing (5xx: retryable) or answering nonsense |
/// | `Config` | bad configuration or a missing credential; nothing was sent |
/// | `InvalidRequest` | the request breaks a rule of the API; refused before sending |
/// | `Io` | reading or writing a local file failed |
/// | `RepeatedPage` | the server's paging does not advance (a page token, link or page came again) |
/// | `Api` | the API's own typed errors |
///
/// Build it from a `client-core` [`Error`] with `From` (the one mapping of the
/// workspace). `Send + Sync + 'static`; no variant holds a secret. The server's error
/// documents are boxed, so a `Result` stays small. An API's details on an error (the
/// budget of a 413, the permission a 403 lacks, rate-limit headers) are read with
/// [`ClientError::detail`].
///
/// `Display` says each thing once: `HTTP 401 Unauthorized [correlation id c-1]`, not
/// the status three times.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
// The variants' docs carry no intra-doc links: rustdoc renders them on every client's
// `Error` alias page, where links written relative to this crate come out as literal text.
pub enum ClientError<A: ApiSpecificError = NoApiError> {
    /// 400 or 422: the server refused the request's content.
    #[error("{0}")]
    BadRequest(Box<ApiError>),
    /// The credential was refused: a 401 from the API (even after a refresh), or a 4xx
    /// from its token endpoint (`ApiError::origin` says which). See
    /// `ClientError::is_unauthorized`.
    #[error("{0}")]
    Unauthorized(Box<ApiError>),
    /// 403: no permission.
    #[error("{0}")]
    Forbidden(Box<ApiError>),
    /// 404: no such resource.
    #[error("{0}")]
    NotFound(Box<ApiError>),
    /// 409: the resource's state conflicts with the request.
    #[error("{0}")]
    Conflict(Box<ApiError>),
    /// 413 from the server; the API's details are in `ApiError::extra`.
    #[error("{0}")]
    RequestTooLarge(Box<ApiError>),
    /// 429: still throttled when the retries ran out, or the server asked for a longer
    /// wait than the retry policy allows.
    #[error("{}{}", api.as_ref().map_or_else(|| "throttled".to_owned(), ToString::to_string), retry_after.map(|d| format!("; retry after {} ms", d.as_millis())).unwrap_or_default())]
    Throttled {
        /// How long to wait: the server's `Retry-After`, or the API's documented wait
        /// when the server named none (Conduit's interval).
        retry_after: Option<Duration>,
        /// The response's error document (absent for a token endpoint's 429).
        api: Option<Box<ApiError>>,
    },
    /// 5xx, after retries.
    #[error("{0}")]
    Server(Box<ApiError>),
    /// A status no other variant covers.
    #[error("{0}")]
    UnexpectedStatus(Box<ApiError>),
    /// The connection failed.
    #[error(transparent)]
    Transport(Error),
    /// A connect or read timeout expired.
    #[error(transparent)]
    Timeout(Error),
    /// A response, or a record in it, could not be decoded (or was over the size limit).
    #[error(transparent)]
    Decode(Error),
    /// The body ended before it was complete: whatever was read is incomplete.
    #[error(transparent)]
    Truncated(Error),
    /// Credentials could not be obtained: the token endpoint refused or failed.
    #[error(transparent)]
    Auth(Error),
    /// The configuration is incomplete or wrong (names what); nothing was sent.
    #[error(transparent)]
    Config(Error),
    /// The request breaks a rule of the API; it was refused before sending.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Reading or writing a local file failed.
    #[error(transparent)]
    Io(Error),
    /// The server's paging does not advance: a page token, link or page number came
    /// again, or a page repeated the one before it. Following it would loop.
    #[error(transparent)]
    RepeatedPage(Error),
    /// An error only this API has.
    #[error(transparent)]
    Api(A),
}

impl<A: ApiSpecificError> ClientError<A> {
    /// A [`ClientError::Config`] with `message`.
    pub fn config(message: impl Into<String>) -> Self {
        ClientError::Config(Error::config(message))
    }

    /// A [`ClientError::InvalidRequest`] with `message`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        ClientError::InvalidRequest(message.into())
    }

    /// The [`ClientError::InvalidRequest`] of `copy_to`/`write_to` on a read resumed from
    /// a checkpoint: they store a whole read, and a file of its remainder would look
    /// complete. `instead` names how the API's crate stores a resumable file.
    pub fn resumed_store(instead: &str) -> Self {
        ClientError::InvalidRequest(format!(
            "`copy_to` and `write_to` store a whole read, not one resumed from a checkpoint: {instead}"
        ))
    }

    /// A [`ClientError::Decode`] with `message`: a response the client could not read.
    pub fn decode(message: impl Into<String>) -> Self {
        ClientError::Decode(Error::decode(message))
    }

    /// Whether the credential was refused, by the API (401) or by its token endpoint
    /// (4xx): the same answer in every client, whichever credential it uses.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, ClientError::Unauthorized(_))
    }

    /// An API's detail on this error, when it carries one: `error.detail::<TooLarge>()`
    /// (Preventos' 413 budget), `error.detail::<RateLimit>()` (the rate-limit headers),
    /// `error.detail::<MissingPermission>()` (the SDS permission a 403 lacks).
    pub fn detail<D: ErrorDetail>(&self) -> Option<D> {
        D::from_api(self.api()?)
    }

    /// The server's error document, when the server refused the request.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            ClientError::BadRequest(api)
            | ClientError::Unauthorized(api)
            | ClientError::Forbidden(api)
            | ClientError::NotFound(api)
            | ClientError::Conflict(api)
            | ClientError::RequestTooLarge(api)
            | ClientError::Server(api)
            | ClientError::UnexpectedStatus(api) => Some(api),
            ClientError::Throttled { api, .. } => api.as_deref(),
            ClientError::Api(own) => own.api(),
            _ => None,
        }
    }

    /// The `client-core` error behind a transport, decoding, auth, config or file error.
    pub fn core(&self) -> Option<&Error> {
        match self {
            ClientError::Transport(err)
            | ClientError::Timeout(err)
            | ClientError::Decode(err)
            | ClientError::Truncated(err)
            | ClientError::Auth(err)
            | ClientError::Config(err)
            | ClientError::Io(err)
            | ClientError::RepeatedPage(err) => Some(err),
            _ => None,
        }
    }

    /// The HTTP status, when a server (API or token endpoint) answered.
    pub fn status(&self) -> Option<u16> {
        match (self, self.api(), self.core()) {
            (ClientError::Throttled { api: None, .. }, _, _) => Some(429),
            (_, Some(api), _) => Some(api.status),
            (_, None, Some(core)) => core.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// The correlation id of the failed response, for support requests.
    pub fn correlation_id(&self) -> Option<&str> {
        match (self.api(), self.core()) {
            (Some(api), _) => api.correlation_id.as_deref(),
            (None, Some(core)) => core.correlation_id(),
            _ => None,
        }
    }

    /// The delay the server asked for (`Retry-After`), if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClientError::Throttled { retry_after, .. } => *retry_after,
            _ => match (self.api(), self.core()) {
                (Some(api), _) => api.retry_after,
                (None, Some(core)) => core.retry_after(),
                _ => None,
            },
        }
    }

    /// Whether repeating the request later may succeed: throttling, 5xx, transport
    /// failures and timeouts, a truncated body, or the API's own transient errors.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Throttled { .. }
            | ClientError::Server(_)
            | ClientError::Transport(_)
            | ClientError::Timeout(_)
            | ClientError::Truncated(_) => true,
            ClientError::Auth(err) => err.is_retryable(),
            ClientError::Api(own) => own.is_retryable(),
            _ => false,
        }
    }
}

impl<A: ApiSpecificError> From<Error> for ClientError<A> {
    fn from(err: Error) -> Self {
        if let Some(own) = A::from_core(&err) {
            return ClientError::Api(own);
        }
        if let Some(api) = ApiError::from_core(&err) {
            let api = Box::new(api);
            if api.origin == crate::ErrorOrigin::TokenEndpoint && api.status != 429 {
                // A refused credential is the same variant whichever server refused it.
                return ClientError::Unauthorized(api);
            }
            return match api.status {
                400 | 422 => ClientError::BadRequest(api),
                401 => ClientError::Unauthorized(api),
                403 => ClientError::Forbidden(api),
                404 => ClientError::NotFound(api),
                409 => ClientError::Conflict(api),
                413 => ClientError::RequestTooLarge(api),
                429 => ClientError::Throttled {
                    retry_after: api.retry_after,
                    api: Some(api),
                },
                500..=599 => ClientError::Server(api),
                _ => ClientError::UnexpectedStatus(api),
            };
        }
        match err.kind() {
            ErrorKind::Throttled => ClientError::Throttled {
                retry_after: err.retry_after(),
                api: None,
            },
            ErrorKind::Timeout => ClientError::Timeout(err),
            ErrorKind::Decode | ErrorKind::RecordTooLarge => ClientError::Decode(err),
            ErrorKind::Truncated => ClientError::Truncated(err),
            ErrorKind::Auth => ClientError::Auth(err),
            ErrorKind::Config => ClientError::Config(err),
            ErrorKind::Io => ClientError::Io(err),
            ErrorKind::RepeatedPage => ClientError::RepeatedPage(err),
            // An in-band error its API did not claim: the exchange failed mid-response.
            ErrorKind::Transport | ErrorKind::Status | ErrorKind::InBand => ClientError::Transport(err),
        }
    }
}

impl<A: ApiSpecificError> From<std::io::Error> for ClientError<A> {
    fn from(err: std::io::Error) -> Self {
        ClientError::Io(Error::from(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn status(code: u16, body: &str) -> Error {
        let kind = if code == 429 {
            ErrorKind::Throttled
        } else {
            ErrorKind::Status
        };
        Error::new(kind, "GET /x answered")
            .with_status(StatusCode::from_u16(code).unwrap())
            .with_body(body.as_bytes())
            .with_correlation_id(Some("corr-1".into()))
            .with_retry_after(if code == 429 {
                Some(Duration::from_secs(7))
            } else {
                None
            })
    }

    #[test]
    fn statuses_map_to_the_shared_variants() {
        let map = |code| ClientError::<NoApiError>::from(status(code, "{}"));
        assert!(matches!(map(400), ClientError::BadRequest(a) if a.status == 400));
        assert!(matches!(map(422), ClientError::BadRequest(_)));
        assert!(matches!(map(401), ClientError::Unauthorized(_)));
        assert!(matches!(map(403), ClientError::Forbidden(_)));
        assert!(matches!(map(404), ClientError::NotFound(_)));
        assert!(matches!(map(409), ClientError::Conflict(_)));
        assert!(matches!(map(413), ClientError::RequestTooLarge(_)));
        assert!(matches!(map(503), ClientError::Server(_)));
        assert!(matches!(map(405), ClientError::UnexpectedStatus(_)));
        let throttled = map(429);
        assert!(matches!(
            &throttled,
            ClientError::Throttled { retry_after: Some(d), api: Some(_) } if *d == Duration::from_secs(7)
        ));
        assert_eq!(throttled.status(), Some(429));
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(throttled.correlation_id(), Some("corr-1"));
        assert!(throttled.is_retryable());
        assert!(!map(404).is_retryable());
        assert!(map(502).is_retryable());
    }

    #[test]
    fn kinds_map_to_the_shared_variants() {
        let map = |err: Error| ClientError::<NoApiError>::from(err);
        assert!(matches!(map(Error::decode("x")), ClientError::Decode(_)));
        assert!(matches!(
            map(Error::new(ErrorKind::RecordTooLarge, "x")),
            ClientError::Decode(_)
        ));
        assert!(matches!(map(Error::truncated("x")), ClientError::Truncated(_)));
        assert!(matches!(map(Error::config("x")), ClientError::Config(_)));
        assert!(matches!(map(Error::auth("x")), ClientError::Auth(_)));
        assert!(matches!(
            map(Error::new(ErrorKind::Timeout, "x")),
            ClientError::Timeout(_)
        ));
        assert!(matches!(
            map(Error::new(ErrorKind::Transport, "x")),
            ClientError::Transport(_)
        ));
        assert!(matches!(map(Error::new(ErrorKind::Io, "x")), ClientError::Io(_)));
        let token_429 =
            Error::new(ErrorKind::Throttled, "token endpoint").with_retry_after(Some(Duration::from_secs(3)));
        let mapped = map(token_429);
        assert_eq!(mapped.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(mapped.status(), Some(429));
    }

    #[derive(Debug, thiserror::Error)]
    enum Own {
        #[error("size unavailable")]
        SizeUnavailable(ApiError),
    }

    impl ApiSpecificError for Own {
        fn from_api(api: &ApiError) -> Option<Self> {
            (api.status == 413 && api.code_text().as_deref() == Some("request_size_unavailable"))
                .then(|| Own::SizeUnavailable(api.clone()))
        }

        fn api(&self) -> Option<&ApiError> {
            let Own::SizeUnavailable(api) = self;
            Some(api)
        }
    }

    #[test]
    fn an_api_claims_its_own_errors_first() {
        let own = ClientError::<Own>::from(status(413, r#"{"error":"request_size_unavailable"}"#));
        assert!(matches!(own, ClientError::Api(Own::SizeUnavailable(_))));
        assert_eq!(own.status(), Some(413));
        assert_eq!(own.correlation_id(), Some("corr-1"));
        let shared = ClientError::<Own>::from(status(413, r#"{"error":"request_too_large"}"#));
        assert!(matches!(shared, ClientError::RequestTooLarge(_)));
    }

    #[test]
    fn a_refused_credential_is_unauthorized_whichever_server_refused_it() {
        let api_401 = ClientError::<NoApiError>::from(status(401, r#"{"code":401,"error":"Unauthorized"}"#));
        let token_endpoint = ClientError::<NoApiError>::from(
            Error::auth("token endpoint refused the request")
                .with_status(StatusCode::BAD_REQUEST)
                .with_body(br#"{"error":"invalid_client","error_description":"AADSTS7000215"}"#),
        );
        for refused in [&api_401, &token_endpoint] {
            assert!(refused.is_unauthorized(), "{refused:?}");
            assert!(matches!(refused, ClientError::Unauthorized(_)));
            assert!(!refused.is_retryable());
        }
        assert_eq!(
            token_endpoint.to_string(),
            "token endpoint refused the credential: HTTP 400 Bad Request (invalid_client): AADSTS7000215"
        );
        // An unreachable or failing token endpoint is not a refusal.
        let down = ClientError::<NoApiError>::from(Error::auth("down").with_status(StatusCode::BAD_GATEWAY));
        assert!(matches!(down, ClientError::Auth(_)));
        assert!(!down.is_unauthorized());
        assert!(down.is_retryable(), "a failing token endpoint may recover");
        let throttled = ClientError::<NoApiError>::from(
            Error::new(ErrorKind::Throttled, "token endpoint").with_status(StatusCode::TOO_MANY_REQUESTS),
        );
        assert!(matches!(throttled, ClientError::Throttled { .. }));
    }

    #[test]
    fn messages_say_each_thing_once() {
        // Conduit's 401: the body repeats the status and its reason.
        let err = ClientError::<NoApiError>::from(status(401, r#"{"code":401,"error":"Unauthorized"}"#));
        assert_eq!(err.to_string(), "HTTP 401 Unauthorized [correlation id corr-1]");
        let throttled = ClientError::<NoApiError>::from(status(429, "{}"));
        assert_eq!(
            throttled.to_string(),
            "HTTP 429 Too Many Requests [correlation id corr-1]; retry after 7000 ms"
        );
    }

    #[test]
    fn details_are_read_the_same_way_in_every_client() {
        let err = ClientError::<NoApiError>::from(
            status(429, "{}").with_rate_limit(vec![("x-ratelimit-remaining".into(), "0".into())]),
        );
        let limit = err.detail::<crate::RateLimit>().unwrap();
        assert_eq!(limit.remaining, Some(0));
        assert!(
            ClientError::<NoApiError>::config("x")
                .detail::<crate::RateLimit>()
                .is_none()
        );
    }

    #[test]
    fn an_in_band_error_with_a_status_maps_like_the_status() {
        let forbidden = ClientError::<NoApiError>::from(
            Error::new(ErrorKind::InBand, "stream error")
                .with_status(StatusCode::FORBIDDEN)
                .with_body(br#"{"code":7,"message":"permission denied"}"#),
        );
        assert!(matches!(forbidden, ClientError::Forbidden(_)), "{forbidden:?}");
        let unauthorized = ClientError::<NoApiError>::from(
            Error::new(ErrorKind::InBand, "stream error").with_status(StatusCode::UNAUTHORIZED),
        );
        assert!(unauthorized.is_unauthorized());
        let bare = ClientError::<NoApiError>::from(Error::new(ErrorKind::InBand, "stream error"));
        assert!(matches!(bare, ClientError::Transport(_)));
    }

    #[test]
    fn a_repeated_page_has_its_own_variant() {
        let err = ClientError::<NoApiError>::from(Error::new(ErrorKind::RepeatedPage, "token `a` again"));
        assert!(matches!(err, ClientError::RepeatedPage(_)));
        assert!(!err.is_retryable());
    }

    #[test]
    fn client_errors_are_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<ClientError>();
        check::<ClientError<Own>>();
    }
}
