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
//!
//! With `--out FILE` the same lines go to `FILE`, which appears complete or not at all
//! (an object URL, `s3://bucket/key`, `az://container/key` or `gs://bucket/key`, too).
//! A run that is killed leaves `FILE.partial` and `FILE.state.json` (the checkpoint
//! after the last page written); run the same command line again and the export goes
//! on from there, without reading the pages already written again (apart from at most
//! one), and `FILE` ends up byte for byte what an uninterrupted run writes.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use examples::args::parse_instant;
use examples::cli::{AsyncStdout, Failure};
use examples::progress::Progress;
use examples::resume::ResumableTarget;
use futures::TryStreamExt;
use jiff::Timestamp;
use sds_client::{Checkpoint, Client, RawObservation};
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
    /// Write to FILE (atomically) instead of standard output. A killed run leaves
    /// FILE.partial and FILE.state.json: the same command line run again goes on from
    /// the last page written. An object URL (s3://bucket/key, az://container/key,
    /// gs://bucket/key; settings from the store's usual variables) keeps each page as a
    /// part KEY.parts/NNNNNNNN and the checkpoint as KEY.state.json beside the object,
    /// which appears when the export is complete.
    #[arg(long, value_name = "FILE|URL")]
    out: Option<String>,
    /// Also write the observations as Parquet beside --out, once the read is complete
    /// and before --out appears: OUT.parquet (sds_client::columns' schemas, one per
    /// --api; the whole export is held in memory for it).
    #[arg(long, requires = "out")]
    parquet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Api {
    /// GET observations, page by page.
    Observations,
    /// POST data/observations, continued from the last timestamp.
    Data,
}

/// Where the lines go: standard output, or a resumable file.
enum Sink {
    Stdout(BufWriter<AsyncStdout>),
    File(ResumableTarget),
}

impl Sink {
    /// Writes one page's lines; a file commits them with the checkpoint after the page.
    async fn page(&mut self, lines: &[u8], checkpoint: Option<&Checkpoint>) -> Result<(), String> {
        match self {
            Sink::Stdout(out) => out.write_all(lines).await.map_err(|e| e.to_string()),
            Sink::File(out) => {
                let checkpoint = checkpoint.ok_or("the read's pages carry no checkpoint")?;
                out.commit(lines, checkpoint).await.map_err(|e| e.to_string())
            }
        }
    }

    async fn finish(self) -> Result<(), String> {
        match self {
            Sink::Stdout(mut out) => out.flush().await.map_err(|e| e.to_string()),
            Sink::File(out) => out.finish().await.map_err(|e| e.to_string()),
        }
    }
}

async fn export(client: &Client, options: &Options) -> Result<u64, Failure> {
    if options.from >= options.to {
        return Err(Failure::usage(format!(
            "--from {} is not before --to {}",
            options.from, options.to
        )));
    }
    let sensor = examples::sds::find_sensor(client, &options.itwin, &options.sensor).await?;
    let choice = sensor
        .pick(&options.metric, Some(&options.unit))
        .map_err(|e| Failure::from(e.to_string()))?;
    if options.api == Api::Data {
        let default_unit = choice.metric.default_unit.as_deref().unwrap_or_default();
        if default_unit != options.unit {
            return Err(Failure::usage(format!(
                "the data API sends {} in its default unit, {default_unit}: ask for --unit {default_unit}",
                options.metric
            )));
        }
    }
    let (mut sink, resume) = match &options.out {
        None => (Sink::Stdout(BufWriter::new(AsyncStdout::new())), None),
        Some(path) => {
            // What the lines depend on beyond the read's checkpoint (the data query's
            // checkpoint does not name the metric).
            let output_options = format!(
                "--api {} --metric {} --unit {}",
                format!("{:?}", options.api).to_lowercase(),
                options.metric,
                options.unit
            );
            let (output, resume) = ResumableTarget::open(path, &output_options).await.map_err(|e| {
                let message = format!("{path}: {e}");
                // A state of other options, or one that does not fit its partial
                // file, is the command line's to settle.
                match e.kind() {
                    std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
                        Failure::usage(message)
                    }
                    _ => Failure::failed(message),
                }
            })?;
            (Sink::File(output), resume)
        }
    };
    // A state file of another command line cannot be resumed: say how to start again.
    let resumed = resume.is_some();
    let explain = |err: sds_client::Error| match (&err, &options.out) {
        (sds_client::Error::Config(_), Some(path)) if resumed => Failure::usage(format!(
            "{}: remove {path}.state.json and {path}.partial (an object's {path}.parts/) to start again",
            examples::sds::explain(&err),
        )),
        _ => Failure::from(examples::sds::explain(&err)),
    };
    if let Some(checkpoint) = &resume {
        eprintln!(
            "sds-export: resuming {} from {}",
            options.out.as_deref().unwrap_or("-"),
            serde_json::to_string(&checkpoint.position).unwrap_or_default()
        );
    }
    let progress = Progress::over_range(options.from, options.to);
    let mut count = 0u64;
    let mut lines = Vec::new();
    match options.api {
        Api::Observations => {
            let mut query = client
                .observations(&options.itwin, &options.sensor)
                .selection(&choice)
                .range(options.from, options.to)
                .records::<RawObservation>();
            if let Some(checkpoint) = resume {
                query = query.resume_from(checkpoint);
            }
            let mut pages = query.pages();
            while let Some(page) = pages.try_next().await.map_err(explain)? {
                lines.clear();
                for observation in &page.items {
                    progress.record(Some(observation.timestamp()));
                    lines.extend_from_slice(observation.as_str().as_bytes());
                    lines.push(b'\n');
                    count += 1;
                }
                sink.page(&lines, page.checkpoint.as_ref()).await?;
            }
        }
        Api::Data => {
            let mut query = client
                .query_data(&options.sensor)
                .range(options.from, options.to)
                .values_as::<BTreeMap<String, Box<RawValue>>>();
            if let Some(checkpoint) = resume {
                query = query.resume_from(checkpoint);
            }
            let mut pages = query.pages();
            while let Some(page) = pages.try_next().await.map_err(explain)? {
                lines.clear();
                for point in &page.items {
                    progress.record(Some(point.timestamp));
                    // A timestamp without this metric holds nothing to export.
                    let Some(value) = point.values.get(&options.metric) else {
                        continue;
                    };
                    let key = serde_json::to_string(&point.timestamp_text).map_err(|e| e.to_string())?;
                    lines.extend_from_slice(
                        format!("{{\"timestamp\":{key},\"value\":{}}}\n", value.get()).as_bytes(),
                    );
                    count += 1;
                }
                sink.page(&lines, page.checkpoint.as_ref()).await?;
            }
        }
    }
    if let (Sink::File(output), true, Some(target)) = (&sink, options.parquet, &options.out) {
        let lines = output.read_committed().await.map_err(|e| e.to_string())?;
        let api = options.api;
        let rows = examples::parquet_beside::write_beside(target, lines, move |lines, parquet| {
            use sds_client::columns::{DEFAULT_BATCH_ROWS, parquet_from_stored, parquet_from_stored_data};
            match api {
                Api::Observations => parquet_from_stored(lines, DEFAULT_BATCH_ROWS, parquet),
                Api::Data => parquet_from_stored_data(lines, DEFAULT_BATCH_ROWS, parquet),
            }
            .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("--parquet: {e}"))?;
        eprintln!(
            "wrote {rows} rows to {target}{}",
            examples::parquet_beside::PARQUET_SUFFIX
        );
    }
    sink.finish().await?;
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
    let options: Options = examples::cli::parse();
    examples::cli::run("sds-export", async move {
        let connection = examples::sds::connect("sds-export")
            .await
            .map_err(Failure::usage)?;
        let count = export(&connection.client, &options).await?;
        eprintln!(
            "exported {count} observations of {} {} in {} from {} to {}",
            options.sensor, options.metric, options.unit, options.from, options.to
        );
        Ok(())
    })
    .await
}
