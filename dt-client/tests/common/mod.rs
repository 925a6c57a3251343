//! Helpers shared by the sandbox tests.
#![allow(dead_code, missing_docs, unreachable_pub)]

use std::sync::Arc;

use client_core::ManualClock;
use dt_client::{Client, ClientBuilder};
use sandbox::dt::Sandbox;
use secrecy::SecretString;

/// A builder of a client of `sim` with its service account (the OAuth2 grant), on a
/// manual clock (no real sleeps).
pub fn builder(sim: &Sandbox, clock: &ManualClock) -> ClientBuilder {
    let config = sim.config();
    Client::builder()
        .base_url(sim.base_url())
        .token_url(sim.token_url())
        .emulator_url(sim.emulator_url())
        .service_account(
            config.key_id.clone(),
            SecretString::from(config.key_secret.clone()),
            config.email.clone(),
        )
        .clock(Arc::new(clock.clone()))
}

/// The client [`builder`] builds.
pub fn client(sim: &Sandbox) -> Client {
    builder(sim, &ManualClock::new()).build().unwrap()
}

/// A client of a wiremock `server` (the API under `/v2`), with HTTP Basic (`key-1`,
/// `secret-1`), on a manual clock (no real sleeps).
pub fn wiremock_client(server: &wiremock::MockServer) -> Client {
    Client::builder()
        .base_url(format!("{}/v2", server.uri()))
        .basic("key-1", SecretString::from("secret-1"))
        .clock(Arc::new(ManualClock::new()))
        .build()
        .unwrap()
}
