//! Writes every historical DT event of a selection, one event envelope per line exactly
//! as the API sends it, over all pages.
//!
//! ```sh
//! DT_SERVICE_ACCOUNT_KEY_ID=... DT_SERVICE_ACCOUNT_SECRET=... DT_SERVICE_ACCOUNT_EMAIL=... \
//!   cargo run -p examples --bin dt-events -- --project PROJECT --type temperature \
//!   --from 2026-01-01T00:00:00Z --to 2026-01-02T00:00:00Z > events.ndjson
//! ```
//!
//! Without `--device`, every device of the project (one after the other, each in the
//! API's order). Without `DT_SERVICE_ACCOUNT_KEY_ID` the embedded sandbox serves the
//! request and the program says so.

use std::process::ExitCode;

use clap::Parser;
use dt_client::Client;
use examples::args::parse_instant;
use examples::cli::{AsyncStdout, Failure};
use examples::progress::Progress;
use futures::TryStreamExt;
use jiff::Timestamp;
use tokio::io::{AsyncWriteExt, BufWriter};

/// Writes every historical event of the selection to standard output, one event envelope
/// per line as the API sends it, over all pages.
///
/// Without --device, every device of the project. Progress goes to standard error when it
/// is a terminal. Without DT_SERVICE_ACCOUNT_KEY_ID the program reads the embedded
/// sandbox (project sandbox-project, 120 devices, one event each every 15 minutes since
/// 2025) and says so.
#[derive(Debug, Parser)]
#[command(name = "dt-events", version)]
struct Options {
    /// The project id.
    #[arg(long, value_name = "P")]
    project: String,
    /// A device id (repeatable; none means every device of the project).
    #[arg(long = "device", value_name = "D")]
    devices: Vec<String>,
    /// An event type (repeatable; none means every type).
    #[arg(long = "type", value_name = "T")]
    types: Vec<String>,
    /// The start of the range: RFC 3339 or epoch seconds.
    #[arg(long, value_parser = parse_instant)]
    from: Timestamp,
    /// The end of the range, exclusive: RFC 3339 or epoch seconds.
    #[arg(long, value_parser = parse_instant)]
    to: Timestamp,
}

async fn export(client: &Client, options: &Options) -> Result<u64, Failure> {
    if options.from >= options.to {
        return Err(Failure::usage(format!(
            "--from {} is not before --to {}",
            options.from, options.to
        )));
    }
    let devices = if options.devices.is_empty() {
        let devices: Vec<_> = client
            .devices(&options.project)
            .stream()
            .try_collect()
            .await
            .map_err(|e| e.to_string())?;
        devices.iter().filter_map(|d| d.id().map(str::to_owned)).collect()
    } else {
        options.devices.clone()
    };
    let progress = Progress::over_steps(devices.len() as u64, "devices");
    let mut out = BufWriter::new(AsyncStdout::new());
    let mut count = 0u64;
    for device in &devices {
        let written = client
            .events(&options.project, device)
            .event_types(options.types.clone())
            .range(options.from, options.to)
            .copy_to(&mut out)
            .await
            .map_err(|e| format!("device {device}: {e}"))?;
        count += written.records;
        progress.step(device);
    }
    out.flush().await.map_err(Failure::failed)?;
    progress.finish();
    Ok(count)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options: Options = examples::cli::parse();
    examples::cli::run("dt-events", async move {
        let connection = examples::dt::connect("dt-events").await.map_err(Failure::usage)?;
        let count = export(&connection.client, &options).await?;
        eprintln!("wrote {count} events from {} to {}", options.from, options.to);
        Ok(())
    })
    .await
}
