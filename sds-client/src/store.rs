//! Storing observations as the server sent them: one observation's JSON text per line.

use std::path::Path;

use client_core::AtomicFile;
use futures::TryStreamExt;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};

use crate::error::{Error, Result};
use crate::observations::{ObservationsQuery, RawObservation};

impl<T: DeserializeOwned + Send + 'static> ObservationsQuery<T> {
    /// Writes every observation of the range to `writer` as NDJSON: each line is one
    /// observation's JSON text exactly as the server sent it, in time order, each once
    /// (what [`ObservationsQuery::stream`] yields). Returns the number of lines. On an
    /// error the writer holds a partial copy: use [`ObservationsQuery::write_to`] when
    /// that must never be visible.
    pub async fn copy_to<W: AsyncWrite + Unpin + ?Sized>(self, writer: &mut W) -> Result<u64> {
        let mut out = BufWriter::new(writer);
        let mut stream = self.records::<RawObservation>().stream();
        let mut lines = 0u64;
        while let Some(observation) = stream.try_next().await? {
            out.write_all(observation.as_str().as_bytes()).await?;
            out.write_all(b"\n").await?;
            lines += 1;
        }
        out.flush().await?;
        Ok(lines)
    }

    /// Like [`ObservationsQuery::copy_to`], into `path` atomically: the file appears
    /// complete, or not at all (a failed export leaves no file and no temporary file).
    pub async fn write_to(self, path: impl AsRef<Path>) -> Result<u64> {
        let mut file = AtomicFile::create(path).await.map_err(Error::from)?;
        match self.copy_to(&mut file).await {
            Ok(lines) => {
                file.commit().await.map_err(Error::from)?;
                Ok(lines)
            }
            Err(err) => {
                file.abort().await;
                Err(err)
            }
        }
    }
}
