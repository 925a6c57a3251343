#![no_main]
//! The lenient error-body parser and the one error mapping: never a panic, whatever the
//! body and status.

use client_core::http::StatusCode;
use client_core::{ApiError, ClientError, Error, ErrorKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&status_byte, body)) = data.split_first() else { return };
    let status = 400 + u16::from(status_byte) % 200;
    let text = String::from_utf8_lossy(body);
    let api = ApiError::parse(status, Some(&text));
    assert_eq!(api.status, status);
    let _ = api.to_string();
    let _ = api.code_text();
    let kind = if status == 429 { ErrorKind::Throttled } else { ErrorKind::Status };
    let Ok(code) = StatusCode::from_u16(status) else { return };
    let core = Error::new(kind, "fuzz").with_status(code).with_body(body);
    let mapped = ClientError::<client_core::NoApiError>::from(core);
    assert_eq!(mapped.status(), Some(status));
    let _ = mapped.to_string();
});
