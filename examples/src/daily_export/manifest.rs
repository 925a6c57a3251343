//! The manifest beside each stored day: what the file holds, how it was fetched, and
//! its revision. The format is documented in the program's `--help`.

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

/// What a manifest's name adds to its data object's: `<day>.<ext>.manifest.json`.
pub const MANIFEST_SUFFIX: &str = ".manifest.json";

impl Manifest {
    /// The manifest as it is stored: pretty JSON and a line break.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = serde_json::to_vec_pretty(self).unwrap_or_default();
        text.push(b'\n');
        text
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub(super) fn sha256_hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_lowercase_hex_sha256() {
        let digest = ring::digest::digest(&ring::digest::SHA256, b"abc");
        assert_eq!(
            sha256_hex(digest.as_ref()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
