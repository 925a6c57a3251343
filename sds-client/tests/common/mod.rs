//! Helpers shared by the sandbox tests.
#![allow(dead_code, missing_docs, unreachable_pub)]

use std::sync::Arc;

use client_core::ManualClock;
use jiff::Timestamp;
use sandbox::sds::Sandbox;
use sds_client::{Client, ClientBuilder};
use secrecy::SecretString;

/// A builder of a client of `sim` with its service application's credentials, on a
/// manual clock (no real sleeps).
pub fn builder(sim: &Sandbox, clock: &ManualClock) -> ClientBuilder {
    let registration = &sim.config().registration;
    Client::builder()
        .base_url(sim.base_url())
        .token_url(sim.token_url())
        .client_credentials(
            registration.client_id.clone(),
            SecretString::from(registration.client_secret.clone().unwrap()),
        )
        .clock(Arc::new(clock.clone()))
}

/// The client [`builder`] builds.
pub fn client(sim: &Sandbox, clock: &ManualClock) -> Client {
    builder(sim, clock).build().unwrap()
}

pub fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}
