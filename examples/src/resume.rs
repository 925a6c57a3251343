//! An output file that a killed program finishes on its next run: written through a
//! partial file and a state file holding the read's checkpoint, and renamed into place
//! only when the read is complete.
//!
//! After each page or window, the program appends its lines and commits the checkpoint
//! after them: the partial file is flushed and synced first, then the state file (the
//! checkpoint and the partial file's committed length) is replaced atomically. Whatever
//! the moment of a kill, the state names bytes that are on disk. A rerun truncates the
//! partial file to the committed length (dropping lines written after the last commit)
//! and resumes the read from the checkpoint, so the final file equals the file of an
//! uninterrupted run, byte for byte. On success, the partial and state files are gone.
//!
//! The state also names the output's options (the format, say): a rerun with other
//! options is refused rather than appending another format's lines. A run killed after
//! renaming the finished file into place but before removing the state finds the state
//! complete and the partial file gone; it takes the finished file back, so that it is
//! finished again without a request. A partial file shorter than the state says is
//! refused, never padded.
//!
//! A partial file that holds no committed page (a run stopped or failed before its
//! first commit) is no resume point: it is removed when the output is dropped. Once a
//! page is committed, the partial and state files stay until [`ResumableOutput::finish`].

use std::io;
use std::path::{Path, PathBuf};

use client_core::{AtomicFile, Checkpoint};

use crate::resume_object::ObjectOutput;
use serde::{Deserialize, Serialize};
use tokio::fs::File;
use tokio::io::AsyncWriteExt;

/// What the state file holds.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    /// What the output's bytes depend on beyond the read (the command line's output
    /// options), as the program describes them.
    options: String,
    /// Bytes of the partial file that belong to the committed pages.
    committed: u64,
    /// Where the read stands after them.
    checkpoint: Checkpoint,
}

/// An output file being written by a resumable read.
#[derive(Debug)]
pub struct ResumableOutput {
    path: PathBuf,
    partial_path: PathBuf,
    state_path: PathBuf,
    partial: File,
    options: String,
    committed: u64,
    /// Removes the partial file on drop while no state names it.
    uncommitted: Uncommitted,
}

/// The path of a partial file that no state names yet (and the state's path): nothing
/// to resume from, so it goes when the output is dropped (a failure, or Ctrl-C dropping
/// the program's body), unless the state file exists by then. A commit dropped after
/// the state's rename but before it returned has made the partial a resume point.
#[derive(Debug)]
struct Uncommitted(Option<(PathBuf, PathBuf)>);

impl Drop for Uncommitted {
    fn drop(&mut self) {
        if let Some((partial, state)) = self.0.take() {
            if !state.exists() {
                let _ = std::fs::remove_file(partial);
            }
        }
    }
}

impl ResumableOutput {
    /// Opens the output `path`, and the checkpoint to resume from when a previous run of
    /// the same output was killed (`None`: start from the beginning). The partial file
    /// is `<path>.partial`, the state `<path>.state.json`. `options` describes what the
    /// bytes depend on beyond the read (the output format, say): a state written with
    /// other options is refused with [`io::ErrorKind::InvalidInput`].
    pub async fn open(path: &Path, options: &str) -> io::Result<(ResumableOutput, Option<Checkpoint>)> {
        let partial_path = suffixed(path, ".partial");
        let state_path = suffixed(path, ".state.json");
        let state = match tokio::fs::read(&state_path).await {
            Ok(bytes) => Some(serde_json::from_slice::<State>(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} is not a resume state ({e}); remove it to start again",
                        state_path.display()
                    ),
                )
            })?),
            Err(err) if err.kind() == io::ErrorKind::NotFound => None,
            Err(err) => return Err(err),
        };
        let start_again = format!(
            "remove {} and {} to start again",
            state_path.display(),
            partial_path.display()
        );
        if let Some(state) = &state {
            if state.options != options {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} was written with other output options ({}, not {options}); {start_again}",
                        state_path.display(),
                        state.options
                    ),
                ));
            }
            match file_len(&partial_path).await? {
                // Killed between finishing's rename and the state's removal: the output
                // is the finished file. Take it back; resuming from `Done` reads nothing
                // and finishing renames it into place again.
                None if state.checkpoint.is_done() && file_len(path).await? == Some(state.committed) => {
                    tokio::fs::rename(path, &partial_path).await?;
                }
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{} is missing; {start_again}", partial_path.display()),
                    ));
                }
                Some(len) if len < state.committed => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{} holds {len} bytes, fewer than the {} its state names; {start_again}",
                            partial_path.display(),
                            state.committed
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        // Opened here and now (not on tokio's blocking pool): a Ctrl-C that drops this
        // future cannot leave a partial file created after the guard below gave up on it.
        let partial = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(state.is_none())
            .open(&partial_path)?;
        let uncommitted = Uncommitted(
            state
                .is_none()
                .then(|| (partial_path.clone(), state_path.clone())),
        );
        let committed = state.as_ref().map_or(0, |state| state.committed);
        // Lines written after the last commit are dropped: the read gives them again.
        partial.set_len(committed)?;
        let partial = File::from_std(partial);
        let mut output = ResumableOutput {
            path: path.to_path_buf(),
            uncommitted,
            partial_path,
            state_path,
            partial,
            options: options.to_owned(),
            committed,
        };
        output.seek_to_end().await?;
        Ok((output, state.map(|state| state.checkpoint)))
    }

    async fn seek_to_end(&mut self) -> io::Result<()> {
        use tokio::io::AsyncSeekExt;
        self.partial.seek(io::SeekFrom::Start(self.committed)).await?;
        Ok(())
    }

    /// Appends `bytes` (a page's or window's lines) and commits `checkpoint`, the read's
    /// position after them: the bytes are synced before the state names them.
    pub async fn commit(&mut self, bytes: &[u8], checkpoint: &Checkpoint) -> io::Result<()> {
        self.partial.write_all(bytes).await?;
        self.partial.flush().await?;
        self.partial.sync_data().await?;
        self.committed += bytes.len() as u64;
        let state = serde_json::to_vec(&State {
            options: self.options.clone(),
            committed: self.committed,
            checkpoint: checkpoint.clone(),
        })
        .map_err(io::Error::other)?;
        let mut file = AtomicFile::create(&self.state_path)
            .await
            .map_err(io::Error::other)?;
        file.write_all(&state).await?;
        file.commit().await.map_err(io::Error::other)?;
        // A state names the partial file now: it is a resume point.
        self.uncommitted.0 = None;
        Ok(())
    }

    /// Bytes committed so far (this run's and the runs' before it).
    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// The bytes committed so far, read back from the partial file.
    pub async fn read_committed(&self) -> io::Result<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        let file = File::open(&self.partial_path).await?;
        let mut bytes = Vec::new();
        file.take(self.committed).read_to_end(&mut bytes).await?;
        Ok(bytes)
    }

    /// The read is complete: the partial file becomes the output (atomically, synced),
    /// and the state file goes.
    pub async fn finish(mut self) -> io::Result<()> {
        self.partial.flush().await?;
        self.partial.sync_all().await?;
        drop(self.partial);
        tokio::fs::rename(&self.partial_path, &self.path).await?;
        // Renamed into place, committed or not (an empty read): nothing to remove.
        self.uncommitted.0 = None;
        match tokio::fs::remove_file(&self.state_path).await {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err),
        }
    }
}

/// A resumable output on a local file ([`ResumableOutput`]) or on an object store
/// ([`ObjectOutput`]): what `--out FILE|URL` opens.
#[derive(Debug)]
pub enum ResumableTarget {
    /// A local file, with its partial and state files beside it.
    File(ResumableOutput),
    /// An object, with its parts and state object beside it.
    Object(ObjectOutput),
}

impl ResumableTarget {
    /// Opens `target`: a path or `file://` URL (a local file), or `s3://`, `az://`,
    /// `gs://` or a Blob container URL naming the object (settings from the store's usual
    /// variables). A location that does not open is [`io::ErrorKind::InvalidInput`];
    /// the rest as [`ResumableOutput::open`] and [`ObjectOutput::open`] say.
    pub async fn open(target: &str, options: &str) -> io::Result<(ResumableTarget, Option<Checkpoint>)> {
        let invalid =
            |e: client_core::store::StoreUrlError| io::Error::new(io::ErrorKind::InvalidInput, e.to_string());
        if let Some(path) = client_core::store::local_path(target).map_err(invalid)? {
            let (output, resume) = ResumableOutput::open(&path, options).await?;
            return Ok((ResumableTarget::File(output), resume));
        }
        client_core::store::refuse_query(target).map_err(invalid)?;
        if target.ends_with('/') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the output URL ends with `/`: name the object (s3://bucket/folder/export.ndjson)",
            ));
        }
        let location = client_core::store::open_url(target).map_err(invalid)?;
        let (output, resume) = ObjectOutput::open(location, options).await?;
        Ok((ResumableTarget::Object(output), resume))
    }

    /// Appends `bytes` and commits `checkpoint` after them.
    pub async fn commit(&mut self, bytes: &[u8], checkpoint: &Checkpoint) -> io::Result<()> {
        match self {
            ResumableTarget::File(output) => output.commit(bytes, checkpoint).await,
            ResumableTarget::Object(output) => output.commit(bytes, checkpoint).await,
        }
    }

    /// Bytes committed so far (this run's and the runs' before it).
    pub fn committed(&self) -> u64 {
        match self {
            ResumableTarget::File(output) => output.committed(),
            ResumableTarget::Object(output) => output.committed(),
        }
    }

    /// The bytes committed so far (the whole output once the read is complete).
    pub async fn read_committed(&self) -> io::Result<Vec<u8>> {
        match self {
            ResumableTarget::File(output) => output.read_committed().await,
            ResumableTarget::Object(output) => output.read_committed().await,
        }
    }

    /// The read is complete: the output appears in place, the resume state goes.
    pub async fn finish(self) -> io::Result<()> {
        match self {
            ResumableTarget::File(output) => output.finish().await,
            ResumableTarget::Object(output) => output.finish().await,
        }
    }
}

/// The length of the file at `path`, `None` when there is none.
async fn file_len(path: &Path) -> io::Result<Option<u64>> {
    match tokio::fs::metadata(path).await {
        Ok(metadata) => Ok(Some(metadata.len())),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use client_core::{Checkpoint, Position};

    use super::*;

    #[tokio::test]
    async fn a_rerun_drops_what_was_not_committed_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ndjson");
        let (mut output, resume) = ResumableOutput::open(&path, "ndjson").await.unwrap();
        assert!(resume.is_none());
        let after_one = Checkpoint::new(
            "r/1",
            Position::Window {
                from: "2026-01-02T00:00:00Z".parse().unwrap(),
                skip: 0,
            },
        );
        output.commit(b"a\nb\n", &after_one).await.unwrap();
        // Killed while writing the next window: bytes without a commit.
        output.partial.write_all(b"c\n").await.unwrap();
        drop(output);

        let (mut output, resume) = ResumableOutput::open(&path, "ndjson").await.unwrap();
        assert_eq!(resume, Some(after_one));
        assert_eq!(output.committed(), 4);
        output
            .commit(b"c\nd\n", &Checkpoint::new("r/1", Position::Done))
            .await
            .unwrap();
        output.finish().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a\nb\nc\nd\n");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the output remains: {left:?}");
    }

    /// A run whose last commit is `Done`, killed before `finish`, and its finish.
    async fn committed_to_the_end(path: &Path) -> ResumableOutput {
        let (mut output, _) = ResumableOutput::open(path, "ndjson").await.unwrap();
        output
            .commit(b"a\nb\n", &Checkpoint::new("r/1", Position::Done))
            .await
            .unwrap();
        output
    }

    #[tokio::test]
    async fn a_kill_between_the_rename_and_the_state_removal_keeps_the_finished_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ndjson");
        let output = committed_to_the_end(&path).await;
        let state_path = output.state_path.clone();
        let state = std::fs::read(&state_path).unwrap();
        output.finish().await.unwrap();
        // Killed after the rename, before the state went.
        std::fs::write(&state_path, state).unwrap();

        let (output, resume) = ResumableOutput::open(&path, "ndjson").await.unwrap();
        assert!(resume.unwrap().is_done());
        output.finish().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a\nb\n");
        assert!(!state_path.exists());
    }

    #[tokio::test]
    async fn a_partial_file_shorter_than_its_state_or_gone_is_refused_not_padded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ndjson");
        let output = committed_to_the_end(&path).await;
        let partial_path = output.partial_path.clone();
        drop(output);
        std::fs::write(&partial_path, b"a\n").unwrap();
        let err = ResumableOutput::open(&path, "ndjson").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        assert!(err.to_string().contains("fewer than the 4"), "{err}");
        assert_eq!(std::fs::read(&partial_path).unwrap(), b"a\n", "left as it was");

        std::fs::remove_file(&partial_path).unwrap();
        let err = ResumableOutput::open(&path, "ndjson").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn a_state_of_other_output_options_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        drop(committed_to_the_end(&path).await);
        let err = ResumableOutput::open(&path, "csv").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("ndjson, not csv"), "{err}");
    }

    #[tokio::test]
    async fn a_partial_file_without_a_commit_goes_with_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ndjson");
        let (output, _) = ResumableOutput::open(&path, "ndjson").await.unwrap();
        assert!(output.partial_path.exists());
        drop(output);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "nothing to resume from, nothing left: {left:?}");

        // Once a page is committed, the partial file and its state are the resume point.
        let output = committed_to_the_end(&path).await;
        drop(output);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        let (output, resume) = ResumableOutput::open(&path, "ndjson").await.unwrap();
        assert!(resume.is_some());
        drop(output);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "a resumed one too"
        );
    }

    /// Ctrl-C dropping a commit at any await: the partial file goes only while no state
    /// names it, so a rerun either starts afresh or resumes, never finds its state
    /// naming a partial file that is gone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_dropped_at_any_point_leaves_a_consistent_resume_point() {
        use std::future::Future;
        use std::task::Poll;

        use client_core::{Checkpoint, Position};

        let checkpoint = Checkpoint::new("r/1", Position::Done);
        // Drop the commit after 0, 1, 2… polls: every await of the commit is a point
        // Ctrl-C can land on.
        for polls in 0..80 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("out.ndjson");
            let (mut output, _) = ResumableOutput::open(&path, "ndjson").await.unwrap();
            {
                let mut commit = std::pin::pin!(output.commit(b"a\nb\n", &checkpoint));
                let state_path = suffixed(&path, ".state.json");
                for poll in 0.. {
                    let polled = std::future::poll_fn(|cx| Poll::Ready(commit.as_mut().poll(cx))).await;
                    // The even rounds drop it after `polls` polls; the odd ones as soon
                    // as the state is in place (the commit still syncing the folder).
                    let dropped = if polls % 2 == 0 {
                        poll + 1 >= polls
                    } else {
                        state_path.exists()
                    };
                    if polled.is_ready() || dropped {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            }
            drop(output);
            let (_, resumed) = ResumableOutput::open(&path, "ndjson")
                .await
                .unwrap_or_else(|err| panic!("after {polls} polls: {err}"));
            let names: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|entry| entry.unwrap().file_name().into_string().unwrap())
                .filter(|name| name.ends_with(".part"))
                .collect();
            assert!(names.is_empty(), "after {polls} polls: {names:?} left");
            if resumed.is_some() {
                assert_eq!(std::fs::read(suffixed(&path, ".partial")).unwrap(), b"a\nb\n");
            }
        }
    }

    /// An atomic file whose creation is dropped (Ctrl-C) leaves no temporary file.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_atomic_file_dropped_while_created_leaves_nothing() {
        use std::future::Future;
        use std::task::Poll;

        let dir = tempfile::tempdir().unwrap();
        for i in 0..50 {
            let path = dir.path().join(format!("f{i}"));
            let mut create = std::pin::pin!(client_core::AtomicFile::create(&path));
            // One poll, then dropped; a created file (ready at once) is dropped too.
            let _ = std::future::poll_fn(|cx| Poll::Ready(create.as_mut().poll(cx))).await;
        }
        // The blocking pool would have finished any open it had started by now.
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let left = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(left, 0, "temporary files left behind");
    }
}
