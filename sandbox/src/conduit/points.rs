//! The datapoints: a deterministic value per channel and `val_date`, the JSON of a
//! response, and the truth tests compare against.

use std::io::Write;

use super::readings::{Candidate, select};
use super::{Config, MAX_DATAPOINTS, Readings};

/// A response body and the datapoints in it.
pub(super) struct Body {
    pub(super) json: Vec<u8>,
    pub(super) count: usize,
}

/// The first multiple of `interval` at or after the earliest `val_date` a point created
/// at `from` or later can have.
fn first_val_date(from: i64, interval: i64, readings: &Readings) -> i64 {
    let start = readings.earliest_val_date(from);
    let mut t = start.div_euclid(interval) * interval;
    if t < start {
        t += interval;
    }
    t
}

/// The points of `channels` created in `[from, to]` (under the readings' ends), at most
/// 10,000 of them as the cap reading says, in the reading's order.
pub(super) fn generate(
    channels: &[(String, i64)],
    from: i64,
    to: i64,
    interval: i64,
    readings: &Readings,
) -> Body {
    let mut candidates = Vec::new();
    let keys: Vec<u64> = channels
        .iter()
        .map(|(netid, channel)| series_key(netid, *channel))
        .collect();
    let mut t = first_val_date(from, interval, readings);
    while t <= to {
        for (series, key) in keys.iter().enumerate() {
            let created = readings.created(*key, t);
            if readings.selects(created, from, to) {
                candidates.push(Candidate {
                    created,
                    val_date: t,
                    series,
                });
            }
        }
        t += interval;
    }
    candidates.sort();
    let chosen = select(candidates, MAX_DATAPOINTS, readings);
    let mut json = Vec::with_capacity(64 * 1024);
    json.push(b'[');
    for (index, point) in chosen.iter().enumerate() {
        if index > 0 {
            json.push(b',');
        }
        let (netid, channel) = &channels[point.series];
        let t = point.val_date;
        let raw = value(netid, *channel, t);
        // Writing to a Vec cannot fail.
        let _ = write!(
            json,
            "{{\"val_date\":{t},\"dev_netid\":\"{netid}\",\"dev_chid\":{channel},\"val_raw\":{raw},\"val_calibrated\":{cal},\"val_type\":\"Voltage\",\"dev_tag\":\"Sandbox {netid}\"}}",
            cal = (raw * 1.5 * 1000.0).round() / 1000.0,
        );
    }
    json.push(b']');
    Body {
        json,
        count: chosen.len(),
    }
}

/// `(dev_netid, dev_chid, val_date)` of every point of every configured channel created
/// in `[from, to)`, under the configured late arrivals, whatever the cap.
pub(super) fn created_in(config: &Config, from: i64, to: i64) -> Vec<(String, i64, i64)> {
    let readings = &config.readings;
    let interval = config.interval_seconds;
    let mut points = Vec::new();
    let mut t = first_val_date(from, interval, readings);
    while t < to {
        for device in &config.devices {
            for &channel in &device.channels {
                let created = readings.created(series_key(&device.netid, channel), t);
                if (from..to).contains(&created) {
                    points.push((device.netid.clone(), channel, t));
                }
            }
        }
        t += interval;
    }
    points
}

/// A stable number per (device, channel), the seed of its values and lateness.
fn series_key(netid: &str, channel: i64) -> u64 {
    netid.bytes().fold(channel as u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    })
}

/// A deterministic value of one channel at one time.
fn value(netid: &str, channel: i64, t: i64) -> f64 {
    let seed = series_key(netid, channel);
    let mixed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (t as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    ((mixed >> 40) % 10_000) as f64 / 1000.0
}
