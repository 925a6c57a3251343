//! Errors of the Preventos client: the workspace's shared variants, plus Preventos' own.

use client_core::{ApiError, ApiSpecificError, ErrorDetail};
use jiff::Timestamp;
use serde::Deserialize;

/// Everything that can go wrong talking to the Preventos Data API: the variants every
/// client of the workspace shares (see [`ClientError`](crate::ClientError)), with
/// Preventos' own errors under [`ClientError::Api`](crate::ClientError::Api).
///
/// The document's statuses map as: 400 `BadRequest`, 401 `Unauthorized`, 403
/// `Forbidden`, 406 `UnexpectedStatus`, 413 `request_too_large` `RequestTooLarge` (read
/// its details with `err.detail::<TooLarge>()`, see [`TooLarge`]), 413 `request_size_unavailable`
/// `Api(PreventosError::RequestSizeUnavailable)`, 429 `Throttled`, 5xx `Server`. A
/// configuration problem (missing variables, both a secret and a certificate) is
/// `Config`; a request that breaks the document's rules is `InvalidRequest`, refused
/// before sending.
pub type Error = client_core::ClientError<PreventosError>;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The errors only the Preventos Data API has.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PreventosError {
    /// 413 `request_size_unavailable`: a selected range has no `baseInterval`, so the
    /// server cannot size the request.
    #[error("request size unavailable: a signal has no baseInterval ({0})")]
    RequestSizeUnavailable(Box<ApiError>),
}

impl ApiSpecificError for PreventosError {
    fn from_api(api: &ApiError) -> Option<Self> {
        (api.status == 413 && api.code_text().as_deref() == Some("request_size_unavailable"))
            .then(|| PreventosError::RequestSizeUnavailable(Box::new(api.clone())))
    }

    fn api(&self) -> Option<&ApiError> {
        match self {
            PreventosError::RequestSizeUnavailable(api) => Some(api),
        }
    }
}

/// The details of a 413 `request_too_large`: the budget figures and the smaller range
/// the server recommends. Read them off any error with `err.detail::<TooLarge>()`:
///
/// ```no_run
/// use preventos_client::{Client, TooLarge};
///
/// # async fn run(client: Client) {
/// let day = preventos_client::jiff::civil::date(2026, 5, 31);
/// let request = client.site_values("100", "site-ref", ["Velocity", "Depth"]).date(day);
/// if let Err(err) = request.send().await {
///     if let Some(too_large) = err.detail::<TooLarge>() {
///         println!("try {:?}", too_large.recommended_range);
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TooLarge {
    /// The server's estimate of raw DB points for the request.
    pub estimated_raw_db_points: Option<u64>,
    /// The budget (`limits.maxRawDbPoints`).
    pub max_raw_db_points: Option<u64>,
    /// The number of underlying DB queries the request needs.
    pub db_query_count: Option<u64>,
    /// The smaller range the server recommends, when it sent one that parses.
    pub recommended_range: Option<(Timestamp, Timestamp)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Details {
    estimated_raw_db_points: Option<u64>,
    max_raw_db_points: Option<u64>,
    db_query_count: Option<u64>,
    recommended_range: Option<RangeBody>,
}

#[derive(Deserialize)]
struct RangeBody {
    from: Option<String>,
    to: Option<String>,
}

impl ErrorDetail for TooLarge {
    /// The budget figures and recommendation of a 413 that is not
    /// `request_size_unavailable`; members the server did not send (or sent in another
    /// shape) are `None`.
    fn from_api(api: &ApiError) -> Option<TooLarge> {
        if api.status != 413 || PreventosError::from_api(api).is_some() {
            return None;
        }
        let Ok(details) = serde_json::from_value::<Details>(serde_json::Value::Object(api.extra.clone()))
        else {
            return Some(TooLarge::default());
        };
        Some(TooLarge {
            estimated_raw_db_points: details.estimated_raw_db_points,
            max_raw_db_points: details.max_raw_db_points,
            db_query_count: details.db_query_count,
            recommended_range: details.recommended_range.and_then(|range| {
                Some((
                    parse_instant(range.from.as_deref()?)?,
                    parse_instant(range.to.as_deref()?)?,
                ))
            }),
        })
    }
}

fn parse_instant(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>()
        .ok()
        .or_else(|| text.parse::<jiff::Zoned>().ok().map(|z| z.timestamp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_large_details_come_from_the_body() {
        let api = ApiError::parse(
            413,
            Some(
                r#"{"error":"request_too_large","message":"m","estimatedRawDbPoints":90000,"maxRawDbPoints":44640,"dbQueryCount":2,"recommendedRange":{"from":"2026-05-31T00:00:00+03:00","to":"2026-05-31T12:00:00Z"}}"#,
            ),
        );
        let details = TooLarge::from_api(&api).unwrap();
        assert_eq!(details.estimated_raw_db_points, Some(90_000));
        assert_eq!(details.max_raw_db_points, Some(44_640));
        assert_eq!(details.db_query_count, Some(2));
        let (from, to) = details.recommended_range.unwrap();
        assert_eq!(from.to_string(), "2026-05-30T21:00:00Z");
        assert_eq!(to.to_string(), "2026-05-31T12:00:00Z");
        assert_eq!(
            TooLarge::from_api(&ApiError::parse(413, Some("oops"))),
            Some(TooLarge::default())
        );
        assert_eq!(TooLarge::from_api(&ApiError::parse(400, Some("{}"))), None);
        let unavailable = ApiError::parse(413, Some(r#"{"error":"request_size_unavailable"}"#));
        assert_eq!(TooLarge::from_api(&unavailable), None);
    }

    #[test]
    fn size_unavailable_is_preventos_own() {
        let api = ApiError::parse(413, Some(r#"{"error":"request_size_unavailable"}"#));
        assert!(PreventosError::from_api(&api).is_some());
        let other = ApiError::parse(413, Some(r#"{"error":"request_too_large"}"#));
        assert!(PreventosError::from_api(&other).is_none());
    }
}
