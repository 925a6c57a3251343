//! Reading forwarded objects from an Azure Blob container (wiremock) with a SAS through
//! the crate's own HTTP connector: the SAS goes in each request's query, and never into
//! an error.
#![cfg(feature = "store")]

use forward_types::{ForwardedObjects, StoreError};
use futures::TryStreamExt;
use jiff::civil::date;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BODY: &str = r#"[{"hashId":"m1","environmentHashId":"env","observations":[],"generatedAt":"2026-01-02T00:00:00.000Z","attempt":0}]"#;
const SIGNATURE: &str = "c2VjcmV0LXNpZ25hdHVyZQ==";

fn listing(names: &[&str]) -> String {
    let blobs: String = names
        .iter()
        .map(|name| {
            format!(
                "<Blob><Name>{name}</Name><Properties><Last-Modified>Fri, 02 Jan 2026 00:00:00 GMT</Last-Modified>\
                 <Etag>0x8D</Etag><Content-Length>{}</Content-Length><Content-Type>application/json</Content-Type>\
                 <BlobType>BlockBlob</BlobType></Properties></Blob>",
                BODY.len()
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ContainerName=\"forwarded\">\
         <Blobs>{blobs}</Blobs><NextMarker /></EnumerationResults>"
    )
}

fn settings(server: &MockServer) -> Vec<(String, String)> {
    let sas = format!(
        "sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00%3A00%3A00Z&sig={}",
        SIGNATURE.replace('=', "%3D")
    );
    [
        ("AZURE_STORAGE_ACCOUNT_NAME", "account".to_owned()),
        ("AZURE_STORAGE_SAS_KEY", sas),
        ("AZURE_STORAGE_ENDPOINT", server.uri()),
        ("AZURE_ALLOW_HTTP", "true".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// Checks that `objects` holds, on 2 January 2026, the one message [`BODY`] under the
/// key `2026/01/02/1000.json`.
async fn assert_reads_the_one_message(objects: &ForwardedObjects) {
    let read: Vec<_> = objects
        .messages(date(2026, 1, 2), date(2026, 1, 2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].message.hash_id(), "m1");
    assert_eq!(read[0].key.to_string(), "2026/01/02/1000.json");
}

/// Serves the listing of `container_path` under `prefix`, holding the one object `name`,
/// to a request that carries the SAS.
async fn serve_listing_once(server: &MockServer, container_path: &str, prefix: &str, name: &str) {
    Mock::given(method("GET"))
        .and(path(container_path))
        .and(query_param("restype", "container"))
        .and(query_param("comp", "list"))
        .and(query_param("prefix", prefix))
        .and(query_param("sig", SIGNATURE))
        .respond_with(ResponseTemplate::new(200).set_body_raw(listing(&[name]), "application/xml"))
        .expect(1)
        .mount(server)
        .await;
}

/// Serves the one forwarded object at `object_path`, to a request that carries the SAS.
async fn serve_object_once(server: &MockServer, object_path: &str) {
    Mock::given(method("GET"))
        .and(path(object_path))
        .and(query_param("sig", SIGNATURE))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "0x8D")
                .insert_header("last-modified", "Fri, 02 Jan 2026 00:00:00 GMT")
                .set_body_raw(BODY, "application/json"),
        )
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn objects_are_listed_and_read_with_the_sas_in_each_query() {
    let server = MockServer::start().await;
    serve_listing_once(&server, "/forwarded", "2026/01/02/", "2026/01/02/1000.json").await;
    serve_object_once(&server, "/forwarded/2026/01/02/1000.json").await;

    let objects = ForwardedObjects::from_url_with("az://forwarded", settings(&server)).unwrap();
    assert_reads_the_one_message(&objects).await;
}

#[tokio::test]
async fn a_refused_sas_is_an_error_that_does_not_show_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_raw(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Error><Code>AuthenticationFailed</Code></Error>",
            "application/xml",
        ))
        .mount(&server)
        .await;
    let objects = ForwardedObjects::from_url_with("az://forwarded", settings(&server)).unwrap();
    let err = objects
        .keys(date(2026, 1, 2), date(2026, 1, 2))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Store(_)), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("AuthenticationFailed"), "{shown}");
    for secret in [SIGNATURE, "c2VjcmV0LXNpZ25hdHVyZQ%3D%3D", "sig="] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[tokio::test]
async fn a_container_url_with_the_account_in_its_path_is_read_with_its_sas() {
    let server = MockServer::start().await;
    serve_listing_once(
        &server,
        "/account/forwarded",
        "site/2026/01/02/",
        "site/2026/01/02/1000.json",
    )
    .await;
    serve_object_once(&server, "/account/forwarded/site/2026/01/02/1000.json").await;
    let url = format!(
        "{}/account/forwarded/site?sv=2022-11-02&sp=rl&sig={}",
        server.uri(),
        SIGNATURE.replace('=', "%3D")
    );
    // No settings at all: the URL says everything.
    let objects = ForwardedObjects::from_url_with(&url, []).unwrap();
    assert_reads_the_one_message(&objects).await;
}

#[tokio::test]
async fn a_container_url_without_a_query_takes_its_sas_from_the_variable() {
    let server = MockServer::start().await;
    serve_listing_once(
        &server,
        "/account/forwarded",
        "site/2026/01/02/",
        "site/2026/01/02/1000.json",
    )
    .await;
    serve_object_once(&server, "/account/forwarded/site/2026/01/02/1000.json").await;
    let url = format!("{}/account/forwarded/site", server.uri());
    let sas = format!("?sv=2022-11-02&sp=rl&sig={}", SIGNATURE.replace('=', "%3D"));
    let objects =
        ForwardedObjects::from_url_with(&url, [("AZURE_STORAGE_SAS_TOKEN".to_owned(), sas)]).unwrap();
    assert!(!format!("{objects:?}").contains(SIGNATURE));
    assert_reads_the_one_message(&objects).await;

    let err = ForwardedObjects::from_url_with(&url, []).unwrap_err();
    assert!(err.to_string().contains("AZURE_STORAGE_SAS_TOKEN"), "{err}");
}

#[test]
fn debug_and_errors_never_show_the_sas() {
    let encoded = SIGNATURE.replace('=', "%3D");
    let url = format!("https://acct.blob.core.windows.net/forwarded?sv=2022-11-02&sig={encoded}");
    let objects = ForwardedObjects::from_url_with(&url, []).unwrap();
    let shown = format!("{objects:?}");
    assert!(shown.contains("acct") && shown.contains("forwarded"), "{shown}");
    for secret in [SIGNATURE, encoded.as_str(), "c2VjcmV0"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    // A URL that does not parse is not echoed either.
    let err =
        ForwardedObjects::from_url_with(&format!("https://[acct/forwarded?sig={encoded}"), []).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("c2VjcmV0"), "{err:?}");
}
