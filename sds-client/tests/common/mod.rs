//! Helpers shared by the sandbox tests.
#![allow(dead_code, missing_docs, unreachable_pub)]

use std::sync::Arc;

use client_core::ManualClock;
use jiff::Timestamp;
use sandbox::sds::Sandbox;
use sds_client::{Client, ClientBuilder, ObservationsQuery};
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

/// A client of the API at `base` with a bearer token, on a manual clock.
pub fn client_of(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .access_token(SecretString::from("bearer-token-1"))
        .clock(Arc::new(ManualClock::new()))
        .build()
        .unwrap()
}

/// A client of a wiremock `server` serving the API under `/sensor-data`.
pub fn wire_client(server: &wiremock::MockServer) -> Client {
    client_of(&format!("{}/sensor-data", server.uri()))
}

/// Observations of metric `T` in `C` of sensor `s` in iTwin `tw` over `[from, to)`, in
/// epoch milliseconds, two a page.
pub fn two_a_page(client: &Client, from: i64, to: i64) -> ObservationsQuery {
    client
        .observations("tw", "s")
        .metric("T")
        .unit("C")
        .range(
            Timestamp::from_millisecond(from).unwrap(),
            Timestamp::from_millisecond(to).unwrap(),
        )
        .page_size(2)
}
