//! What every API request goes through (faults, the rate limit, the bearer token), the
//! micro-permission check, and the helpers of Bentley's error body.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{ACCEPT, Access, SensorEntry, Shared, lock};
use crate::server::{error, json_body};

/// Bentley's error body.
pub(super) fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    error(status, json!({"error": {"code": code, "message": message}}))
}

pub(super) fn bad_request(message: &str, target: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        json!({"error": {"code": "InvalidSensorDataRequest", "message": message, "target": target}}),
    )
}

/// A handler's JSON answer (with the configured cut, if any), as a handler's result.
pub(super) fn json_response(
    status: StatusCode,
    body: &Value,
    headers: &HeaderMap,
    shared: &Shared,
) -> Result<Response, Response> {
    let faults = lock(&shared.faults).clone();
    let mut response = json_body(
        body.to_string().into_bytes(),
        headers,
        usize::MAX,
        faults.cut_body_after,
    );
    *response.status_mut() = status;
    Ok(response)
}

/// Counts the request, then plays faults, the rate limit and authentication.
pub(super) async fn gate(shared: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    let number = shared.counters.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let accepts = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(ACCEPT));
    if !accepts {
        shared.counters.without_accept.fetch_add(1, Ordering::SeqCst);
    }
    let faults = lock(&shared.faults).clone();
    let in_delay = shared.counters.in_delay.enter();
    let failure = faults
        .apply(number, |status| {
            api_error(status, "SandboxFault", "sandbox fault")
        })
        .await;
    drop(in_delay);
    if let Some(failure) = failure {
        return Err(failure);
    }
    if let Some(limit) = shared.config.rate_limit {
        let now = Instant::now();
        let mut window = lock(&shared.window);
        let started = match window.0 {
            Some(start) if now - start < limit.window => start,
            _ => {
                *window = (Some(now), 0);
                now
            }
        };
        if window.1 >= limit.limit {
            shared.counters.throttled.fetch_add(1, Ordering::SeqCst);
            let wait = (limit.window - (now - started)).as_secs_f64().ceil().max(1.0) as u64;
            let mut response = api_error(
                StatusCode::TOO_MANY_REQUESTS,
                "RateLimitExceeded",
                "Rate limit exceeded: too many requests.",
            );
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
            headers.insert("itwinplatform-ratelimit-limit", HeaderValue::from(limit.limit));
            headers.insert("itwinplatform-ratelimit-remaining", HeaderValue::from(0));
            headers.insert("itwinplatform-ratelimit-reset", HeaderValue::from(wait));
            return Err(response);
        }
        window.1 += 1;
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let valid = token.is_some_and(|t| t == shared.config.access_token || shared.issuer.is_valid(t));
    if !valid {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "InvalidToken",
            "The access token is missing, invalid or expired.",
        ));
    }
    Ok(())
}

/// What a request needs on an iTwin.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    Read,
    Manage,
}

impl Shared {
    pub(super) fn access(&self, itwin: &str) -> Access {
        self.config
            .itwins
            .iter()
            .find(|t| t.id == itwin)
            .map_or(Access::NotMember, |t| t.access)
    }

    /// `Ok(true)` when allowed, `Ok(false)` for a non-member (empty list or 404), `Err`
    /// with the 403.
    pub(super) fn allow(&self, itwin: &str, need: Need) -> Result<bool, Response> {
        let permission = match need {
            Need::Read => "sensor_data_read",
            Need::Manage => "sensor_data_manage",
        };
        match (self.access(itwin), need) {
            (Access::NotMember, _) => Ok(false),
            (Access::Manage, _) | (Access::Read, Need::Read) => Ok(true),
            _ => Err(api_error(
                StatusCode::FORBIDDEN,
                "InsufficientPermissions",
                &format!("The user does not have the {permission} permission on iTwin {itwin}."),
            )),
        }
    }

    /// `found` if the caller may `need` on its iTwin (`itwin_of`); a non-member gets the
    /// same 404 as for nothing found, a member without the permission a 403.
    pub(super) fn reveal<T>(
        &self,
        found: Option<T>,
        itwin_of: impl FnOnce(&T) -> &str,
        need: Need,
        missing: impl Fn() -> Response,
    ) -> Result<T, Response> {
        let found = found.ok_or_else(&missing)?;
        match self.allow(itwin_of(&found), need)? {
            true => Ok(found),
            false => Err(missing()),
        }
    }

    pub(super) fn sensor_json(&self, sensor: &SensorEntry) -> Value {
        let metrics: Vec<Value> = self
            .config
            .metrics
            .iter()
            .map(|m| {
                json!({
                    "metric": m.metric, "displayName": m.display_name, "notation": m.metric,
                    "defaultUnit": m.default_unit,
                    "units": m.units.iter().map(|u| json!({"unit": u.unit, "displayName": u.display_name, "notation": u.notation})).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "id": sensor.id, "dataSourceId": sensor.datasource, "type": "SELF_SERVICE",
            "bucketId": sensor.bucket_id, "iTwinId": sensor.itwin,
            "metricsAndUnits": {"standard": true, "metrics": metrics},
            "metadata": sensor.props,
        })
    }
}

/// A request body as JSON, or the 400 to answer.
pub(super) fn read_json(body: &[u8]) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|e| bad_request(&format!("invalid JSON: {e}"), "body"))
}

/// A 404 of Bentley's shape: `{what}NotFound`.
pub(super) fn not_found(what: &str, text: &str) -> Response {
    api_error(
        StatusCode::NOT_FOUND,
        &format!("{what}NotFound"),
        &format!("Requested {text} is not available."),
    )
}

/// A query parameter that must be there, or the 400 to answer.
pub(super) fn required<'a>(query: &'a HashMap<String, String>, name: &str) -> Result<&'a str, Response> {
    query
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| bad_request(&format!("{name} is required"), name))
}

pub(super) fn query_map(query: Option<&str>) -> HashMap<String, String> {
    crate::server::query_pairs(query).into_iter().collect()
}

/// An ISO 8601 instant as epoch milliseconds, or the 400 to answer.
pub(super) fn parse_date(text: Option<&str>, name: &str) -> Result<i64, Response> {
    let text = text.ok_or_else(|| bad_request(&format!("{name} is required"), name))?;
    text.parse::<Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| bad_request(&format!("{name} `{text}` is not an ISO 8601 date and time"), name))
}

/// `startDate` and `endDate` as epoch milliseconds, the start not after the end, or the
/// 400 to answer.
pub(super) fn date_range(start: Option<&str>, end: Option<&str>) -> Result<(i64, i64), Response> {
    let (start, end) = (parse_date(start, "startDate")?, parse_date(end, "endDate")?);
    if start > end {
        return Err(bad_request("startDate is after endDate", "startDate"));
    }
    Ok((start, end))
}
