//! Details an API puts on its errors, read the same way in every client:
//! `error.detail::<D>()`.

use crate::api_error::ApiError;

/// A detail read off a refused request's [`ApiError`]: the budget figures of a 413, the
/// rate-limit headers of a 429, the permission a 403 names. Every client reads them
/// the same way, with [`ClientError::detail`](crate::ClientError::detail).
///
/// ```
/// use client_core::{ApiError, ErrorDetail};
///
/// /// What a 409 says is in the way.
/// struct Conflicting(String);
///
/// impl ErrorDetail for Conflicting {
///     fn from_api(api: &ApiError) -> Option<Self> {
///         (api.status == 409).then(|| Conflicting(api.target.clone().unwrap_or_default()))
///     }
/// }
/// ```
pub trait ErrorDetail: Sized {
    /// The detail, when `api` carries it.
    fn from_api(api: &ApiError) -> Option<Self>;
}

/// The rate-limit headers of a refused request (`X-RateLimit-*`, `RateLimit-*`, the iTwin
/// Platform's `iTwinPlatform-RateLimit-*`), read leniently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed in the window (`*-RateLimit-Limit`).
    pub limit: Option<u64>,
    /// Requests left in the window (`*-RateLimit-Remaining`).
    pub remaining: Option<u64>,
    /// When the window resets (`*-RateLimit-Reset`), as sent.
    pub reset: Option<String>,
    /// Every rate-limit header, names in lower case, values as sent.
    pub headers: Vec<(String, String)>,
}

impl RateLimit {
    /// Reads the limit, remaining count and reset from headers named `*-limit`,
    /// `*-remaining` and `*-reset` (lower case); `None` when there are none.
    pub fn from_headers(headers: Vec<(String, String)>) -> Option<RateLimit> {
        if headers.is_empty() {
            return None;
        }
        let find = |suffix: &str| {
            headers
                .iter()
                .find(|(name, _)| name.ends_with(suffix))
                .map(|(_, value)| value.trim().to_owned())
        };
        Some(RateLimit {
            limit: find("-limit").and_then(|v| v.parse().ok()),
            remaining: find("-remaining").and_then(|v| v.parse().ok()),
            reset: find("-reset"),
            headers,
        })
    }
}

impl ErrorDetail for RateLimit {
    fn from_api(api: &ApiError) -> Option<Self> {
        RateLimit::from_headers(api.rate_limit.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_headers_are_read_by_suffix() {
        let mut api = ApiError::parse(429, None);
        api.rate_limit = vec![
            ("itwinplatform-ratelimit-limit".into(), "500".into()),
            ("itwinplatform-ratelimit-remaining".into(), " 0".into()),
            ("itwinplatform-ratelimit-reset".into(), "42".into()),
        ];
        let limit = RateLimit::from_api(&api).unwrap();
        assert_eq!((limit.limit, limit.remaining), (Some(500), Some(0)));
        assert_eq!(limit.reset.as_deref(), Some("42"));
        assert!(RateLimit::from_api(&ApiError::parse(429, None)).is_none());
    }
}
