//! Signed-push verification throughput on the bodies of DT's real signed pushes.
//!
//! `cargo bench -p dt-client --bench verify` prints, for each vector, pushes verified
//! and parsed per second, and signature checks alone (no parsing) per second.

use std::time::Instant;

use dt_client::Verifier;
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::Value;

fn main() {
    let vectors: Value =
        serde_json::from_str(include_str!("../tests/fixtures/dt-signed-pushes.json")).expect("vectors parse");
    let secret = vectors["secret"].as_str().expect("secret").to_owned();
    for case in vectors["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let signature = case["headers"]["X-Dt-Signature"].as_str().expect("signature");
        let body = case["body"].as_str().expect("body").as_bytes();
        let at = Timestamp::from_second(case["claims"]["iat"].as_i64().expect("iat")).expect("time");
        let verifier = Verifier::new(SecretString::from(secret.clone())).at(at);
        let rounds = 200_000u32;
        let started = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(verifier.verify(Some(signature), body).expect("verifies"));
        }
        let full = f64::from(rounds) / started.elapsed().as_secs_f64();
        let started = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(
                verifier
                    .verify_signature(Some(signature), body)
                    .expect("verifies"),
            );
        }
        let checks = f64::from(rounds) / started.elapsed().as_secs_f64();
        println!(
            "{name:>12}: {:>4} B body: {full:>9.0} pushes/s verified and parsed, {checks:>9.0}/s signature, time and checksum only",
            body.len()
        );
    }
}
