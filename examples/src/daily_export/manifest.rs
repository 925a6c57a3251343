//! The manifest beside each stored day: what the file holds, how it was fetched, and
//! its revision. The format is documented in the program's `--help`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The manifest format's version; a reader refuses another major version.
pub const MANIFEST_VERSION: u32 = 1;

/// `<day>.<ext>.manifest.json`: one stored day's record of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// The plan item's name.
    pub item: String,
    /// Environment id.
    pub env: String,
    /// Site id.
    pub site_id: String,
    /// Signal ids, in the plan's order.
    pub signal_ids: Vec<String>,
    /// The local day (`YYYY-MM-DD`).
    pub day: String,
    /// The IANA time zone of the day.
    pub timezone: String,
    /// `csv`, `ndjson` or `json`.
    pub format: String,
    /// The data file's name, beside the manifest.
    pub file: String,
    /// Records in the file (CSV rows, NDJSON lines, JSON elements).
    pub records: u64,
    /// Bytes of the file.
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// When the file's content was fetched (RFC 3339, UTC).
    pub fetched_at: String,
    /// 1 for the first content, incremented each time the content changed.
    pub revision: u64,
    /// The windows the day was planned in, `[from, to)`.
    pub windows: Vec<ManifestWindow>,
    /// The values requests sent, in the order they completed (windows are fetched
    /// several at once): each with its range as sent (a window with a second of
    /// overlap at both ends), final HTTP status and correlation id.
    pub requests: Vec<ManifestRequest>,
}

/// A planned window of a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ManifestWindow {
    /// Start, inclusive.
    pub from: String,
    /// End, exclusive.
    pub to: String,
}

/// One values request of a day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ManifestRequest {
    /// The range as sent.
    pub range: Option<String>,
    /// The final HTTP status.
    pub status: Option<u16>,
    /// The server's correlation id (`x-correlation-id` and the like).
    pub correlation_id: Option<String>,
}

/// The manifest path of the data file at `file`.
pub fn manifest_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".manifest.json");
    file.with_file_name(name)
}

/// The manifest of the data file at `file`, if there is a readable one of this version.
pub fn read_manifest(file: &Path) -> Option<Manifest> {
    let text = std::fs::read(manifest_path(file)).ok()?;
    serde_json::from_slice::<Manifest>(&text)
        .ok()
        .filter(|m| m.version == MANIFEST_VERSION)
}

/// Writes the manifest of the data file at `file`, atomically.
pub(super) async fn write_manifest(file: &Path, manifest: &Manifest) -> Result<(), String> {
    let path = manifest_path(file);
    let mut text = serde_json::to_vec_pretty(manifest).map_err(|e| e.to_string())?;
    text.push(b'\n');
    let mut out = client_core::AtomicFile::create(&path)
        .await
        .map_err(|e| e.to_string())?;
    tokio::io::AsyncWriteExt::write_all(&mut out, &text)
        .await
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    out.commit().await.map_err(|e| e.to_string())
}

/// Lowercase hex SHA-256 of `bytes`.
pub(super) fn sha256_hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 and size of the file at `path`, or `None` if it cannot be read.
pub(super) fn file_digest(path: &Path) -> Option<(String, u64)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).ok()?;
        if n == 0 {
            break;
        }
        size += n as u64;
        context.update(&buffer[..n]);
    }
    Some((sha256_hex(context.finish().as_ref()), size))
}

/// Whether the file at `path` is the one its manifest describes (same size and hash).
pub fn matches_manifest(path: &Path, manifest: &Manifest) -> bool {
    file_digest(path).is_some_and(|(sha, size)| sha == manifest.sha256 && size == manifest.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_sits_beside_its_file() {
        assert_eq!(
            manifest_path(Path::new("out/a/2026-05-31.csv")),
            Path::new("out/a/2026-05-31.csv.manifest.json")
        );
    }

    #[test]
    fn digests_are_lowercase_hex_sha256() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("f");
        std::fs::write(&path, b"abc").unwrap();
        let (sha, size) = file_digest(&path).unwrap();
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(size, 3);
    }
}
