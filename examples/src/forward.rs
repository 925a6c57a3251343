//! Forwarded messages as one flat JSON line per observation, and the receiver's HTTP
//! handling. Used by `forward-decode` and `forward-receiver`.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use forward_types::{
    Delivery, ForwardMessage, MeasurementMessage, NotificationMessage, Redeliveries, StaticHeaderCheck,
    decode_body, format_timestamp,
};
use serde::Serialize;

/// One measurement observation with its report's context.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", rename = "measurement")]
pub struct MeasurementLine<'a> {
    report_hash_id: &'a str,
    environment_hash_id: &'a str,
    device_identifier: Option<&'a str>,
    /// The monitoring quantity id, falling back to the connectivity one.
    quantity_hash_id: Option<&'a str>,
    port_hash_id: Option<&'a str>,
    channel_index: Option<i64>,
    unit: Option<&'a str>,
    /// The exact decimal value as text.
    value: String,
    generated_at: String,
    attempt: u32,
}

/// One notification with its batch's context.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", rename = "notification")]
pub struct NotificationLine<'a> {
    batch_hash_id: &'a str,
    environment_hash_id: &'a str,
    hash_id: &'a str,
    object: &'a str,
    action: &'a str,
    device_identifier: Option<&'a str>,
    /// The translations object of the quantity's name.
    quantity_name: Option<&'a BTreeMap<String, String>>,
    deleted_at: Option<String>,
    attempt: u32,
}

fn measurement_lines(report: &MeasurementMessage, out: &mut Vec<String>) -> serde_json::Result<()> {
    for observation in &report.observations {
        out.push(serde_json::to_string(&MeasurementLine {
            report_hash_id: &report.hash_id,
            environment_hash_id: &report.environment_hash_id,
            device_identifier: report.device_identifier.as_deref(),
            quantity_hash_id: observation.quantity_hash_id(),
            port_hash_id: observation.port_hash_id.as_deref(),
            channel_index: observation.channel_index,
            unit: observation.unit.as_deref(),
            value: observation.value().to_string(),
            generated_at: format_timestamp(&observation.generated_at),
            attempt: report.attempt,
        })?);
    }
    Ok(())
}

fn notification_lines(batch: &NotificationMessage, out: &mut Vec<String>) -> serde_json::Result<()> {
    for observation in &batch.observations {
        out.push(serde_json::to_string(&NotificationLine {
            batch_hash_id: &batch.hash_id,
            environment_hash_id: &batch.environment_hash_id,
            hash_id: &observation.hash_id,
            object: observation.object.as_str(),
            action: observation.action.as_str(),
            device_identifier: observation.device.as_ref().and_then(|d| d.identifier.as_deref()),
            quantity_name: observation.quantity.as_ref().map(|q| &q.name),
            deleted_at: observation.deleted_at.as_ref().map(format_timestamp),
            attempt: batch.attempt,
        })?);
    }
    Ok(())
}

/// The JSON lines of one message, one per observation.
pub fn lines_of(message: &ForwardMessage) -> Vec<String> {
    let mut out = Vec::new();
    // Serialising these borrowed strings and numbers cannot fail.
    let _ = match message {
        ForwardMessage::Measurement(report) => measurement_lines(report, &mut out),
        ForwardMessage::Notification(batch) => notification_lines(batch, &mut out),
    };
    out
}

/// What the receiver shares between requests.
pub struct Receiver {
    check: StaticHeaderCheck,
    seen: Mutex<Redeliveries>,
    output: Mutex<Box<dyn Write + Send>>,
}

impl Receiver {
    /// A receiver that accepts requests carrying the header `check` expects and writes
    /// observation lines to `output`.
    pub fn new(check: StaticHeaderCheck, output: Box<dyn Write + Send>) -> Arc<Self> {
        Arc::new(Receiver {
            check,
            seen: Mutex::new(Redeliveries::new(100_000)),
            output: Mutex::new(output),
        })
    }

    /// Checks, decodes and writes one body; the status to answer and a short text.
    fn handle(&self, headers: &HeaderMap, body: &[u8]) -> (StatusCode, String) {
        if !self.check.verify(headers) {
            return (
                StatusCode::UNAUTHORIZED,
                "missing or wrong authentication header\n".into(),
            );
        }
        let messages = match decode_body(body) {
            Ok(messages) => messages,
            Err(err) => return (StatusCode::BAD_REQUEST, format!("{err}\n")),
        };
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let mut output = self.output.lock().unwrap_or_else(PoisonError::into_inner);
        for message in &messages {
            // By kind and hashId: a report and a notification batch may share a hashId.
            if seen.classify(message.kind(), message.hash_id(), message.attempt()) == Delivery::Redelivery {
                tracing::info!(
                    hash_id = message.hash_id(),
                    attempt = message.attempt(),
                    "redelivery of a processed message; skipped"
                );
                continue;
            }
            let written = lines_of(message)
                .iter()
                // Each line and its break in one write: a program ended mid-way (Ctrl-C)
                // leaves whole lines.
                .try_for_each(|line| output.write_all(format!("{line}\n").as_bytes()));
            // Acknowledge only what is written out: a failure makes the platform redeliver.
            if let Err(err) = written.and_then(|()| output.flush()) {
                // A closed standard output ends the program quietly (examples::cli).
                if err.kind() != std::io::ErrorKind::BrokenPipe {
                    tracing::error!(error = %err, "cannot write observations");
                }
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "cannot store the messages\n".into(),
                );
            }
            seen.mark_processed(message.kind(), message.hash_id());
        }
        (StatusCode::OK, format!("accepted {} messages\n", messages.len()))
    }
}

/// The receiver's routes: `POST /` and `POST /{*path}`, the platform's delivery with a
/// static header.
///
/// There is no `PUT` route: the platform PUTs only to Amazon S3 (SigV4) and Azure Blob
/// Storage (a SAS in the URL), never with the static header, so a `PUT` here could only
/// be refused. Read what it stored there with `forward-read`.
pub fn router(receiver: Arc<Receiver>) -> Router {
    Router::new()
        .route("/", post(on_post))
        .route("/{*path}", post(on_post_path))
        .with_state(receiver)
}

async fn on_post(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    receiver.handle(&headers, &body)
}

async fn on_post_path(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    receiver.handle(&headers, &body)
}
