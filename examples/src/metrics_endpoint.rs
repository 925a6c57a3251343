//! A program's metrics in Prometheus text at `GET /metrics` (`--metrics-addr`): the
//! SDK's (see [`client_core::metrics`]) and the program's own, through
//! `metrics-exporter-prometheus`'s recorder, served by [`crate::serve::serve`] with its
//! limits.

use std::net::SocketAddr;

use axum::Router;
use axum::http::header;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::cli::Failure;
use crate::serve::{Limits, serve};

/// The upper bounds (seconds) of the throttle-wait histogram's buckets: from a rate
/// rule's spacing (Conduit: 15 s) to a long 429 hold.
const THROTTLE_WAIT_BUCKETS: [f64; 10] = [0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0];

/// The content type of the Prometheus text format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Installs the Prometheus recorder as the process's recorder, describes the SDK's
/// metrics, binds `addr` and serves `GET /metrics` there until the program ends. Call
/// it before building clients. Returns the address bound (the port chosen, for `:0`),
/// after printing it on standard error.
///
/// A second recorder, or an address that cannot be bound, is a usage error (exit code
/// 2): nothing has been sent yet.
pub async fn start(addr: SocketAddr) -> Result<SocketAddr, Failure> {
    // The throttle's waits as a histogram with buckets, not a summary: buckets add up
    // across the processes of a sharded run, quantiles do not.
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(client_core::metrics::THROTTLE_WAITS.to_owned()),
            &THROTTLE_WAIT_BUCKETS,
        )
        .map_err(|err| Failure::usage(format!("metrics: {err}")))?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)
        .map_err(|_| Failure::usage("a metrics recorder is already installed"))?;
    client_core::metrics::describe();
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|err| Failure::usage(format!("--metrics-addr {addr}: {err}")))?;
    let bound = listener
        .local_addr()
        .map_err(|err| Failure::usage(format!("--metrics-addr {addr}: {err}")))?;
    let app = router(handle);
    tokio::spawn(async move {
        // Runs as long as the program: its end is the runtime's.
        if let Err(err) = serve(listener, app, &Limits::default(), std::future::pending()).await {
            tracing::error!(error = %err, "the metrics endpoint stopped");
        }
    });
    eprintln!("metrics: http://{bound}/metrics");
    Ok(bound)
}

/// `GET /metrics`: everything recorded so far, in Prometheus text.
fn router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                // Histograms are summarised as they are scraped, not on a timer of ours.
                handle.run_upkeep();
                ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], handle.render())
            }
        }),
    )
}
