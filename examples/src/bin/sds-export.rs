//! Exports every observation of one metric of one Sensor Data sensor in a range, one
//! JSON object per line, as the API sends it.
//!
//! ```sh
//! SDS_CLIENT_ID=... SDS_CLIENT_SECRET=... cargo run -p examples --bin sds-export -- \
//!   --itwin 28ba3a8e-bf86-47b6-a37c-6600d9e2e328 --sensor sensor-1 --metric T --unit C \
//!   --from 2025-01-01T00:00:00Z --to 2025-02-01T00:00:00Z > january.ndjson
//! ```
//!
//! With the document's API (the default), each line is an observation object exactly as
//! the server sent it (`{"timestamp":1735689600000,"value":4.2}`), over every page, in
//! time order, each once. With `--api data` (today's query API, which sends each
//! metric's default unit), each line is `{"timestamp":"<key as sent>","value":<number as
//! sent>}`. Without `SDS_CLIENT_ID` or `SDS_ACCESS_TOKEN` the embedded sandbox serves
//! the request and the program says so.

use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use examples::args::parse_instant;
use examples::progress::Progress;
use futures::TryStreamExt;
use jiff::Timestamp;
use sds_client::{Client, RawObservation};
use serde_json::value::RawValue;
use tokio::io::{AsyncWriteExt, BufWriter};

/// Exports every observation of one metric of one Sensor Data sensor in [--from, --to)
/// to standard output, one JSON object per line as the API sends it, over all pages, in
/// time order without duplicates.
///
/// The sensor, metric and unit are checked against the iTwin's sensors first. Progress
/// goes to standard error when it is a terminal. Without SDS_CLIENT_ID or
/// SDS_ACCESS_TOKEN the program exports from the embedded sandbox (iTwin
/// 28ba3a8e-bf86-47b6-a37c-6600d9e2e328, sensors sensor-1 to sensor-3, metrics f in Hz or
/// digits and T in C, F or K, 2025 and 2026 at one value a minute) and says so.
#[derive(Debug, Parser)]
#[command(name = "sds-export", version)]
struct Options {
    /// The iTwin id.
    #[arg(long, value_name = "ID")]
    itwin: String,
    /// The sensor id.
    #[arg(long, value_name = "ID")]
    sensor: String,
    /// The metric, a key of the sensor's metricsAndUnits.
    #[arg(long, value_name = "M")]
    metric: String,
    /// The unit, one of the metric's units.
    #[arg(long, value_name = "U")]
    unit: String,
    /// The start of the range (included): RFC 3339 or epoch seconds.
    #[arg(long, value_parser = parse_instant)]
    from: Timestamp,
    /// The end of the range (excluded): RFC 3339 or epoch seconds.
    #[arg(long, value_parser = parse_instant)]
    to: Timestamp,
    /// Which API to read: the document's paged observations, or today's data query.
    #[arg(long, value_enum, default_value_t = Api::Observations)]
    api: Api,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Api {
    /// GET observations, page by page.
    Observations,
    /// POST data/observations, continued from the last timestamp.
    Data,
}

async fn export(client: &Client, options: &Options) -> Result<u64, String> {
    if options.from >= options.to {
        return Err(format!(
            "--from {} is not before --to {}",
            options.from, options.to
        ));
    }
    let sensor = examples::sds::find_sensor(client, &options.itwin, &options.sensor).await?;
    let choice = sensor
        .pick(&options.metric, Some(&options.unit))
        .map_err(|e| e.to_string())?;
    let progress = Progress::over_range(options.from, options.to);
    let mut out = BufWriter::new(tokio::io::stdout());
    let mut count = 0u64;
    match options.api {
        Api::Observations => {
            let mut stream = client
                .observations(&options.itwin, &options.sensor)
                .selection(&choice)
                .range(options.from, options.to)
                .records::<RawObservation>()
                .stream();
            while let Some(observation) = stream.try_next().await.map_err(|e| examples::sds::explain(&e))? {
                progress.record(Some(observation.timestamp()));
                out.write_all(observation.as_str().as_bytes())
                    .await
                    .map_err(|e| e.to_string())?;
                out.write_all(b"\n").await.map_err(|e| e.to_string())?;
                count += 1;
            }
        }
        Api::Data => {
            let default_unit = choice.metric.default_unit.as_deref().unwrap_or_default();
            if default_unit != options.unit {
                return Err(format!(
                    "the data API sends {} in its default unit, {default_unit}: ask for --unit {default_unit}",
                    options.metric
                ));
            }
            let mut stream = client
                .query_data(&options.sensor)
                .range(options.from, options.to)
                .values_as::<std::collections::BTreeMap<String, Box<RawValue>>>()
                .stream();
            while let Some(point) = stream.try_next().await.map_err(|e| examples::sds::explain(&e))? {
                progress.record(Some(point.timestamp));
                // A timestamp without this metric holds nothing to export.
                let Some(value) = point.values.get(&options.metric) else {
                    continue;
                };
                let key = serde_json::to_string(&point.timestamp_text).map_err(|e| e.to_string())?;
                let line = format!("{{\"timestamp\":{key},\"value\":{}}}\n", value.get());
                out.write_all(line.as_bytes()).await.map_err(|e| e.to_string())?;
                count += 1;
            }
        }
    }
    out.flush().await.map_err(|e| e.to_string())?;
    progress.finish();
    Ok(count)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "sds_client=info,client_core=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let options = Options::parse();
    let connection = match examples::sds::connect("sds-export").await {
        Ok(connection) => connection,
        Err(err) => {
            examples::report("sds-export", &err);
            return ExitCode::from(2);
        }
    };
    match export(&connection.client, &options).await {
        Ok(count) => {
            eprintln!(
                "exported {count} observations of {} {} in {} from {} to {}",
                options.sensor, options.metric, options.unit, options.from, options.to
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            examples::report("sds-export", &err);
            ExitCode::FAILURE
        }
    }
}
