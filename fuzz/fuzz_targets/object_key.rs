#![no_main]
//! Object keys (`{YYYY}/{MM}/{DD}/{timestamp}[.json]`): parsing any text is a typed
//! error or a key, never a panic; a parsed key prints as text that parses back to it.

use forward_types::ObjectKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ObjectKey::parse(text) {
        Ok(key) => {
            let printed = key.to_string();
            let again = ObjectKey::parse(&printed).expect("a printed key parses");
            assert_eq!(again, key, "{text:?} printed as {printed:?}");
            // What the builders accept prints as a key of the same layout.
            let rebuilt = if key.has_json_suffix() {
                ObjectKey::azure_blob(key.date(), key.timestamp())
            } else {
                ObjectKey::s3(key.date(), key.timestamp())
            };
            assert_eq!(rebuilt.as_ref().ok(), Some(&key));
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
});
