//! `--parquet`: a Parquet file beside each stored day, `<day>.<ext>.parquet`, made from
//! the stored bytes (never from a second request), with the schema of
//! `preventos_client::columns`.
//!
//! It is derived, so a day is done without it: a pass writes it for each day it stores,
//! and for a stored day whose Parquet file is missing or older than the day's object (a
//! pass killed between the two) it reads the object back and writes it again.

use bytes::Bytes;
use client_core::store::object_store::ObjectMeta;
use client_core::store::object_store::path::Path;
use preventos_client::columns::{DEFAULT_BATCH_ROWS, parquet_from_stored};
use preventos_client::{CsvPreset, Format};

use super::output::{DayOutput, Write, version_of};

/// What a Parquet file's name adds to its day's: `<day>.<ext>.parquet`.
pub const PARQUET_SUFFIX: &str = ".parquet";

/// The Parquet file of the day object at `path`.
pub(super) fn parquet_path(path: &Path) -> Result<Path, String> {
    client_core::store::with_suffix(path, PARQUET_SUFFIX).map_err(|e| e.to_string())
}

/// Whether the day object `data` needs its Parquet file (written again): there is none,
/// or it is older than the object.
pub(super) fn stale(data: Option<&ObjectMeta>, parquet: Option<&ObjectMeta>) -> bool {
    match (data, parquet) {
        (_, None) => true,
        (Some(data), Some(parquet)) => parquet.last_modified < data.last_modified,
        (None, Some(_)) => false,
    }
}

/// Writes the Parquet file of the day object at `path` from its `bytes`, stored in
/// `format` (with the item's CSV `preset`): created, or replaced over the version
/// `listed`. Returns the rows written.
pub(super) async fn store_parquet(
    out: &DayOutput,
    path: &Path,
    bytes: Bytes,
    format: Format,
    preset: Option<CsvPreset>,
    listed: Option<&ObjectMeta>,
) -> Result<u64, String> {
    // Encoding is CPU work: off the runtime's threads.
    let (rows, parquet) = tokio::task::spawn_blocking(move || {
        let mut parquet = Vec::new();
        parquet_from_stored(&bytes, format, preset.as_ref(), DEFAULT_BATCH_ROWS, &mut parquet)
            .map(|rows| (rows, parquet))
            .map_err(|e| format!("the stored day does not convert to Parquet: {e}"))
    })
    .await
    .map_err(|e| e.to_string())??;
    let target = parquet_path(path)?;
    let write = listed.map_or(Write::Create, |meta| Write::Replace(version_of(meta)));
    if out.put(&target, parquet.into(), write).await?.is_err() {
        return Err(format!(
            "{} was written meanwhile by another process; left as that process wrote it",
            out.shown(&target)
        ));
    }
    Ok(rows)
}
