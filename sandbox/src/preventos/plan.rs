//! The API's rules applied to a values request, before anything is generated: the site
//! and signals, the format (`format` or `Accept`), `tzi`, `take`, the range (`date`, or
//! `from`/`to`, or a partial read) and the raw-DB-point budget.

use std::collections::{BTreeSet, HashMap};

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use super::answers::{api_error, bad};
use super::dates::{bound, day_bounds, format_time};
use super::series::seed;
use super::{Config, Readings, SignalSpec};
use crate::server::error;

/// The shape of a values body.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum OutFormat {
    /// A JSON array, under `{"meta", "values"}` when `meta`.
    Json { meta: bool },
    /// One JSON record a line.
    Ndjson,
    /// Wide CSV: a `timestamp` column, then one column per signal.
    Csv { delimiter: char, decimal_comma: bool },
}

/// What a values body holds, once the request has passed every rule.
#[derive(Debug)]
pub(super) struct ValuesPlan {
    /// `(id, interval in seconds, seed)` of each signal, in request order.
    pub(super) signals: Vec<(String, i64, u64)>,
    /// The finest interval of the signals: the step of the time walk.
    pub(super) step: i64,
    /// The first second of the range.
    pub(super) start: i64,
    /// Past the last second of the range.
    pub(super) end: i64,
    /// The most records to write, if limited.
    pub(super) take: Option<u64>,
    /// The `tzi` time zone.
    pub(super) tz: TimeZone,
    /// The body's shape.
    pub(super) format: OutFormat,
    /// The JSON `meta` object.
    pub(super) meta: Value,
    /// How what the document leaves open is played.
    pub(super) readings: Readings,
}

/// Applies the API's rules to a values request.
pub(super) fn plan_values(
    config: &Config,
    env: &str,
    site_id: &str,
    route_signal: Option<String>,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<ValuesPlan, Response> {
    let site = config
        .sites
        .iter()
        .find(|s| s.env == env && s.id == site_id)
        .ok_or_else(|| bad(format!("unknown environment or site `{env}/{site_id}`")))?;
    let ids: Vec<String> = match route_signal {
        Some(signal) => vec![signal],
        None => params
            .get("signalIds")
            .map(|ids| {
                ids.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    };
    if ids.is_empty() {
        return Err(bad("signalIds is required"));
    }
    let mut signals = Vec::new();
    for id in &ids {
        let spec = site
            .signals
            .iter()
            .find(|s| &s.id == id)
            .ok_or_else(|| bad(format!("unknown signal `{id}`")))?;
        signals.push(spec.clone());
    }
    let mut format = out_format(params, headers)?;
    if config.readings.json_bare {
        // This reading's server sends a bare array whatever `meta` says.
        if let OutFormat::Json { meta } = &mut format {
            *meta = false;
        }
    }
    let tz = match params.get("tzi") {
        Some(name) => TimeZone::get(name).map_err(|_| bad(format!("unknown time zone `{name}`")))?,
        None => TimeZone::UTC,
    };
    let take = match params.get("take") {
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| bad("take must be a number"))?
                .min(10_000),
        ),
        None => None,
    };
    let finest = signals.iter().filter_map(|s| s.interval_seconds).min();
    let step = finest.unwrap_or(60);
    let (start, end, bounded) = range(config, params, &tz, step, take)?;
    if bounded {
        check_budget(config, &signals, (start, end), step, &tz)?;
    }
    let meta = json!({
        "environment": env, "site": site_id, "signals": ids,
        "from": format_time(start, &tz), "to": format_time(end, &tz),
        "tzi": tz.iana_name().unwrap_or("UTC"),
    });
    let signals = signals
        .iter()
        .map(|s| (s.id.clone(), s.interval_seconds.unwrap_or(step), seed(&s.id)))
        .collect();
    Ok(ValuesPlan {
        signals,
        step,
        start,
        end,
        take,
        tz,
        format,
        meta,
        readings: config.readings,
    })
}

/// The body's shape: `format` if given, else what `Accept` names (JSON when it names
/// nothing); 406 for anything else.
fn out_format(params: &HashMap<String, String>, headers: &HeaderMap) -> Result<OutFormat, Response> {
    let format = match params.get("format").map(String::as_str) {
        Some(name) => name.to_owned(),
        None => {
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/json");
            if accept.contains("ndjson") {
                "ndjson".into()
            } else if accept.contains("csv") {
                "csv".into()
            } else if accept.contains("json") || accept.contains("*/*") {
                "json".into()
            } else {
                return Err(api_error(
                    StatusCode::NOT_ACCEPTABLE,
                    "not_acceptable",
                    "unsupported Accept",
                ));
            }
        }
    };
    let finnish = params.get("csvPreset").map(String::as_str) == Some("finnish");
    match format.as_str() {
        "json" => Ok(OutFormat::Json {
            meta: params.get("meta").map(String::as_str) != Some("false"),
        }),
        "ndjson" => Ok(OutFormat::Ndjson),
        "csv" => Ok(OutFormat::Csv {
            delimiter: if finnish { ';' } else { ',' },
            decimal_comma: finnish,
        }),
        other => Err(api_error(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            &format!("unsupported format `{other}`"),
        )),
    }
}

/// `(start, past the end, bounded)` of the request: a local day (`date`), an explicit
/// range under the readings' ends, or a partial read of `take` steps (10,000 by default)
/// from `from`, up to `to`, or up to now.
fn range(
    config: &Config,
    params: &HashMap<String, String>,
    tz: &TimeZone,
    step: i64,
    take: Option<u64>,
) -> Result<(i64, i64, bool), Response> {
    let date = params.get("date");
    let (from, to) = (params.get("from"), params.get("to"));
    if date.is_some() && (from.is_some() || to.is_some()) {
        return Err(bad("date cannot be combined with from/to"));
    }
    let now = Timestamp::now().as_second();
    Ok(match (date, from, to) {
        (Some(date), _, _) => {
            let (start, end) = day_bounds(date, tz).ok_or_else(|| bad(format!("invalid date `{date}`")))?;
            (start, end, true)
        }
        (None, Some(from), Some(to)) => {
            let start = bound(from, tz, false).ok_or_else(|| bad(format!("invalid from `{from}`")))?;
            let end = bound(to, tz, true).ok_or_else(|| bad(format!("invalid to `{to}`")))?;
            if end <= start {
                return Err(bad("to must be after from"));
            }
            let (first, past_last) = config.readings.explicit_bounds(start, end);
            (first, past_last, true)
        }
        (None, from, to) => {
            let span = step * take.unwrap_or(10_000) as i64;
            match (from, to) {
                (Some(from), None) => {
                    let start = bound(from, tz, false).ok_or_else(|| bad("invalid from"))?;
                    (start, start + span, false)
                }
                (None, Some(to)) => {
                    let end = bound(to, tz, true).ok_or_else(|| bad("invalid to"))?;
                    (end - span, end, false)
                }
                _ => (now - span, now, false),
            }
        }
    })
}

/// The budget of a bounded request: a signal without `baseInterval` is a 413
/// `request_size_unavailable`; `ceil(range / step) * dbQueryCount` over the budget is a
/// 413 `request_too_large` with the longest range that fits from the same start.
fn check_budget(
    config: &Config,
    signals: &[SignalSpec],
    (start, end): (i64, i64),
    step: i64,
    tz: &TimeZone,
) -> Result<(), Response> {
    if let Some(missing) = signals.iter().find(|s| s.interval_seconds.is_none()) {
        return Err(api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_size_unavailable",
            &format!("signal `{}` has no baseInterval", missing.id),
        ));
    }
    // Signals computed from the same raw query cost it once.
    let queries: BTreeSet<&str> = signals.iter().map(|s| s.db_query.as_str()).collect();
    let count = queries.len() as u64;
    let estimated = ((end - start) as u64).div_ceil(step as u64) * count;
    if estimated > config.budget {
        let longest = (config.budget / count) as i64 * step;
        let show = |t: i64| format_time(t, tz);
        let recommended_to = if config.readings.recommended_to_inclusive {
            start + longest - step
        } else {
            start + longest
        };
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({
                "error": "request_too_large",
                "message": "the estimated raw DB points exceed the budget; request a smaller range",
                "estimatedRawDbPoints": estimated,
                "maxRawDbPoints": config.budget,
                "dbQueryCount": count,
                "recommendedRange": {"from": show(start), "to": show(recommended_to)},
            }),
        ));
    }
    Ok(())
}
