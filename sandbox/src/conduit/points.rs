//! The datapoints: a deterministic value per channel, `val_date` and sample, the JSON of
//! a response, and the truth tests compare against.

use std::fmt::Write;

use super::readings::{Candidate, select};
use super::{Config, MAX_DATAPOINTS, Readings};

/// A response body and the datapoints in it.
pub(super) struct Body {
    pub(super) json: Vec<u8>,
    pub(super) count: usize,
    /// Points the request selects, before the cap.
    pub(super) matched: usize,
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

/// Every point of `channels` created in `[from, to]` as `selects` says, as candidates.
fn candidates(
    channels: &[(String, i64)],
    from: i64,
    to: i64,
    interval: i64,
    readings: &Readings,
    selects: impl Fn(i64) -> bool,
) -> Vec<Candidate> {
    let mut candidates = Vec::new();
    let keys: Vec<u64> = channels
        .iter()
        .map(|(netid, channel)| series_key(netid, *channel))
        .collect();
    let last = readings.latest_val_date(to);
    let mut t = first_val_date(from, interval, readings);
    while t <= last {
        for (series, key) in keys.iter().enumerate() {
            for sample in 0..readings.samples_per_second.max(1) {
                let created = readings.created(*key, t, sample);
                if selects(created) {
                    candidates.push(Candidate {
                        created,
                        val_date: t,
                        series,
                        sample,
                    });
                }
            }
        }
        t += interval;
    }
    candidates
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
    let mut candidates = candidates(channels, from, to, interval, readings, |created| {
        readings.selects(created, from, to)
    });
    let matched = candidates.len();
    candidates.sort();
    let chosen = select(candidates, MAX_DATAPOINTS, readings);
    let mut json = Vec::with_capacity(64 * 1024);
    json.push(b'[');
    for (index, point) in chosen.iter().enumerate() {
        if index > 0 {
            json.push(b',');
        }
        let (netid, channel) = &channels[point.series];
        json.extend_from_slice(record(netid, *channel, point, readings).as_bytes());
    }
    json.push(b']');
    Body {
        json,
        count: chosen.len(),
        matched,
    }
}

/// One point's JSON text, as every response writes it.
fn record(netid: &str, channel: i64, point: &Candidate, readings: &Readings) -> String {
    let t = point.val_date;
    let raw = value(netid, channel, t, point.sample);
    let chid = if readings.chid_text(series_key(netid, channel), t, point.sample) {
        format!("\"{channel}\"")
    } else {
        channel.to_string()
    };
    let mut text = String::with_capacity(160);
    // Writing to a String cannot fail.
    let _ = write!(
        text,
        "{{\"val_date\":{t},\"dev_netid\":\"{netid}\",\"dev_chid\":{chid},\"val_raw\":{raw},\"val_calibrated\":{cal},\"val_type\":\"Voltage\",\"dev_tag\":\"Sandbox {netid}\"}}",
        cal = (raw * 1.5 * 1000.0).round() / 1000.0,
    );
    text
}

/// The configured channels, as `(dev_netid, dev_chid)`.
fn all_channels(config: &Config) -> Vec<(String, i64)> {
    config
        .devices
        .iter()
        .flat_map(|device| {
            device
                .channels
                .iter()
                .map(|&channel| (device.netid.clone(), channel))
        })
        .collect()
}

/// `(dev_netid, dev_chid, val_date)` of every point of every configured channel created
/// in `[from, to)`, under the configured readings, whatever the cap.
pub(super) fn created_in(config: &Config, from: i64, to: i64) -> Vec<(String, i64, i64)> {
    let channels = all_channels(config);
    let mut points = candidates(
        &channels,
        from,
        to,
        config.interval_seconds,
        &config.readings,
        |created| (from..to).contains(&created),
    );
    points.sort_by_key(|c| (c.val_date, c.series, c.sample));
    points
        .iter()
        .map(|c| (channels[c.series].0.clone(), channels[c.series].1, c.val_date))
        .collect()
}

/// The JSON text of every point of every configured channel created in `[from, to)`,
/// as responses write it, under the configured readings, whatever the cap.
pub(super) fn records_created_in(config: &Config, from: i64, to: i64) -> Vec<String> {
    let channels = all_channels(config);
    let mut points = candidates(
        &channels,
        from,
        to,
        config.interval_seconds,
        &config.readings,
        |created| (from..to).contains(&created),
    );
    points.sort_by_key(|c| (c.val_date, c.series, c.sample));
    points
        .iter()
        .map(|c| {
            let (netid, channel) = &channels[c.series];
            record(netid, *channel, c, &config.readings)
        })
        .collect()
}

/// A stable number per (device, channel), the seed of its values and lateness.
fn series_key(netid: &str, channel: i64) -> u64 {
    netid.bytes().fold(channel as u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    })
}

/// A deterministic value of one channel at one time (each sample its own).
fn value(netid: &str, channel: i64, t: i64, sample: u32) -> f64 {
    let seed = series_key(netid, channel) ^ u64::from(sample).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let mixed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (t as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    ((mixed >> 40) % 10_000) as f64 / 1000.0
}
