//! The client shape, checked by the compiler: one generic helper takes every client's
//! builder, and one takes every request that reads measurement data. A client that loses
//! a shared setter, `from_env`/`from_vars`, or a verb on one of its reads stops this
//! crate's tests from compiling.

use std::sync::Arc;
use std::time::Duration;

use client_core::{
    BearerToken, ClientBuilderShape, ManualClock, Pageable, Request, RequestPreview, RetryPolicy, Sendable,
    Storable, Streamable, Throttle, TlsRoots,
};
use jiff::Timestamp;
use secrecy::SecretString;

/// Every shared setter, through the trait generic code uses.
fn every_shared_setter<B: ClientBuilderShape>(builder: B) -> B {
    let token = BearerToken::builder()
        .token(SecretString::from("token"))
        .build()
        .expect("a bearer token");
    builder
        .base_url("http://127.0.0.1:9/")
        .credential(token)
        .timeout(Some(Duration::from_secs(30)))
        .connect_timeout(Some(Duration::from_secs(5)))
        .retry_policy(RetryPolicy::none())
        .throttle(Throttle::min_interval(Duration::from_millis(1)))
        .clock(Arc::new(ManualClock::new()))
        .user_agent_suffix("shape-check/1")
        .tls_roots(TlsRoots::default())
}

/// The same setters as inherent methods, with no trait in scope: what a user types.
macro_rules! every_inherent_setter {
    ($builder:expr) => {
        $builder
            .base_url("http://127.0.0.1:9/")
            .timeout(None)
            .connect_timeout(None)
            .retry_policy(client_core::RetryPolicy::none())
            .throttle(client_core::Throttle::min_interval(
                std::time::Duration::from_millis(1),
            ))
            .clock(std::sync::Arc::new(client_core::ManualClock::new()))
            .user_agent_suffix("shape-check/1")
            .tls_roots(client_core::TlsRoots::default())
    };
}

/// A read of measurement data: one response, every item, and the server's bytes stored.
fn measurement_read<R>(request: R) -> Result<RequestPreview, R::Error>
where
    R: Request + Sendable + Streamable + Storable,
{
    request.to_request()
}

/// A read the API pages or the client windows.
fn paged_read<R>(request: R) -> Result<RequestPreview, R::Error>
where
    R: Request + Streamable + Pageable,
{
    request.to_request()
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("a timestamp")
}

#[test]
fn every_builder_has_the_shared_setters_and_the_same_names() {
    // The trait, generic over the four builders.
    every_shared_setter(conduit_client::Client::builder())
        .build()
        .expect("conduit");
    every_shared_setter(preventos_client::Client::builder().subscription_key(SecretString::from("key")))
        .build()
        .expect("preventos");
    every_shared_setter(sds_client::Client::builder())
        .build()
        .expect("sds");
    every_shared_setter(dt_client::Client::builder())
        .build()
        .expect("dt");

    // The inherent methods, without the trait.
    mod inherent {
        pub(super) fn check() {
            let _ = every_inherent_setter!(conduit_client::Client::builder());
            let _ = every_inherent_setter!(preventos_client::Client::builder());
            let _ = every_inherent_setter!(sds_client::Client::builder());
            let _ = every_inherent_setter!(dt_client::Client::builder());
        }
    }
    inherent::check();

    // The same names: each client's base URL variable, every variable it reads, and the
    // constructors from variables.
    let base_url_vars = [
        conduit_client::env::BASE_URL,
        preventos_client::env::BASE_URL,
        sds_client::env::BASE_URL,
        dt_client::env::BASE_URL,
    ];
    assert_eq!(
        base_url_vars,
        [
            "CONDUIT_BASE_URL",
            "DATA_API_BASE_URL",
            "SDS_BASE_URL",
            "DT_BASE_URL"
        ]
    );
    for (all, base) in [
        (&conduit_client::env::ALL[..], conduit_client::env::BASE_URL),
        (&preventos_client::env::ALL[..], preventos_client::env::BASE_URL),
        (&sds_client::env::ALL[..], sds_client::env::BASE_URL),
        (&dt_client::env::ALL[..], dt_client::env::BASE_URL),
    ] {
        assert!(all.contains(&base), "{all:?}");
    }
    let _ = [
        conduit_client::DEFAULT_BASE_URL,
        sds_client::DEFAULT_BASE_URL,
        dt_client::DEFAULT_BASE_URL,
    ];
    let nothing = |_: &str| None;
    assert!(conduit_client::Client::from_vars(nothing).is_err());
    assert!(preventos_client::Client::from_vars(nothing).is_err());
    assert!(sds_client::Client::from_vars(nothing).is_err());
    assert!(dt_client::Client::from_vars(nothing).is_err());
}

#[test]
fn every_measurement_read_has_the_same_verbs() {
    let (from, to) = (at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z"));

    let conduit = every_shared_setter(conduit_client::Client::builder())
        .build()
        .expect("conduit");
    let datapoints = conduit
        .datapoints()
        .id("70B3D54990DC01DA")
        .channel(1)
        .range(from, to);
    measurement_read(datapoints.clone()).expect("conduit datapoints");
    paged_read(datapoints).expect("conduit datapoints");

    let preventos =
        every_shared_setter(preventos_client::Client::builder().subscription_key(SecretString::from("key")))
            .build()
            .expect("preventos");
    let day = jiff::civil::date(2026, 5, 31);
    measurement_read(preventos.site_values("100", "site-ref", ["Velocity"]).date(day))
        .expect("preventos values");
    let export = preventos.export("100", "site-ref", ["Velocity"]).date(day);
    fn storable_export<R: Request + Streamable + Pageable + Storable>(_: &R) {}
    storable_export(&export);

    let sds = every_shared_setter(sds_client::Client::builder())
        .build()
        .expect("sds");
    let observations = sds
        .observations("itwin", "sensor")
        .metric("T")
        .unit("C")
        .range(from, to);
    measurement_read(observations.clone()).expect("sds observations");
    paged_read(observations).expect("sds observations");
    let data = sds.query_data("sensor").range(from, to);
    measurement_read(data.clone()).expect("sds data query");
    paged_read(data).expect("sds data query");
    paged_read(sds.sensors("itwin")).expect("sds sensors");

    let dt = every_shared_setter(dt_client::Client::builder())
        .build()
        .expect("dt");
    let history = dt.events("project", "device").range(from, to);
    measurement_read(history.clone()).expect("dt history");
    paged_read(history).expect("dt history");
    paged_read(dt.devices("project")).expect("dt devices");
    fn streamed<R: Request + Streamable>(request: R) -> Result<RequestPreview, R::Error> {
        request.to_request()
    }
    streamed(dt.live_events("project")).expect("dt live events");
}
