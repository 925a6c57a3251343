//! Data-connector pushes: the body `{event, labels, metadata}`, its `X-Dt-Signature`
//! (HS256 over the body's checksums), the connector's headers, and retries.

use std::sync::atomic::Ordering;

use base64::Engine as _;
use serde_json::{Value, json};

use super::world::{Device, StoredEvent, selected_labels};
use super::{Connector, Shared, lock};

/// The body of a push of `event` from `device` to `connector`.
pub(super) fn body(shared: &Shared, connector: &Connector, device: &Device, event: &StoredEvent) -> Vec<u8> {
    json!({
        "event": event.envelope(device),
        "labels": selected_labels(device, &connector.labels, shared.config.push_absent_labels_empty),
        "metadata": {
            "deviceId": device.id,
            "projectId": device.project,
            "deviceType": device.device_type,
            "productNumber": format!("SB-{}", device.device_type.to_uppercase()),
        },
    })
    .to_string()
    .into_bytes()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `X-Dt-Signature` of `body`: HS256 with the connector's secret over
/// `{checksum, checksum_sha256, iat, exp, jti}`.
pub(super) fn signature(secret: &str, body: &[u8]) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let iat = jiff::Timestamp::now().as_second();
    let claims = json!({
        "checksum": hex(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, body).as_ref()),
        "checksum_sha256": hex(ring::digest::digest(&ring::digest::SHA256, body).as_ref()),
        "iat": iat,
        "exp": iat + 3600,
        "jti": format!("{:020x}", crate::entra::random_u128() >> 48),
    });
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    format!(
        "{input}.{}",
        b64(ring::hmac::sign(&key, input.as_bytes()).as_ref())
    )
}

/// Pushes `event` to `connector`, retrying non-2xx answers; counts the outcome in the
/// connector's metrics. Returns whether it was delivered.
pub(super) async fn push(
    shared: &Shared,
    connector: &Connector,
    device: &Device,
    event: &StoredEvent,
) -> bool {
    if shared.drop_pushes.load(Ordering::SeqCst) {
        // Lost as DT loses a push it gave up on (after 12 hours of retries): never sent,
        // counted as an error.
        shared.counters.dropped_pushes.fetch_add(1, Ordering::SeqCst);
        count(shared, connector, false);
        return false;
    }
    let body = body(shared, connector, device, event);
    let attempts = shared.config.push_attempts.max(1);
    let mut delivered = false;
    // Never through a proxy to a loopback receiver (see `Shared::loopback_http`).
    let loopback = url::Url::parse(&connector.url).is_ok_and(|url| client_core::is_loopback(&url));
    let http = if loopback {
        &shared.loopback_http
    } else {
        &shared.http
    };
    for attempt in 1..=attempts {
        shared.counters.pushes.fetch_add(1, Ordering::SeqCst);
        let mut request = http
            .post(&connector.url)
            .header("content-type", "application/json")
            .body(body.clone());
        for (name, value) in &connector.headers {
            request = request.header(name, value);
        }
        if !connector.secret.is_empty() {
            request = request.header("X-Dt-Signature", signature(&connector.secret, &body));
        }
        // A push counts as delivered only when the receiver answers 200.
        if request.send().await.is_ok_and(|r| r.status().as_u16() == 200) {
            delivered = true;
            break;
        }
        if attempt < attempts && !shared.config.push_retry_delay.is_zero() {
            tokio::time::sleep(shared.config.push_retry_delay).await;
        }
    }
    count(shared, connector, delivered);
    delivered
}

/// Counts a push's outcome in the connector's metrics.
fn count(shared: &Shared, connector: &Connector, delivered: bool) {
    let mut world = lock(&shared.world);
    if let Some(stored) = world.connectors.iter_mut().find(|c| c.id == connector.id) {
        if delivered {
            stored.successes += 1;
        } else {
            stored.errors += 1;
        }
    }
}

/// Whether `connector` forwards `event_type` (an empty filter forwards every type).
pub(super) fn forwards(connector: &Connector, event_type: &str) -> bool {
    connector.status == "ACTIVE"
        && (connector.events.is_empty() || connector.events.iter().any(|e| e == event_type))
}

/// The metrics body of a connector.
pub(super) fn metrics(connector: &Connector) -> Value {
    json!({"metrics": {"successCount": connector.successes, "errorCount": connector.errors, "latency99p": "0.010s"}})
}
