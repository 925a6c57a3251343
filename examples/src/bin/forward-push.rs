//! Delivers forwarded messages to a receiver exactly as the With the Grid platform would,
//! to test the receiver: each authentication method, its HTTP method and object path,
//! and redelivery of refused batches with `attempt` incremented.
//!
//! ```sh
//! FORWARD_HEADER_NAME=Authorization FORWARD_HEADER_VALUE='Bearer change-me' \
//!   cargo run -p examples --bin forward-push -- --to http://127.0.0.1:8080/ --auth static
//! AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... AWS_REGION=eu-west-1 \
//!   cargo run -p examples --bin forward-push -- --to https://bucket.s3.eu-west-1.amazonaws.com --auth sigv4 body.json
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use examples::cli::Failure;
use sandbox::forward::{Auth, Platform, generate};
use secrecy::SecretString;
use serde_json::Value;

/// Delivers forwarded messages to --to as the platform would: a FILE holding one request
/// body (a JSON array of messages), or generated measurement and notification batches.
/// A refused batch is redelivered with attempt incremented and the same hashId. Prints
/// one line per delivery attempt: status, attempt and object key. --to (and the OAuth2
/// token URL) must be https://, or plain http:// to a loopback host; a redirect is a
/// failed attempt, never followed.
///
/// Secrets come from the environment, never from flags:
///   static:         FORWARD_HEADER_NAME, FORWARD_HEADER_VALUE;
///   oauth2-body,
///   oauth2-basic:   FORWARD_OAUTH2_TOKEN_URL, FORWARD_OAUTH2_CLIENT_ID,
///                   FORWARD_OAUTH2_CLIENT_SECRET, FORWARD_OAUTH2_SCOPE (optional);
///   sigv4:          AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
///                   (optional), AWS_REGION (default us-east-1);
///   sas-blob:       AZURE_STORAGE_SAS_TOKEN, the SAS query added to the container URL;
///   sas-eventhubs:  AZURE_EVENTHUBS_KEY_NAME, AZURE_EVENTHUBS_KEY.
#[derive(Debug, Parser)]
#[command(name = "forward-push", version, verbatim_doc_comment)]
struct Options {
    /// The destination: the receiver's URL, the S3 bucket URL, the Blob container URL
    /// (without its SAS) or the Event Hubs messages URL.
    #[arg(long, value_name = "URL")]
    to: String,
    /// The authentication method.
    #[arg(long, value_enum)]
    auth: Method,
    /// A file holding one request body (a JSON array of messages); without it, generated
    /// batches.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// How many generated batches to deliver.
    #[arg(long, default_value_t = 3)]
    batches: usize,
    /// Attempts per batch before giving up.
    #[arg(long, default_value_t = 5)]
    attempts: u32,
    /// Seconds between attempts.
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0)]
    retry_delay: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Method {
    Static,
    Oauth2Body,
    Oauth2Basic,
    Sigv4,
    SasBlob,
    SasEventhubs,
}

fn var(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{name} is not set"))
}

fn optional(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn secret(name: &str) -> Result<SecretString, String> {
    var(name).map(SecretString::from)
}

/// The destination URL and the method's credentials, from the environment.
fn destination(options: &Options) -> Result<(String, Auth), String> {
    let oauth2 = |basic: bool| -> Result<Auth, String> {
        Ok(Auth::OAuth2 {
            token_url: var("FORWARD_OAUTH2_TOKEN_URL")?,
            client_id: var("FORWARD_OAUTH2_CLIENT_ID")?,
            client_secret: secret("FORWARD_OAUTH2_CLIENT_SECRET")?,
            secret_in_basic_header: basic,
            scope: optional("FORWARD_OAUTH2_SCOPE"),
        })
    };
    let url = options.to.clone();
    Ok(match options.auth {
        Method::Static => (
            url,
            Auth::StaticHeader {
                name: var("FORWARD_HEADER_NAME")?,
                value: secret("FORWARD_HEADER_VALUE")?,
            },
        ),
        Method::Oauth2Body => (url, oauth2(false)?),
        Method::Oauth2Basic => (url, oauth2(true)?),
        Method::Sigv4 => (
            url,
            Auth::SigV4 {
                access_key_id: var("AWS_ACCESS_KEY_ID")?,
                secret_access_key: secret("AWS_SECRET_ACCESS_KEY")?,
                session_token: optional("AWS_SESSION_TOKEN").map(SecretString::from),
                region: optional("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
            },
        ),
        Method::SasBlob => {
            let sas = var("AZURE_STORAGE_SAS_TOKEN")?;
            let separator = if url.contains('?') { '&' } else { '?' };
            (
                format!("{url}{separator}{}", sas.trim_start_matches('?')),
                Auth::BlobSas,
            )
        }
        Method::SasEventhubs => (
            url,
            Auth::EventHubsSas {
                key_name: var("AZURE_EVENTHUBS_KEY_NAME")?,
                key: secret("AZURE_EVENTHUBS_KEY")?,
            },
        ),
    })
}

/// The batches to deliver: the file's body (checked to be forwarded messages), or
/// generated ones.
fn batches(options: &Options) -> Result<Vec<Vec<Value>>, String> {
    let Some(path) = &options.file else {
        return Ok(generate::batches(1, jiff::Timestamp::now(), options.batches, 3));
    };
    let body = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    forward_types::decode_body(&body).map_err(|e| format!("{}: {e}", path.display()))?;
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(messages)) => Ok(vec![messages]),
        _ => Err(format!("{}: not a JSON array of messages", path.display())),
    }
}

async fn push(options: &Options) -> Result<bool, Failure> {
    let batches = batches(options).map_err(Failure::usage)?;
    let (url, auth) = destination(options).map_err(Failure::usage)?;
    let delay = Duration::try_from_secs_f64(options.retry_delay)
        .map_err(|_| Failure::usage("--retry-delay is not a duration"))?;
    let platform = Platform::new(&url, auth)
        .map_err(Failure::usage)?
        .with_retries(options.attempts, delay);
    let mut out = examples::cli::Stdout;
    let mut all_delivered = true;
    for batch in &batches {
        let attempts = platform.deliver(batch).await;
        for attempt in &attempts {
            let status = attempt
                .status
                .map_or_else(|| "error".to_owned(), |s| s.to_string());
            let mut line = format!(
                "status={status} attempt={} key={}",
                attempt.attempt,
                attempt.key.as_deref().unwrap_or("-")
            );
            if let Some(error) = &attempt.error {
                line.push_str(&format!(" error={error}"));
            }
            writeln!(out, "{line}").map_err(Failure::failed)?;
        }
        all_delivered &= attempts.last().is_some_and(|a| a.delivered());
    }
    Ok(all_delivered)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options: Options = examples::cli::parse();
    examples::cli::run("forward-push", async move {
        if push(&options).await? {
            Ok(())
        } else {
            Err(Failure::failed("some batches were not accepted"))
        }
    })
    .await
}
