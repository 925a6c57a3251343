//! Serves an axum router with the limits that keep a slow or hostile client from holding
//! a receiver (`dt-receiver`, `forward-receiver`): a header-read timeout, a body timeout,
//! a body limit and a connection limit, each a command-line option ([`Limits`]).
//!
//! `axum::serve` cannot time out a client that never finishes its headers (it gives
//! hyper no timer), so [`serve`] runs its own accept loop over hyper's HTTP/1 connection:
//! - a connection is accepted only with one of `--max-connections` permits; the others
//!   wait in the listen backlog until a connection closes;
//! - the headers of each request, and the wait for the next request on a kept-alive
//!   connection, must arrive within `--header-read-timeout`, or the connection is closed;
//! - the body must arrive within `--body-timeout` (408 otherwise) and be at most
//!   `--body-limit` bytes (413 otherwise, before any byte is read when `Content-Length`
//!   says so); handlers then get it whole.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// The limits of a receiver, as command-line options (`#[command(flatten)]`).
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
pub struct Limits {
    /// The longest a client may take to send a request's headers, or to start the next
    /// request on a kept-alive connection; then the connection is closed (e.g. 10s,
    /// 500ms).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,
    /// The longest a client may take to send a request's body once its headers are in;
    /// then the request is answered 408 and the connection closed.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub body_timeout: Duration,
    /// The largest request body accepted, in bytes; a larger one is answered 413.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
    /// The most connections served at once; more wait to be accepted until one closes.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_connections: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            body_limit: 1024 * 1024,
            max_connections: 256,
        }
    }
}

/// A positive duration in jiff's friendly form (`30s`, `200ms`, `1m 30s`) or ISO 8601.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let signed: jiff::SignedDuration = text
        .trim()
        .parse()
        .map_err(|e| format!("`{text}` is not a duration like 30s or 200ms: {e}"))?;
    Duration::try_from(signed)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("`{text}` is not a positive duration"))
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes; then stops
/// accepting, lets each connection finish its request, and returns once all are closed
/// (an idle one at once, a stalled one within the header-read timeout).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let app = app
        .layer(middleware::from_fn_with_state(limits.clone(), read_body))
        // The handlers' own extractors take the whole body the middleware let through.
        .layer(DefaultBodyLimit::max(limits.body_limit));
    let connections = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (closing, closed) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        // The semaphore is never closed.
        let Ok(permit) = permit else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) if is_connection_error(&err) => continue,
                // Out of file descriptors, say: wait rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let header_read_timeout = limits.header_read_timeout;
        let mut closed = closed.clone();
        tokio::spawn(async move {
            // Held for the connection's life: the next accept waits for it.
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                // A client that went away or timed out is no failure of the server.
                _ = connection.as_mut() => {}
                _ = closed.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(closing);
    // Every connection returns its permit when it ends.
    let _ = connections.acquire_many(limits.max_connections).await;
    Ok(())
}

/// Accept errors about one connection (the client gave up), not the listener.
fn is_connection_error(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        err.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Reads the whole body within the body timeout and limit, then hands the request on.
async fn read_body(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.body_limit as u64) {
        return too_large(&limits);
    }
    let read = async {
        let mut chunks = body.into_data_stream();
        let mut whole = Vec::new();
        while let Some(chunk) = chunks.next().await {
            let chunk =
                chunk.map_err(|e| refuse(StatusCode::BAD_REQUEST, &format!("cannot read the body: {e}")))?;
            if whole.len() + chunk.len() > limits.body_limit {
                return Err(too_large(&limits));
            }
            whole.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(whole))
    };
    match tokio::time::timeout(limits.body_timeout, read).await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Err(refused)) => refused,
        Err(_) => refuse(
            StatusCode::REQUEST_TIMEOUT,
            &format!("the body did not arrive within {:?}", limits.body_timeout),
        ),
    }
}

fn too_large(limits: &Limits) -> Response {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("the body is larger than {} bytes", limits.body_limit),
    )
}

/// A refusal that closes the connection: the rest of the body is not read.
fn refuse(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONNECTION, "close")], format!("{message}\n")).into_response()
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use axum::routing::post;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    /// A server echoing the body's length, with `limits`; its address.
    async fn start(limits: Limits) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = Router::new().fallback(post(|body: Bytes| async move { body.len().to_string() }));
        tokio::spawn(async move { serve(listener, app, &limits, std::future::pending()).await });
        address
    }

    fn limits() -> Limits {
        Limits {
            header_read_timeout: Duration::from_millis(200),
            body_timeout: Duration::from_millis(200),
            body_limit: 1000,
            max_connections: 4,
        }
    }

    /// Everything the server sends until it closes (bounded: a server that never closes
    /// fails the test after 5 s).
    async fn read_to_close(stream: &mut TcpStream) -> String {
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "the server did not close the connection");
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[tokio::test]
    async fn a_client_stalling_in_its_headers_is_disconnected_after_the_header_timeout() {
        let address = start(limits()).await;
        let mut stream = TcpStream::connect(address).await.unwrap();
        let started = Instant::now();
        stream
            .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Le")
            .await
            .unwrap();
        read_to_close(&mut stream).await;
        assert!(
            started.elapsed() >= Duration::from_millis(150),
            "{:?}",
            started.elapsed()
        );

        // So is a client that connects and sends nothing.
        let mut silent = TcpStream::connect(address).await.unwrap();
        assert_eq!(read_to_close(&mut silent).await, "");
    }

    #[tokio::test]
    async fn a_body_that_stalls_is_answered_408() {
        let address = start(limits()).await;
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
            .await
            .unwrap();
        let answer = read_to_close(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_answered_413() {
        let address = start(limits()).await;
        // Declared too large: refused before the body is sent.
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n")
            .await
            .unwrap();
        let answer = read_to_close(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        // Chunked, without a length: refused once past the limit.
        let mut stream = TcpStream::connect(address).await.unwrap();
        let chunk = format!("3e8\r\n{}\r\n", "x".repeat(1000));
        stream
            .write_all(
                format!("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{chunk}{chunk}")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let answer = read_to_close(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        // At the limit: accepted whole.
        let mut stream = TcpStream::connect(address).await.unwrap();
        let body = "y".repeat(1000);
        stream
            .write_all(
                format!(
                    "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n{body}"
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        let answer = read_to_close(&mut stream).await;
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("1000"),
            "{answer}"
        );
    }

    #[tokio::test]
    async fn connections_over_the_limit_wait_for_one_to_close() {
        let address = start(Limits {
            header_read_timeout: Duration::from_secs(30),
            max_connections: 1,
            ..limits()
        })
        .await;
        let request = b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\nab";
        // The one connection served: connected, silent.
        let holder = TcpStream::connect(address).await.unwrap();
        let mut waiting = TcpStream::connect(address).await.unwrap();
        waiting.write_all(request).await.unwrap();
        let mut first = [0u8; 1];
        let early = tokio::time::timeout(Duration::from_millis(300), waiting.read(&mut first)).await;
        assert!(
            early.is_err(),
            "the second connection was served while the first held the only permit"
        );
        drop(holder);
        // Nothing was read above: the whole answer is still to come.
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), waiting.read_to_end(&mut answer))
            .await
            .expect("served once the first connection closed")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("\r\n\r\n2"),
            "{answer}"
        );
    }

    #[tokio::test]
    async fn shutdown_stops_accepting_and_returns() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let app = Router::new().fallback(post(|| async { "ok" }));
            serve(listener, app, &limits(), async {
                let _ = stopped.await;
            })
            .await
        });
        // An idle kept-alive connection does not hold the shutdown.
        let mut idle = TcpStream::connect(address).await.unwrap();
        idle.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
        let mut answer = [0u8; 12];
        idle.read_exact(&mut answer).await.unwrap();
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("the server returned")
            .unwrap()
            .unwrap();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("200ms").unwrap(), Duration::from_millis(200));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1m 30s").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
