//! Finds the events a DT data connector's receiver lacks: every event of the range that
//! history holds, in the connector's scope, and that is not among the received pushes,
//! printed as the push body the connector would have sent, one per line.
//!
//! ```sh
//! DT_SERVICE_ACCOUNT_KEY_ID=... DT_SERVICE_ACCOUNT_SECRET=... DT_SERVICE_ACCOUNT_EMAIL=... \
//!   cargo run -p examples --bin dt-reconcile -- --project PROJECT --connector CONNECTOR \
//!   --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z received.ndjson > missing.ndjson
//! ```
//!
//! `received.ndjson` is what `dt-receiver` wrote: one push body per line. Without
//! `DT_SERVICE_ACCOUNT_KEY_ID` it runs a demo on the embedded sandbox: a connector named
//! after `--connector`, forwarding temperature events with the label `name`, is created
//! there and reconciled (nothing was pushed to it, so everything in the range that the
//! file lacks is missing).

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use dt_client::{Client, ConnectorUpdate, NewDataConnector, ReceivedIds, ReconcileSummary};
use examples::args::parse_instant;
use examples::cli::{AsyncStdout, Failure};
use examples::progress::Progress;
use futures::TryStreamExt;
use jiff::Timestamp;
use tokio::io::{AsyncWriteExt, BufWriter};

/// Prints every event of the range that DT's history holds, in the connector's scope
/// (its event types; its label keys in each body), and that RECEIVED lacks: one push
/// body per line ({"event":..,"labels":..,"metadata":..}), in time order, each event
/// once, ready for the handler that takes real pushes.
///
/// RECEIVED is a file of push bodies, one per line, as dt-receiver writes them (`-` for
/// standard input); several files count together. A summary (received, in history,
/// missing) goes to standard error.
///
/// Stopped before the end (killed, say), run it again with what its output held as one
/// more RECEIVED file: the pushes written are not given again (a last line cut short
/// counts as not written), and the rest follow, each once.
/// Exits 0 whether or not events were missing, 1 when the reconciliation failed, 2 for
/// bad input or configuration: options, a --spill-dir that is not a directory, a
/// RECEIVED that cannot be read or holds a line that is not a push body, DT_*
/// variables half given.
///
/// DT keeps history for 31 days: a range older than that finds nothing there. Labels
/// are the devices' labels now. Missing pushes beyond --memory-limit bytes wait in
/// temporary files in --spill-dir (unlinked from the start: nothing is left behind);
/// where the system's temporary directory is memory (tmpfs), give a directory on disk. Without DT_SERVICE_ACCOUNT_KEY_ID
/// the program runs a demo on the embedded sandbox and says so.
#[derive(Debug, Parser)]
#[command(name = "dt-reconcile", version)]
struct Options {
    /// The project id.
    #[arg(long, value_name = "P")]
    project: String,
    /// The data connector's id (its scope is read from it).
    #[arg(long, value_name = "C")]
    connector: String,
    /// The start of the range: RFC 3339 or epoch seconds.
    #[arg(long, value_parser = parse_instant)]
    from: Timestamp,
    /// The end of the range, exclusive: RFC 3339 or epoch seconds.
    #[arg(long, value_parser = parse_instant)]
    to: Timestamp,
    /// How many devices' history is read at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Bytes of missing pushes kept in memory before they go to a temporary file.
    #[arg(long, value_name = "BYTES", default_value_t = dt_client::DEFAULT_RECONCILE_MEMORY)]
    memory_limit: usize,
    /// Give a connector's label key a device lacks as "" in the bodies, instead of
    /// leaving it out: do so when your received pushes carry such keys empty.
    #[arg(long)]
    absent_labels_empty: bool,
    /// The directory of that temporary file (default the system's).
    #[arg(long, value_name = "DIR")]
    spill_dir: Option<PathBuf>,
    /// The received push bodies, one per line (`-`: standard input); several files
    /// count together.
    #[arg(value_name = "RECEIVED", required = true, num_args = 1..)]
    received: Vec<PathBuf>,
}

/// The received ids from the files (`-`, standard input, at most once): a line that is
/// not a push body is bad input.
fn read_received(paths: &[PathBuf]) -> Result<ReceivedIds, Failure> {
    if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(Failure::usage("standard input (`-`) can be read once"));
    }
    let mut received = ReceivedIds::new();
    for path in paths {
        add_received(&mut received, path)?;
    }
    Ok(received)
}

/// Adds the ids of the push bodies in `path` to `received`.
fn add_received(received: &mut ReceivedIds, path: &Path) -> Result<(), Failure> {
    let named = path.display();
    let read = if path.as_os_str() == "-" {
        received.add_pushes(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(path).map_err(|e| Failure::usage(format!("{named}: {e}")))?;
        received.add_pushes(BufReader::new(file))
    };
    // Unreadable (a directory, say) or not push bodies: bad input either way.
    let read = read.map_err(|e| Failure::usage(format!("{named}: {e}")))?;
    if read.partial_last_line {
        eprintln!(
            "dt-reconcile: {named}: the last line is cut short (a program stopped while writing it); its push counts as not received"
        );
    }
    Ok(())
}

/// The demo's connector: created in the sandbox, named after `--connector`.
async fn demo_connector(client: &Client, options: &Options) -> Result<String, Failure> {
    // Nothing listens on port 9: every push to it fails, as to a receiver that is down.
    let connector = client
        .create_data_connector(
            &options.project,
            &NewDataConnector::new(&options.connector, "http://127.0.0.1:9/push")
                .with(ConnectorUpdate::new().events(["temperature"]).labels(["name"])),
        )
        .await
        .map_err(|e| Failure::failed(format!("creating the demo connector: {e}")))?;
    let id = connector.id().unwrap_or_default().to_owned();
    eprintln!(
        "dt-reconcile: demo connector {id} ({}) forwards temperature events with the label name",
        options.connector
    );
    Ok(id)
}

async fn reconcile(
    client: &Client,
    connector: String,
    received: ReceivedIds,
    options: &Options,
) -> Result<ReconcileSummary, Failure> {
    let mut query = client
        .reconcile(&options.project, connector)
        .range(options.from, options.to)
        .received(received)
        .concurrency(options.concurrency.into())
        .memory_limit(options.memory_limit)
        .absent_labels_empty(options.absent_labels_empty);
    if let Some(directory) = &options.spill_dir {
        query = query.spill_dir(directory);
    }
    let mut missing = query.stream();
    let mut out = BufWriter::new(AsyncStdout::new());
    // On a terminal: how far through the range the missing pushes written have come.
    let progress = Progress::over_range(options.from, options.to);
    loop {
        let push = match missing.try_next().await {
            Ok(Some(push)) => push,
            Ok(None) => break,
            Err(e) => {
                // The pushes given before the failure are written whole, then the error.
                let _ = out.flush().await;
                return Err(Failure::failed(e));
            }
        };
        progress.record(Some(push.timestamp));
        let mut line = push.as_str().to_owned();
        line.push('\n');
        out.write_all(line.as_bytes()).await.map_err(Failure::failed)?;
    }
    out.flush().await.map_err(Failure::failed)?;
    progress.finish();
    Ok(missing.summary())
}

#[tokio::main]
async fn main() -> ExitCode {
    let options: Options = examples::cli::parse();
    examples::cli::run("dt-reconcile", async move {
        if options.from >= options.to {
            return Err(Failure::usage(format!(
                "--from {} is not before --to {}",
                options.from, options.to
            )));
        }
        // Bad input is reported before anything is asked of the API. The read runs off
        // the runtime, so that Ctrl-C ends it (a terminal as standard input, say).
        if let Some(directory) = &options.spill_dir {
            if !directory.is_dir() {
                return Err(Failure::usage(format!(
                    "--spill-dir {} is not a directory",
                    directory.display()
                )));
            }
        }
        let paths = options.received.clone();
        let received = tokio::task::spawn_blocking(move || read_received(&paths))
            .await
            .map_err(|e| Failure::failed(format!("reading the received pushes: {e}")))??;
        let connection = examples::dt::connect("dt-reconcile")
            .await
            .map_err(Failure::usage)?;
        let client = &connection.client;
        let connector = match connection.sandbox {
            Some(_) => demo_connector(client, &options).await?,
            None => options.connector.clone(),
        };
        let summary = reconcile(client, connector, received, &options).await?;
        eprintln!(
            "dt-reconcile: {} received, {} in history, {} missing ({} devices{})",
            summary.received,
            summary.in_history,
            summary.missing,
            summary.devices,
            match summary.spilled_bytes {
                0 => String::new(),
                bytes => format!("; {bytes} bytes went through a temporary file"),
            }
        );
        Ok(())
    })
    .await
}
