//! Decodes one forwarded request body (a file argument, or standard input) and writes
//! one JSON line per observation to standard output.
//!
//! ```sh
//! cargo run -p examples --bin forward-decode -- body.json
//! cat body.json | cargo run -p examples --bin forward-decode
//! ```
//!
//! Invalid input: a message naming the offending field on standard error, nothing on
//! standard output, exit code 1.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::Parser;
use examples::forward::lines_of;

/// Decodes one forwarded request body and writes one JSON line per observation to
/// standard output. Invalid input: a message naming the offending field on standard
/// error, nothing on standard output, exit code 1.
#[derive(Debug, Parser)]
#[command(name = "forward-decode", version)]
struct Cli {
    /// The body to decode (default: standard input).
    file: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    let body = match body {
        Ok(body) => body,
        Err(err) => {
            eprintln!("forward-decode: cannot read {source}: {err}");
            return ExitCode::from(2);
        }
    };
    // Decode everything before writing anything: bad input leaves standard output empty.
    let messages = match forward_types::decode_body(&body) {
        Ok(messages) => messages,
        Err(err) => {
            examples::report("forward-decode", format_args!("{source}: {err}"));
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout().lock();
    for line in messages.iter().flat_map(lines_of) {
        if writeln!(out, "{line}").is_err() {
            return ExitCode::from(3);
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(3);
    }
    ExitCode::SUCCESS
}
