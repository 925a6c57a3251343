//! An external sort of text records by key, in bounded memory: records are buffered up
//! to a byte budget, each full buffer is sorted and written to a temporary file as a
//! run, and the runs are merged back in key order. What fits the budget never touches
//! the disk.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A record's sort key: time (nanoseconds), then the device's place in the list, then
/// the order of arrival.
pub(crate) type Key = (i128, u32, u64);

/// Bytes of a key and a length on disk.
const HEADER: usize = 16 + 4 + 8 + 4;

/// How much of a run is read at once while merging.
const RUN_BUFFER: usize = 64 * 1024;

/// What a buffered record costs besides its text (the key, the string's header).
const RECORD_OVERHEAD: usize = 64;

/// Records sorted by [`Key`], spilled to `directory` past `budget` bytes.
pub(crate) struct ExternalSort {
    buffer: Vec<(Key, Box<str>)>,
    buffered: usize,
    budget: usize,
    directory: PathBuf,
    spill: Option<SpillFile>,
    runs: Vec<(u64, u64)>,
}

/// The temporary file of the runs, removed when dropped.
struct SpillFile {
    file: File,
    path: PathBuf,
    length: u64,
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        // Nothing to do about a failure here: the file is in a temporary directory.
        let _ = std::fs::remove_file(&self.path);
    }
}

impl SpillFile {
    fn create(directory: &Path) -> io::Result<SpillFile> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = directory.join(format!(
            "dt-reconcile-{}-{nanos}-{}.spill",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(SpillFile {
            file,
            path,
            length: 0,
        })
    }
}

impl ExternalSort {
    /// A sort that keeps at most about `budget` bytes of records in memory and spills
    /// the rest to a temporary file in `directory`.
    pub(crate) fn new(budget: usize, directory: PathBuf) -> Self {
        ExternalSort {
            buffer: Vec::new(),
            buffered: 0,
            budget: budget.max(1),
            directory,
            spill: None,
            runs: Vec::new(),
        }
    }

    /// Whether the buffer is over budget and should be spilled.
    pub(crate) fn is_full(&self) -> bool {
        self.buffered >= self.budget
    }

    /// Adds a record.
    pub(crate) fn push(&mut self, key: Key, text: Box<str>) {
        self.buffered += text.len() + RECORD_OVERHEAD;
        self.buffer.push((key, text));
    }

    /// Sorts the buffer and writes it to the spill file as a run (blocking I/O).
    pub(crate) fn spill(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.buffer.sort_unstable_by_key(|(key, _)| *key);
        if self.spill.is_none() {
            self.spill = Some(SpillFile::create(&self.directory)?);
        }
        let Some(spill) = self.spill.as_mut() else {
            return Err(io::Error::other("the spill file is gone"));
        };
        let start = spill.length;
        let mut out = io::BufWriter::with_capacity(RUN_BUFFER, &spill.file);
        out.seek(SeekFrom::Start(start))?;
        let mut written = 0u64;
        for (key, text) in self.buffer.drain(..) {
            let length = u32::try_from(text.len()).map_err(|_| io::Error::other("a record over 4 GiB"))?;
            out.write_all(&key.0.to_le_bytes())?;
            out.write_all(&key.1.to_le_bytes())?;
            out.write_all(&key.2.to_le_bytes())?;
            out.write_all(&length.to_le_bytes())?;
            out.write_all(text.as_bytes())?;
            written += (HEADER + text.len()) as u64;
        }
        out.flush()?;
        drop(out);
        spill.length += written;
        self.runs.push((start, start + written));
        self.buffered = 0;
        Ok(())
    }

    /// How many runs went to disk so far.
    #[cfg(test)]
    pub(crate) fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Every record in key order: from memory alone when nothing was spilled, else the
    /// rest spilled too and the runs merged (blocking I/O).
    pub(crate) fn finish(mut self) -> io::Result<Sorted> {
        if self.spill.is_none() {
            self.buffer.sort_unstable_by_key(|(key, _)| *key);
            return Ok(Sorted::Memory(std::mem::take(&mut self.buffer).into_iter()));
        }
        self.spill()?;
        let Some(spill) = self.spill.take() else {
            return Err(io::Error::other("the spill file is gone"));
        };
        let mut runs = Vec::with_capacity(self.runs.len());
        let mut heap = BinaryHeap::with_capacity(self.runs.len());
        for (index, &(start, end)) in self.runs.iter().enumerate() {
            let mut run = Run {
                position: start,
                end,
                buffer: Vec::new(),
                taken: 0,
            };
            if let Some(record) = run.next(&spill.file)? {
                heap.push(Reverse(Head { record, run: index }));
            }
            runs.push(run);
        }
        Ok(Sorted::Merge(Merge { spill, runs, heap }))
    }
}

/// Records in key order.
pub(crate) enum Sorted {
    /// Everything was in memory.
    Memory(std::vec::IntoIter<(Key, Box<str>)>),
    /// Runs merged from the spill file.
    Merge(Merge),
}

impl Sorted {
    /// The next record (blocking I/O when merging).
    pub(crate) fn next_record(&mut self) -> io::Result<Option<(Key, Box<str>)>> {
        match self {
            Sorted::Memory(records) => Ok(records.next()),
            Sorted::Merge(merge) => merge.next_record(),
        }
    }
}

/// The k-way merge of the runs.
pub(crate) struct Merge {
    spill: SpillFile,
    runs: Vec<Run>,
    heap: BinaryHeap<Reverse<Head>>,
}

struct Head {
    record: (Key, Box<str>),
    run: usize,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.record.0 == other.record.0
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.record.0.cmp(&other.record.0)
    }
}

impl Merge {
    fn next_record(&mut self) -> io::Result<Option<(Key, Box<str>)>> {
        let Some(Reverse(head)) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(run) = self.runs.get_mut(head.run) {
            if let Some(record) = run.next(&self.spill.file)? {
                self.heap.push(Reverse(Head {
                    record,
                    run: head.run,
                }));
            }
        }
        Ok(Some(head.record))
    }
}

/// A run being read: its next byte on disk, its end, and what was read ahead of it.
struct Run {
    position: u64,
    end: u64,
    buffer: Vec<u8>,
    taken: usize,
}

impl Run {
    /// Makes at least `wanted` unread bytes available, reading ahead up to
    /// [`RUN_BUFFER`]; false if the run has fewer left.
    fn fill(&mut self, mut file: &File, wanted: usize) -> io::Result<bool> {
        let available = self.buffer.len() - self.taken;
        if available >= wanted {
            return Ok(true);
        }
        let left = self.end - self.position;
        if ((wanted - available) as u64) > left {
            return Ok(false);
        }
        self.buffer.drain(..self.taken);
        self.taken = 0;
        let read = (wanted - available).max(RUN_BUFFER).min(left as usize);
        let start = self.buffer.len();
        self.buffer.resize(start + read, 0);
        file.seek(SeekFrom::Start(self.position))?;
        file.read_exact(&mut self.buffer[start..])?;
        self.position += read as u64;
        Ok(true)
    }

    fn take(&mut self, count: usize) -> &[u8] {
        let bytes = &self.buffer[self.taken..self.taken + count];
        self.taken += count;
        bytes
    }

    /// The run's next record.
    fn next(&mut self, file: &File) -> io::Result<Option<(Key, Box<str>)>> {
        if !self.fill(file, HEADER)? {
            return Ok(None);
        }
        let header = self.take(HEADER);
        let mut time = [0u8; 16];
        time.copy_from_slice(&header[..16]);
        let mut device = [0u8; 4];
        device.copy_from_slice(&header[16..20]);
        let mut sequence = [0u8; 8];
        sequence.copy_from_slice(&header[20..28]);
        let mut length = [0u8; 4];
        length.copy_from_slice(&header[28..32]);
        let key = (
            i128::from_le_bytes(time),
            u32::from_le_bytes(device),
            u64::from_le_bytes(sequence),
        );
        let length = u32::from_le_bytes(length) as usize;
        if !self.fill(file, length)? {
            return Err(io::Error::other("a run of the spill file ends inside a record"));
        }
        let text = std::str::from_utf8(self.take(length))
            .map_err(|_| io::Error::other("a record of the spill file is not UTF-8"))?;
        Ok(Some((key, text.into())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(mut sorted: Sorted) -> Vec<(Key, Box<str>)> {
        let mut out = Vec::new();
        while let Some(record) = sorted.next_record().unwrap() {
            out.push(record);
        }
        out
    }

    fn records(count: u64) -> Vec<(Key, Box<str>)> {
        // A scrambled order, texts of varied lengths (some longer than a run's buffer).
        (0..count)
            .map(|i| {
                let time = ((i * 7919) % count) as i128;
                let length = if i % 97 == 0 {
                    RUN_BUFFER + 10
                } else {
                    (i % 13) as usize
                };
                (
                    (time, (i % 3) as u32, i),
                    format!("{i}:{}", "x".repeat(length)).into(),
                )
            })
            .collect()
    }

    #[test]
    fn spilled_runs_merge_in_key_order_and_the_file_is_removed() {
        let directory = std::env::temp_dir();
        let mut sort = ExternalSort::new(4096, directory);
        let input = records(3000);
        for (key, text) in input.clone() {
            sort.push(key, text);
            if sort.is_full() {
                sort.spill().unwrap();
            }
        }
        assert!(sort.runs() > 10);
        let sorted = sort.finish().unwrap();
        let Sorted::Merge(merge) = &sorted else {
            panic!("nothing was spilled");
        };
        let path = merge.spill.path.clone();
        assert!(path.exists());
        let out = drain(sorted);
        let mut expected = input;
        expected.sort_by_key(|(key, _)| *key);
        assert_eq!(out, expected);
        assert!(!path.exists(), "the spill file is removed once merged");
    }

    #[test]
    fn what_fits_the_budget_stays_in_memory() {
        let mut sort = ExternalSort::new(usize::MAX, std::env::temp_dir());
        for (key, text) in records(100) {
            sort.push(key, text);
        }
        assert!(!sort.is_full());
        let sorted = sort.finish().unwrap();
        assert!(matches!(sorted, Sorted::Memory(_)));
        let keys: Vec<Key> = drain(sorted).into_iter().map(|(key, _)| key).collect();
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]));
    }
}
