//! One item's day fetched into a temporary file and put in place atomically with its
//! manifest, or dropped when the content did not change; and the temporary files a
//! crash left behind.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use client_core::AtomicFile;
use jiff::Timestamp;
use jiff::civil::Date;
use preventos_client::plan::BatchItem;
use preventos_client::{Catalog, Client, CsvPreset, Format};
use tokio::io::AsyncWrite;
use tracing::Instrument;

use super::manifest::{
    MANIFEST_VERSION, Manifest, ManifestWindow, file_digest, read_manifest, sha256_hex, write_manifest,
};
use super::requests::{RequestLog, day_span};

/// What storing a day did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A file where there was none (a first export, or a file that went missing).
    New,
    /// The file's content changed: it was replaced, the manifest has this revision.
    Replaced(u64),
    /// Fetched again, same content: file and manifest left untouched.
    Unchanged,
}

/// Why a day could not be stored, with the server's correlation id when there was one.
#[derive(Debug)]
pub struct DayError {
    /// The one-line reason.
    pub message: String,
    /// The correlation id of the failed response.
    pub correlation_id: Option<String>,
}

impl From<preventos_client::Error> for DayError {
    fn from(err: preventos_client::Error) -> Self {
        DayError {
            correlation_id: err.correlation_id().map(str::to_owned),
            message: crate::report::one_line(&err.to_string()),
        }
    }
}

impl From<String> for DayError {
    fn from(message: String) -> Self {
        DayError {
            message,
            correlation_id: None,
        }
    }
}

/// Fetches `item`'s `day` into `path` (see the module docs).
pub async fn store_day(
    client: &Client,
    catalog: &Catalog,
    item: &BatchItem,
    day: Date,
    format: Format,
    path: &Path,
    requests: &RequestLog,
) -> Result<Stored, DayError> {
    let mut export = client
        .export(&item.env, &item.site_id, item.signal_ids.clone())
        .date(day)
        .time_zone(&item.timezone)
        .format(format)
        .catalog(catalog);
    if let Some(preset) = &item.csv_preset {
        export = export.csv_preset(CsvPreset::parse(preset));
    }
    let windows: Vec<ManifestWindow> = export
        .plan(catalog)?
        .into_iter()
        .map(|(from, to)| ManifestWindow {
            from: from.to_string(),
            to: to.to_string(),
        })
        .collect();
    let key = requests.key();
    let mut file = AtomicFile::create(path).await.map_err(|e| e.to_string())?;
    let mut hashing = Hashing::new(&mut file);
    let fetched = export.copy_to(&mut hashing).instrument(day_span(key)).await;
    let sha256 = hashing.finish();
    let sent = requests.take(key);
    let summary = match fetched {
        Ok(summary) => summary,
        Err(err) => {
            file.abort().await;
            return Err(err.into());
        }
    };
    let previous = read_manifest(path);
    let on_disk = file_digest(path).map(|(sha, _)| sha);
    let same_file = on_disk.as_deref() == Some(sha256.as_str());
    let same_manifest = previous.as_ref().is_some_and(|m| m.sha256 == sha256);
    if same_file {
        // Same bytes: the file stays as it is (a manifest that lost track of it is
        // written again below).
        file.abort().await;
        if same_manifest {
            return Ok(Stored::Unchanged);
        }
    } else {
        file.commit().await.map_err(|e| e.to_string())?;
    }
    let revision = match &previous {
        Some(manifest) if same_manifest => manifest.revision,
        Some(manifest) => manifest.revision + 1,
        None => 1,
    };
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        item: item.name.clone(),
        env: item.env.clone(),
        site_id: item.site_id.clone(),
        signal_ids: item.signal_ids.clone(),
        day: day.to_string(),
        timezone: item.timezone.clone(),
        format: format.as_str().to_owned(),
        file: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        records: summary.records,
        bytes: summary.bytes,
        sha256,
        fetched_at: Timestamp::now().to_string(),
        revision,
        windows,
        requests: sent,
    };
    write_manifest(path, &manifest).await?;
    Ok(if same_file {
        Stored::Unchanged
    } else if on_disk.is_none() {
        Stored::New
    } else {
        Stored::Replaced(revision)
    })
}

/// Removes the temporary files a crash or a kill left in `folder` (`.<name>.<hex>.part`,
/// the names [`AtomicFile`] gives them): no pass is running there but this one. Returns
/// how many were removed.
pub fn remove_leftovers(folder: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".part") && entry.path().is_file() {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::info!(path = %entry.path().display(), "temporary file of an interrupted pass removed");
                    removed += 1;
                }
                Err(err) => {
                    tracing::warn!(path = %entry.path().display(), error = %err, "cannot remove a temporary file")
                }
            }
        }
    }
    removed
}

/// A writer that hashes (SHA-256) what it passes on.
struct Hashing<'a, W: ?Sized> {
    inner: &'a mut W,
    context: ring::digest::Context,
}

impl<'a, W: ?Sized> Hashing<'a, W> {
    fn new(inner: &'a mut W) -> Self {
        Hashing {
            inner,
            context: ring::digest::Context::new(&ring::digest::SHA256),
        }
    }

    fn finish(self) -> String {
        sha256_hex(self.context.finish().as_ref())
    }
}

impl<W: AsyncWrite + Unpin + ?Sized> AsyncWrite for Hashing<'_, W> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut *this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.context.update(&buf[..n]);
                Poll::Ready(Ok(n))
            }
            other => other,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.inner).poll_shutdown(cx)
    }
}
