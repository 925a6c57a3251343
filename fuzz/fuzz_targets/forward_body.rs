#![no_main]
//! Forwarded-message bodies: a typed error with a path, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match forward_types::decode_body(data) {
        Ok(messages) => {
            for message in &messages {
                let _ = format!("{message:?}");
            }
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
});
