//! Reads forwarded messages back from where the platform stored them (S3, Azure Blob
//! Storage or a local folder) and prints the same lines as `forward-decode`.
//!
//! ```sh
//! AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... AWS_REGION=eu-west-1 \
//!   cargo run -p examples --bin forward-read -- --from 2026-01-01 --to 2026-01-31 s3://bucket
//! AZURE_STORAGE_SAS_TOKEN='sv=...&sig=...' \
//!   cargo run -p examples --bin forward-read -- --from 2026-01-01 --to 2026-01-31 https://account.blob.core.windows.net/container
//! cargo run -p examples --bin forward-read -- --from 2026-01-01 --to 2026-01-01 file:///srv/forwarded
//! ```

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use examples::cli::Failure;
use examples::forward::lines_of;
use forward_types::ForwardedObjects;
use futures::TryStreamExt;
use jiff::civil::Date;

/// Lists the objects a destination holds under the date prefixes from --from to --to
/// (both included), reads them in key order, and prints one JSON line per observation
/// (the lines of forward-decode), each message once: redeliveries are left out.
///
/// URL is s3://bucket[/prefix] (settings from the AWS_* variables; AWS_ENDPOINT and
/// AWS_ALLOW_HTTP for S3-compatible servers), az://container[/prefix] (the AZURE_*
/// variables; AZURE_STORAGE_USE_EMULATOR=true for Azurite), a Blob container URL (the
/// account in the host name, as account.blob.core.windows.net has it, or the account as
/// the first path segment, as Azurite has it) with its SAS in AZURE_STORAGE_SAS_TOKEN, as
/// forward-push takes it, or file:///folder. A SAS given as the URL's query works too (it
/// is then on the command line), and is never printed. URLs are https://, or plain
/// http:// to a loopback host only; redirects are not followed.
#[derive(Debug, Parser)]
#[command(name = "forward-read", version)]
struct Options {
    /// The first day (YYYY-MM-DD).
    #[arg(long)]
    from: Date,
    /// The last day, included (YYYY-MM-DD).
    #[arg(long)]
    to: Date,
    /// Where the objects are.
    #[arg(value_name = "URL")]
    url: String,
}

async fn read(options: &Options) -> Result<u64, Failure> {
    if options.from > options.to {
        return Err(Failure::usage(format!(
            "--from {} is after --to {}",
            options.from, options.to
        )));
    }
    let objects = ForwardedObjects::from_url(&options.url).map_err(Failure::usage)?;
    let mut messages = std::pin::pin!(objects.messages(options.from, options.to));
    let mut out = std::io::BufWriter::new(examples::cli::Stdout);
    let mut count = 0u64;
    while let Some(stored) = messages.try_next().await.map_err(Failure::failed)? {
        for line in lines_of(&stored.message) {
            writeln!(out, "{line}").map_err(Failure::failed)?;
        }
        count += 1;
    }
    out.flush().map_err(Failure::failed)?;
    Ok(count)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options: Options = examples::cli::parse();
    examples::cli::run("forward-read", async move {
        let count = read(&options).await?;
        eprintln!("read {count} messages from {} to {}", options.from, options.to);
        Ok(())
    })
    .await
}
