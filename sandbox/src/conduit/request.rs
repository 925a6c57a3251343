//! A request's query (`id`, `ch`, `fcdt`, `tcdt`): parsed, the range it covers, and the
//! channels it selects.

use axum::http::StatusCode;
use axum::response::Response;

use super::gate::api_error;
use super::{Device, MAX_SPAN_SECONDS};

/// A parsed query.
pub(super) struct Request {
    ids: Vec<String>,
    channels: Vec<i64>,
    fcdt: Option<i64>,
    tcdt: Option<i64>,
}

impl Request {
    /// Parses the query; an unknown argument or a non-integer number is an error.
    pub(super) fn parse(query: &str) -> Result<Request, String> {
        let mut request = Request {
            ids: Vec::new(),
            channels: Vec::new(),
            fcdt: None,
            tcdt: None,
        };
        let number = |name: &str, value: &str| {
            value
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("{name} must be an integer, got `{value}`"))
        };
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "id" => request.ids.push(value.into_owned()),
                "ch" => request.channels.push(number("ch", &value)?),
                "fcdt" => request.fcdt = Some(number("fcdt", &value)?),
                "tcdt" => request.tcdt = Some(number("tcdt", &value)?),
                "token" => {}
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(request)
    }

    /// `(fcdt, tcdt)` in epoch seconds: both given, or neither for the last hour; one
    /// alone or a reversed range is a 400, more than 31 days a 413.
    pub(super) fn range(&self) -> Result<(i64, i64), Response> {
        let (from, to) = match (self.fcdt, self.tcdt) {
            (Some(from), Some(to)) => (from, to),
            (None, None) => {
                let now = jiff::Timestamp::now().as_second();
                (now - 3600, now)
            }
            _ => {
                return Err(api_error(
                    StatusCode::BAD_REQUEST,
                    "fcdt and tcdt must be given together",
                ));
            }
        };
        if to < from {
            return Err(api_error(StatusCode::BAD_REQUEST, "tcdt is before fcdt"));
        }
        if to - from > MAX_SPAN_SECONDS {
            return Err(api_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Too Large"));
        }
        Ok((from, to))
    }

    /// The (device, channel) pairs the request selects, in output order: every
    /// configured one unless `id` or `ch` narrow them.
    pub(super) fn channels(&self, devices: &[Device]) -> Vec<(String, i64)> {
        let mut selected = Vec::new();
        for device in devices {
            if !self.ids.is_empty() && !self.ids.contains(&device.netid) {
                continue;
            }
            for &channel in &device.channels {
                if self.channels.is_empty() || self.channels.contains(&channel) {
                    selected.push((device.netid.clone(), channel));
                }
            }
        }
        selected
    }
}
