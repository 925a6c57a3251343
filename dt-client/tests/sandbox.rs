//! End to end against the DT sandbox: auth, lists and their paging, history, labels,
//! transfers, data connectors with signed pushes.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use dt_client::{
    Client, ConnectorStatus, ConnectorUpdate, Device, Error, LabelChanges, NewDataConnector, RawEvent,
    Verifier,
};
use futures::TryStreamExt;
use jiff::Timestamp;
use sandbox::dt::{Config, OTHER_PROJECT, PROJECT, Sandbox};
use secrecy::SecretString;

#[tokio::test]
async fn the_service_account_gets_one_token_and_basic_works_when_enabled() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    let projects: Vec<_> = client.projects().stream().try_collect().await.unwrap();
    assert_eq!(
        projects.iter().filter_map(|p| p.id()).collect::<Vec<_>>(),
        [PROJECT, OTHER_PROJECT]
    );
    assert_eq!(client.project(PROJECT).await.unwrap().sensor_count, Some(120));
    assert_eq!(sim.token_requests(), 1);

    let vars = sim.env_vars();
    let basic = Client::from_vars(|name| match name {
        "DT_SERVICE_ACCOUNT_EMAIL" => None,
        other => sandbox::env_lookup(&vars)(other),
    })
    .unwrap();
    assert_eq!(basic.project(PROJECT).await.unwrap().id(), Some(PROJECT));
    assert_eq!(sim.token_requests(), 1, "Basic needs no token");

    // The simulator's variables (`DT_BASE_URL` among them) give a usable client.
    let from_vars = Client::from_vars(sandbox::env_lookup(&vars)).unwrap();
    assert_eq!(from_vars.base_url().as_str(), sim.base_url());
    let page = from_vars.devices(PROJECT).page_size(5).send().await.unwrap();
    assert_eq!(page.items.len(), 5);
    assert_eq!(sim.token_requests(), 2, "the service account's own token");

    let sim = Sandbox::start(Config::default().with_basic(false)).await.unwrap();
    let vars = sim.env_vars();
    let basic = Client::from_vars(|name| {
        if name == "DT_AUTH" {
            Some("basic".into())
        } else {
            sandbox::env_lookup(&vars)(name)
        }
    })
    .unwrap();
    let err = basic.project(PROJECT).await.unwrap_err();
    assert!(
        matches!(&err, Error::Unauthorized(api) if api.message.as_deref() == Some("missing or invalid credentials")),
        "{err:?}"
    );

    // A wrong secret signs a JWT the identity endpoint refuses: refused like a 401.
    let wrong = Client::from_vars(|name| {
        if name == "DT_SERVICE_ACCOUNT_SECRET" {
            Some("wrong".into())
        } else {
            sandbox::env_lookup(&vars)(name)
        }
    })
    .unwrap();
    let err = wrong
        .projects()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
}

#[tokio::test]
async fn device_lists_page_and_filter() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    let all: Vec<Device> = client
        .devices(PROJECT)
        .page_size(7)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 120);
    let distinct: HashSet<_> = all.iter().map(|d| d.name.clone()).collect();
    assert_eq!(distinct.len(), 120);

    let filtered: Vec<Device> = client
        .devices(PROJECT)
        .device_types(["temperature", "touch"])
        .label_equals("floor", "2")
        .order_by("labels.name", true)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert!(!filtered.is_empty());
    assert!(filtered.iter().all(|d| {
        ["temperature", "touch"].contains(&d.device_type.as_deref().unwrap()) && d.labels["floor"] == "2"
    }));
    let names: Vec<&str> = filtered
        .iter()
        .map(|d| d.labels["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(names, sorted);

    let one = &all[3];
    let picked: Vec<Device> = client
        .devices(PROJECT)
        .device_ids([one.id().unwrap()])
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(picked, vec![one.clone()]);
    assert_eq!(&client.device(PROJECT, one.id().unwrap()).await.unwrap(), one);
    assert!(matches!(
        client.device(PROJECT, "nope").await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn history_pages_hold_every_event_once_in_the_range() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    let device = sim.devices()[0].clone();
    let (from, to) = (
        "2025-03-01T00:00:00Z".parse::<Timestamp>().unwrap(),
        "2025-03-04T00:00:00Z".parse::<Timestamp>().unwrap(),
    );
    let events: Vec<RawEvent> = client
        .events(PROJECT, &device.id)
        // Half-open: the event at `to` (which the API's `endTime` includes) is left out.
        .range(from, to)
        .page_size(50)
        .records::<RawEvent>()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<String> = events.iter().map(|e| e.event_id().to_owned()).collect();
    assert_eq!(ids.len(), 288);
    assert_eq!(ids, sim.event_ids(&device.id, from, to));
    assert_eq!(sim.history_pages(), 6);
    let typed: dt_client::Event = events[0].decode().unwrap();
    assert_eq!(typed.device_id(), Some(device.id.as_str()));

    // Filtered by a type the device does not send: nothing.
    let none: Vec<RawEvent> = client
        .events(PROJECT, &device.id)
        .event_types(["touch", "co2"])
        .range(from, to)
        .records::<RawEvent>()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert!(none.is_empty(), "{} is a {}", device.id, device.device_type);
}

#[tokio::test]
async fn labels_and_transfers_report_per_device_errors() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    let devices = sim.devices();
    let (a, b) = (&devices[0].id, &devices[1].id);
    let errors = client
        .update_labels(
            PROJECT,
            [a.as_str(), b.as_str(), "ghost"],
            &LabelChanges::new().set("zone", "north").remove("floor"),
        )
        .await
        .unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].device.as_deref(),
        Some("projects/sandbox-project/devices/ghost")
    );
    let updated = client.device(PROJECT, a).await.unwrap();
    assert_eq!(updated.labels["zone"], "north");
    assert!(!updated.labels.contains_key("floor"));

    let errors = client
        .transfer(OTHER_PROJECT, [(PROJECT, a.as_str()), (PROJECT, "ghost")])
        .await
        .unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        client.device(OTHER_PROJECT, a).await.unwrap().project_id(),
        Some(OTHER_PROJECT)
    );
    assert!(matches!(client.device(PROJECT, a).await, Err(Error::NotFound(_))));
}

/// A receiver on loopback that verifies each push and keeps the verified event ids.
async fn receiver(secret: &'static str) -> (String, Arc<Mutex<Vec<String>>>, Arc<Mutex<u32>>) {
    use axum::http::{HeaderMap, StatusCode};
    let received = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(Mutex::new(0u32));
    let (ok, bad) = (received.clone(), refused.clone());
    let verifier = Verifier::new(SecretString::from(secret));
    let app = axum::Router::new().route(
        "/push",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (ok, bad, verifier) = (ok.clone(), bad.clone(), verifier.clone());
            async move {
                let signature = headers.get("x-dt-signature").and_then(|v| v.to_str().ok());
                match verifier.verify(signature, &body) {
                    Ok(push) if headers.get("x-receiver-key").is_some_and(|v| v == "k3y") => {
                        ok.lock().unwrap().push(push.event.event_id);
                        StatusCode::OK
                    }
                    _ => {
                        *bad.lock().unwrap() += 1;
                        StatusCode::UNAUTHORIZED
                    }
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/push", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectors_push_signed_events_that_a_receiver_verifies() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    let (url, received, refused) = receiver("push-secret").await;
    let created = client
        .create_data_connector(
            PROJECT,
            &NewDataConnector::new("receiver", url).with(
                ConnectorUpdate::new()
                    .events(["temperature"])
                    .labels(["name"])
                    .headers([("x-receiver-key", "k3y")])
                    .signature_secret(SecretString::from("push-secret")),
            ),
        )
        .await
        .unwrap();
    let id = created.id().unwrap().to_owned();
    assert_eq!(created.status, Some(ConnectorStatus::Active));
    assert!(!format!("{created:?}").contains("k3y"));

    client.sync_data_connector(PROJECT, &id).await.unwrap();
    // 120 devices of 6 types: 20 temperature devices, one latest event each.
    assert_eq!(received.lock().unwrap().len(), 20);
    assert_eq!(*refused.lock().unwrap(), 0);
    let metrics = client.data_connector_metrics(PROJECT, &id).await.unwrap();
    assert_eq!((metrics.success_count, metrics.error_count), (20, 0));

    // A partial update changes the status alone: the headers and the filter stay.
    let updated = client
        .update_data_connector(
            PROJECT,
            &id,
            &ConnectorUpdate::new().status(ConnectorStatus::UserDisabled),
        )
        .await
        .unwrap();
    assert_eq!(updated.status, Some(ConnectorStatus::UserDisabled));
    assert_eq!(updated.events, ["temperature"]);
    assert_eq!(
        updated.http_config.as_ref().unwrap().headers["x-receiver-key"],
        "k3y"
    );
    client.sync_data_connector(PROJECT, &id).await.unwrap();
    assert_eq!(
        received.lock().unwrap().len(),
        20,
        "a disabled connector pushes nothing"
    );

    // A wrong secret on the connector: every push refused, retried, counted as errors.
    client
        .update_data_connector(
            PROJECT,
            &id,
            &ConnectorUpdate::new()
                .status(ConnectorStatus::Active)
                .signature_secret(SecretString::from("other")),
        )
        .await
        .unwrap();
    let before = sim.push_attempts();
    client.sync_data_connector(PROJECT, &id).await.unwrap();
    assert_eq!(sim.push_attempts() - before, 60, "20 pushes, 3 attempts each");
    assert_eq!(*refused.lock().unwrap(), 60);
    assert_eq!(
        client
            .data_connector_metrics(PROJECT, &id)
            .await
            .unwrap()
            .error_count,
        20
    );

    let listed: Vec<_> = client
        .data_connectors(PROJECT)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    client.delete_data_connector(PROJECT, &id).await.unwrap();
    assert!(matches!(
        client.data_connector(PROJECT, &id).await,
        Err(Error::NotFound(_))
    ));
}

/// A raw loopback listener acting as a proxy: records the first line of every request
/// and refuses it.
async fn recording_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = vec![0u8; 8192];
            let n = socket.read(&mut head).await.unwrap_or(0);
            let text = String::from_utf8_lossy(&head[..n]).into_owned();
            record
                .lock()
                .unwrap()
                .push(text.lines().next().unwrap_or_default().to_owned());
            let _ = socket
                .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        }
    });
    (format!("http://{address}"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_to_a_loopback_receiver_never_go_through_the_environments_proxy() {
    let (proxy, proxied) = recording_proxy().await;
    let (url, received, refused) = receiver("push-secret").await;
    // The proxy variables are process-wide: the simulator runs in a child process
    // (`push_through_environment_child`) that has them from its start.
    let output = tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command.args([
            "--exact",
            "push_through_environment_child",
            "--ignored",
            "--test-threads=1",
        ]);
        for name in ["HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"] {
            command.env_remove(name);
        }
        command
            .env("HTTP_PROXY", &proxy)
            .env("http_proxy", &proxy)
            .env("ALL_PROXY", &proxy)
            .env("CHILD_RECEIVER", url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        proxied.lock().unwrap().is_empty(),
        "{:?}",
        proxied.lock().unwrap()
    );
    assert_eq!(received.lock().unwrap().len(), 20);
    assert_eq!(*refused.lock().unwrap(), 0);
}

/// The child of `pushes_to_a_loopback_receiver_never_go_through_the_environments_proxy`:
/// a connector to `CHILD_RECEIVER`, synced once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run as a child process, with proxy variables set"]
async fn push_through_environment_child() {
    let url = std::env::var("CHILD_RECEIVER").unwrap();
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    let created = client
        .create_data_connector(
            PROJECT,
            &NewDataConnector::new("receiver", url).with(
                ConnectorUpdate::new()
                    .events(["temperature"])
                    .headers([("x-receiver-key", "k3y")])
                    .signature_secret(SecretString::from("push-secret")),
            ),
        )
        .await
        .unwrap();
    client
        .sync_data_connector(PROJECT, created.id().unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn history_newest_first_reads_every_event_of_the_range_once_in_its_order() {
    let (from, to): (Timestamp, Timestamp) = (
        "2025-03-01T00:00:00Z".parse().unwrap(),
        "2025-03-01T06:00:00Z".parse().unwrap(),
    );
    let mut reads = Vec::new();
    for newest_first in [false, true] {
        let sim = Sandbox::start(Config::default().with_history_newest_first(newest_first))
            .await
            .unwrap();
        let device = sim.devices()[0].id.clone();
        let events: Vec<RawEvent> = common::client(&sim)
            .events(PROJECT, device)
            .range(from, to)
            .page_size(7)
            .records::<RawEvent>()
            .stream()
            .try_collect()
            .await
            .unwrap();
        reads.push(events.iter().map(|e| e.event_id().to_owned()).collect::<Vec<_>>());
        let times: Vec<Timestamp> = events.iter().map(RawEvent::timestamp).collect();
        assert!(times.iter().all(|t| (from..to).contains(t)));
        if newest_first {
            assert!(times.windows(2).all(|pair| pair[0] > pair[1]), "newest first");
        }
    }
    // 24 events every 15 minutes, over four pages either way.
    assert_eq!(reads[0].len(), 24);
    let mut reversed = reads[1].clone();
    reversed.reverse();
    assert_eq!(reads[0], reversed);
}
