//! `preventos-daily-export --out` on object stores: the S3 and Azure Blob request shapes
//! (wiremock), create-only days and manifests, conditional replacements, a day
//! completed when its manifest is missing, and two writers on one in-memory store.

mod daily_common;

use std::sync::Arc;

use client_core::store::StoreLocation;
use client_core::store::object_store::memory::InMemory;
use client_core::store::object_store::path::Path as ObjectPath;
use client_core::store::object_store::{ObjectStore, ObjectStoreExt};
use daily_common::{SOUTH, daemon, output};
use examples::daily_export::{DayOutput, Days, PassOptions, RequestLog, run_pass};
use futures::TryStreamExt;
use sandbox::preventos::{Config, Sandbox};
use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const DAY: &[&str] = &["--plan", "plan.json", "--date", "2026-05-31", "--once", "--out"];

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn s3_settings(server: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT", server.uri()),
        ("AWS_ALLOW_HTTP", "true".to_owned()),
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", SECRET.to_owned()),
    ]
}

fn s3_listing(objects: &[(&str, &str, usize)]) -> String {
    let contents: String = objects
        .iter()
        .map(|(key, etag, size)| {
            format!(
                "<Contents><Key>{key}</Key><LastModified>2026-06-01T00:00:00.000Z</LastModified>\
                 <ETag>&quot;{etag}&quot;</ETag><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>exports</Name>\
         <KeyCount>{}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{contents}</ListBucketResult>",
        objects.len()
    )
}

/// One pass of the `SOUTH` plan for the document's day into `out`, with `extra`
/// arguments and the store settings `vars`, from a folder of its own (kept until the
/// end of the test).
async fn export_day(
    sim: &Sandbox,
    out: &str,
    extra: &[&str],
    vars: &[(&str, String)],
) -> (std::process::Output, tempfile::TempDir) {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), SOUTH).unwrap();
    let mut args = DAY.to_vec();
    args.push(out);
    args.extend(extra);
    let mut command = daemon(folder.path(), &args, Some(sim));
    command.envs(vars.iter().map(|(name, value)| (name, value)));
    (output(command).await, folder)
}

/// The day as a run into a local folder stores it.
async fn day_in_a_folder(sim: &Sandbox) -> Vec<u8> {
    let (run, folder) = export_day(sim, "out", &[], &[]).await;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    std::fs::read(folder.path().join("out/south/2026-05-31.ndjson")).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn puts(requests: &[Request]) -> Vec<&Request> {
    requests.iter().filter(|r| r.method.as_str() == "PUT").collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_days_and_manifests_are_created_with_if_none_match_and_signed() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/exports"))
        .and(query_param("list-type", "2"))
        .and(query_param("prefix", "daily/south/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(s3_listing(&[]), "application/xml"))
        .expect(1)
        .mount(&server)
        .await;
    for key in ["2026-05-31.ndjson", "2026-05-31.ndjson.manifest.json"] {
        Mock::given(method("PUT"))
            .and(path(format!("/exports/daily/south/{key}")))
            .and(header("if-none-match", "*"))
            .and(header_exists("x-amz-date"))
            .respond_with(ResponseTemplate::new(200).insert_header("etag", "\"e1\""))
            .expect(1)
            .mount(&server)
            .await;
    }
    let (run, _folder) = export_day(&sim, "s3://exports/daily/", &[], &s3_settings(&server)).await;
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(!stderr.contains(SECRET), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        "s3://exports/daily/south/2026-05-31.ndjson"
    );

    let requests = server.received_requests().await.unwrap();
    let puts = puts(&requests);
    assert_eq!(puts.len(), 2);
    // The object first, then its manifest, each signed.
    assert!(puts[0].url.path().ends_with("/2026-05-31.ndjson"));
    for put in &puts {
        let authorization = put.headers.get("authorization").unwrap().to_str().unwrap();
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{authorization}"
        );
    }
    let expected = day_in_a_folder(&sim).await;
    assert!(!expected.is_empty());
    assert_eq!(puts[0].body, expected, "the object is what a folder run stores");
    let manifest: serde_json::Value = serde_json::from_slice(&puts[1].body).unwrap();
    assert_eq!(manifest["sha256"], sha256_hex(&expected));
    assert_eq!(manifest["file"], "2026-05-31.ndjson");
    assert_eq!(manifest["revision"], 1);
}

/// Lists the document's day of `south` on `server` (object ETag `v1`, 3 bytes; manifest
/// ETag `m1`) and returns its manifest, which names other bytes than the API's: a day
/// whose next fetch replaces it.
async fn listed_stale_day(server: &MockServer) -> String {
    let manifest = serde_json::json!({
        "version": 1, "item": "south", "env": "102", "siteId": "site-south",
        "signalIds": ["Velocity"], "day": "2026-05-31", "timezone": "UTC", "format": "ndjson",
        "file": "2026-05-31.ndjson", "records": 1, "bytes": 3, "sha256": "00",
        "fetchedAt": "2026-06-01T00:00:00Z", "revision": 1, "windows": [], "requests": []
    })
    .to_string();
    Mock::given(method("GET"))
        .and(path("/exports"))
        .and(query_param("list-type", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            s3_listing(&[
                ("daily/south/2026-05-31.ndjson", "v1", 3),
                (
                    "daily/south/2026-05-31.ndjson.manifest.json",
                    "m1",
                    manifest.len(),
                ),
            ]),
            "application/xml",
        ))
        .mount(server)
        .await;
    manifest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replacement_names_the_listed_version_and_a_lost_race_fails_the_day() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let server = MockServer::start().await;
    let manifest = listed_stale_day(&server).await;
    Mock::given(method("GET"))
        .and(path("/exports/daily/south/2026-05-31.ndjson.manifest.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"m1\"")
                .insert_header("last-modified", "Mon, 01 Jun 2026 00:00:00 GMT")
                .set_body_raw(manifest.clone(), "application/json"),
        )
        .mount(&server)
        .await;
    // Another process replaced the object after this one listed it.
    Mock::given(method("PUT"))
        .and(path("/exports/daily/south/2026-05-31.ndjson"))
        .and(header("if-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(412))
        .expect(1)
        .mount(&server)
        .await;
    let (run, _folder) = export_day(&sim, "s3://exports/daily", &["--force"], &s3_settings(&server)).await;
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("written meanwhile by another process"),
        "{stderr}"
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(puts(&requests).len(), 1, "no manifest after a refused object");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_blobs_are_created_with_if_none_match() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/devstoreaccount1/exports"))
        .and(query_param("comp", "list"))
        .and(query_param("prefix", "daily/south/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults \
             ContainerName=\"exports\"><Prefix>daily/south/</Prefix><Blobs></Blobs><NextMarker/></EnumerationResults>",
            "application/xml",
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(header("if-none-match", "*"))
        .and(header("x-ms-blob-type", "BlockBlob"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(201).insert_header("etag", "\"0x1\""))
        .expect(2)
        .mount(&server)
        .await;
    let emulator = [
        ("AZURE_STORAGE_USE_EMULATOR", "true".to_owned()),
        ("AZURITE_BLOB_STORAGE_URL", server.uri()),
    ];
    let (run, _folder) = export_day(&sim, "az://exports/daily", &[], &emulator).await;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let requests = server.received_requests().await.unwrap();
    let paths: Vec<&str> = puts(&requests).iter().map(|r| r.url.path()).collect();
    assert_eq!(
        paths,
        [
            "/devstoreaccount1/exports/daily/south/2026-05-31.ndjson",
            "/devstoreaccount1/exports/daily/south/2026-05-31.ndjson.manifest.json"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_without_its_manifest_is_completed_and_a_done_day_is_not_fetched_again() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), SOUTH).unwrap();
    let mut args = DAY.to_vec();
    let target = format!("file://{}/out", folder.path().display());
    args.push(&target);
    let first = output(daemon(folder.path(), &args, Some(&sim))).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let data = folder.path().join("out/south/2026-05-31.ndjson");
    let manifest = folder.path().join("out/south/2026-05-31.ndjson.manifest.json");
    let bytes = std::fs::read(&data).unwrap();
    let fetched_once = sim.values_requests();

    // Killed between the object and its manifest: the day is not done.
    std::fs::remove_file(&manifest).unwrap();
    let second = output(daemon(folder.path(), &args, Some(&sim))).await;
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(sim.values_requests() > fetched_once, "fetched again");
    assert!(stderr.contains("no manifest yet"), "{stderr}");
    assert!(
        second.stdout.is_empty(),
        "nothing new written: {:?}",
        second.stdout
    );
    assert_eq!(std::fs::read(&data).unwrap(), bytes);
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(written["sha256"], sha256_hex(&bytes));
    assert_eq!(written["revision"], 1);

    // Done and settled: no request at all.
    let fetched_twice = sim.values_requests();
    let third = output(daemon(folder.path(), &args, Some(&sim))).await;
    assert!(third.status.success());
    assert_eq!(sim.values_requests(), fetched_twice);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_on_one_store_write_each_day_once() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let vars = sim.env_vars();
    let client = preventos_client::Client::from_vars(sandbox::env_lookup(&vars)).unwrap();
    let plan: Vec<preventos_client::plan::BatchItem> = serde_json::from_str(SOUTH).unwrap();
    let catalog = client.catalog_for(["102"]).await.unwrap();
    let store = Arc::new(InMemory::new());
    let out = DayOutput::new(
        StoreLocation::new(store.clone(), ObjectPath::from("daily")),
        "mem://daily",
    );
    let days = Days::Range(jiff::civil::date(2026, 5, 29), jiff::civil::date(2026, 5, 31));
    let options = PassOptions::new(days);
    let requests = RequestLog::default();
    // Both list before either writes: each day is claimed by one create-only put.
    let (a, b) = tokio::join!(
        run_pass(&client, &catalog, &plan, &out, &options, &requests),
        run_pass(&client, &catalog, &plan, &out, &options, &requests)
    );
    let written = a.written.len() + b.written.len();
    let skipped = a.skipped.len() + b.skipped.len();
    let lost: Vec<&String> = a.failed.iter().chain(&b.failed).map(|(_, why)| why).collect();
    assert_eq!(written, 3, "{a:?} {b:?}");
    assert_eq!(written + skipped + lost.len(), 6, "{a:?} {b:?}");
    for why in &lost {
        assert!(why.contains("written meanwhile by another process"), "{why}");
    }
    let mut names: Vec<String> = store
        .list(None)
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .unwrap();
    names.sort();
    assert_eq!(names.len(), 6, "each day's object and manifest: {names:?}");
    // Each manifest describes the object beside it.
    for name in names.iter().filter(|n| n.ends_with(".ndjson")) {
        let object = store
            .get(&ObjectPath::from(name.as_str()))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let manifest = store
            .get(&ObjectPath::from(format!("{name}.manifest.json")))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        assert_eq!(manifest["sha256"], sha256_hex(&object), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_newer_than_its_manifest_is_fetched_again_and_names_keep_their_characters() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    // An item name and an output folder with characters a store path would escape.
    let plan = SOUTH.replace("\"south\"", "\"pump#2 50%\"");
    std::fs::write(folder.path().join("plan.json"), plan).unwrap();
    let mut args = DAY.to_vec();
    args.push("out [a]");
    let first = output(daemon(folder.path(), &args, Some(&sim))).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let item = folder.path().join("out [a]/pump#2 50%");
    let data = item.join("2026-05-31.ndjson");
    let manifest = item.join("2026-05-31.ndjson.manifest.json");
    let mut names: Vec<String> = std::fs::read_dir(&item)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["2026-05-31.ndjson", "2026-05-31.ndjson.manifest.json"]);
    let bytes = std::fs::read(&data).unwrap();

    // A replacement interrupted between the object and its manifest: the object holds
    // other bytes, written after the manifest.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    std::fs::write(&data, b"{\"other\":1}\n").unwrap();
    let requests = sim.values_requests();
    let second = output(daemon(folder.path(), &args, Some(&sim))).await;
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(stderr.contains("newer than its manifest"), "{stderr}");
    assert!(sim.values_requests() > requests, "fetched again");
    assert_eq!(std::fs::read(&data).unwrap(), bytes, "the day as the API has it");
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(written["sha256"], sha256_hex(&bytes));
    assert_eq!(written["revision"], 1, "the manifest named these bytes already");
}

/// The path of a GCS object's request: the bucket, then the name with every byte but
/// letters and digits percent-encoded, as `object_store` sends it.
fn gcs_object(name: &str) -> String {
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("/exports/{encoded}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_gcs_a_replacement_names_the_generation_of_the_listed_object() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let server = MockServer::start().await;
    // GCS's XML listing has no generation: the client asks the object's with a HEAD.
    let manifest = listed_stale_day(&server).await;
    for (key, etag, generation) in [
        ("2026-05-31.ndjson", "v1", "17"),
        ("2026-05-31.ndjson.manifest.json", "m1", "18"),
    ] {
        Mock::given(method("HEAD"))
            .and(path(gcs_object(&format!("daily/south/{key}"))))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("etag", format!("\"{etag}\"").as_str())
                    .insert_header("x-goog-generation", generation)
                    .insert_header("content-length", "3")
                    .insert_header("last-modified", "Mon, 01 Jun 2026 00:00:00 GMT"),
            )
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path(gcs_object(&format!("daily/south/{key}"))))
            .and(header("x-goog-if-generation-match", generation))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("etag", "\"new\"")
                    .insert_header("x-goog-generation", "19"),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(gcs_object("daily/south/2026-05-31.ndjson.manifest.json")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"m1\"")
                .insert_header("x-goog-generation", "18")
                .insert_header("last-modified", "Mon, 01 Jun 2026 00:00:00 GMT")
                .set_body_raw(manifest.clone(), "application/json"),
        )
        .mount(&server)
        .await;
    let settings = [
        ("GOOGLE_BASE_URL", server.uri()),
        ("GOOGLE_BEARER_TOKEN", "a-token".to_owned()),
        ("GOOGLE_ALLOW_HTTP", "true".to_owned()),
    ];
    let (run, _folder) = export_day(&sim, "gs://exports/daily", &["--force"], &settings).await;
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&run.stdout).contains("gs://exports/daily/south/2026-05-31.ndjson"));
}
