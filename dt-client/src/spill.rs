//! An external sort of text records by key, in bounded memory: records are buffered up
//! to a byte budget, each full buffer is sorted and written to a temporary file as a
//! run, and the runs are merged back in key order, at most [`MAX_FAN_IN`] at a time
//! (more runs are merged in passes first). What fits the budget never touches the disk.
//!
//! The temporary files are created unlinked and private to the user
//! ([`tempfile::tempfile_in`]): they vanish when closed, however the process ends.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// A record's sort key: time (nanoseconds), then the device's place in the list, then
/// the order of arrival.
pub(crate) type Key = (i128, u32, u64);

/// Bytes of a key and a length on disk.
const HEADER: usize = 16 + 4 + 8 + 4;

/// The smallest budget: below it, runs would be so many and so short that merging
/// them would cost more than it saves.
pub(crate) const MIN_BUDGET: usize = 64 * 1024;

/// The most runs merged at once; more are merged in passes into longer runs first.
pub(crate) const MAX_FAN_IN: usize = 64;

/// How much of a run is read at once while merging, at most and at least.
const RUN_BUFFER_MAX: usize = 64 * 1024;
const RUN_BUFFER_MIN: usize = 4 * 1024;

/// What a buffered record costs besides its text (the key, the string's header).
const RECORD_OVERHEAD: usize = 64;

/// Records sorted by [`Key`], spilled to `directory` past `budget` bytes.
pub(crate) struct ExternalSort {
    buffer: Vec<(Key, Box<str>)>,
    buffered: usize,
    budget: usize,
    directory: PathBuf,
    spill: Option<File>,
    spilled: u64,
    runs: Vec<(u64, u64)>,
}

/// Writes one record; returns its size on disk.
fn write_record(out: &mut impl Write, key: Key, text: &str) -> io::Result<u64> {
    let length = u32::try_from(text.len()).map_err(|_| io::Error::other("a record over 4 GiB"))?;
    out.write_all(&key.0.to_le_bytes())?;
    out.write_all(&key.1.to_le_bytes())?;
    out.write_all(&key.2.to_le_bytes())?;
    out.write_all(&length.to_le_bytes())?;
    out.write_all(text.as_bytes())?;
    Ok((HEADER + text.len()) as u64)
}

impl ExternalSort {
    /// A sort that keeps about `budget` bytes of records in memory (at least
    /// [`MIN_BUDGET`]) and spills the rest to temporary files in `directory`.
    pub(crate) fn new(budget: usize, directory: PathBuf) -> Self {
        ExternalSort {
            buffer: Vec::new(),
            buffered: 0,
            budget: budget.max(MIN_BUDGET),
            directory,
            spill: None,
            spilled: 0,
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

    /// Bytes written to the temporary file so far (merge passes not counted).
    pub(crate) fn spilled(&self) -> u64 {
        self.spilled
    }

    /// Sorts the buffer and writes it to the spill file as a run (blocking I/O).
    pub(crate) fn spill(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.buffer.sort_unstable_by_key(|(key, _)| *key);
        if self.spill.is_none() {
            self.spill = Some(tempfile::tempfile_in(&self.directory)?);
        }
        let Some(file) = self.spill.as_ref() else {
            return Err(io::Error::other("the spill file is gone"));
        };
        let start = self.spilled;
        let mut out = BufWriter::with_capacity(RUN_BUFFER_MAX, file);
        out.seek(SeekFrom::Start(start))?;
        let mut written = 0u64;
        for (key, text) in self.buffer.drain(..) {
            written += write_record(&mut out, key, &text)?;
        }
        out.flush()?;
        drop(out);
        self.spilled += written;
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
        let Some(file) = self.spill.take() else {
            return Err(io::Error::other("the spill file is gone"));
        };
        // A merge holds a buffer per run: the budget shared among at most MAX_FAN_IN.
        let buffer = (self.budget / MAX_FAN_IN).clamp(RUN_BUFFER_MIN, RUN_BUFFER_MAX);
        let mut file = Arc::new(file);
        let mut runs = std::mem::take(&mut self.runs);
        while runs.len() > MAX_FAN_IN {
            let next = tempfile::tempfile_in(&self.directory)?;
            let mut out = BufWriter::with_capacity(RUN_BUFFER_MAX, &next);
            let mut length = 0u64;
            let mut longer = Vec::with_capacity(runs.len().div_ceil(MAX_FAN_IN));
            for group in runs.chunks(MAX_FAN_IN) {
                let start = length;
                let mut merge = Merge::new(file.clone(), group, buffer)?;
                while let Some((key, text)) = merge.next_record()? {
                    length += write_record(&mut out, key, &text)?;
                }
                longer.push((start, length));
            }
            out.flush()?;
            drop(out);
            file = Arc::new(next);
            runs = longer;
        }
        Ok(Sorted::Merge(Merge::new(file, &runs, buffer)?))
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

/// The k-way merge of runs of a file.
pub(crate) struct Merge {
    file: Arc<File>,
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
    fn new(file: Arc<File>, ranges: &[(u64, u64)], buffer: usize) -> io::Result<Merge> {
        let mut runs = Vec::with_capacity(ranges.len());
        let mut heap = BinaryHeap::with_capacity(ranges.len());
        for (index, &(start, end)) in ranges.iter().enumerate() {
            let mut run = Run {
                position: start,
                end,
                read_ahead: buffer,
                buffer: Vec::new(),
                taken: 0,
            };
            if let Some(record) = run.next(&file)? {
                heap.push(Reverse(Head { record, run: index }));
            }
            runs.push(run);
        }
        Ok(Merge { file, runs, heap })
    }

    fn next_record(&mut self) -> io::Result<Option<(Key, Box<str>)>> {
        let Some(Reverse(head)) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(run) = self.runs.get_mut(head.run) {
            if let Some(record) = run.next(&self.file)? {
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
    read_ahead: usize,
    buffer: Vec<u8>,
    taken: usize,
}

impl Run {
    /// Makes at least `wanted` unread bytes available, reading ahead up to its
    /// `read_ahead`; false if the run has fewer left.
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
        let read = (wanted - available).max(self.read_ahead).min(left as usize);
        let start = self.buffer.len();
        self.buffer.resize(start + read, 0);
        file.seek(SeekFrom::Start(self.position))?;
        file.read_exact(&mut self.buffer[start..])?;
        self.position += read as u64;
        // A record longer than the read-ahead grew the buffer: give the memory back.
        if self.buffer.capacity() > 2 * self.read_ahead && self.buffer.len() <= self.read_ahead {
            self.buffer.shrink_to(self.read_ahead);
        }
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
            let rest = (self.buffer.len() - self.taken) as u64 + (self.end - self.position);
            if rest == 0 {
                return Ok(None);
            }
            return Err(io::Error::other("a run of the spill file ends inside a record"));
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
                let length = if i % 997 == 0 {
                    RUN_BUFFER_MAX + 10
                } else {
                    (i % 13) as usize * 40
                };
                (
                    (time, (i % 3) as u32, i),
                    format!("{i}:{}", "x".repeat(length)).into(),
                )
            })
            .collect()
    }

    fn sorted_through_disk(
        input: &[(Key, Box<str>)],
        directory: &std::path::Path,
    ) -> (usize, Vec<(Key, Box<str>)>) {
        let mut sort = ExternalSort::new(0, directory.to_path_buf());
        for (key, text) in input.iter().cloned() {
            sort.push(key, text);
            if sort.is_full() {
                sort.spill().unwrap();
            }
        }
        let runs = sort.runs();
        let sorted = sort.finish().unwrap();
        assert!(matches!(sorted, Sorted::Merge(_)), "nothing was spilled");
        // The files are unlinked from the start: nothing in the directory, ever.
        assert_eq!(std::fs::read_dir(directory).unwrap().count(), 0);
        (runs, drain(sorted))
    }

    #[test]
    fn spilled_runs_merge_in_key_order_without_a_file_in_sight() {
        let directory = tempfile::tempdir().unwrap();
        let input = records(6_000);
        let (runs, out) = sorted_through_disk(&input, directory.path());
        assert!((2..=MAX_FAN_IN).contains(&runs), "{runs} runs");
        let mut expected = input;
        expected.sort_by_key(|(key, _)| *key);
        assert_eq!(out, expected);
    }

    #[test]
    fn more_runs_than_the_fan_in_are_merged_in_passes() {
        let directory = tempfile::tempdir().unwrap();
        let input = records(100_000);
        let (runs, out) = sorted_through_disk(&input, directory.path());
        assert!(runs > MAX_FAN_IN, "{runs} runs");
        assert_eq!(out.len(), input.len());
        assert!(out.windows(2).all(|pair| pair[0].0 < pair[1].0));
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
