//! Receives DT data-connector pushes on loopback, verifies each one and prints its body
//! as one line.
//!
//! ```sh
//! DT_SIGNATURE_SECRET=... cargo run -p examples --bin dt-receiver -- --listen 127.0.0.1:8080
//! ```
//!
//! Answers 200 only after the body is written, 401 for a missing or bad signature, an
//! expired token or a wrong checksum, and 400 for a body that does not parse. A replay
//! (the same `jti`, or the same event id under a new signature, as DT's retries are) is
//! answered 200 without being written again. Without
//! `DT_SIGNATURE_SECRET` and `DT_SERVICE_ACCOUNT_KEY_ID` it runs a demo: the embedded DT
//! sandbox gets a connector pointing here, and a sync pushes one event per device.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use clap::Parser;
use dt_client::{ConnectorUpdate, NewDataConnector, Push, ReplayGuard, Replayed, SIGNATURE_HEADER, Verifier};
use examples::cli::Failure;
use secrecy::SecretString;

/// Receives DT data-connector pushes, verifies each (HS256 signature with
/// DT_SIGNATURE_SECRET, expiry, SHA-256 checksum of the body) and prints the verified
/// body as one line on standard output.
///
/// Answers 200 only after the line is written, 401 for a missing or bad signature, an
/// expired token or a wrong checksum, and 400 for a body that does not parse. A push
/// received before (the same token, or the same event id under a new signature, as DT's
/// retries are) is answered 200 and not written again; one still being written is
/// answered 409, so DT tries again. Without
/// DT_SIGNATURE_SECRET and DT_SERVICE_ACCOUNT_KEY_ID it runs a demo against the embedded
/// DT sandbox, which pushes one event per device here, and says so.
///
/// A slow or stalled client cannot hold it: see --header-read-timeout, --body-timeout,
/// --body-limit and --max-connections.
#[derive(Debug, Parser)]
#[command(name = "dt-receiver", version)]
struct Options {
    /// The address to listen on (port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// How many jtis and event ids the replay guard remembers (two per push), each for
    /// its token's lifetime; when full, the oldest is forgotten first.
    #[arg(long, value_name = "N", default_value_t = ReplayGuard::DEFAULT_CAPACITY)]
    replay_capacity: usize,
    #[command(flatten)]
    limits: examples::serve::Limits,
}

#[derive(Clone)]
struct Receiver {
    verifier: Verifier,
    // Shared by every connection: a replay is recognised whichever connection it uses.
    guard: ReplayGuard,
    // One writer at a time: lines never interleave.
    out: Arc<Mutex<examples::cli::Stdout>>,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let verified = receiver
        .verifier
        .verify_signature(signature, &body)
        .and_then(|claims| Ok((claims, Push::from_body(&body)?)));
    let (claims, push) = match verified {
        Ok(verified) => verified,
        Err(refused) => {
            // A closed standard error must not take the receiver down.
            // One line, whatever the push held (its text may be quoted in the error).
            examples::report("dt-receiver", format_args!("refused a push: {refused}"));
            let status = if refused.is_unauthorized() {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::BAD_REQUEST
            };
            return (status, refused.to_string());
        }
    };
    let admitted = match receiver.guard.admit(&claims, Some(&push.event.event_id)) {
        Ok(admitted) => admitted,
        // Written before: 200, so that DT stops sending it, and nothing written.
        Err(Replayed::Seen(key)) => {
            examples::report(
                "dt-receiver",
                format_args!("a replay of {key}: not written again"),
            );
            return (StatusCode::OK, String::new());
        }
        // Being written by another request: not 200, so that DT tries again.
        Err(replay) => {
            examples::report("dt-receiver", format_args!("{replay}: try again"));
            return (StatusCode::CONFLICT, replay.to_string());
        }
    };
    // One line: the body as received (but a byte-order mark, which would break the
    // NDJSON output), unless it spans lines (then compacted).
    let body = dt_client::without_bom(&body);
    let line = match std::str::from_utf8(body) {
        Ok(text) if !text.trim().contains('\n') => text.trim().to_owned(),
        _ => match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(value) => value.to_string(),
            Err(err) => return (StatusCode::BAD_REQUEST, err.to_string()),
        },
    };
    let written = {
        let out = receiver
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = *out;
        // The line and its break in one write: a program ended mid-way (Ctrl-C) leaves
        // whole lines, or none of this one.
        let mut line = line;
        line.push('\n');
        out.write_all(line.as_bytes()).and_then(|()| out.flush())
    };
    match written {
        Ok(()) => {
            admitted.commit();
            (StatusCode::OK, String::new())
        }
        // `admitted` is dropped uncommitted: DT's retry is written.
        Err(err) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the push: {err}"),
        ),
    }
}

/// The demo: a sandbox connector pointing at `url`, then a sync.
async fn demo(url: String, secret: &str) -> Result<sandbox::dt::Sandbox, String> {
    let connection = examples::dt::connect("dt-receiver").await?;
    let sim = connection.sandbox.ok_or("the demo needs the embedded sandbox")?;
    let client = connection.client;
    let project = sandbox::dt::PROJECT;
    let connector = client
        .create_data_connector(
            project,
            &NewDataConnector::new("dt-receiver demo", url).with(
                ConnectorUpdate::new()
                    .labels(["name"])
                    .signature_secret(SecretString::from(secret.to_owned())),
            ),
        )
        .await
        .map_err(|e| e.to_string())?;
    let id = connector.id().unwrap_or_default().to_owned();
    eprintln!("dt-receiver: demo connector {id} created; syncing it");
    client
        .sync_data_connector(project, &id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(sim)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options: Options = examples::cli::parse();
    examples::cli::run("dt-receiver", receive_pushes(options)).await
}

async fn receive_pushes(options: Options) -> Result<(), Failure> {
    let secret = std::env::var("DT_SIGNATURE_SECRET")
        .ok()
        .filter(|s| !s.is_empty());
    let demo_mode = secret.is_none() && !examples::dt::configured();
    let secret = match (secret, demo_mode) {
        (Some(secret), _) => secret,
        (None, true) => {
            eprintln!(
                "dt-receiver: DT_SIGNATURE_SECRET and DT_SERVICE_ACCOUNT_KEY_ID are not set: demo mode"
            );
            "dt-receiver-demo-secret".to_owned()
        }
        (None, false) => return Err(Failure::usage("DT_SIGNATURE_SECRET is not set")),
    };
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|err| Failure::usage(format!("cannot listen on {}: {err}", options.listen)))?;
    let address = listener.local_addr().unwrap_or(options.listen);
    eprintln!("dt-receiver: listening on http://{address}/");
    let receiver = Receiver {
        verifier: Verifier::new(SecretString::from(secret.clone())),
        guard: ReplayGuard::new(options.replay_capacity),
        out: Arc::new(Mutex::new(examples::cli::Stdout)),
    };
    let app = axum::Router::new()
        .fallback(axum::routing::post(receive))
        .with_state(receiver);
    let limits = options.limits.clone();
    let server = tokio::spawn(async move {
        // Served until Ctrl-C, which `cli::run` answers by ending the program at once
        // (exit 130): a push being written then was not answered 200, so DT sends it again.
        examples::serve::serve(listener, app, &limits, std::future::pending()).await
    });
    let _sandbox = if demo_mode {
        Some(demo(format!("http://{address}/"), &secret).await?)
    } else {
        None
    };
    match server.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(Failure::failed(err)),
        Err(err) => Err(Failure::failed(err)),
    }
}
