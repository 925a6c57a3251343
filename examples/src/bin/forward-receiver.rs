//! An HTTP endpoint on loopback that receives forwarded messages and prints one JSON
//! line per observation (the same lines as `forward-decode`).
//!
//! ```sh
//! FORWARD_HEADER_NAME=Authorization FORWARD_HEADER_VALUE='Bearer change-me' \
//!   cargo run -p examples --bin forward-receiver -- 127.0.0.1:8080
//! ```
//!
//! Accepts `POST /` (and `POST` to any path) with the static header; answers 401 for a
//! missing or wrong header, 400 with the error for a bad body, and 200 only after the
//! lines are written. Redeliveries of messages already printed (same kind and `hashId`)
//! are acknowledged and skipped. Without the two variables it makes up a random header
//! value and prints it. S3 and Azure Blob destinations (the platform's `PUT`s) are not
//! received here: read what the platform stored there with `forward-read`.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use examples::cli::Failure;
use examples::forward::{Receiver, router};
use forward_types::{SecretString, StaticHeaderCheck};

/// An HTTP endpoint that receives forwarded messages and prints one JSON line per
/// observation to standard output. The static header it checks comes from
/// FORWARD_HEADER_NAME and FORWARD_HEADER_VALUE (made up and printed when unset).
///
/// A slow or stalled client cannot hold it: see --header-read-timeout, --body-timeout,
/// --body-limit and --max-connections.
#[derive(Debug, Parser)]
#[command(name = "forward-receiver", version)]
struct Cli {
    /// The address to listen on.
    #[arg(default_value = "127.0.0.1:8080")]
    address: SocketAddr,
    #[command(flatten)]
    limits: examples::serve::Limits,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = examples::cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    examples::cli::run("forward-receiver", serve(cli)).await
}

async fn serve(cli: Cli) -> Result<(), Failure> {
    let address = cli.address;
    let name = std::env::var("FORWARD_HEADER_NAME").ok();
    let value = std::env::var("FORWARD_HEADER_VALUE").ok();
    let check = match (name, value) {
        (Some(name), Some(value)) if !name.is_empty() && !value.is_empty() => {
            StaticHeaderCheck::new(name, SecretString::from(value))
                .map_err(|err| Failure::usage(format!("FORWARD_HEADER_NAME/VALUE: {err}")))?
        }
        (None, None) => {
            let value = format!("demo-{:016x}", fastrand::u64(..));
            eprintln!("FORWARD_HEADER_NAME/FORWARD_HEADER_VALUE are not set: demo mode.");
            eprintln!("Send requests with the header `X-Forward-Secret: {value}`.");
            StaticHeaderCheck::new("X-Forward-Secret", SecretString::from(value)).map_err(Failure::failed)?
        }
        _ => {
            return Err(Failure::usage(
                "set both FORWARD_HEADER_NAME and FORWARD_HEADER_VALUE, or neither",
            ));
        }
    };
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|err| Failure::usage(format!("cannot listen on {address}: {err}")))?;
    // The port the system picked for port 0.
    let address = listener.local_addr().unwrap_or(address);
    eprintln!(
        "listening on http://{address}/ (header `{}`)",
        check.header_name()
    );
    let app = router(Receiver::new(check, Box::new(examples::cli::Stdout)));
    examples::serve::serve(listener, app, &cli.limits, std::future::pending())
        .await
        .map_err(Failure::failed)
}
