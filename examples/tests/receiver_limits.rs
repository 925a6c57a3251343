//! The receivers' limits, driven from outside with a raw TCP client: a client stalling in
//! its headers is disconnected, a body over the limit is refused with 413.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Starts `binary` on port 0 with small limits; the child and the `host:port` it
/// listens on (read from the line of standard error that names it).
fn start(binary: &str, mut command: Command) -> (Child, String) {
    let mut child = command
        .args([
            "--header-read-timeout",
            "200ms",
            "--body-timeout",
            "200ms",
            "--body-limit",
            "1000",
        ])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{binary}: {e}"));
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let address = loop {
        line.clear();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            break None;
        }
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split('/').next().map(str::to_owned);
        }
    };
    // Keep reading standard error, so the child never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let address = address.unwrap_or_else(|| panic!("{binary} ended without listening"));
    (child, address)
}

/// Everything the server sends until it closes, failing after 5 s.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .ok();
    String::from_utf8_lossy(&answer).into_owned()
}

async fn check_limits(mut child: Child, address: String) {
    // Half a header, then nothing: disconnected after the header-read timeout.
    let mut stalled = TcpStream::connect(&address).await.unwrap();
    let started = Instant::now();
    stalled
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nX-Slo")
        .await
        .unwrap();
    read_to_close(&mut stalled).await;
    assert!(started.elapsed() >= Duration::from_millis(150));

    // A body declared over --body-limit: 413 before it is sent.
    let mut large = TcpStream::connect(&address).await.unwrap();
    large
        .write_all(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n",
        )
        .await
        .unwrap();
    let answer = read_to_close(&mut large).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dt_receiver_disconnects_a_slow_client_and_refuses_a_large_body() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dt-receiver"));
    command
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("DT_SERVICE_ACCOUNT_KEY_ID")
        .env("DT_SIGNATURE_SECRET", "receiver-secret");
    let (child, address) = start("dt-receiver", command);
    check_limits(child, address).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_receiver_disconnects_a_slow_client_and_refuses_a_large_body() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_forward-receiver"));
    command
        .arg("127.0.0.1:0")
        .env("FORWARD_HEADER_NAME", "X-Forward-Secret")
        .env("FORWARD_HEADER_VALUE", "receiver-secret");
    let (child, address) = start("forward-receiver", command);
    check_limits(child, address).await;
}
