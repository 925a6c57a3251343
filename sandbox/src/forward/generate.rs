//! A deterministic generator of forwarded batches: measurement reports and notification
//! batches shaped as the forwarding document shows them.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

fn hash_id(seed: u64, n: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut value = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (0..6)
        .map(|_| {
            let c = ALPHABET[(value % 36) as usize] as char;
            value /= 36;
            c
        })
        .collect()
}

fn time(at: Timestamp) -> String {
    format!("{at:.3}")
}

/// `batches` batches from `start`, one a minute: every third a notification batch of two
/// notifications, the others a measurement report of `observations` observations. The
/// same seed gives the same batches; every message has `attempt` 0.
pub fn batches(seed: u64, start: Timestamp, batches: usize, observations: usize) -> Vec<Vec<Value>> {
    (0..batches as u64)
        .map(|n| {
            let at = start + SignedDuration::from_mins(n as i64);
            let message = if n % 3 == 2 {
                notification(seed, n, at)
            } else {
                measurement(seed, n, at, observations)
            };
            vec![message]
        })
        .collect()
}

fn measurement(seed: u64, n: u64, at: Timestamp, observations: usize) -> Value {
    let observations: Vec<Value> = (0..observations as u64)
        .map(|i| {
            let significand = ((seed ^ (n * 7919 + i * 104_729)) % 100_000) as i64;
            let magnitude = (i % 4) as i64 - 1;
            let unit = ["W", "V", "A", "Wh"][(i % 4) as usize];
            json!({
                "connectivityEnvironmentQuantityHashId": hash_id(seed, 1000 + i),
                "monitoringEnvironmentQuantityHashId": hash_id(seed, 2000 + i),
                "portHashId": hash_id(seed, 3000 + i % 2),
                "channelIndex": i,
                "orderOfMagnitude": magnitude,
                "significand": significand,
                "formattedValue": format!("{significand}e{magnitude}"),
                "unit": unit,
                "generatedAt": time(at),
                "performance": 1,
            })
        })
        .collect();
    json!({
        "hashId": hash_id(seed, n),
        "environmentHashId": hash_id(seed, 9_999),
        "connectivityEnvironmentReportTypeHashId": hash_id(seed, 8_888),
        "monitoringEnvironmentReportTypeHashId": null,
        "observations": observations,
        "deviceHashId": hash_id(seed, 7_777),
        "deviceIdentifier": format!("device-serial-{}", seed % 100_000),
        "deviceFields": {"brand": "Sandbox"},
        "fields": {"firmware": "v1.0.0"},
        "locationHashId": null,
        "locationFields": {},
        "userHashId": null,
        "generatedAt": time(at),
        "createdAt": time(at + SignedDuration::from_secs(1)),
        "attempt": 0,
    })
}

fn notification(seed: u64, n: u64, at: Timestamp) -> Value {
    json!({
        "hashId": hash_id(seed, n),
        "environmentHashId": hash_id(seed, 9_999),
        "observations": [
            {"hashId": hash_id(seed, 5_000 + n), "object": "device", "action": "add",
             "device": {"identifier": format!("device-{n}")},
             "createdAt": time(at), "updatedAt": time(at), "deletedAt": null},
            {"hashId": hash_id(seed, 6_000 + n), "object": "quantity", "action": "update",
             "quantity": {"name": {"en": "Active Power", "nl": "Actief vermogen"}},
             "createdAt": time(at), "updatedAt": time(at), "deletedAt": null},
        ],
        "generatedAt": time(at),
        "attempt": 0,
    })
}
