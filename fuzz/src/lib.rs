//! Shared helpers of the fuzz targets: run a decoder over the input cut into chunks at
//! fuzzer-chosen places, and over the input whole, and compare.

use bytes::Bytes;
use client_core::{Error, ErrorKind, RecordStream};
use futures::StreamExt;

/// The records a stream yields and how it ended (the error kind, if any).
pub type Outcome<T> = (Vec<T>, Option<ErrorKind>);

/// Splits `data` into chunks: the first byte picks the chunk length (1 to 64 bytes), so
/// the fuzzer explores chunk boundaries as well as content.
pub fn chunked(data: &[u8]) -> (Vec<Bytes>, &[u8]) {
    let Some((&size, body)) = data.split_first() else {
        return (Vec::new(), data);
    };
    let size = usize::from(size % 64) + 1;
    (body.chunks(size).map(Bytes::copy_from_slice).collect(), body)
}

/// The body as a stream of chunks, as the transport delivers it.
pub fn body(chunks: Vec<Bytes>) -> impl futures::Stream<Item = Result<Bytes, Error>> + Send + 'static {
    futures::stream::iter(chunks.into_iter().map(Ok))
}

/// Drains a record stream; a stream must end after its first error.
pub fn drain<T>(mut stream: RecordStream<T>) -> Outcome<T> {
    futures::executor::block_on(async move {
        let mut records = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(record) => records.push(record),
                Err(err) => {
                    assert!(stream.next().await.is_none(), "a stream went on after its error");
                    return (records, Some(err.kind()));
                }
            }
        }
        (records, None)
    })
}

/// Chunking must not change what a body decodes to: the same records, and success or
/// failure alike.
pub fn assert_same<T: PartialEq + std::fmt::Debug>(whole: &Outcome<T>, chunked: &Outcome<T>) {
    assert_eq!(whole.1.is_some(), chunked.1.is_some(), "whole {:?} vs chunked {:?}", whole.1, chunked.1);
    if whole.1.is_none() {
        assert_eq!(whole.0, chunked.0);
    }
}
