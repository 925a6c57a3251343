//! What every client counts, through the [`metrics`] facade.
//!
//! Every client records the counters (and one histogram) below, each labelled `api` with its API
//! (`preventos`, `conduit`, `sds`, `dt`; a bare [`HttpClient`](crate::HttpClient) uses
//! `http` unless its builder says otherwise). Nothing is recorded anywhere until your
//! program installs a recorder: `metrics-exporter-prometheus` for Prometheus, or any
//! other exporter of the `metrics` ecosystem. Without one each count costs one relaxed
//! atomic load. Call [`describe`] once, after installing it, to give each counter its
//! help text.
//!
//! | counter | labels | counts |
//! |---|---|---|
//! | [`REQUESTS`] | `api`, `status` | every attempt sent: `status` is the HTTP status code, or `none` when no response came (connection failure, timeout, a credential that could not be had) |
//! | [`RETRIES`] | `api` | attempts that failed and were tried again (a 401 answered with fresh credentials included) |
//! | [`THROTTLE_WAITS`] (a histogram) | `api` | each wait of a request for the client's throttle (the API's rate rule, or a 429's hold), in seconds: its count is the waits, its sum their time |
//! | [`REPLANS`] | `api` | reads planned again because the server refused or capped a window (a 413, a capped answer) |
//! | [`GAPS_FILLED`] | `api` | gaps in a live stream filled from history |
//! | [`DUPLICATES_DROPPED`] | `api` | items a client dropped as already delivered (a live stream's events heard again) |
//! | [`RECORDS`] | `api` | items decoded and handed to you: records, events, observations, list items |
//! | [`BYTES`] | `api` | response body bytes received, after decompression |
//!
//! Label values are few and fixed (an API, a status code): no URL, id or secret is ever
//! a label.
//!
//! ```
//! // With a recorder installed (here none, so nothing is kept):
//! client_core::metrics::describe();
//! client_core::metrics::replanned("preventos");
//! ```

use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};

/// Requests sent, each attempt once (labels `api`, `status`).
pub const REQUESTS: &str = "iiot_client_requests_total";
/// Attempts that failed and were tried again (label `api`).
pub const RETRIES: &str = "iiot_client_retries_total";
/// A histogram of the waits for the client's throttle, in seconds (label `api`).
pub const THROTTLE_WAITS: &str = "iiot_client_throttle_wait_seconds";
/// Reads planned again after a refused or capped window (label `api`).
pub const REPLANS: &str = "iiot_client_replans_total";
/// Live-stream gaps filled from history (label `api`).
pub const GAPS_FILLED: &str = "iiot_client_gaps_filled_total";
/// Items dropped as already delivered (label `api`).
pub const DUPLICATES_DROPPED: &str = "iiot_client_duplicates_dropped_total";
/// Items decoded and handed out (label `api`).
pub const RECORDS: &str = "iiot_client_records_total";
/// Response body bytes received, after decompression (label `api`).
pub const BYTES: &str = "iiot_client_bytes_total";

/// The label naming the API.
pub const API: &str = "api";
/// The label naming a request's HTTP status code (`none` without a response).
pub const STATUS: &str = "status";

/// Gives every counter of this module its help text and unit, in the recorder installed
/// now (call it after installing one; calling it again is harmless).
pub fn describe() {
    describe_counter!(
        REQUESTS,
        "Requests sent to the API, each attempt once, by HTTP status"
    );
    describe_counter!(RETRIES, "Failed attempts that were tried again");
    describe_histogram!(
        THROTTLE_WAITS,
        Unit::Seconds,
        "Waits of requests for the client's throttle (the API's rate rule or a 429's hold)"
    );
    describe_counter!(REPLANS, "Reads planned again after a refused or capped window");
    describe_counter!(GAPS_FILLED, "Live-stream gaps filled from history");
    describe_counter!(DUPLICATES_DROPPED, "Items dropped as already delivered");
    describe_counter!(RECORDS, "Items decoded and handed out");
    describe_counter!(
        BYTES,
        Unit::Bytes,
        "Response body bytes received, after decompression"
    );
}

/// Counts a read planned again by `api`'s client (a window refused with 413, or capped).
pub fn replanned(api: &'static str) {
    counter!(REPLANS, API => api).increment(1);
}

/// Counts a live-stream gap of `api` filled from history.
pub fn gap_filled(api: &'static str) {
    counter!(GAPS_FILLED, API => api).increment(1);
}

/// Counts `items` dropped by `api`'s client as already delivered.
pub fn duplicates_dropped(api: &'static str, items: u64) {
    if items > 0 {
        counter!(DUPLICATES_DROPPED, API => api).increment(items);
    }
}

/// Counts `items` decoded by `api`'s client and handed out.
pub fn records(api: &'static str, items: u64) {
    if items > 0 {
        counter!(RECORDS, API => api).increment(items);
    }
}

/// Counts `bytes` of response body received by `api`'s client.
pub(crate) fn bytes(api: &'static str, bytes: u64) {
    if bytes > 0 {
        counter!(BYTES, API => api).increment(bytes);
    }
}

/// Counts an attempt sent by `api`'s client: its status code, or `None` when no response
/// came.
pub(crate) fn request(api: &'static str, status: Option<u16>) {
    let status = status.map_or_else(|| "none".to_owned(), |code| code.to_string());
    counter!(REQUESTS, API => api, STATUS => status).increment(1);
}

/// Counts an attempt of `api`'s client tried again.
pub(crate) fn retried(api: &'static str) {
    counter!(RETRIES, API => api).increment(1);
}

/// Counts a wait of `api`'s client for its throttle.
pub(crate) fn throttle_waited(api: &'static str, waited: std::time::Duration) {
    if !waited.is_zero() {
        histogram!(THROTTLE_WAITS, API => api).record(waited.as_secs_f64());
    }
}
