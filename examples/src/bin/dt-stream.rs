//! Writes live DT events, one event envelope per line as the API sends it, until
//! `--count` events or Ctrl-C. No event is lost or duplicated across reconnects: gaps
//! are filled from history, or reported on standard error.
//!
//! ```sh
//! DT_SERVICE_ACCOUNT_KEY_ID=... DT_SERVICE_ACCOUNT_SECRET=... DT_SERVICE_ACCOUNT_EMAIL=... \
//!   cargo run -p examples --bin dt-stream -- --project PROJECT --type temperature
//! ```
//!
//! Without `DT_SERVICE_ACCOUNT_KEY_ID` the embedded sandbox serves the stream, and an
//! emulated device publishes a temperature every second so that there is something to
//! see; the program says so.
//!
//! With `--checkpoint FILE` the stream's position is kept in FILE, replaced atomically
//! after each event: rerun after a crash or a kill, the program first reads from history
//! what was published meanwhile, then goes on live, so every event is written once across
//! the runs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use client_core::AtomicFile;
use dt_client::{Checkpoint, Client, Error, RawEvent, StreamItem};
use examples::cli::{AsyncStdout, Failure};
use futures::TryStreamExt;
use tokio::io::AsyncWriteExt;

/// Writes live events of the selection to standard output, one event envelope per line
/// as the API sends it, until --count events (exit code 0) or Ctrl-C (exit code 130, as
/// for every example program). Pings are not printed.
///
/// After a reconnect, events missed meanwhile are read from history (for --device
/// selections and projects of up to 100 devices); a gap that cannot be filled is
/// reported on standard error. Without DT_SERVICE_ACCOUNT_KEY_ID the program streams
/// from the embedded sandbox, where an emulated device publishes a temperature every
/// second, and says so.
///
/// With --checkpoint FILE the stream's position is kept in FILE (replaced atomically
/// after each event); a rerun with the same options reads from history what was
/// published since, then goes on live, so every event is written exactly once across the
/// runs (a kill between writing an event and replacing FILE, a window of one file write,
/// writes that event again).
#[derive(Debug, Parser)]
#[command(name = "dt-stream", version)]
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
    /// Stop after this many events (in this run).
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Keep the stream's position in FILE, and resume from it when it exists.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
}

/// The checkpoint stored in `path`, if the file exists.
async fn stored_checkpoint(path: &Path) -> Result<Option<Checkpoint>, Failure> {
    match tokio::fs::read(path).await {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Failure::usage(format!(
                "{} is not a dt-stream checkpoint ({e}); remove it to start afresh",
                path.display()
            ))
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(Failure::usage(format!("cannot read {}: {err}", path.display()))),
    }
}

/// Replaces `path` with `checkpoint`, atomically.
async fn store_checkpoint(path: &Path, checkpoint: &Checkpoint) -> Result<(), Failure> {
    let text = serde_json::to_vec(checkpoint).map_err(Failure::failed)?;
    let mut file = AtomicFile::create(path).await.map_err(Failure::failed)?;
    file.write_all(&text).await.map_err(Failure::failed)?;
    file.commit().await.map_err(Failure::failed)
}

async fn stream(client: &Client, options: &Options) -> Result<u64, Failure> {
    let mut query = client
        .live_events(&options.project)
        .device_ids(options.devices.clone())
        .event_types(options.types.clone())
        .records::<RawEvent>();
    if let Some(path) = &options.checkpoint {
        if let Some(checkpoint) = stored_checkpoint(path).await? {
            eprintln!("dt-stream: resuming from {}", path.display());
            query = query.resume_from(checkpoint);
        }
    }
    let mut items = query.checkpointed();
    let mut out = AsyncStdout::new();
    let mut count = 0u64;
    // The last message skipped, should the stream end right after it.
    let mut skipped = None;
    while options.count.is_none_or(|limit| count < limit) {
        // Ctrl-C is the runner's (examples::cli): it drops this read, and a checkpoint
        // being replaced with it.
        let item = match items.try_next().await {
            // A message that does not decode: the crate says to skip it, the stream goes on.
            Err(e @ Error::Decode(_)) => {
                examples::report(
                    "dt-stream",
                    format_args!("skipped a message that does not decode: {e}"),
                );
                skipped = Some(e);
                continue;
            }
            Err(e @ Error::Config(_)) => return Err(Failure::usage(e)),
            Err(other) => return Err(Failure::failed(other)),
            Ok(Some(item)) => item,
            // A stream that ends on a skipped error ended on it.
            Ok(None) => match skipped {
                Some(e) => return Err(Failure::failed(e)),
                None => break,
            },
        };
        skipped = None;
        match &item.item {
            StreamItem::Event(event) => {
                out.write_all(format!("{}\n", event.as_str()).as_bytes())
                    .await
                    .map_err(Failure::failed)?;
                out.flush().await.map_err(Failure::failed)?;
                count += 1;
            }
            StreamItem::Gap(gap) => {
                eprintln!(
                    "dt-stream: events from {} to {} may be missing: {}",
                    gap.from, gap.to, gap.reason
                );
            }
            _ => {}
        }
        // After the event is out: a rerun goes on after it.
        if let Some(path) = &options.checkpoint {
            store_checkpoint(path, &item.checkpoint).await?;
        }
    }
    Ok(count)
}

/// In demo mode: an emulated device publishing a temperature every second.
async fn demo_publisher(client: Client, project: String) -> Result<(), String> {
    let labels = serde_json::Map::from_iter([("name".to_owned(), serde_json::json!("dt-stream demo"))]);
    let device = client
        .create_emulated_device(&project, "temperature", &labels)
        .await
        .map_err(|e| e.to_string())?;
    let id = device.id().unwrap_or_default().to_owned();
    eprintln!("dt-stream: emulated device {id} publishes a temperature every second");
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    for step in 0u64.. {
        tick.tick().await;
        let value = 20.0 + (step % 50) as f64 / 10.0;
        client
            .publish(
                &project,
                &id,
                "temperature",
                &serde_json::json!({ "value": value }),
            )
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let options: Options = examples::cli::parse();
    examples::cli::run("dt-stream", run(options)).await
}

async fn run(options: Options) -> Result<(), Failure> {
    let connection = examples::dt::connect("dt-stream").await.map_err(Failure::usage)?;
    if connection.sandbox.is_some() {
        let (client, project) = (connection.client.clone(), options.project.clone());
        tokio::spawn(async move {
            if let Err(err) = demo_publisher(client, project).await {
                eprintln!("dt-stream: the demo publisher stopped: {err}");
            }
        });
    }
    let count = stream(&connection.client, &options).await?;
    eprintln!("wrote {count} events");
    Ok(())
}
