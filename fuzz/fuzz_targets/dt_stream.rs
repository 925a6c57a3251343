#![no_main]
//! DT's live stream, both framings (NDJSON and Server-Sent Events): any body, cut into
//! chunks anywhere, gives messages or a typed error, never a panic or a hang, and the
//! chunking never changes the outcome.

use dt_client::fuzzing::{Message, stream_messages};
use iot_sdk_fuzz::{body, chunked, drain};
use libfuzzer_sys::fuzz_target;

/// What a body gives, comparable across chunkings: each message, then the error.
fn outcome(
    body: impl futures::Stream<Item = client_core::Result<bytes::Bytes>> + Send + 'static,
    sse: bool,
) -> Vec<String> {
    let (messages, error): (Vec<Message>, _) = drain(stream_messages(body, sse));
    let mut seen: Vec<String> = messages.iter().map(|m| format!("{m:?}")).collect();
    seen.extend(error.map(|kind| format!("error: {kind:?}")));
    seen
}

fuzz_target!(|data: &[u8]| {
    let (chunks, whole) = chunked(data);
    for sse in [false, true] {
        let split = outcome(body(chunks.clone()), sse);
        let one = outcome(body(vec![whole.to_vec().into()]), sse);
        assert_eq!(one, split, "sse: {sse}");
    }
});
