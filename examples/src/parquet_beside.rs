//! `--parquet` of the resumable exports (`conduit-export`, `sds-export`): once the read
//! is complete, and before the output is put in place, `<out>.parquet` beside it holds
//! the same records as columns, made from the committed bytes.
//!
//! The whole output is held in memory for the conversion, and the Parquet file is
//! written whole: a file through a temporary file renamed into place, an object by one
//! put. A run killed before the output is in place keeps its resume state: the same
//! command run again reads nothing more and writes the Parquet file and the output.

use client_core::AtomicFile;
use client_core::store::object_store::{ObjectStoreExt, PutPayload};
use tokio::io::AsyncWriteExt;

/// What `--parquet` adds to the output's name.
pub const PARQUET_SUFFIX: &str = ".parquet";

/// Converts `bytes` (the output at `target`: a path, `file://` or an object URL, as
/// `--out` takes it) with `convert` (into Parquet bytes, returning the rows), and writes
/// the result to `<target>.parquet`. Returns the rows.
pub async fn write_beside<F>(target: &str, bytes: Vec<u8>, convert: F) -> Result<u64, String>
where
    F: FnOnce(&[u8], &mut Vec<u8>) -> Result<u64, String> + Send + 'static,
{
    // Encoding is CPU work: off the runtime's threads.
    let (rows, parquet) = tokio::task::spawn_blocking(move || {
        let mut parquet = Vec::new();
        convert(&bytes, &mut parquet).map(|rows| (rows, parquet))
    })
    .await
    .map_err(|e| e.to_string())??;
    match client_core::store::local_path(target).map_err(|e| e.to_string())? {
        Some(path) => {
            let mut name = path.into_os_string();
            name.push(PARQUET_SUFFIX);
            let path = std::path::PathBuf::from(name);
            let mut file = AtomicFile::create(&path).await.map_err(|e| e.to_string())?;
            file.write_all(&parquet)
                .await
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            file.commit().await.map_err(|e| e.to_string())?;
        }
        None => {
            let location = client_core::store::open_url(target).map_err(|e| e.to_string())?;
            let path = client_core::store::with_suffix(&location.prefix, PARQUET_SUFFIX)
                .map_err(|e| e.to_string())?;
            location
                .store
                .put(&path, PutPayload::from(parquet))
                .await
                .map_err(|e| client_core::store::one_line(&e.to_string()))?;
        }
    }
    Ok(rows)
}
