//! One item's day fetched and put in place with its manifest (the data object first),
//! each by a conditional put, or dropped when the content did not change.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use client_core::store::object_store::ObjectMeta;
use client_core::store::object_store::path::Path;
use jiff::Timestamp;
use jiff::civil::Date;
use preventos_client::plan::BatchItem;
use preventos_client::{Catalog, Client, CsvPreset, Format};
use tokio::io::AsyncWrite;
use tracing::Instrument;

use super::manifest::{MANIFEST_VERSION, Manifest, ManifestWindow, sha256_hex};
use super::output::{DayOutput, Write, version_of};
use super::requests::{RequestLog, day_span};

/// What storing a day did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// An object where there was none (a first export, or an object that went missing).
    New,
    /// The content changed: the object was replaced, the manifest has this revision.
    Replaced(u64),
    /// Fetched again, same content: the object left untouched (and its manifest, unless
    /// it was missing or named other content).
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

/// What a pass listed of a day before fetching it: its data object and its manifest.
#[derive(Debug, Clone, Copy, Default)]
pub struct Listed<'a> {
    /// The day's data object.
    pub data: Option<&'a ObjectMeta>,
    /// Its manifest.
    pub manifest: Option<&'a ObjectMeta>,
}

impl Listed<'_> {
    /// Whether both exist and the manifest was written no earlier than the object, as a
    /// store writes them: an object newer than its manifest is a replacement that was
    /// interrupted (or refused) before its manifest, which then describes other bytes.
    pub fn manifest_current(&self) -> bool {
        match (self.data, self.manifest) {
            (Some(data), Some(manifest)) => manifest.last_modified >= data.last_modified,
            _ => false,
        }
    }
}

/// Fetches `item`'s `day` and stores it in `out` with its manifest (see the module docs),
/// and returns what it did with the day's bytes. The day is held in memory between the
/// fetch and the put: a create-only put is one request, and a day's content is compared
/// before anything is written.
#[allow(clippy::too_many_arguments)]
pub async fn store_day(
    client: &Client,
    catalog: &Catalog,
    item: &BatchItem,
    day: Date,
    format: Format,
    out: &DayOutput,
    listed: Listed<'_>,
    requests: &RequestLog,
) -> Result<(Stored, Bytes), DayError> {
    let path = out.day_path(item, day, format)?;
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
    let mut bytes = Vec::new();
    let mut hashing = Hashing::new(&mut bytes);
    let fetched = export.copy_to(&mut hashing).instrument(day_span(key)).await;
    let sha256 = hashing.finish();
    let sent = requests.take(key);
    let summary = fetched?;
    let bytes = Bytes::from(bytes);
    let previous = match listed.manifest {
        Some(_) => out.read_manifest(&path).await?,
        None => None,
    };
    let same_manifest = previous.as_ref().is_some_and(|m| m.sha256 == sha256);
    // Same bytes as the stored object: the word of a manifest written after it, when it
    // has the same digest and size (--verify reads the object itself), else the object
    // read back.
    let same_object = match listed.data {
        Some(meta) if meta.size == bytes.len() as u64 => {
            (same_manifest && listed.manifest_current())
                || out.digest(&path).await?.is_some_and(|(sha, _)| sha == sha256)
        }
        _ => false,
    };
    if same_object && same_manifest {
        return Ok((Stored::Unchanged, bytes));
    }
    if !same_object {
        let write = match listed.data {
            None => Write::Create,
            Some(meta) => Write::Replace(version_of(meta)),
        };
        if out.put(&path, bytes.clone().into(), write).await?.is_err() {
            return Err(conflict(out, &path));
        }
    }
    // A manifest that lost track of its object (none, or another digest) is written
    // again for the same bytes.
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
        file: path.filename().unwrap_or_default().to_owned(),
        records: summary.records,
        bytes: summary.bytes,
        sha256,
        fetched_at: Timestamp::now().to_string(),
        revision,
        windows,
        requests: sent,
    };
    let write = match listed.manifest {
        None => Write::Create,
        Some(meta) => Write::Replace(version_of(meta)),
    };
    let manifest_path = DayOutput::manifest_path(&path)?;
    if out
        .put(&manifest_path, manifest.to_bytes().into(), write)
        .await?
        .is_err()
    {
        return Err(conflict(out, &manifest_path));
    }
    let stored = if same_object {
        Stored::Unchanged
    } else if listed.data.is_none() {
        Stored::New
    } else {
        Stored::Replaced(revision)
    };
    Ok((stored, bytes))
}

/// Another process wrote `path` between this pass's listing and its put.
fn conflict(out: &DayOutput, path: &Path) -> DayError {
    DayError::from(format!(
        "{} was written meanwhile by another process (the store refused this one's conditional put); left as that process wrote it",
        out.shown(path)
    ))
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
