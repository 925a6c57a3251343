//! What every client counts, through the [`metrics`](https://docs.rs/metrics/0.24)
//! facade.
//!
//! Every client records the series below, each labelled `api` with its API
//! (`preventos`, `conduit`, `sds`, `dt`; a bare [`HttpClient`](crate::HttpClient) uses
//! `http` unless its builder says otherwise). Nothing is kept until your program
//! installs a recorder of the `metrics` crate **0.24** (the version this crate records
//! through; an exporter built on another major version of `metrics` sees nothing of
//! the SDK): `metrics-exporter-prometheus` 0.18 for Prometheus, or another exporter of
//! that ecosystem. Install it before building clients (some streams look their
//! counters up once, when they start), and call [`describe`] once after installing it
//! to give each series its help text. Without a recorder a count costs a label lookup
//! of a few allocations at most, once per request, response body or stream, never per
//! record.
//!
//! | series | labels | counts |
//! |---|---|---|
//! | [`REQUESTS`] | `api`, `status` | every attempt sent to the API: `status` is the HTTP status code, or `none` when no response came (connection failure, timeout); an attempt whose credential could not be had (its token endpoint failing) sent nothing and is not counted |
//! | [`RETRIES`] | `api` | attempts tried again: after a failed response or connection, a credential that could not be had, or a 401 answered with fresh credentials |
//! | [`THROTTLE_WAITS`] (a histogram, in seconds) | `api` | each wait of a request for the client's throttle (the API's rate rule, or a 429's hold): its count is the waits, its sum their time; only with a throttle |
//! | [`REPLANS`] | `api` | windows cut again because the server refused or capped them (a 413, a capped Conduit answer) |
//! | [`GAPS_FILLED`] | `api` | gaps behind a live stream's reconnection, or behind the checkpoint it resumed from, filled from history |
//! | [`GAPS`] | `api` | gaps a live stream reported instead (older than the history kept, or history unreadable): events may be missing there |
//! | [`DUPLICATES_DROPPED`] | `api` | items a client dropped as already delivered (a live stream's events heard again, or read from history again) |
//! | [`RECORDS`] | `api` | items decoded from responses (records, events, observations, list items), counted as they are decoded: a stream decodes ahead of your reading, and items a client then drops (duplicates, items outside the range asked for) are counted too |
//! | [`BYTES`] | `api` | response body bytes received, after decompression |
//!
//! Label values are few and fixed (an API, a status code): no URL, id or secret is ever
//! a label.
//!
//! ```
//! // With no recorder installed, nothing is kept.
//! client_core::metrics::describe();
//! client_core::metrics::replanned("preventos");
//! ```

use metrics::{Counter, Unit, counter, describe_counter, describe_histogram, histogram};

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
/// Live-stream gaps reported to you, not filled: events may be missing there (label
/// `api`).
pub const GAPS: &str = "iiot_client_gaps_total";
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
    describe_counter!(
        GAPS,
        "Live-stream gaps reported, not filled: events may be missing there"
    );
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

/// Counts a live-stream gap of `api` reported, not filled.
pub fn gap(api: &'static str) {
    counter!(GAPS, API => api).increment(1);
}

/// Counts `items` dropped by `api`'s client as already delivered.
pub fn duplicates_dropped(api: &'static str, items: u64) {
    if items > 0 {
        counter!(DUPLICATES_DROPPED, API => api).increment(items);
    }
}

/// Counts `items` decoded by `api`'s client.
pub fn records(api: &'static str, items: u64) {
    if items > 0 {
        counter!(RECORDS, API => api).increment(items);
    }
}

/// The counter of [`RECORDS`] for `api`, for a stream that counts often: looked up once,
/// then each increment is one atomic add (or nothing, without a recorder). A handle
/// taken before the program installs its recorder counts nowhere.
pub fn records_counter(api: &'static str) -> Counter {
    counter!(RECORDS, API => api)
}

/// The counter of [`DUPLICATES_DROPPED`] for `api` (see [`records_counter`]).
pub fn duplicates_counter(api: &'static str) -> Counter {
    counter!(DUPLICATES_DROPPED, API => api)
}

/// The counter of [`BYTES`] for `api`, looked up once per response body.
pub(crate) fn bytes_counter(api: &'static str) -> Counter {
    counter!(BYTES, API => api)
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
