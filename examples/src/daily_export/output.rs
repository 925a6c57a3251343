//! Where the days go: a store (a local folder, S3, Azure Blob Storage, Google Cloud
//! Storage) under a prefix, `NAME/YYYY-MM-DD.EXT` with `NAME/YYYY-MM-DD.EXT.manifest.json`
//! beside it, opened by `client_core::store`'s rules.
//!
//! Writes are conditional, so that two processes can never both write a day: a day's
//! object and its manifest are created with `PutMode::Create` (the store refuses a
//! second one), and replaced with `PutMode::Update` on the version listed before the
//! day was fetched (the store refuses it when another writer came first). A local
//! folder has no conditional update: there, a replacement is a rename over the file,
//! and `--shard` keeps one process per item.

use std::collections::BTreeMap;
use std::path::PathBuf;

use client_core::store::StoreLocation;
use client_core::store::object_store::path::Path;
use client_core::store::object_store::{
    self, ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion,
};
use futures::TryStreamExt;
use jiff::civil::Date;
use preventos_client::Format;
use preventos_client::plan::BatchItem;

use super::manifest::{MANIFEST_SUFFIX, MANIFEST_VERSION, Manifest, sha256_hex};

/// The output of a pass: a store, a prefix, and how its objects are named to a person.
#[derive(Debug, Clone)]
pub struct DayOutput {
    location: StoreLocation,
    /// The location as given (`exports`, `s3://bucket/prefix`), without a trailing `/`.
    shown: String,
    /// The folder, for a local one (crash leftovers are removed there).
    folder: Option<PathBuf>,
}

/// How a put may write.
#[derive(Debug, Clone)]
pub enum Write {
    /// Only where there is no object yet.
    Create,
    /// Only over the object of this version (a local folder: over any).
    Replace(UpdateVersion),
}

/// A put the store refused because another writer came first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict;

/// The objects of one item, by name: what a pass lists once per item.
#[derive(Debug, Default)]
pub struct ItemObjects(BTreeMap<String, ObjectMeta>);

impl ItemObjects {
    /// The object named `name` in the item's folder.
    pub fn get(&self, name: &str) -> Option<&ObjectMeta> {
        self.0.get(name)
    }

    /// The days before `before` that have a data object with extension `extension`.
    pub fn days(&self, extension: &str, before: Date) -> Vec<Date> {
        let suffix = format!(".{extension}");
        self.0
            .keys()
            .filter_map(|name| name.strip_suffix(&suffix)?.parse::<Date>().ok())
            .filter(|day| *day < before)
            .collect()
    }
}

/// The version a conditional update of `meta` names.
pub(super) fn version_of(meta: &ObjectMeta) -> UpdateVersion {
    UpdateVersion {
        e_tag: meta.e_tag.clone(),
        version: meta.version.clone(),
    }
}

impl DayOutput {
    /// The output at `target`: a folder (created if missing) or a store URL, with the
    /// store's settings from the environment.
    pub fn open(target: &str) -> Result<DayOutput, String> {
        let location = client_core::store::open_output(target).map_err(|e| e.to_string())?;
        let folder = location.local_folder().map(PathBuf::from);
        Ok(DayOutput {
            location,
            shown: target.trim_end_matches('/').to_owned(),
            folder,
        })
    }

    /// An output on a store built by hand (an in-memory one in a test), shown as `shown`.
    pub fn new(location: StoreLocation, shown: &str) -> DayOutput {
        DayOutput {
            location,
            shown: shown.trim_end_matches('/').to_owned(),
            folder: None,
        }
    }

    fn store(&self) -> &dyn ObjectStore {
        self.location.store.as_ref()
    }

    /// The item's folder.
    fn item_prefix(&self, item: &str) -> Result<Path, String> {
        self.location.child(item).map_err(|e| e.to_string())
    }

    /// The object of `item`'s `day`: `NAME/YYYY-MM-DD.EXT` under the prefix.
    pub fn day_path(&self, item: &BatchItem, day: Date, format: Format) -> Result<Path, String> {
        self.location
            .child(&format!("{}/{day}.{}", item.name, format.extension()))
            .map_err(|e| e.to_string())
    }

    /// The manifest of the data object at `path`.
    pub fn manifest_path(path: &Path) -> Result<Path, String> {
        client_core::store::with_suffix(path, MANIFEST_SUFFIX).map_err(|e| e.to_string())
    }

    /// `path` as a person reads it: the folder or URL given, then the path under it.
    pub fn shown(&self, path: &Path) -> String {
        let relative = path
            .prefix_match(&self.location.prefix)
            .map(|parts| parts.map(|p| p.as_ref().to_owned()).collect::<Vec<_>>().join("/"))
            .unwrap_or_else(|| path.to_string());
        format!("{}/{relative}", self.shown)
    }

    /// The output as given.
    pub fn shown_root(&self) -> &str {
        &self.shown
    }

    /// Lists the item's folder (one request, whatever the number of days).
    pub async fn list_item(&self, item: &str) -> Result<ItemObjects, String> {
        let prefix = self.item_prefix(item)?;
        let mut objects = BTreeMap::new();
        let mut listing = self.store().list(Some(&prefix));
        while let Some(meta) = listing.try_next().await.map_err(store_error)? {
            if let Some(name) = meta.location.filename() {
                objects.insert(name.to_owned(), meta);
            }
        }
        Ok(ItemObjects(objects))
    }

    /// The manifest of the data object at `path`: `None` when there is none, or when it
    /// is not a manifest of this version.
    pub async fn read_manifest(&self, path: &Path) -> Result<Option<Manifest>, String> {
        let bytes = match self.store().get(&Self::manifest_path(path)?).await {
            Ok(object) => object.bytes().await.map_err(store_error)?,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(err) => return Err(store_error(err)),
        };
        Ok(serde_json::from_slice::<Manifest>(&bytes)
            .ok()
            .filter(|m| m.version == MANIFEST_VERSION))
    }

    /// The bytes of the object at `path`.
    pub async fn read(&self, path: &Path) -> Result<bytes::Bytes, String> {
        let object = self.store().get(path).await.map_err(store_error)?;
        object.bytes().await.map_err(store_error)
    }

    /// The SHA-256 and size of the object at `path`, read through (streamed), or `None`
    /// when there is none.
    pub async fn digest(&self, path: &Path) -> Result<Option<(String, u64)>, String> {
        let object = match self.store().get(path).await {
            Ok(object) => object,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(err) => return Err(store_error(err)),
        };
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        let mut size = 0u64;
        let mut chunks = object.into_stream();
        while let Some(chunk) = chunks.try_next().await.map_err(store_error)? {
            size += chunk.len() as u64;
            context.update(&chunk);
        }
        Ok(Some((sha256_hex(context.finish().as_ref()), size)))
    }

    /// Puts `bytes` at `path` as `write` allows.
    pub async fn put(
        &self,
        path: &Path,
        bytes: PutPayload,
        write: Write,
    ) -> Result<Result<(), Conflict>, String> {
        let mode = match write {
            Write::Create => PutMode::Create,
            Write::Replace(version) => match self.versioned(path, version).await? {
                Ok(version) => PutMode::Update(version),
                Err(conflict) => return Ok(Err(conflict)),
            },
        };
        let conditional = matches!(mode, PutMode::Update(_)) && self.location.is_local();
        let put = self
            .store()
            .put_opts(path, bytes.clone(), PutOptions::from(mode))
            .await;
        match put {
            Ok(_) => Ok(Ok(())),
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => {
                Ok(Err(Conflict))
            }
            // A local folder (only): a rename over the file (see the module docs). Any
            // other store that cannot update conditionally fails the put.
            Err(object_store::Error::NotImplemented { .. }) if conditional => self
                .store()
                .put_opts(path, bytes, PutOptions::from(PutMode::Overwrite))
                .await
                .map(|_| Ok(()))
                .map_err(store_error),
            Err(err) => Err(store_error(err)),
        }
    }

    /// The version a conditional update of `path` names, from `listed`: as listed, but
    /// on Google Cloud Storage, whose listing has no generation and whose update needs
    /// one, the generation of the object as it is now, if it still has the listed ETag
    /// (else another writer came first).
    async fn versioned(
        &self,
        path: &Path,
        listed: UpdateVersion,
    ) -> Result<Result<UpdateVersion, Conflict>, String> {
        if listed.version.is_some() || self.location.scheme != "gs" {
            return Ok(Ok(listed));
        }
        let now = match self.store().head(path).await {
            Ok(meta) => meta,
            Err(object_store::Error::NotFound { .. }) => return Ok(Err(Conflict)),
            Err(err) => return Err(store_error(err)),
        };
        if now.e_tag != listed.e_tag {
            return Ok(Err(Conflict));
        }
        Ok(Ok(version_of(&now)))
    }

    /// Removes what a crash or a kill left in a local item folder: the staging files of
    /// an interrupted put (`NAME#DIGITS`), and the temporary files of earlier versions
    /// of this program (`.NAME.HEX.part`). No pass is running there but this one.
    /// Returns how many were removed; a store other than a folder has none.
    pub fn remove_leftovers(&self, item: &str) -> usize {
        let Some(folder) = &self.folder else {
            return 0;
        };
        let Ok(entries) = std::fs::read_dir(folder.join(item)) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let staging = name
                .rsplit_once('#')
                .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            let old_part = name.starts_with('.') && name.ends_with(".part");
            if (staging || old_part) && entry.path().is_file() {
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
}

/// A store's error on one line.
fn store_error(err: object_store::Error) -> String {
    client_core::store::one_line(&err.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use client_core::store::object_store::memory::InMemory;

    use super::*;

    fn in_memory() -> DayOutput {
        DayOutput::new(
            StoreLocation::new(Arc::new(InMemory::new()), Path::from("exports/daily")),
            "mem://exports/daily/",
        )
    }

    #[tokio::test]
    async fn a_create_is_refused_over_an_object_and_a_replace_over_another_version() {
        let out = in_memory();
        let path = Path::from("exports/daily/south/2026-05-31.csv");
        assert_eq!(out.shown(&path), "mem://exports/daily/south/2026-05-31.csv");
        assert_eq!(out.put(&path, "a".into(), Write::Create).await.unwrap(), Ok(()));
        assert_eq!(
            out.put(&path, "b".into(), Write::Create).await.unwrap(),
            Err(Conflict)
        );
        let listed = out.list_item("south").await.unwrap();
        let first = version_of(listed.get("2026-05-31.csv").unwrap());
        assert_eq!(
            out.put(&path, "c".into(), Write::Replace(first.clone()))
                .await
                .unwrap(),
            Ok(())
        );
        // The version listed before is gone: a second writer on it is refused.
        assert_eq!(
            out.put(&path, "d".into(), Write::Replace(first)).await.unwrap(),
            Err(Conflict)
        );
        let (sha, size) = out.digest(&path).await.unwrap().unwrap();
        assert_eq!(size, 1);
        assert_eq!(
            sha,
            sha256_hex(ring::digest::digest(&ring::digest::SHA256, b"c").as_ref())
        );
        assert_eq!(
            listed.days("csv", jiff::civil::date(2026, 6, 1)),
            [jiff::civil::date(2026, 5, 31)]
        );
    }

    #[tokio::test]
    async fn a_local_folder_replaces_by_rename_and_never_creates_twice() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let out = DayOutput::open(target.to_str().unwrap()).unwrap();
        let item: BatchItem = serde_json::from_value(serde_json::json!({
            "name": "south", "env": "102", "siteId": "site-south", "signalIds": ["Velocity"],
            "timezone": "UTC", "format": "ndjson"
        }))
        .unwrap();
        let path = out
            .day_path(&item, jiff::civil::date(2026, 5, 31), Format::Ndjson)
            .unwrap();
        assert_eq!(out.put(&path, "a\n".into(), Write::Create).await.unwrap(), Ok(()));
        assert_eq!(
            out.put(&path, "b\n".into(), Write::Create).await.unwrap(),
            Err(Conflict)
        );
        let listed = out.list_item("south").await.unwrap();
        let version = version_of(listed.get("2026-05-31.ndjson").unwrap());
        assert_eq!(
            out.put(&path, "c\n".into(), Write::Replace(version))
                .await
                .unwrap(),
            Ok(())
        );
        let file = target.join("south/2026-05-31.ndjson");
        assert_eq!(std::fs::read(&file).unwrap(), b"c\n");
        assert_eq!(
            out.shown(&path),
            format!("{}/south/2026-05-31.ndjson", target.display())
        );
        std::fs::write(target.join("south/2026-05-31.ndjson#7"), b"x").unwrap();
        std::fs::write(target.join("south/.2026-05-30.ndjson.0a1b.part"), b"x").unwrap();
        assert_eq!(out.remove_leftovers("south"), 2);
        assert_eq!(std::fs::read_dir(target.join("south")).unwrap().count(), 1);
    }
}
