//! Exports every Conduit datapoint of a range, of any length, to NDJSON or CSV.
//!
//! ```sh
//! CONDUIT_TOKEN=... cargo run -p examples --bin conduit-export -- \
//!   --id 70B3D54990DC01DA --ch 1 --from 2026-01-01T00:00:00Z --to 2026-04-01T00:00:00Z \
//!   --format csv --out export.csv
//! ```
//!
//! Options (`--help` lists them): `--id NETID` and `--ch N` (repeatable; none means
//! all), `--from`/`--to` (RFC 3339 or epoch seconds; default the last 24 hours),
//! `--format ndjson|csv` (default ndjson), `--out FILE|URL` (a file, or an object on
//! S3, Azure Blob or Google Cloud Storage; appears complete or not at all; a killed
//! export resumes when rerun with the same command line; default standard output), `--min-interval SECONDS` (default: the tier's, `CONDUIT_TIER` or 15 s; 0
//! turns the client throttle off).
//!
//! NDJSON lines are the datapoints exactly as the server sent them ([`RawDatapoint`]):
//! nothing is re-encoded. CSV has a column for each common attribute and keeps every
//! other attribute, as sent, in a JSON column.
//!
//! Each request's window and datapoint count is logged to standard error. The exit code
//! is 0 only if the export is complete; a failed export leaves no `--out` file, only
//! `FILE.partial` and `FILE.state.json` (the windows written and the read's checkpoint,
//! committed after each window), from which a rerun of the same command goes on: the
//! windows already written are not asked for again, and the final file is the one an
//! uninterrupted run writes, byte for byte. Without `CONDUIT_TOKEN` the program starts
//! the embedded sandbox and says so.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use conduit_client::jiff::{SignedDuration, Timestamp};
use conduit_client::prelude::*;
use conduit_client::serde_json::{self, value::RawValue};
use conduit_client::{Client, ClientBuilder, RawDatapoint, Throttle, Tier};
use examples::args::parse_instant;
use examples::cli::{AsyncStdout, Failure};
use examples::progress::Progress;
use examples::resume::ResumableTarget;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};

/// Exports every Conduit datapoint created in a range, of any length, to NDJSON or CSV.
///
/// NDJSON: one datapoint per line, exactly as the server sent it (never re-encoded).
/// CSV: the columns val_date (RFC 3339, whole seconds), dev_netid, dev_chid, val_raw,
/// val_calibrated, val_type, val_description, dev_tag and dev_site (each attribute as
/// sent: a string's text, any other value's JSON text), then other_attributes: every
/// other attribute of the datapoint, unknown ones included, as one JSON object sorted by
/// name, values as sent, so nothing is dropped (a val_date the server wrote otherwise
/// than as whole epoch seconds is kept there as sent too).
///
/// The CSV column rule is fixed, whatever the server sends: the nine columns above in
/// that order, then other_attributes; a column whose attribute a datapoint lacks is
/// empty, and an attribute without a column (unknown ones included) is never dropped.
///
/// With --out FILE the export is resumable: after each window, its lines are appended to
/// FILE.partial and the read's checkpoint is saved in FILE.state.json. If the program is
/// killed or fails, rerun the same command line (same --id, --ch, --from, --to,
/// --format; give --from and --to, since the default range moves with the clock): it
/// goes on after the last saved window, and FILE appears, byte for byte the file of an
/// uninterrupted run, with FILE.partial and FILE.state.json removed. Delete both to
/// start again.
///
/// --out also takes an object: s3://bucket/key, az://container/key, gs://bucket/key
/// (settings from the store's AWS_*, AZURE_* or GOOGLE_* variables) or file:///path.
/// There, each window's lines are a part object KEY.parts/NNNNNNNN and the checkpoint
/// is KEY.state.json, beside the object; a rerun resumes from them the same way, and the
/// object appears complete (the parts copied into it) only when the export is.
///
/// Each request's window and datapoint count is logged to standard error, with a
/// progress line when standard error is a terminal. The exit code is 0 only if the
/// export is complete (1 if it failed, 2 for a usage or configuration error, a resume
/// state of another command line included); a failed export leaves no --out file.
/// Without CONDUIT_TOKEN the program exports from the embedded sandbox and says so.
#[derive(Debug, Parser)]
#[command(name = "conduit-export", version)]
struct Options {
    /// A device network id (repeatable; none means every device).
    #[arg(long = "id", value_name = "NETID")]
    ids: Vec<String>,
    /// A channel id (repeatable; none means every channel).
    #[arg(long = "ch", value_name = "N")]
    channels: Vec<i64>,
    /// The start of the range (creation time): RFC 3339 or epoch seconds. Default: 24
    /// hours before --to.
    #[arg(long, value_parser = parse_instant, requires = "to")]
    from: Option<Timestamp>,
    /// The end of the range (excluded): RFC 3339 or epoch seconds. Default: now.
    #[arg(long, value_parser = parse_instant, requires = "from")]
    to: Option<Timestamp>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    format: Format,
    /// Write to this file or object (s3://, az://, gs://, file://): it appears complete
    /// or not at all, and a killed export resumes when rerun with the same command line
    /// (default: standard output).
    #[arg(long, value_name = "FILE|URL")]
    out: Option<String>,
    /// Also write the datapoints as Parquet beside --out, once the read is complete and
    /// before --out appears: OUT.parquet (conduit_client::columns' schema; needs --out
    /// and --format ndjson; the whole export is held in memory for it).
    #[arg(long, requires = "out")]
    parquet: bool,
    /// Seconds between requests; 0 turns the client throttle off. Default: the tier's
    /// (CONDUIT_TIER: standard 15, 10s, 1s or unlimited; standard when unset), 0.2 on the
    /// sandbox.
    #[arg(long = "min-interval", value_name = "SECONDS", value_parser = parse_interval)]
    min_interval: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Ndjson,
    Csv,
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text.parse().map_err(|_| format!("`{text}` is not a number"))?;
    if !(0.0..=86_400.0).contains(&seconds) {
        return Err("it must be between 0 and 86400 seconds".into());
    }
    Ok(Duration::from_secs_f64(seconds))
}

impl Options {
    fn range(&self) -> (Timestamp, Timestamp) {
        let to = self.to.unwrap_or_else(Timestamp::now);
        (self.from.unwrap_or(to - SignedDuration::from_hours(24)), to)
    }
}

/// The attributes with a column of their own, after `val_date`.
const COLUMNS: [&str; 8] = [
    "dev_netid",
    "dev_chid",
    "val_raw",
    "val_calibrated",
    "val_type",
    "val_description",
    "dev_tag",
    "dev_site",
];

/// The header row: `val_date`, the columns, `other_attributes`.
fn csv_header() -> String {
    let names: Vec<&str> = std::iter::once("val_date")
        .chain(COLUMNS)
        .chain(["other_attributes"])
        .collect();
    names.join(",") + "\n"
}

/// One CSV row: `val_date` as an instant, each column's attribute as sent (a string's
/// text, a number's digits), and every other attribute in one JSON object.
fn csv_row(point: &RawDatapoint) -> Result<String, String> {
    let mut attributes: BTreeMap<String, Box<RawValue>> = point.decode().map_err(|e| e.to_string())?;
    // val_date written otherwise than as whole epoch seconds (text, a fraction) is also
    // kept as sent, in other_attributes: the column alone would lose it.
    if let (Some(raw), Some(at)) = (attributes.get("val_date"), point.val_date())
        && raw.get() == at.as_second().to_string()
    {
        attributes.remove("val_date");
    }
    if attributes.get("val_date").is_some_and(|raw| raw.get() == "null") {
        attributes.remove("val_date");
    }
    let mut row = vec![point.val_date().map(|t| t.to_string()).unwrap_or_default()];
    for name in COLUMNS {
        row.push(
            attributes
                .remove(name)
                .map(|value| cell(&value))
                .unwrap_or_default(),
        );
    }
    row.push(serde_json::to_string(&attributes).map_err(|e| e.to_string())?);
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    writer.write_record(&row).map_err(|e| e.to_string())?;
    let bytes = writer.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// A string's text, nothing for null, any other value's JSON text as sent.
fn cell(value: &RawValue) -> String {
    match serde_json::from_str::<Option<String>>(value.get()) {
        Ok(text) => text.unwrap_or_default(),
        Err(_) => value.get().to_owned(),
    }
}

/// A client error: a configuration one (a resume state of another command line) is
/// exit code 2, anything else 1.
fn client_failure(error: conduit_client::Error) -> Failure {
    if matches!(error, conduit_client::ClientError::Config(_)) {
        Failure::usage(error)
    } else {
        Failure::failed(error)
    }
}

/// The read the options ask for, as the server's text.
fn query(client: &Client, options: &Options) -> conduit_client::DatapointsQuery<RawDatapoint> {
    let (from, to) = options.range();
    client
        .datapoints()
        .ids(options.ids.clone())
        .channels(options.channels.clone())
        .range(from, to)
        .records::<RawDatapoint>()
}

/// One window's lines in the chosen format.
fn lines(options: &Options, points: &[RawDatapoint], progress: &Progress) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    for point in points {
        progress.record(point.val_date());
        match options.format {
            Format::Ndjson => {
                bytes.extend_from_slice(point.as_str().as_bytes());
                bytes.push(b'\n');
            }
            Format::Csv => bytes.extend_from_slice(csv_row(point).map_err(Failure::failed)?.as_bytes()),
        }
    }
    Ok(bytes)
}

/// Exports to standard output (or any writer), window by window.
async fn export(
    client: &Client,
    options: &Options,
    out: &mut (dyn AsyncWrite + Unpin + Send),
) -> Result<u64, Failure> {
    let mut out = BufWriter::new(out);
    if options.format == Format::Csv {
        out.write_all(csv_header().as_bytes())
            .await
            .map_err(Failure::failed)?;
    }
    let (from, to) = options.range();
    let progress = Progress::over_range(from, to);
    let mut windows = query(client, options).pages();
    let mut count = 0u64;
    while let Some(window) = windows.try_next().await.map_err(client_failure)? {
        out.write_all(&lines(options, &window.items, &progress)?)
            .await
            .map_err(Failure::failed)?;
        count += window.items.len() as u64;
    }
    out.flush().await.map_err(Failure::failed)?;
    progress.finish();
    Ok(count)
}

/// Exports to `path`, resumably: each window's lines and the checkpoint after them are
/// committed together, and a rerun goes on from the last commit.
async fn export_to_file(client: &Client, options: &Options, path: &str) -> Result<u64, Failure> {
    // The format is the one output option the read's checkpoint does not name.
    let output_options = format!("--format {}", format!("{:?}", options.format).to_lowercase());
    let (mut output, resume) = ResumableTarget::open(path, &output_options)
        .await
        .map_err(Failure::usage)?;
    let mut read = query(client, options);
    // The CSV header goes with the first window of the first run.
    let mut header = match (&resume, options.format) {
        (None, Format::Csv) => csv_header().into_bytes(),
        _ => Vec::new(),
    };
    if let Some(checkpoint) = resume {
        eprintln!(
            "resuming the export into {} after {} bytes written by an earlier run",
            path,
            output.committed()
        );
        read = read.resume_from(checkpoint);
    }
    let (from, to) = options.range();
    let progress = Progress::over_range(from, to);
    let mut windows = read.pages();
    let mut count = 0u64;
    let mut last = None;
    while let Some(window) = windows.try_next().await.map_err(client_failure)? {
        let mut bytes = std::mem::take(&mut header);
        bytes.extend(lines(options, &window.items, &progress)?);
        let checkpoint = window
            .checkpoint
            .ok_or_else(|| Failure::failed("a window came without its checkpoint"))?;
        output
            .commit(&bytes, &checkpoint)
            .await
            .map_err(Failure::failed)?;
        count += window.items.len() as u64;
        last = Some(checkpoint);
    }
    if !header.is_empty()
        && let Some(checkpoint) = last
    {
        output
            .commit(&header, &checkpoint)
            .await
            .map_err(Failure::failed)?;
    }
    if options.parquet {
        let lines = output.read_committed().await.map_err(Failure::failed)?;
        let rows = examples::parquet_beside::write_beside(path, lines, |lines, parquet| {
            conduit_client::columns::parquet_from_stored(
                lines,
                conduit_client::columns::DEFAULT_BATCH_ROWS,
                parquet,
            )
            .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| Failure::failed(format!("--parquet: {e}")))?;
        eprintln!(
            "wrote {rows} rows to {path}{}",
            examples::parquet_beside::PARQUET_SUFFIX
        );
    }
    output.finish().await.map_err(Failure::failed)?;
    progress.finish();
    Ok(count)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "conduit_client=info,client_core=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let options: Options = examples::cli::parse();
    examples::cli::run("conduit-export", run(options)).await
}

async fn run(mut options: Options) -> Result<(), Failure> {
    if options.parquet && options.format != Format::Ndjson {
        return Err(Failure::usage(
            "--parquet reads the NDJSON lines of --out: give --format ndjson",
        ));
    }
    // "Now" once, so the range logged is the range exported.
    let (from, to) = options.range();
    (options.from, options.to) = (Some(from), Some(to));
    // Without credentials, the embedded sandbox stands in for the API.
    let mut _sandbox = None;
    let token = std::env::var(conduit_client::env::TOKEN)
        .ok()
        .filter(|t| !t.trim().is_empty());
    let client = if token.is_some() {
        // The variables of `Client::from_env`, plus this program's interval.
        Client::builder()
            .vars(|name| std::env::var(name).ok())
            .and_then(|builder| paced(builder, options.min_interval).build())
    } else {
        let sim = sandbox::conduit::Sandbox::start(sandbox::conduit::Config::default())
            .await
            .map_err(|err| Failure::failed(format!("cannot start the sandbox: {err}")))?;
        if options.min_interval.is_none() {
            options.min_interval = Some(Duration::from_millis(200));
        }
        eprintln!(
            "CONDUIT_TOKEN is not set: exporting from the embedded sandbox at {} with a {:?} interval.",
            sim.base_url(),
            options.min_interval.unwrap_or_default()
        );
        let client = Client::builder()
            .vars(sandbox::env_lookup(&sim.env_vars()))
            .and_then(|builder| paced(builder, options.min_interval).build());
        _sandbox = Some(sim);
        client
    };
    let client = client.map_err(Failure::usage)?;
    let result = match &options.out {
        Some(path) => export_to_file(&client, &options, path).await,
        None => export(&client, &options, &mut AsyncStdout::new()).await,
    };
    let count = result.map_err(|failure| match failure.code() {
        examples::cli::FAILED => Failure::failed(format!("the export is incomplete: {}", failure.message())),
        _ => failure,
    })?;
    let (from, to) = options.range();
    eprintln!("exported {count} datapoints from {from} to {to}");
    Ok(())
}

/// The client-side pace: one request per `interval`, none (`--min-interval 0`), or the
/// tier's when not given.
fn paced(builder: ClientBuilder, interval: Option<Duration>) -> ClientBuilder {
    match interval {
        None => builder,
        Some(interval) if interval.is_zero() => builder.tier(Tier::Unlimited),
        Some(interval) => builder.throttle(Throttle::min_interval(interval)),
    }
}
