//! End to end against the Sensor Data sandbox: both API generations, auth, permissions.

mod common;

use client_core::ManualClock;
use futures::{StreamExt, TryStreamExt};
use jiff::{SignedDuration, Timestamp};
use sandbox::sds::{Config, FORBIDDEN_ITWIN, FOREIGN_ITWIN, ITWIN, READ_ONLY_ITWIN, Sandbox};
use sds_client::{
    ChangeState, Client, DataSource, DeviceChange, Error, Integration, MicroPermission, MissingPermission,
    NewDataSource, RawObservation, SensorChange, UploadObservation,
};
use serde_json::value::RawValue;

async fn datasources(client: &Client, itwin: &str) -> Vec<DataSource> {
    client.datasources(itwin).stream().try_collect().await.unwrap()
}

#[tokio::test]
async fn data_sources_round_trip() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim, &ManualClock::new());
    let before = datasources(&client, ITWIN).await;
    assert_eq!(before.len(), 2);
    assert_eq!(before[0].bucket_name.as_deref(), Some("My Sensors"));

    let created = client
        .create_datasource(&NewDataSource::new(
            "bucket-9",
            "Hoover Dam Sensors",
            ITWIN,
            "conn-1",
        ))
        .await
        .unwrap();
    assert_eq!(created.bucket_name.as_deref(), Some("Hoover Dam Sensors"));
    assert_eq!(client.datasource(&created.id).await.unwrap(), created);

    let updated = client
        .update_datasource(
            &created.id,
            &NewDataSource::new("bucket-9", "Renamed", ITWIN, "conn-1"),
        )
        .await
        .unwrap();
    assert_eq!(updated.bucket_name.as_deref(), Some("Renamed"));
    assert_eq!(datasources(&client, ITWIN).await.len(), 3);

    client.delete_datasource(&created.id).await.unwrap();
    let err = client.datasource(&created.id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(datasources(&client, ITWIN).await, before);
    // One token for every request, and every request named the media type.
    assert_eq!(sim.token_requests(), 1);
    assert_eq!(sim.requests_without_accept(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_of_observations_in_the_picked_unit_once_each_in_order() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim, &ManualClock::new());
    let sensors = client
        .sensors(ITWIN)
        .data_source("6304AD5893266431E1E9AD71")
        .send()
        .await
        .unwrap()
        .items;
    assert_eq!(
        sensors.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["sensor-1", "sensor-2"]
    );
    let choice = sensors[1].pick("f", None).unwrap();
    assert_eq!(choice.unit.unit, "Hz");
    let (from, to) = (
        common::at("2025-01-01T00:00:00Z"),
        common::at("2026-01-01T00:00:00Z"),
    );
    let mut stream = client
        .observations(ITWIN, &sensors[1].id)
        .selection(&choice)
        .range(from, to)
        .records::<RawObservation>()
        .stream();
    let mut count = 0u64;
    let mut previous: Option<Timestamp> = None;
    let mut first_text = String::new();
    while let Some(raw) = stream.try_next().await.unwrap() {
        if let Some(previous) = previous {
            assert_eq!(
                raw.timestamp().duration_since(previous),
                SignedDuration::from_secs(60)
            );
        }
        if count == 0 {
            first_text = raw.as_str().to_owned();
        }
        previous = Some(raw.timestamp());
        count += 1;
    }
    assert_eq!(count, 525_600);
    assert_eq!(previous, Some(to - SignedDuration::from_secs(60)));
    let (ms, value) =
        sim.observations_in("sensor-2", "f", "Hz", from, from + SignedDuration::from_secs(1))[0];
    assert_eq!(
        first_text,
        format!(
            "{{\"timestamp\":{ms},\"value\":{}}}",
            serde_json::Value::from(value)
        )
    );
    assert_eq!(sim.observation_pages(), 53);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrate_upload_query_and_remove_round_trip() {
    let sim = Sandbox::start(Config::default().with_data_response_cap(1000))
        .await
        .unwrap();
    let client = common::client(&sim, &ManualClock::new());
    let node = client.nodes(ITWIN).send().await.unwrap().items.remove(0);
    let answer = client
        .integrate(
            ITWIN,
            &Integration::new().node_id(node.id).device(
                DeviceChange::new(ChangeState::New, "device-1")
                    .prop("INTEGRATION_ID", "DEMO_DEVICE_SDE")
                    .sensor(SensorChange::new(ChangeState::New, "vibration").prop("NAME", "Vibration")),
            ),
        )
        .await
        .unwrap();
    let sensor_id = answer["integration"]["devices"][0]["sensors"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        client
            .sensors(ITWIN)
            .send()
            .await
            .unwrap()
            .items
            .iter()
            .any(|s| s.id == sensor_id)
    );

    let start = common::at("2026-06-01T00:00:00Z");
    let uploads = (0..2500).map(|i| {
        UploadObservation::new(&sensor_id, start + SignedDuration::from_secs(10 * i))
            .value("T", i as f64 / 4.0)
    });
    let summary = client
        .upload(futures::stream::iter(uploads))
        .batch_size(1000)
        .send()
        .await
        .unwrap();
    assert_eq!((summary.batches, summary.observations), (3, 2500));
    assert_eq!((sim.uploads(), sim.uploaded_observations()), (3, 2500));

    // 2,500 timestamps through responses capped at 1,000: continued, none twice.
    let end = start + SignedDuration::from_secs(25_000);
    let points: Vec<_> = client
        .query_data(&sensor_id)
        .range(start, end)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(points.len(), 2500);
    assert!(points.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
    assert_eq!(points[7].values["T"], 1.75);
    assert_eq!(points[7].timestamp_text, "2026-06-01T00:01:10Z");
    assert_eq!(
        sim.data_queries(),
        4,
        "three responses with data, one that ends the range"
    );

    // The document's API reads the same store.
    let observations: Vec<_> = client
        .observations(ITWIN, &sensor_id)
        .metric("T")
        .unit("C")
        .range(start, end)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(observations.len(), 2500);

    // Remove the first 100 seconds by range (the sandbox reads both ends inclusive) and
    // two points by timestamp.
    client
        .remove_data(&sensor_id)
        .range(start, start + SignedDuration::from_secs(90))
        .send()
        .await
        .unwrap();
    client
        .remove_data(&sensor_id)
        .timestamps([
            start + SignedDuration::from_secs(200),
            start + SignedDuration::from_secs(210),
        ])
        .send()
        .await
        .unwrap();
    let left: Vec<_> = client
        .query_data(&sensor_id)
        .range(start, start + SignedDuration::from_secs(250))
        .values_as::<Box<RawValue>>()
        .stream()
        .map(|p| p.unwrap().timestamp_text)
        .collect()
        .await;
    let expected: Vec<String> = (10..25)
        .filter(|i| ![20, 21].contains(i))
        .map(|i| (start + SignedDuration::from_secs(10 * i)).to_string())
        .collect();
    assert_eq!(left, expected);
}

#[tokio::test]
async fn permissions_are_named_and_non_members_see_empty_lists() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim, &ManualClock::new());

    let err = client
        .create_datasource(&NewDataSource::new("b", "n", READ_ONLY_ITWIN, "c"))
        .await
        .unwrap_err();
    let Error::Forbidden(api) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(api.code_text().as_deref(), Some("InsufficientPermissions"));
    let missing = err.detail::<MissingPermission>().unwrap();
    assert_eq!(missing.permission, MicroPermission::SensorDataManage);
    assert_eq!(missing.itwin_id.as_deref(), Some(READ_ONLY_ITWIN));
    assert_eq!(err.status(), Some(403));
    assert!(missing.to_string().contains("sensor_data_manage"), "{missing}");
    // Reading is allowed there.
    assert_eq!(client.sensors(READ_ONLY_ITWIN).send().await.unwrap().len(), 1);

    let err = client.sensors(FORBIDDEN_ITWIN).send().await.unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    let missing = err.detail::<MissingPermission>().unwrap();
    assert_eq!(missing.permission, MicroPermission::SensorDataRead);
    assert_eq!(missing.itwin_id.as_deref(), Some(FORBIDDEN_ITWIN));
    assert!(
        missing
            .to_string()
            .contains("sensor_data_read (or sensor_data_manage)"),
        "{missing}"
    );

    // Uploading to a read-only iTwin's sensor: the data API names no iTwin.
    let err = client
        .upload(futures::stream::iter([UploadObservation::new(
            "sensor-r",
            Timestamp::now(),
        )
        .value("T", 1.0)]))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    let missing = err.detail::<MissingPermission>().unwrap();
    assert_eq!(
        (missing.permission, missing.itwin_id),
        (MicroPermission::SensorDataManage, None)
    );

    assert!(client.sensors(FOREIGN_ITWIN).send().await.unwrap().is_empty());
    assert!(datasources(&client, FOREIGN_ITWIN).await.is_empty());
}

#[tokio::test]
async fn an_access_token_from_the_environment_works_and_bad_credentials_are_typed() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let base = sim.base_url();
    let token = sim.config().access_token.clone();
    let client = Client::from_vars(|name| match name {
        "SDS_ACCESS_TOKEN" => Some(token.clone()),
        "SDS_BASE_URL" => Some(base.clone()),
        _ => None,
    })
    .unwrap();
    assert_eq!(client.nodes(ITWIN).send().await.unwrap().len(), 1);
    assert_eq!(sim.token_requests(), 0);

    let wrong = Client::from_vars(|name| match name {
        "SDS_ACCESS_TOKEN" => Some("not-a-token".into()),
        "SDS_BASE_URL" => Some(base.clone()),
        _ => None,
    })
    .unwrap();
    let err = wrong.nodes(ITWIN).send().await.unwrap_err();
    assert!(
        matches!(&err, Error::Unauthorized(api) if api.code_text().as_deref() == Some("InvalidToken")),
        "{err:?}"
    );

    // The simulator's variables give a usable client.
    let vars = sim.env_vars();
    let configured = Client::from_vars(sandbox::env_lookup(&vars)).unwrap();
    assert_eq!(configured.nodes(ITWIN).send().await.unwrap().len(), 1);
    assert_eq!(sim.token_requests(), 1);
    let bad_secret = Client::from_vars(|name| {
        if name == "SDS_CLIENT_SECRET" {
            return Some("wrong-secret".into());
        }
        vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
    })
    .unwrap();
    let err = bad_secret.nodes(ITWIN).send().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
    assert!(!format!("{err:?} {err}").contains("wrong-secret"));

    let wrong_scope = Client::from_vars(|name| {
        if name == "SDS_SCOPE" {
            return Some("other-scope".into());
        }
        vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
    })
    .unwrap();
    assert!(
        wrong_scope
            .nodes(ITWIN)
            .send()
            .await
            .unwrap_err()
            .is_unauthorized()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_to_stores_the_servers_text_atomically() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim, &ManualClock::new());
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("day.ndjson");
    let (from, to) = (
        common::at("2025-02-01T00:00:00Z"),
        common::at("2025-02-02T00:00:00Z"),
    );
    let query = client
        .observations(ITWIN, "sensor-3")
        .metric("f")
        .unit("digits")
        .range(from, to)
        .page_size(500);
    let written = query.clone().write_to(&path).await.unwrap();
    assert_eq!((written.records, written.requests), (1440, 3));
    let expected: String = sim
        .observations_in("sensor-3", "f", "digits", from, to)
        .iter()
        .map(|(ms, v)| {
            format!(
                "{{\"timestamp\":{ms},\"value\":{}}}\n",
                serde_json::Value::from(*v)
            )
        })
        .collect();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);

    // Every body cut short: no file, and no temporary file either.
    let failed = folder.path().join("failed.ndjson");
    sim.set_faults(sandbox::Faults::none().cut_body_after(2000));
    let err = query.write_to(&failed).await.unwrap_err();
    assert!(matches!(err, Error::Truncated(_)), "{err:?}");
    let names: Vec<_> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [std::ffi::OsString::from("day.ndjson")]);
}
