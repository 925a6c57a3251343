//! Decodes one forwarded request body (a file argument, or standard input) and writes
//! one JSON line per observation to standard output.
//!
//! ```sh
//! cargo run -p examples --bin forward-decode -- body.json
//! cat body.json | cargo run -p examples --bin forward-decode
//! ```
//!
//! Invalid input: a message naming the offending field on standard error, nothing on
//! standard output, exit code 2.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::Parser;
use examples::cli::Failure;
use examples::forward::lines_of;

/// Decodes one forwarded request body and writes one JSON line per observation to
/// standard output. Invalid input: a message naming the offending field on standard
/// error, nothing on standard output, exit code 2.
#[derive(Debug, Parser)]
#[command(name = "forward-decode", version)]
struct Cli {
    /// The body to decode (default: standard input).
    file: Option<std::path::PathBuf>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli: Cli = examples::cli::parse();
    examples::cli::run("forward-decode", async move {
        // Reading and decoding block: on a thread of their own, so that Ctrl-C is heard.
        tokio::task::spawn_blocking(move || decode(cli))
            .await
            .map_err(Failure::failed)?
    })
    .await
}

fn decode(cli: Cli) -> Result<(), Failure> {
    let (source, body) = match cli.file {
        Some(path) => {
            let shown = path.to_string_lossy().into_owned();
            (shown, std::fs::read(&path))
        }
        None => {
            let mut body = Vec::new();
            (
                "standard input".to_owned(),
                std::io::stdin().read_to_end(&mut body).map(|_| body),
            )
        }
    };
    let body = body.map_err(|err| Failure::usage(format!("cannot read {source}: {err}")))?;
    // Decode everything before writing anything: bad input leaves standard output empty.
    let messages =
        forward_types::decode_body(&body).map_err(|err| Failure::usage(format!("{source}: {err}")))?;
    let mut out = std::io::BufWriter::new(examples::cli::Stdout);
    for line in messages.iter().flat_map(lines_of) {
        writeln!(out, "{line}").map_err(Failure::failed)?;
    }
    out.flush().map_err(Failure::failed)
}
