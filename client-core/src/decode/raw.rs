//! Raw bodies: copied to a writer or to a file, with truncation reported.

use std::path::Path;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::Result;
use crate::file::AtomicFile;

/// Copies a body to `writer` and flushes it; returns the number of bytes written. A body
/// that ends early returns its error (the writer has then received a partial copy: use
/// [`write_to_file`] when a partial result must never be visible).
pub async fn copy_to_writer<S, W>(body: S, writer: &mut W) -> Result<u64>
where
    S: Stream<Item = Result<Bytes>>,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut body = std::pin::pin!(body);
    let mut written = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        writer.write_all(&chunk).await?;
        written += chunk.len() as u64;
    }
    writer.flush().await?;
    Ok(written)
}

/// Writes a body to `path` atomically (see [`AtomicFile`]): the file appears under its
/// name, complete and synced, only if the whole body arrived; otherwise nothing is left.
pub async fn write_to_file<S>(body: S, path: impl AsRef<Path>) -> Result<u64>
where
    S: Stream<Item = Result<Bytes>>,
{
    let mut file = AtomicFile::create(path.as_ref()).await?;
    match copy_to_writer(body, &mut file).await {
        Ok(written) => {
            file.commit().await?;
            Ok(written)
        }
        Err(err) => {
            file.abort().await;
            Err(err)
        }
    }
}
