//! The program's tracing spans to an OpenTelemetry collector over OTLP (feature `otlp`):
//! HTTP with protobuf bodies, configured by the usual variables.
//!
//! Nothing is exported unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, e.g. `http://otel-collector:4318`. The
//! exporter reads the other `OTEL_EXPORTER_OTLP_*` variables itself (headers, timeout,
//! compression), and the resource `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`;
//! the service name defaults to the program's. Spans go out in batches from a thread of
//! their own, and what is left is flushed when the program ends normally (not on
//! Ctrl-C, which exits at once).
//!
//! The spans are the SDK's (`http_request` for each request, with its method, path,
//! attempt, status and correlation id, never a query or a header) and the program's.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::registry::LookupSpan;

use crate::cli::Failure;

/// The variables that turn the export on.
pub const ENDPOINT_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
];

/// Flushes and stops the export when dropped.
#[derive(Debug)]
pub struct Flush(SdkTracerProvider);

impl Drop for Flush {
    fn drop(&mut self) {
        if let Err(err) = self.0.shutdown() {
            eprintln!("otlp: spans not all exported: {err}");
        }
    }
}

/// The `tracing` layer that exports spans over OTLP, and its [`Flush`] (keep it until
/// the end of `main`); `None` when no endpoint variable is set. A setting the exporter
/// refuses is a usage error.
pub fn layer<S>(service: &'static str) -> Result<Option<(impl tracing_subscriber::Layer<S>, Flush)>, Failure>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    if !ENDPOINT_VARS.iter().any(|name| std::env::var_os(name).is_some()) {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|err| Failure::usage(format!("OTLP exporter: {err}")))?;
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service);
    }
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer(service));
    Ok(Some((layer, Flush(provider))))
}
