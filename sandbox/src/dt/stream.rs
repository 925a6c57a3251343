//! The live stream: published events of the project that match the filters, a ping
//! every `ping_interval`, as NDJSON (`{"result":{"event":..}}` per line) or SSE, with
//! the stream faults (drop after N events, an in-band error).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::world::{iso, labels_match};
use super::{Shared, StreamFraming, lock};

struct Filters {
    device_ids: Vec<String>,
    device_types: Vec<String>,
    label_filters: Vec<String>,
    event_types: Vec<String>,
}

fn frame(message: &Value, sse: bool) -> Bytes {
    if sse {
        Bytes::from(format!("data: {message}\n\n"))
    } else {
        Bytes::from(format!("{message}\n"))
    }
}

/// Opens a stream for `project` with the query's filters.
pub(super) fn open(
    shared: Arc<Shared>,
    project: String,
    pairs: Vec<(String, String)>,
    headers: &HeaderMap,
) -> Response {
    shared.counters.stream_connections.fetch_add(1, Ordering::SeqCst);
    let all = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let filters = Filters {
        device_ids: all("device_ids"),
        device_types: all("device_types"),
        label_filters: all("label_filters"),
        event_types: all("event_types"),
    };
    let ping = all("ping_interval")
        .last()
        .and_then(|p| p.trim_end_matches('s').parse::<u64>().ok())
        .map_or(Duration::from_secs(10), Duration::from_secs);
    let asked_sse = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    // The reading decides; the Content-Type below says what was picked.
    let sse = match shared.config.stream_framing {
        StreamFraming::AsAsked => asked_sse,
        StreamFraming::Ndjson => false,
        StreamFraming::Sse => true,
    };
    let faults = {
        let mut faults = lock(&shared.stream_faults);
        let taken = faults.clone();
        // In-band errors and the undecodable message are sent once.
        faults.in_band_error = None;
        faults.in_band_status = None;
        faults.undecodable = false;
        taken
    };
    let in_band = faults.in_band_error.clone().or_else(|| {
        faults
            .in_band_status
            .map(|status| shared.config.in_band_shape.error(status))
    });
    // Subscribe now: events published from here on reach this connection.
    let mut live = shared.live.subscribe();
    let body = async_stream::stream! {
        if let Some(error) = in_band {
            yield Ok::<Bytes, std::io::Error>(frame(&json!({"error": error}), sse));
            return;
        }
        if faults.undecodable {
            let garbage = if sse { "data: {not json\n\n" } else { "{not json\n" };
            yield Ok(Bytes::from_static(garbage.as_bytes()));
        }
        let mut sent = 0u32;
        let mut ticker = tokio::time::interval(ping);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    let now = iso(jiff::Timestamp::now().as_millisecond());
                    let ping = json!({"result": {"event": {"eventId": "", "targetName": format!("projects/{project}"),
                        "eventType": "ping", "data": {}, "timestamp": now}}});
                    yield Ok(frame(&ping, sse));
                }
                received = live.recv() => {
                    let (device, event) = match received {
                        Ok(item) => item,
                        Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => break,
                    };
                    let wanted = device.project == project
                        && (filters.device_ids.is_empty() || filters.device_ids.contains(&device.id))
                        && (filters.device_types.is_empty() || filters.device_types.contains(&device.device_type))
                        && labels_match(&device, &filters.label_filters)
                        && (filters.event_types.is_empty() || filters.event_types.contains(&event.event_type));
                    if !wanted {
                        continue;
                    }
                    yield Ok(frame(&json!({"result": {"event": event.envelope(&device)}}), sse));
                    sent += 1;
                    if faults.drop_after.is_some_and(|n| sent >= n) {
                        // Let the last event reach the client, then fail the body: the
                        // client sees the connection end early.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        yield Err(std::io::Error::other("sandbox fault: stream dropped"));
                        break;
                    }
                }
            }
        }
    };
    let mut response = Response::new(Body::from_stream(body));
    let content_type = if sse {
        "text/event-stream"
    } else {
        "application/json"
    };
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
