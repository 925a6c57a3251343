//! `--parquet` of the resumable exports (`conduit-export`, `sds-export`): once the
//! output is complete, `<out>.parquet` beside it holds the same records as columns, made
//! from the output's bytes as stored (a file, or an object on a store).
//!
//! The finished output is read into memory for the conversion, and the Parquet file is
//! written whole: a file through a temporary file renamed into place, an object by one
//! put (a multipart upload for a large one). A run killed before it leaves the output
//! complete and no Parquet file; the command run again finds the output finished and
//! writes it.

use std::path::Path;

use client_core::AtomicFile;
use client_core::store::object_store::path::Path as ObjectPath;
use client_core::store::object_store::{ObjectStoreExt, PutPayload};
use tokio::io::AsyncWriteExt;

/// What `--parquet` adds to the output's name.
pub const PARQUET_SUFFIX: &str = ".parquet";

/// Converts the finished output at `target` (a path, `file://` or an object URL, as
/// `--out` takes it) with `convert` (its bytes into Parquet bytes, returning the rows),
/// and writes the result to `<target>.parquet`. Returns the rows.
pub async fn write_beside<F>(target: &str, convert: F) -> Result<u64, String>
where
    F: FnOnce(&[u8], &mut Vec<u8>) -> Result<u64, String> + Send + 'static,
{
    let local = target
        .strip_prefix("file://")
        .or((!target.contains("://")).then_some(target));
    let bytes = match local {
        Some(path) => bytes::Bytes::from(
            tokio::fs::read(path)
                .await
                .map_err(|e| format!("cannot read {path}: {e}"))?,
        ),
        None => {
            let location = client_core::store::open_url(target).map_err(|e| e.to_string())?;
            let object = location
                .store
                .get(&location.prefix)
                .await
                .map_err(|e| client_core::store::one_line(&e.to_string()))?;
            object
                .bytes()
                .await
                .map_err(|e| client_core::store::one_line(&e.to_string()))?
        }
    };
    // Encoding is CPU work: off the runtime's threads.
    let (rows, parquet) = tokio::task::spawn_blocking(move || {
        let mut parquet = Vec::new();
        convert(&bytes, &mut parquet).map(|rows| (rows, parquet))
    })
    .await
    .map_err(|e| e.to_string())??;
    match local {
        Some(path) => {
            let path = format!("{path}{PARQUET_SUFFIX}");
            let mut file = AtomicFile::create(Path::new(&path))
                .await
                .map_err(|e| e.to_string())?;
            file.write_all(&parquet)
                .await
                .map_err(|e| format!("cannot write {path}: {e}"))?;
            file.commit().await.map_err(|e| e.to_string())?;
        }
        None => {
            let location = client_core::store::open_url(target).map_err(|e| e.to_string())?;
            let path = ObjectPath::from(format!("{}{PARQUET_SUFFIX}", location.prefix));
            location
                .store
                .put(&path, PutPayload::from(parquet))
                .await
                .map_err(|e| client_core::store::one_line(&e.to_string()))?;
        }
    }
    Ok(rows)
}
