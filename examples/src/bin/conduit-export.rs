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
//! `--format ndjson|csv` (default ndjson), `--out FILE` (written atomically; default
//! standard output), `--min-interval SECONDS` (default 15; 0 turns the client throttle
//! off).
//!
//! Each request's window and datapoint count is logged to standard error. The exit code
//! is 0 only if the export is complete; a failed export leaves no `--out` file. Without
//! `CONDUIT_TOKEN` the program starts the embedded sandbox and says so.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use client_core::AtomicFile;
use conduit_client::{Client, ClientBuilder, Datapoint, Throttle, Tier};
use examples::args::parse_instant;
use examples::progress::Progress;
use futures::TryStreamExt;
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};

/// Exports every Conduit datapoint created in a range, of any length, to NDJSON or CSV.
///
/// Each request's window and datapoint count is logged to standard error, with a
/// progress line when standard error is a terminal. The exit code is 0 only if the
/// export is complete; a failed export leaves no --out file. Without CONDUIT_TOKEN the
/// program exports from the embedded sandbox and says so.
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
    /// Write to this file, atomically (default: standard output).
    #[arg(long, value_name = "FILE")]
    out: Option<std::path::PathBuf>,
    /// Seconds between requests; 0 turns the client throttle off. Default: 15 (0.2 on the
    /// sandbox).
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

const CSV_HEADER: &str =
    "val_date,dev_netid,dev_chid,val_raw,val_calibrated,val_type,val_description,dev_tag,dev_site\n";

fn csv_row(point: &Datapoint) -> String {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let number = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let row = [
        point.val_date.map(|t| t.to_string()).unwrap_or_default(),
        text(&point.dev_netid),
        point.dev_chid.map(|c| c.to_string()).unwrap_or_default(),
        number(point.val_raw),
        number(point.val_calibrated),
        text(&point.val_type),
        text(&point.val_description),
        text(&point.dev_tag),
        text(&point.dev_site),
    ];
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(&row);
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

async fn export(
    client: &Client,
    options: &Options,
    out: &mut (dyn AsyncWrite + Unpin + Send),
) -> Result<u64, String> {
    let mut out = BufWriter::new(out);
    if options.format == Format::Csv {
        out.write_all(CSV_HEADER.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
    }
    let (from, to) = options.range();
    let mut stream = client
        .datapoints()
        .ids(options.ids.clone())
        .channels(options.channels.clone())
        .range(from, to)
        .stream();
    let mut count = 0u64;
    let progress = Progress::over_range(from, to);
    while let Some(point) = stream.try_next().await.map_err(|e| e.to_string())? {
        progress.record(point.val_date);
        let line = match options.format {
            Format::Ndjson => serde_json::to_string(&point).map_err(|e| e.to_string())? + "\n",
            Format::Csv => csv_row(&point),
        };
        out.write_all(line.as_bytes()).await.map_err(|e| e.to_string())?;
        count += 1;
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
                .unwrap_or_else(|_| "conduit_client=info,client_core=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut options = Options::parse();
    // "Now" once, so the range logged is the range exported.
    let (from, to) = options.range();
    (options.from, options.to) = (Some(from), Some(to));
    // Without credentials, the embedded sandbox stands in for the API.
    let mut _sandbox = None;
    let token = std::env::var("CONDUIT_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    let client = if let Some(token) = token {
        // The same variables as `Client::from_env`, plus this program's interval.
        let mut builder = paced(
            Client::builder().token(SecretString::from(token)),
            options.min_interval,
        );
        if let Some(url) = std::env::var("CONDUIT_BASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
        {
            builder = builder.base_url(url);
        }
        builder.build()
    } else {
        let sim = match sandbox::conduit::Sandbox::start(sandbox::conduit::Config::default()).await {
            Ok(sim) => sim,
            Err(err) => {
                eprintln!("conduit-export: cannot start the sandbox: {err}");
                return ExitCode::FAILURE;
            }
        };
        if options.min_interval.is_none() {
            options.min_interval = Some(Duration::from_millis(200));
        }
        eprintln!(
            "CONDUIT_TOKEN is not set: exporting from the embedded sandbox at {} with a {:?} interval.",
            sim.base_url(),
            options.min_interval.unwrap_or_default()
        );
        let client = paced(
            Client::builder()
                .base_url(sim.base_url())
                .token(SecretString::from(sim.token().to_owned())),
            options.min_interval,
        )
        .build();
        _sandbox = Some(sim);
        client
    };
    let client = match client {
        Ok(client) => client,
        Err(err) => {
            examples::report("conduit-export", &err);
            return ExitCode::from(2);
        }
    };
    let result = match &options.out {
        Some(path) => match AtomicFile::create(path).await {
            Ok(mut file) => match export(&client, &options, &mut file).await {
                Ok(count) => file.commit().await.map(|()| count).map_err(|e| e.to_string()),
                Err(err) => {
                    file.abort().await;
                    Err(err)
                }
            },
            Err(err) => Err(err.to_string()),
        },
        None => export(&client, &options, &mut tokio::io::stdout()).await,
    };
    match result {
        Ok(count) => {
            let (from, to) = options.range();
            eprintln!("exported {count} datapoints from {from} to {to}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("conduit-export: the export is incomplete: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The client-side pace: one request per `interval`, or none (`--min-interval 0`).
fn paced(builder: ClientBuilder, interval: Option<Duration>) -> ClientBuilder {
    match interval.filter(|i| !i.is_zero()) {
        Some(interval) => builder.throttle(Throttle::min_interval(interval)),
        None => builder.tier(Tier::Unlimited),
    }
}
