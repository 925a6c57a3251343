//! Serving a router on loopback, and the response helpers every simulator shares.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use tokio::sync::oneshot;

/// Locks simulator state, whether or not a handler panicked while holding it: the
/// state is plain values replaced or extended whole, so a panic cannot leave it torn.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A request's query as its name/value pairs, decoded, in order, repeated keys kept.
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// A running server; dropping it stops the server.
#[derive(Debug)]
pub(crate) struct Running {
    pub(crate) address: SocketAddr,
    _shutdown: oneshot::Sender<()>,
}

/// How many of the next connections are reset as soon as they are accepted, before any
/// response: shared by a simulator and its listener.
#[derive(Debug, Clone, Default)]
pub(crate) struct Resets(Arc<AtomicU32>);

impl Resets {
    /// Resets the next `count` connections.
    pub(crate) fn set(&self, count: u32) {
        self.0.store(count, Ordering::SeqCst);
    }

    /// How many resets are still to come.
    pub(crate) fn pending(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }

    fn take_one(&self) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// A listener that resets connections on demand.
struct ResettingListener {
    inner: tokio::net::TcpListener,
    resets: Resets,
}

impl axum::serve::Listener for ResettingListener {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, address) = axum::serve::Listener::accept(&mut self.inner).await;
            if self.resets.take_one() {
                // No linger: the close is a reset, as a crashed peer or a proxy gives.
                let _ = stream.set_zero_linger();
                drop(stream);
                continue;
            }
            return (stream, address);
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Serves `router` on `127.0.0.1:0`.
pub(crate) async fn serve(router: Router, resets: Resets) -> std::io::Result<Running> {
    serve_listener(
        tokio::net::TcpListener::bind("127.0.0.1:0").await?,
        router,
        resets,
    )
}

/// Serves `router` on a bound listener (when handlers need to know the address).
pub(crate) fn serve_listener(
    listener: tokio::net::TcpListener,
    router: Router,
    resets: Resets,
) -> std::io::Result<Running> {
    let address = listener.local_addr()?;
    let listener = ResettingListener {
        inner: listener,
        resets,
    };
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let server = axum::serve(listener, router).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(err) = server.await {
            tracing::error!(error = %err, "sandbox server failed");
        }
    });
    Ok(Running {
        address,
        _shutdown: shutdown,
    })
}

/// Whether the request accepts gzip.
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
}

/// A JSON response, gzip-compressed above `gzip_above` bytes when the client accepts it,
/// optionally cut after `cut_after` bytes (announcing the full length).
pub(crate) fn json_body(
    body: Vec<u8>,
    request_headers: &HeaderMap,
    gzip_above: usize,
    cut_after: Option<usize>,
) -> Response {
    encode_json(body, request_headers, gzip_above).response(cut_after)
}

/// A JSON body ready to send, compressed or not: what a simulator keeps to serve a
/// response again without rendering it again (see the DT simulator's
/// `Config::prerendered_history`).
#[derive(Debug, Clone)]
pub(crate) struct EncodedJson {
    bytes: Bytes,
    gzip: bool,
}

/// `body` gzip-compressed above `gzip_above` bytes when the request accepts it.
pub(crate) fn encode_json(body: Vec<u8>, request_headers: &HeaderMap, gzip_above: usize) -> EncodedJson {
    if body.len() > gzip_above && accepts_gzip(request_headers) {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        // Writing to a Vec cannot fail.
        let _ = encoder.write_all(&body);
        EncodedJson {
            bytes: Bytes::from(encoder.finish().unwrap_or_default()),
            gzip: true,
        }
    } else {
        EncodedJson {
            bytes: Bytes::from(body),
            gzip: false,
        }
    }
}

impl EncodedJson {
    /// The response, optionally cut after `cut_after` bytes (announcing the full length).
    pub(crate) fn response(&self, cut_after: Option<usize>) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if self.gzip {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(self.bytes.len()));
        let body = match cut_after {
            Some(cut) if cut < self.bytes.len() => {
                let head = self.bytes.slice(..cut);
                // Send the head, let hyper flush it (one Pending), then fail: the client sees
                // the status and part of the body, then the connection closes early.
                let stream = futures::stream::unfold(0u8, move |step| {
                    let head = head.clone();
                    async move {
                        match step {
                            0 => Some((Ok(head), 1)),
                            1 => {
                                tokio::task::yield_now().await;
                                Some((Err(std::io::Error::other("sandbox fault: body cut")), 2))
                            }
                            _ => None,
                        }
                    }
                });
                Body::from_stream(stream)
            }
            _ => Body::from(self.bytes.clone()),
        };
        let mut response = Response::new(body);
        *response.headers_mut() = headers;
        response
    }
}

/// An error status with a JSON body.
pub(crate) fn error(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
