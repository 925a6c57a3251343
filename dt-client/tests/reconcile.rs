//! Reconciliation end to end: a receiver down for a while, a connector disabled for
//! another while, pushes dropped for a third, 1,000 events published; the reconciled
//! pushes plus the received ones are history in the connector's scope, each event once.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use dt_client::{
    Client, ConnectorStatus, ConnectorUpdate, ForwardScope, MissingPush, NewDataConnector, ReceivedIds,
    Verifier,
};
use futures::TryStreamExt;
use jiff::{SignedDuration, Timestamp};
use sandbox::dt::{Config, PROJECT, Sandbox};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

const SECRET: &str = "reconcile-secret";

/// A receiver on loopback: while up, it verifies each push and keeps its body as one
/// line, as dt-receiver writes it; while down, it answers 503.
struct Receiver {
    url: String,
    lines: Arc<Mutex<Vec<String>>>,
    up: Arc<AtomicBool>,
}

async fn receiver() -> Receiver {
    use axum::http::{HeaderMap, StatusCode};
    let lines = Arc::new(Mutex::new(Vec::new()));
    let up = Arc::new(AtomicBool::new(true));
    let (kept, is_up) = (lines.clone(), up.clone());
    let verifier = Verifier::new(SecretString::from(SECRET));
    let app = axum::Router::new().route(
        "/push",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (kept, is_up, verifier) = (kept.clone(), is_up.clone(), verifier.clone());
            async move {
                if !is_up.load(Ordering::SeqCst) {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let signature = headers.get("x-dt-signature").and_then(|v| v.to_str().ok());
                match verifier.verify(signature, &body) {
                    Ok(_) => {
                        kept.lock()
                            .unwrap()
                            .push(String::from_utf8(body.to_vec()).unwrap());
                        StatusCode::OK
                    }
                    Err(_) => StatusCode::UNAUTHORIZED,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/push", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver { url, lines, up }
}

/// What goes wrong while event `i` of 1,000 is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Phase {
    Delivered,
    ReceiverDown,
    ConnectorDisabled,
    PushesDropped,
}

fn phase(i: usize) -> Phase {
    match i {
        0..200 => Phase::Delivered,
        200..400 => Phase::ReceiverDown,
        400..600 => Phase::ConnectorDisabled,
        600..700 => Phase::PushesDropped,
        _ => Phase::Delivered,
    }
}

/// The type of event `i`: temperature and touch are in the connector's scope,
/// humidity is not.
fn event_type(i: usize) -> &'static str {
    ["temperature", "touch", "humidity"][i % 3]
}

fn data(i: usize) -> Value {
    match event_type(i) {
        "temperature" => json!({"value": i as f64 / 10.0}),
        "humidity" => json!({"temperature": 20.0, "relativeHumidity": 50.0}),
        _ => json!({}),
    }
}

struct World {
    sim: Sandbox,
    client: Client,
    receiver: Receiver,
    connector: String,
    devices: Vec<String>,
    from: Timestamp,
    to: Timestamp,
}

/// Eight emulated devices (no generated history), a connector forwarding temperature
/// and touch with the labels `name` and `floor`, and 1,000 events published through
/// the four phases.
async fn publish_a_thousand(config: Config) -> World {
    let sim = Sandbox::start(config.with_devices_per_project(0)).await.unwrap();
    let client = common::client(&sim);
    let receiver = receiver().await;
    let mut devices = Vec::new();
    for d in 0..8 {
        let mut labels = Map::new();
        labels.insert("name".into(), json!(format!("device {d}")));
        labels.insert("site".into(), json!("not forwarded"));
        if d % 2 == 0 {
            labels.insert("floor".into(), json!(format!("{}", d / 2)));
        }
        let device_type = if d % 2 == 0 { "temperature" } else { "touch" };
        let device = client
            .create_emulated_device(PROJECT, device_type, &labels)
            .await
            .unwrap();
        devices.push(device.id().unwrap().to_owned());
    }
    let connector = client
        .create_data_connector(
            PROJECT,
            &NewDataConnector::new("reconciled", receiver.url.clone()).with(
                ConnectorUpdate::new()
                    .events(["temperature", "touch"])
                    .labels(["name", "floor"])
                    .signature_secret(SecretString::from(SECRET)),
            ),
        )
        .await
        .unwrap();
    let connector = connector.id().unwrap().to_owned();
    let from = Timestamp::now() - SignedDuration::from_secs(1);
    for i in 0..1000 {
        let now = phase(i);
        if i == 0 || phase(i - 1) != now {
            receiver.up.store(now != Phase::ReceiverDown, Ordering::SeqCst);
            let status = if now == Phase::ConnectorDisabled {
                ConnectorStatus::UserDisabled
            } else {
                ConnectorStatus::Active
            };
            client
                .update_data_connector(PROJECT, &connector, &ConnectorUpdate::new().status(status))
                .await
                .unwrap();
            sim.drop_pushes(now == Phase::PushesDropped);
        }
        let device = &devices[i % devices.len()];
        client
            .publish(PROJECT, device, event_type(i), &data(i))
            .await
            .unwrap();
    }
    let to = Timestamp::now() + SignedDuration::from_secs(1);
    World {
        sim,
        client,
        receiver,
        connector,
        devices,
        from,
        to,
    }
}

/// Every event in the connector's scope, as the sandbox would push it, by id.
fn history_in_scope(world: &World) -> HashMap<String, Value> {
    let mut truth = HashMap::new();
    for device in &world.devices {
        for id in world.sim.event_ids(device, world.from, world.to) {
            let body = world.sim.push_body(&world.connector, device, &id).unwrap();
            if ["temperature", "touch"].contains(&body["event"]["eventType"].as_str().unwrap()) {
                truth.insert(id, body);
            }
        }
    }
    truth
}

fn received_file(world: &World) -> Vec<u8> {
    let lines = world.receiver.lines.lock().unwrap();
    lines
        .iter()
        .flat_map(|line| format!("{line}\n").into_bytes())
        .collect()
}

/// The in-scope events of each phase that the receiver could not have got.
fn expected_counts() -> (usize, usize) {
    let in_scope = |i: &usize| event_type(*i) != "humidity";
    let delivered = (0..1000)
        .filter(in_scope)
        .filter(|i| phase(*i) == Phase::Delivered)
        .count();
    let lost = (0..1000)
        .filter(in_scope)
        .filter(|i| phase(*i) != Phase::Delivered)
        .count();
    (delivered, lost)
}

async fn check(
    world: &World,
    missing: Vec<MissingPush>,
    summary: dt_client::ReconcileSummary,
    received: &ReceivedIds,
) {
    let truth = history_in_scope(world);
    let (delivered, lost) = expected_counts();
    assert_eq!(truth.len(), delivered + lost);
    assert_eq!(
        received.len(),
        delivered,
        "the receiver got the delivered phases alone"
    );
    assert_eq!(missing.len(), lost);

    // Each once, none received, and together exactly history in scope.
    let ids: HashSet<&str> = missing.iter().map(|p| p.event_id.as_str()).collect();
    assert_eq!(ids.len(), missing.len(), "an event given twice");
    assert!(ids.iter().all(|id| !received.contains(id)));
    let together = ids.len() + received.len();
    assert_eq!(together, truth.len());
    assert!(
        truth
            .keys()
            .all(|id| ids.contains(id.as_str()) || received.contains(id))
    );

    // In time order, each body the push the connector would have sent.
    assert!(
        missing
            .windows(2)
            .all(|pair| pair[0].timestamp <= pair[1].timestamp)
    );
    for push in &missing {
        let body: Value = serde_json::from_str(push.as_str()).unwrap();
        assert_eq!(body, truth[&push.event_id], "event {}", push.event_id);
        assert_eq!(body["metadata"]["deviceId"], json!(push.device_id));
        assert!(body["labels"].get("site").is_none(), "a label outside the scope");
        assert_eq!(
            push.timestamp,
            body["event"]["timestamp"]
                .as_str()
                .unwrap()
                .parse::<Timestamp>()
                .unwrap()
        );
    }
    assert_eq!(summary.in_history, truth.len() as u64);
    assert_eq!(summary.missing, lost as u64);
    assert_eq!(summary.received, delivered as u64);
    assert_eq!(summary.devices, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciled_pushes_and_the_received_ones_are_history_in_scope_each_once() {
    let world = publish_a_thousand(Config::default()).await;
    let dropped = (0..1000)
        .filter(|i| phase(*i) == Phase::PushesDropped && event_type(*i) != "humidity")
        .count();
    assert_eq!(
        world.sim.dropped_pushes(),
        dropped as u64,
        "pushes dropped in scope"
    );
    let mut received = ReceivedIds::new();
    let read = received.add_pushes(&received_file(&world)[..]).unwrap();
    assert!(!read.partial_last_line);

    // Kept in memory.
    let mut stream = world
        .client
        .reconcile(PROJECT, world.connector.clone())
        .range(world.from, world.to)
        .received(received.clone())
        .page_size(50)
        .stream();
    let mut missing = Vec::new();
    while let Some(push) = stream.try_next().await.unwrap() {
        missing.push(push);
    }
    check(&world, missing, stream.summary(), &received).await;

    // Spilled to disk in several runs and merged: the same pushes in the same order.
    let spill_dir = tempfile::tempdir().unwrap();
    let mut stream = world
        .client
        .reconcile(PROJECT, world.connector.clone())
        .range(world.from, world.to)
        .received(received.clone())
        .memory_limit(64 * 1024)
        .spill_dir(spill_dir.path())
        .concurrency(3)
        .stream();
    let mut spilled = Vec::new();
    while let Some(push) = stream.try_next().await.unwrap() {
        // The temporary files are unlinked from the start: none to see, none to leave.
        assert_eq!(std::fs::read_dir(spill_dir.path()).unwrap().count(), 0);
        spilled.push(push);
    }
    let summary = stream.summary();
    assert!(summary.spilled_bytes > 64 * 1024, "several runs: {summary:?}");
    check(&world, spilled, summary, &received).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_with_the_reconciled_pushes_received_finds_nothing_and_a_given_scope_replaces_the_connectors()
{
    let world = publish_a_thousand(Config::default()).await;
    let mut received = ReceivedIds::new();
    received.add_pushes(&received_file(&world)[..]).unwrap();
    let missing: Vec<MissingPush> = world
        .client
        .reconcile(PROJECT, world.connector.clone())
        .range(world.from, world.to)
        .received(received.clone())
        .stream()
        .try_collect()
        .await
        .unwrap();
    // A handler took them: a second reconciliation finds nothing.
    received.extend(missing.iter().map(|p| p.event_id.as_str()));
    let mut again = world
        .client
        .reconcile(PROJECT, world.connector.clone())
        .range(world.from, world.to)
        .received(received.clone())
        .stream();
    assert!(again.try_next().await.unwrap().is_none());
    assert_eq!(again.summary().missing, 0);

    // humidity alone, without labels: the connector is not asked for.
    let requests = world.sim.requests();
    let humidity: Vec<MissingPush> = world
        .client
        .reconcile(PROJECT, "any-name")
        .scope(ForwardScope::new().event_types(["humidity"]))
        .range(world.from, world.to)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        humidity.len(),
        (0..1000).filter(|i| event_type(*i) == "humidity").count()
    );
    assert!(humidity.iter().all(|p| {
        let body: Value = serde_json::from_str(p.as_str()).unwrap();
        body["event"]["eventType"] == "humidity" && body["labels"] == json!({})
    }));
    assert!(world.sim.requests() > requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_newest_first_with_an_exclusive_start_reconciles_the_same() {
    let config = Config::default()
        .with_history_newest_first(true)
        .with_history_start_exclusive(true);
    let world = publish_a_thousand(config).await;
    let mut received = ReceivedIds::new();
    received.add_pushes(&received_file(&world)[..]).unwrap();
    for memory_limit in [usize::MAX, 64 * 1024] {
        let mut stream = world
            .client
            .reconcile(PROJECT, world.connector.clone())
            .range(world.from, world.to)
            .received(received.clone())
            .page_size(64)
            .memory_limit(memory_limit)
            .stream();
        let mut missing = Vec::new();
        while let Some(push) = stream.try_next().await.unwrap() {
            missing.push(push);
        }
        check(&world, missing, stream.summary(), &received).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_keys_a_device_lacks_pushed_empty_are_reconciled_empty_when_told() {
    let world = publish_a_thousand(Config::default().with_push_absent_labels_empty(true)).await;
    let mut received = ReceivedIds::new();
    received.add_pushes(&received_file(&world)[..]).unwrap();
    let query = world
        .client
        .reconcile(PROJECT, world.connector.clone())
        .range(world.from, world.to)
        .received(received.clone());
    // Left out, as by default: the odd devices' bodies lack the `floor` the pushes carry.
    let left_out: Vec<MissingPush> = query.clone().stream().try_collect().await.unwrap();
    let truth = history_in_scope(&world);
    let differ = left_out
        .iter()
        .filter(|p| serde_json::from_str::<Value>(p.as_str()).unwrap() != truth[&p.event_id])
        .count();
    assert!(differ > 0 && differ < left_out.len());
    // Told, every body is the push.
    let mut stream = query.absent_labels_empty(true).stream();
    let mut missing = Vec::new();
    while let Some(push) = stream.try_next().await.unwrap() {
        missing.push(push);
    }
    check(&world, missing, stream.summary(), &received).await;
}
