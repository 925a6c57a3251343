//! The client shape, checked by the compiler: one generic helper takes every client's
//! builder, and one takes every request that reads measurement data. A client that loses
//! a shared setter, `from_env`/`from_vars`, or a verb on one of its reads (checkpoints on
//! the long ones included) stops this crate's tests from compiling.

use std::sync::Arc;
use std::time::Duration;

use client_core::{
    BearerToken, ClientBuilderShape, ManualClock, Pageable, Request, RequestPreview, Resumable, RetryPolicy,
    Sendable, Storable, Streamable, Throttle, TlsRoots,
};
use jiff::Timestamp;
use secrecy::SecretString;

fn bearer() -> BearerToken {
    BearerToken::builder()
        .token(SecretString::from("token"))
        .build()
        .expect("a bearer token")
}

/// Every shared setter, through the trait generic code uses.
fn every_shared_setter<B: ClientBuilderShape>(builder: B) -> B {
    builder
        .base_url("http://127.0.0.1:9/")
        .credential(bearer())
        .read_timeout(Some(Duration::from_secs(30)))
        .connect_timeout(Some(Duration::from_secs(5)))
        .retry_policy(RetryPolicy::none())
        .throttle(Throttle::min_interval(Duration::from_millis(1)))
        .clock(Arc::new(ManualClock::new()))
        .user_agent_suffix("shape-check/1")
        .tls_roots(TlsRoots::default())
}

/// The same setters as inherent methods, with no trait in scope: what a user types.
macro_rules! every_inherent_setter {
    ($builder:expr) => {{
        let _ = $builder
            .vars(|_| None)
            .map(|builder| builder.credential(super::bearer()));
        $builder
            .base_url("http://127.0.0.1:9/")
            .read_timeout(None)
            .connect_timeout(None)
            .retry_policy(client_core::RetryPolicy::none())
            .throttle(client_core::Throttle::min_interval(
                std::time::Duration::from_millis(1),
            ))
            .clock(std::sync::Arc::new(client_core::ManualClock::new()))
            .user_agent_suffix("shape-check/1")
            .tls_roots(client_core::TlsRoots::default())
    }};
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

/// A long read: it resumes from a checkpoint and yields each item with the one after it.
fn long_read<R: Resumable>(request: &R) {
    let _ = request;
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
    // With no variable set, every client names what is missing in one configuration error.
    let nothing = |_: &str| None;
    let problems = [
        conduit_client::Client::from_vars(nothing)
            .map(drop)
            .map_err(|e| e.to_string()),
        preventos_client::Client::from_vars(nothing)
            .map(drop)
            .map_err(|e| e.to_string()),
        sds_client::Client::from_vars(nothing)
            .map(drop)
            .map_err(|e| e.to_string()),
        dt_client::Client::from_vars(nothing)
            .map(drop)
            .map_err(|e| e.to_string()),
    ];
    for (problem, must_name) in problems.iter().zip([
        "CONDUIT_TOKEN",
        "DATA_API_BASE_URL",
        "SDS_CLIENT_ID",
        "DT_SERVICE_ACCOUNT_KEY_ID",
    ]) {
        let message = problem.as_ref().expect_err("nothing set must fail");
        assert!(message.contains(must_name), "{message}");
        assert!(message.starts_with("configuration error"), "{message}");
    }
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
    long_read(&datapoints);
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
    long_read(&export);

    let sds = every_shared_setter(sds_client::Client::builder())
        .build()
        .expect("sds");
    let observations = sds
        .observations("itwin", "sensor")
        .metric("T")
        .unit("C")
        .range(from, to);
    long_read(&observations);
    measurement_read(observations.clone()).expect("sds observations");
    paged_read(observations).expect("sds observations");
    let data = sds.query_data("sensor").range(from, to);
    long_read(&data);
    measurement_read(data.clone()).expect("sds data query");
    paged_read(data).expect("sds data query");
    paged_read(sds.sensors("itwin")).expect("sds sensors");

    let dt = every_shared_setter(dt_client::Client::builder())
        .build()
        .expect("dt");
    let history = dt.events("project", "device").range(from, to);
    long_read(&history);
    measurement_read(history.clone()).expect("dt history");
    paged_read(history).expect("dt history");
    let histories = dt
        .events_of_devices("project", ["device-1", "device-2"])
        .range(from, to);
    long_read(&histories);
    measurement_read(histories.clone()).expect("dt history of several devices");
    paged_read(histories).expect("dt history of several devices");
    paged_read(dt.devices("project")).expect("dt devices");
    fn streamed<R: Request + Streamable>(request: R) -> Result<RequestPreview, R::Error> {
        request.to_request()
    }
    long_read(&dt.live_events("project"));
    streamed(dt.live_events("project")).expect("dt live events");
}

/// What a user writes with only the client crate (and tokio) in `Cargo.toml`: every
/// path below goes through the client's re-exports. The futures are built, not run.
mod only_the_client_crate {
    pub(super) async fn conduit() -> Result<(), conduit_client::Error> {
        use conduit_client::TryStreamExt;
        let client = conduit_client::Client::builder()
            .token(conduit_client::SecretString::from("token"))
            .build()?;
        let to = conduit_client::jiff::Timestamp::now();
        let from = to - conduit_client::jiff::SignedDuration::from_hours(24);
        let mut points = client.datapoints().range(from, to).stream();
        while let Some(point) = points.try_next().await? {
            let _: Option<&conduit_client::serde_json::Value> = point.other.get("unit");
        }
        client.datapoints().range(from, to).write_to("day.ndjson").await?;
        let mut resumable = client.datapoints().range(from, to).checkpointed();
        while let Some(point) = resumable.try_next().await? {
            let _: &conduit_client::Checkpoint = &point.checkpoint;
            let _: bool = point.checkpoint.position == conduit_client::Position::Done;
        }
        Ok(())
    }

    pub(super) async fn preventos() -> Result<(), preventos_client::Error> {
        use preventos_client::TryStreamExt;
        let client = preventos_client::Client::from_env()?;
        let day = preventos_client::jiff::civil::date(2026, 5, 31);
        let mut records = client.site_values("100", "site", ["Velocity"]).date(day).stream();
        while let Some(record) = records.try_next().await? {
            let _: preventos_client::jiff::Timestamp = record.timestamp;
        }
        client
            .export("100", "site", ["Velocity"])
            .date(day)
            .time_zone("Europe/Helsinki")
            .write_to("day.ndjson")
            .await?;
        Ok(())
    }

    pub(super) async fn sds() -> Result<(), sds_client::Error> {
        use sds_client::TryStreamExt;
        let client = sds_client::Client::builder()
            .access_token(sds_client::SecretString::from("token"))
            .build()?;
        let to = sds_client::jiff::Timestamp::now();
        let from = to - sds_client::jiff::SignedDuration::from_hours(24);
        let query = client
            .observations("itwin", "sensor")
            .metric("T")
            .unit("C")
            .range(from, to);
        let first: sds_client::Page<sds_client::Observation> = query.clone().send().await?;
        let _: &sds_client::serde_json::Map<String, sds_client::serde_json::Value> = &first.meta;
        let _ = query.stream().try_collect::<Vec<_>>().await?;
        Ok(())
    }

    pub(super) async fn dt() -> Result<(), dt_client::Error> {
        use dt_client::TryStreamExt;
        let client = dt_client::Client::from_env()?;
        let to = dt_client::jiff::Timestamp::now();
        let from = to - dt_client::jiff::SignedDuration::from_hours(24);
        let mut events = client.events("project", "device").range(from, to).stream();
        while let Some(event) = events.try_next().await? {
            let _: dt_client::Event = event;
        }
        let mut live = client.live_events("project").stream();
        let _ = live.try_next().await?;
        Ok(())
    }
}

#[test]
fn a_user_needs_nothing_but_the_client_crate() {
    // Built, not run: the check is that these compile through the clients' re-exports.
    drop(only_the_client_crate::conduit());
    drop(only_the_client_crate::preventos());
    drop(only_the_client_crate::sds());
    drop(only_the_client_crate::dt());
}

/// `copy_to`/`write_to` store a whole read: every client refuses them on a resumed read,
/// whose remainder would look complete, before sending anything (the base URL is a
/// closed port).
#[tokio::test]
async fn no_client_stores_a_resumed_read() {
    use client_core::{Checkpoint, Position};
    fn refused<E: std::fmt::Display>(result: Result<impl std::fmt::Debug, E>) {
        let err = result.expect_err("a resumed read was stored");
        assert!(
            err.to_string().contains("not one resumed from a checkpoint"),
            "{err}"
        );
    }
    let (from, to) = (at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z"));
    let done = Checkpoint::new("any/read", Position::Done);
    let mut sink = Vec::new();

    let conduit = every_shared_setter(conduit_client::Client::builder())
        .build()
        .unwrap();
    let read = conduit.datapoints().range(from, to).resume_from(done.clone());
    refused(read.copy_to(&mut sink).await);

    let preventos =
        every_shared_setter(preventos_client::Client::builder().subscription_key(SecretString::from("key")))
            .build()
            .unwrap();
    let read = preventos
        .export("100", "site-ref", ["Velocity"])
        .date(jiff::civil::date(2026, 5, 31))
        .resume_from(done.clone());
    refused(read.copy_to(&mut sink).await);

    let sds = every_shared_setter(sds_client::Client::builder())
        .build()
        .unwrap();
    let read = sds
        .observations("itwin", "sensor")
        .metric("T")
        .unit("C")
        .range(from, to)
        .resume_from(done.clone());
    refused(read.copy_to(&mut sink).await);
    let read = sds.query_data("sensor").range(from, to).resume_from(done.clone());
    refused(read.copy_to(&mut sink).await);

    let dt = every_shared_setter(dt_client::Client::builder()).build().unwrap();
    let read = dt
        .events("project", "device")
        .range(from, to)
        .resume_from(done.clone());
    refused(read.copy_to(&mut sink).await);
    let read = dt
        .events_of_devices("project", ["device"])
        .range(from, to)
        .resume_from(done);
    refused(read.copy_to(&mut sink).await);
    assert!(sink.is_empty());
}
