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

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use dt_client::{Client, RawEvent, StreamItem};
use futures::TryStreamExt;
use tokio::io::AsyncWriteExt;

/// Writes live events of the selection to standard output, one event envelope per line
/// as the API sends it, until --count events or Ctrl-C. Pings are not printed.
///
/// After a reconnect, events missed meanwhile are read from history (for --device
/// selections and projects of up to 100 devices); a gap that cannot be filled is
/// reported on standard error. Without DT_SERVICE_ACCOUNT_KEY_ID the program streams
/// from the embedded sandbox, where an emulated device publishes a temperature every
/// second, and says so.
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
    /// Stop after this many events.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
}

async fn stream(client: &Client, options: &Options) -> Result<u64, String> {
    let mut items = client
        .live_events(&options.project)
        .device_ids(options.devices.clone())
        .event_types(options.types.clone())
        .records::<RawEvent>()
        .stream();
    let mut out = tokio::io::stdout();
    let mut count = 0u64;
    while options.count.is_none_or(|limit| count < limit) {
        let item = tokio::select! {
            item = items.try_next() => item.map_err(|e| e.to_string())?,
            _ = tokio::signal::ctrl_c() => break,
        };
        match item {
            Some(StreamItem::Event(event)) => {
                out.write_all(format!("{}\n", event.as_str()).as_bytes())
                    .await
                    .map_err(|e| e.to_string())?;
                out.flush().await.map_err(|e| e.to_string())?;
                count += 1;
            }
            Some(StreamItem::Gap(gap)) => {
                eprintln!(
                    "dt-stream: events from {} to {} may be missing: {}",
                    gap.from, gap.to, gap.reason
                );
            }
            Some(_) => {}
            None => break,
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
    let options = Options::parse();
    let connection = match examples::dt::connect("dt-stream").await {
        Ok(connection) => connection,
        Err(err) => {
            examples::report("dt-stream", &err);
            return ExitCode::from(2);
        }
    };
    if connection.sandbox.is_some() {
        let (client, project) = (connection.client.clone(), options.project.clone());
        tokio::spawn(async move {
            if let Err(err) = demo_publisher(client, project).await {
                eprintln!("dt-stream: the demo publisher stopped: {err}");
            }
        });
    }
    match stream(&connection.client, &options).await {
        Ok(count) => {
            eprintln!("wrote {count} events");
            ExitCode::SUCCESS
        }
        Err(err) => {
            examples::report("dt-stream", &err);
            ExitCode::FAILURE
        }
    }
}
