//! The conventions every example program follows, in code: each `main` parses its
//! command line with [`parse`], runs its body under [`run`], and writes its data through
//! [`Stdout`] or [`AsyncStdout`].
//!
//! - Exit codes: 0 success; 1 the operation failed ([`Failure::failed`]: the server
//!   refused, the export is incomplete); 2 usage, configuration or bad input
//!   ([`Failure::usage`], and clap's own usage errors); 130 interrupted by Ctrl-C
//!   (SIGINT), the shell's 128 + 2.
//! - A failure is one line on standard error, `program: message` ([`crate::report`]),
//!   whatever line breaks the message holds; a panic is reported the same way.
//! - A closed standard output (`program | head -1`) ends the program at once, quietly,
//!   with exit code 0: the reader has all it wants. Rust ignores SIGPIPE, so a write to
//!   a closed pipe fails with `BrokenPipe`; the writers here note it, and [`run`] turns
//!   it into that quiet end whatever the program did with the error.
//! - Ctrl-C drops the program's body, then exits at once with code 130, so every write
//!   in flight in the body is dropped with it: an [`client_core::AtomicFile`] removes its temporary file, and a
//!   [`crate::resume::ResumableOutput`] keeps its partial and state files only once they
//!   hold a committed page (they are the point a rerun resumes from), removing a partial
//!   file that holds nothing yet.

use std::fmt::Display;
use std::future::Future;
use std::io::{self, Write};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use tokio::sync::Notify;

/// The operation failed: the server refused, or the output is incomplete.
pub const FAILED: u8 = 1;
/// A usage, configuration or input error: nothing (more) was attempted.
pub const USAGE: u8 = 2;
/// Stopped by Ctrl-C (SIGINT): 128 + 2, the shell's convention for a signal.
pub const INTERRUPTED: u8 = 130;

/// Why a program stopped: its exit code and a message for its one-line report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// The operation failed (exit code 1).
    pub fn failed(message: impl Display) -> Failure {
        Failure {
            code: FAILED,
            message: message.to_string(),
        }
    }

    /// A usage, configuration or input error (exit code 2).
    pub fn usage(message: impl Display) -> Failure {
        Failure {
            code: USAGE,
            message: message.to_string(),
        }
    }

    /// The exit code.
    pub fn code(&self) -> u8 {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Most steps of a program report their errors as text: a failed operation.
impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::failed(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Failure {
        Failure::failed(message)
    }
}

/// Parses the command line. Help and version go to standard output (exit code 0), a
/// usage error to standard error (exit code 2), and neither panics on a closed stream,
/// as clap's own `parse` does.
pub fn parse<T: clap::Parser>() -> T {
    match T::try_parse() {
        Ok(options) => options,
        Err(err) => {
            let _ = err.print();
            std::process::exit(err.exit_code());
        }
    }
}

/// Runs a program's body under the conventions: its failure as one line and exit code
/// 1 or 2, Ctrl-C as exit code 130 after the body is dropped (its temporary files with
/// it), and a closed standard output as a quiet exit code 0.
pub async fn run<F>(program: &'static str, body: F) -> ExitCode
where
    F: Future<Output = Result<(), Failure>>,
{
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        crate::report(program, format_args!("internal error: {message}"));
    }));
    // Listening from the start: SIGINT no longer kills the process where it stands.
    let ctrl_c = tokio::signal::ctrl_c();
    let outcome = tokio::select! {
        biased;
        _ = ctrl_c => Err(Failure { code: INTERRUPTED, message: "interrupted".into() }),
        () = stdout_closed() => Ok(()),
        outcome = body => outcome,
    };
    // The body is dropped here, before the exit.
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) if failure.code == INTERRUPTED => {
            crate::report(program, &failure.message);
            // At once: a runtime's shutdown waits for its blocking tasks, and one may be
            // a write to a pipe nobody reads, or a read of a terminal. What the body
            // held is dropped already (file writes belong in the body, not in a task it
            // spawned).
            std::process::exit(INTERRUPTED.into());
        }
        // A write to a closed standard output ended it: the reader wants nothing more.
        Err(_) if stdout_is_closed() => ExitCode::SUCCESS,
        Err(failure) => {
            crate::report(program, &failure.message);
            ExitCode::from(failure.code)
        }
    }
}

static CLOSED: AtomicBool = AtomicBool::new(false);

fn closed_notice() -> &'static Notify {
    static NOTICE: OnceLock<Notify> = OnceLock::new();
    NOTICE.get_or_init(Notify::new)
}

/// Whether a write to standard output found it closed.
pub fn stdout_is_closed() -> bool {
    CLOSED.load(Ordering::SeqCst)
}

/// Completes once a write found standard output closed.
async fn stdout_closed() {
    let notified = closed_notice().notified();
    if !stdout_is_closed() {
        notified.await;
    }
}

/// Notes a write error: a closed standard output ends the program (see [`run`]).
fn note<T>(result: io::Result<T>) -> io::Result<T> {
    if let Err(err) = &result
        && err.kind() == io::ErrorKind::BrokenPipe
        && !CLOSED.swap(true, Ordering::SeqCst)
    {
        closed_notice().notify_one();
    }
    result
}

/// Standard output for blocking writes. A write to a closed standard output fails (as
/// any failed write does) and ends the program quietly under [`run`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        note(io::stdout().lock().write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        note(io::stdout().lock().write_all(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        note(io::stdout().lock().flush())
    }
}

/// Standard output for async writes, with [`Stdout`]'s handling of a closed one.
#[derive(Debug)]
pub struct AsyncStdout(tokio::io::Stdout);

impl AsyncStdout {
    /// The process's standard output.
    pub fn new() -> AsyncStdout {
        AsyncStdout(tokio::io::stdout())
    }
}

impl Default for AsyncStdout {
    fn default() -> Self {
        AsyncStdout::new()
    }
}

impl AsyncWrite for AsyncStdout {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf).map(note)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx).map(note)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx).map(note)
    }
}
