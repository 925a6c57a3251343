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

#[tokio::test]
async fn objects_are_listed_and_read_with_the_sas_in_each_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/forwarded"))
        .and(query_param("restype", "container"))
        .and(query_param("comp", "list"))
        .and(query_param("prefix", "2026/01/02/"))
        .and(query_param("sig", SIGNATURE))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(listing(&["2026/01/02/1000.json"]), "application/xml"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/forwarded/2026/01/02/1000.json"))
        .and(query_param("sig", SIGNATURE))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "0x8D")
                .insert_header("last-modified", "Fri, 02 Jan 2026 00:00:00 GMT")
                .set_body_raw(BODY, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let objects = ForwardedObjects::from_url_with("az://forwarded", settings(&server)).unwrap();
    let read: Vec<_> = objects
        .messages(date(2026, 1, 2), date(2026, 1, 2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].message.hash_id(), "m1");
    assert_eq!(read[0].key.to_string(), "2026/01/02/1000.json");
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
    Mock::given(method("GET"))
        .and(path("/account/forwarded"))
        .and(query_param("comp", "list"))
        .and(query_param("prefix", "site/2026/01/02/"))
        .and(query_param("sig", SIGNATURE))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(listing(&["site/2026/01/02/1000.json"]), "application/xml"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/account/forwarded/site/2026/01/02/1000.json"))
        .and(query_param("sig", SIGNATURE))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "0x8D")
                .insert_header("last-modified", "Fri, 02 Jan 2026 00:00:00 GMT")
                .set_body_raw(BODY, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let url = format!(
        "{}/account/forwarded/site?sv=2022-11-02&sp=rl&sig={}",
        server.uri(),
        SIGNATURE.replace('=', "%3D")
    );
    // No settings at all: the URL says everything.
    let objects = ForwardedObjects::from_url_with(&url, []).unwrap();
    let read: Vec<_> = objects
        .messages(date(2026, 1, 2), date(2026, 1, 2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].key.to_string(), "2026/01/02/1000.json");
}
