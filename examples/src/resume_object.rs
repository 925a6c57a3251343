//! An output object that a killed program finishes on its next run, on an object store
//! (S3, Azure Blob Storage, Google Cloud Storage): the resumable output of
//! [`crate::resume`] for stores, which have no append and no rename.
//!
//! Beside the object `KEY`, each commit puts the committed bytes as the next part,
//! `KEY.parts/00000001`, `KEY.parts/00000002`..., then replaces the state object
//! `KEY.state.json` (the options, the number of parts, their bytes and the read's
//! checkpoint). Whatever the moment of a kill, the state names parts that are stored: a
//! part put after the last state is not named, and a rerun deletes it and puts its own.
//! Finishing copies the parts, in order, into `KEY` (one put, or a multipart upload for a
//! large object: it appears complete or not at all; a failed upload is aborted), then
//! deletes the parts, then the state. A run killed after the copy finds the state at its
//! end: with every part there it copies again; with parts gone and `KEY` of the
//! committed size, the export is finished, and only the state is removed. Parts no
//! state names (a run stopped before its first commit) are deleted before a run starts
//! afresh. Memory holds one commit's bytes, and a buffer of the copy.
//!
//! The state names the output's options as the file's does: a rerun with other options
//! is refused. Parts missing, or of another size than the state says, are refused, never
//! padded. One process writes an output at a time.

use std::io;

use client_core::Checkpoint;
use client_core::store::StoreLocation;
use client_core::store::object_store::buffered::BufWriter;
use client_core::store::object_store::path::Path;
use client_core::store::object_store::{self, ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

/// What the state object holds.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    /// The command line's output options, as the program describes them.
    options: String,
    /// Parts that belong to the committed pages.
    parts: u64,
    /// Their bytes in all.
    committed: u64,
    /// Where the read stands after them.
    checkpoint: Checkpoint,
}

/// An output object being written by a resumable read.
#[derive(Debug)]
pub struct ObjectOutput {
    location: StoreLocation,
    path: Path,
    state_path: Path,
    parts_prefix: Path,
    options: String,
    parts: u64,
    committed: u64,
    /// The object is complete already (a run killed while finishing): finishing only
    /// removes what is left beside it.
    finished: bool,
}

impl ObjectOutput {
    /// Opens the output `name` under `location`, and the checkpoint to resume from when
    /// a previous run of the same output was killed (`None`: start from the beginning).
    /// A state written with other `options` is refused with
    /// [`io::ErrorKind::InvalidInput`]; parts that do not match their state with
    /// [`io::ErrorKind::InvalidData`].
    pub async fn open(
        location: StoreLocation,
        options: &str,
    ) -> io::Result<(ObjectOutput, Option<Checkpoint>)> {
        let path = location.prefix.clone();
        if path.as_ref().is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the output URL names a bucket or container but no object in it",
            ));
        }
        let beside = |suffix: &str| {
            client_core::store::with_suffix(&path, suffix)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))
        };
        let state_path = beside(".state.json")?;
        let parts_prefix = beside(".parts")?;
        let mut output = ObjectOutput {
            location,
            path,
            state_path,
            parts_prefix,
            options: options.to_owned(),
            parts: 0,
            committed: 0,
            finished: false,
        };
        let start_again = format!(
            "delete {} and the objects under {}/ to start again",
            output.state_path, output.parts_prefix
        );
        let state = match output.store().get(&output.state_path).await {
            Ok(object) => {
                let bytes = object.bytes().await.map_err(store_error)?;
                Some(serde_json::from_slice::<State>(&bytes).map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{} is not a resume state ({e}); {start_again}", output.state_path),
                    )
                })?)
            }
            Err(object_store::Error::NotFound { .. }) => None,
            Err(err) => return Err(store_error(err)),
        };
        let stored = output.list_parts().await?;
        let Some(state) = state else {
            // Parts no state names: a run stopped before its first commit, or after its
            // finish removed the state.
            output.delete_parts(&stored, 0).await?;
            return Ok((output, None));
        };
        if state.options != options {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} was written with other output options ({}, not {options}); {start_again}",
                    output.state_path, state.options
                ),
            ));
        }
        // Killed while finishing, after the copy: the object is complete.
        if state.checkpoint.is_done() && output.finished_object(&state, &stored).await? {
            output.delete_parts(&stored, 0).await?;
            output.parts = state.parts;
            output.committed = state.committed;
            output.finished = true;
            return Ok((output, Some(state.checkpoint)));
        }
        let named: Vec<&ObjectMeta> = (1..=state.parts)
            .map(|n| stored.iter().find(|meta| meta.location == output.part_path(n)))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "a part the state names is missing under {}/; {start_again}",
                        output.parts_prefix
                    ),
                )
            })?;
        let sizes: u64 = named.iter().map(|meta| meta.size).sum();
        if sizes != state.committed {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the parts under {}/ hold {sizes} bytes, not the {} their state names; {start_again}",
                    output.parts_prefix, state.committed
                ),
            ));
        }
        // Parts put after the last commit: the read gives their bytes again.
        output.delete_parts(&stored, state.parts).await?;
        output.parts = state.parts;
        output.committed = state.committed;
        Ok((output, Some(state.checkpoint)))
    }

    /// Whether the object is the finished copy of the parts `state` names: some of the
    /// parts are gone (finishing deletes them only after the copy) and the object has
    /// the committed size.
    async fn finished_object(&self, state: &State, stored: &[ObjectMeta]) -> io::Result<bool> {
        let all_parts =
            (1..=state.parts).all(|n| stored.iter().any(|meta| meta.location == self.part_path(n)));
        if all_parts {
            return Ok(false);
        }
        match self.store().head(&self.path).await {
            Ok(meta) => Ok(meta.size == state.committed),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(store_error(err)),
        }
    }

    fn store(&self) -> &dyn ObjectStore {
        self.location.store.as_ref()
    }

    fn part_path(&self, n: u64) -> Path {
        self.parts_prefix.clone().join(format!("{n:08}"))
    }

    async fn list_parts(&self) -> io::Result<Vec<ObjectMeta>> {
        self.store()
            .list(Some(&self.parts_prefix))
            .try_collect()
            .await
            .map_err(store_error)
    }

    /// Deletes the parts of `stored` after the first `keep`.
    async fn delete_parts(&self, stored: &[ObjectMeta], keep: u64) -> io::Result<()> {
        for meta in stored {
            let number = meta.location.filename().and_then(|name| name.parse::<u64>().ok());
            if number.is_none_or(|n| n > keep) {
                match self.store().delete(&meta.location).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(err) => return Err(store_error(err)),
                }
            }
        }
        Ok(())
    }

    /// Stores `bytes` (a page's or window's lines) as the next part, then the state
    /// naming it with `checkpoint`, the read's position after them.
    pub async fn commit(&mut self, bytes: &[u8], checkpoint: &Checkpoint) -> io::Result<()> {
        let part = self.part_path(self.parts + 1);
        self.store()
            .put(&part, PutPayload::from(bytes.to_vec()))
            .await
            .map_err(store_error)?;
        let state = State {
            options: self.options.clone(),
            parts: self.parts + 1,
            committed: self.committed + bytes.len() as u64,
            checkpoint: checkpoint.clone(),
        };
        let text = serde_json::to_vec(&state).map_err(io::Error::other)?;
        self.store()
            .put(&self.state_path, PutPayload::from(text))
            .await
            .map_err(store_error)?;
        self.parts = state.parts;
        self.committed = state.committed;
        Ok(())
    }

    /// Bytes committed so far (this run's and the runs' before it).
    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// The read is complete: the parts become the object, then the state and the parts
    /// go.
    pub async fn finish(self) -> io::Result<()> {
        if !self.finished {
            let mut object = BufWriter::new(self.location.store.clone(), self.path.clone());
            if let Err(err) = self.copy_parts(&mut object).await {
                // No multipart upload left behind (a store bills for its parts).
                let _ = object.abort().await;
                return Err(err);
            }
        }
        let stored = self.list_parts().await?;
        self.delete_parts(&stored, 0).await?;
        match self.store().delete(&self.state_path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(store_error(err)),
        }
    }

    /// The bytes committed so far, the parts in order (the whole output once the read
    /// is complete): what `--parquet` converts before the output is finished.
    pub async fn read_committed(&self) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        if self.finished {
            let object = self.store().get(&self.path).await.map_err(store_error)?;
            bytes.extend_from_slice(&object.bytes().await.map_err(store_error)?);
            return Ok(bytes);
        }
        for n in 1..=self.parts {
            let part = self.store().get(&self.part_path(n)).await.map_err(store_error)?;
            bytes.extend_from_slice(&part.bytes().await.map_err(store_error)?);
        }
        Ok(bytes)
    }

    /// Copies the parts, in order, into `object`, and completes it.
    async fn copy_parts(&self, object: &mut BufWriter) -> io::Result<()> {
        for n in 1..=self.parts {
            let part = self.store().get(&self.part_path(n)).await.map_err(store_error)?;
            let mut chunks = part.into_stream();
            while let Some(chunk) = chunks.try_next().await.map_err(store_error)? {
                object.write_all(&chunk).await?;
            }
        }
        object.shutdown().await
    }
}

fn store_error(err: object_store::Error) -> io::Error {
    io::Error::other(client_core::store::one_line(&err.to_string()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use client_core::Position;
    use client_core::store::object_store::memory::InMemory;

    use super::*;

    fn location(store: &Arc<InMemory>) -> StoreLocation {
        StoreLocation::new(store.clone(), Path::from("exports/out.ndjson"))
    }

    async fn names(store: &InMemory) -> Vec<String> {
        let mut names: Vec<String> = store
            .list(None)
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .unwrap();
        names.sort();
        names
    }

    fn window(from: &str) -> Checkpoint {
        Checkpoint::new(
            "r/1",
            Position::Window {
                from: from.parse().unwrap(),
                skip: 0,
            },
        )
    }

    #[tokio::test]
    async fn a_rerun_drops_an_uncommitted_part_and_resumes_then_finishes_into_one_object() {
        let store = Arc::new(InMemory::new());
        let (mut output, resume) = ObjectOutput::open(location(&store), "ndjson").await.unwrap();
        assert!(resume.is_none());
        let after_one = window("2026-01-02T00:00:00Z");
        output.commit(b"a\nb\n", &after_one).await.unwrap();
        // Killed between the next part's put and its state's.
        store
            .put(&Path::from("exports/out.ndjson.parts/00000002"), "c\n".into())
            .await
            .unwrap();
        drop(output);

        let (mut output, resume) = ObjectOutput::open(location(&store), "ndjson").await.unwrap();
        assert_eq!(resume, Some(after_one));
        assert_eq!(output.committed(), 4);
        assert_eq!(
            names(&store).await,
            [
                "exports/out.ndjson.parts/00000001",
                "exports/out.ndjson.state.json"
            ]
        );
        output
            .commit(b"c\nd\n", &Checkpoint::new("r/1", Position::Done))
            .await
            .unwrap();
        output.finish().await.unwrap();
        let bytes = store
            .get(&Path::from("exports/out.ndjson"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(&bytes[..], b"a\nb\nc\nd\n");
        assert_eq!(
            names(&store).await,
            ["exports/out.ndjson"],
            "only the object remains"
        );
    }

    #[tokio::test]
    async fn a_kill_after_the_copy_copies_again_and_other_options_or_missing_parts_are_refused() {
        let store = Arc::new(InMemory::new());
        let (mut output, _) = ObjectOutput::open(location(&store), "ndjson").await.unwrap();
        output
            .commit(b"a\n", &Checkpoint::new("r/1", Position::Done))
            .await
            .unwrap();
        drop(output);
        // A finished object with its state still there (killed after the copy).
        store
            .put(&Path::from("exports/out.ndjson"), "a\n".into())
            .await
            .unwrap();
        let err = ObjectOutput::open(location(&store), "csv").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("ndjson, not csv"), "{err}");

        let (output, resume) = ObjectOutput::open(location(&store), "ndjson").await.unwrap();
        assert!(resume.unwrap().is_done());
        output.finish().await.unwrap();
        assert_eq!(names(&store).await, ["exports/out.ndjson"]);

        let (mut output, _) = ObjectOutput::open(location(&store), "ndjson").await.unwrap();
        output
            .commit(b"a\n", &window("2026-01-02T00:00:00Z"))
            .await
            .unwrap();
        drop(output);
        store
            .delete(&Path::from("exports/out.ndjson.parts/00000001"))
            .await
            .unwrap();
        let err = ObjectOutput::open(location(&store), "ndjson").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    }

    #[tokio::test]
    async fn a_kill_after_the_copy_and_the_parts_deletion_finishes_without_a_copy() {
        let store = Arc::new(InMemory::new());
        let (mut output, _) = ObjectOutput::open(location(&store), "ndjson").await.unwrap();
        output
            .commit(b"a\n", &window("2026-01-02T00:00:00Z"))
            .await
            .unwrap();
        output
            .commit(b"b\n", &Checkpoint::new("r/1", Position::Done))
            .await
            .unwrap();
        drop(output);
        // The copy done, the first part deleted, then killed.
        store
            .put(&Path::from("exports/out.ndjson"), "a\nb\n".into())
            .await
            .unwrap();
        store
            .delete(&Path::from("exports/out.ndjson.parts/00000001"))
            .await
            .unwrap();
        let (output, resume) = ObjectOutput::open(location(&store), "ndjson").await.unwrap();
        assert!(resume.unwrap().is_done());
        assert_eq!(output.read_committed().await.unwrap(), b"a\nb\n");
        output.finish().await.unwrap();
        assert_eq!(names(&store).await, ["exports/out.ndjson"]);
        let bytes = store
            .get(&Path::from("exports/out.ndjson"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(&bytes[..], b"a\nb\n", "not copied again from what is left");
    }

    #[tokio::test]
    async fn parts_no_state_names_are_deleted_and_a_bucket_alone_is_refused() {
        let store = Arc::new(InMemory::new());
        store
            .put(&Path::from("exports/out.ndjson.parts/00000001"), "x\n".into())
            .await
            .unwrap();
        let (output, resume) = ObjectOutput::open(location(&store), "ndjson").await.unwrap();
        assert!(resume.is_none());
        assert!(names(&store).await.is_empty());
        output.finish().await.unwrap();
        assert_eq!(
            names(&store).await,
            ["exports/out.ndjson"],
            "an empty read, an empty object"
        );

        let bucket = StoreLocation::new(store.clone(), Path::default());
        let err = ObjectOutput::open(bucket, "ndjson").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    }
}
