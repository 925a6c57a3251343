//! Files that appear complete or not at all.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::fs::File;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::{Error, ErrorKind, Result};

/// A file written under a temporary name in its target folder and renamed into place by
/// [`AtomicFile::commit`] after a flush and `fsync`, so no partial file ever carries the
/// final name. Dropping it (or [`AtomicFile::abort`]) removes the temporary file.
///
/// The temporary name is `.<name>.<random>.part` in the same folder (a rename is atomic
/// only within one file system). An existing file at the final path is replaced.
#[derive(Debug)]
pub struct AtomicFile {
    file: Option<File>,
    temp_path: PathBuf,
    final_path: PathBuf,
    /// Set once the rename succeeded; until then every exit removes the temporary file.
    committed: bool,
}

impl AtomicFile {
    /// Creates the temporary file next to `path`. The folder must exist.
    pub async fn create(path: impl AsRef<Path>) -> Result<Self> {
        let final_path = path.as_ref().to_path_buf();
        let name = final_path
            .file_name()
            .ok_or_else(|| Error::config(format!("`{}` is not a file path", final_path.display())))?
            .to_string_lossy()
            .into_owned();
        let folder = match final_path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temp_path = folder.join(format!(".{name}.{:016x}.part", fastrand::u64(..)));
        // Opened synchronously (a metadata operation, as quick as a syscall): on Tokio's
        // blocking pool, a caller dropping this future (Ctrl-C) while the open ran would
        // leave a temporary file that nothing owns or removes.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp_path)
            .map_err(|e| io_error(e, "cannot create a temporary file in", &folder))?;
        Ok(AtomicFile {
            file: Some(File::from_std(file)),
            temp_path,
            final_path,
            committed: false,
        })
    }

    /// The path the file will have once committed.
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Flushes, syncs and renames the file to its final name, then syncs the folder so
    /// the rename survives a crash. If any step fails, the temporary file is removed and
    /// nothing appears under the final name.
    pub async fn commit(mut self) -> Result<()> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| Error::new(ErrorKind::Io, "file already closed"))?;
        file.flush().await?;
        file.sync_all()
            .await
            .map_err(|e| io_error(e, "cannot sync", &self.temp_path))?;
        drop(file);
        // Renamed synchronously (a metadata operation): done or not done when this future
        // is dropped, never done later by the blocking pool behind the caller's back, so
        // a caller that is cancelled knows from the file system which it was.
        std::fs::rename(&self.temp_path, &self.final_path)
            .map_err(|e| io_error(e, "cannot move the finished file to", &self.final_path))?;
        self.committed = true;
        sync_parent(&self.final_path).await;
        Ok(())
    }

    /// Removes the temporary file.
    pub async fn abort(mut self) {
        self.file.take();
        let _ = tokio::fs::remove_file(&self.temp_path).await;
    }

    fn file(&mut self) -> io::Result<Pin<&mut File>> {
        self.file
            .as_mut()
            .map(Pin::new)
            .ok_or_else(|| io::Error::other("file already closed"))
    }
}

/// Best effort: a folder sync is not possible on every platform and file system.
async fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(dir) = File::open(parent).await {
            let _ = dir.sync_all().await;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn io_error(err: io::Error, what: &str, path: &Path) -> Error {
    Error::new(ErrorKind::Io, format!("{what} {}: {err}", path.display())).with_source(err)
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        self.file.take();
        if !self.committed {
            // Not committed (dropped, aborted, or a flush, sync or rename failed): the
            // partial file must not stay behind.
            let _ = std::fs::remove_file(&self.temp_path);
        }
    }
}

impl AsyncWrite for AtomicFile {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.file() {
            Ok(file) => file.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.file() {
            Ok(file) => file.poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.file() {
            Ok(file) => file.poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".part"))
            .collect()
    }

    #[tokio::test]
    async fn a_failed_rename_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty folder under the final name makes the rename fail.
        let final_path = dir.path().join("day.csv");
        std::fs::create_dir(&final_path).unwrap();
        std::fs::write(final_path.join("keep"), b"x").unwrap();
        let mut file = AtomicFile::create(&final_path).await.unwrap();
        file.write_all(b"a;b\n").await.unwrap();
        let err = file.commit().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
        assert!(final_path.is_dir());
    }

    #[tokio::test]
    async fn commit_and_abort_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = AtomicFile::create(dir.path().join("a.txt")).await.unwrap();
        file.write_all(b"done").await.unwrap();
        file.commit().await.unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.txt")).unwrap(), b"done");
        let file = AtomicFile::create(dir.path().join("b.txt")).await.unwrap();
        file.abort().await;
        assert!(!dir.path().join("b.txt").exists());
        assert!(leftovers(dir.path()).is_empty());
    }
}
