//! Reading forwarded objects from an S3-compatible server (wiremock) through the crate's
//! own HTTP connector: the requests `object_store` makes arrive signed, over the
//! workspace's `reqwest`, and plain HTTP only when the settings allow it.
#![cfg(feature = "store")]

use forward_types::{ForwardedObjects, StoreError};
use futures::TryStreamExt;
use jiff::civil::date;
use wiremock::matchers::{header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BODY: &str = r#"[{"hashId":"m1","environmentHashId":"env","observations":[],"generatedAt":"2026-01-02T00:00:00.000Z","attempt":0}]"#;

fn listing(keys: &[&str]) -> String {
    let contents: String = keys
        .iter()
        .map(|key| {
            format!(
                "<Contents><Key>{key}</Key><LastModified>2026-01-02T00:00:00.000Z</LastModified>\
                 <ETag>&quot;e1&quot;</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
                BODY.len()
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bucket</Name>\
         <KeyCount>{}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{contents}</ListBucketResult>",
        keys.len()
    )
}

fn settings(server: &MockServer, allow_http: bool) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT", server.uri()),
        ("AWS_ALLOW_HTTP", allow_http.to_string()),
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE".to_owned()),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
        ),
        // Not a store setting: ignored.
        ("HOME", "/nowhere".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

#[tokio::test]
async fn objects_are_listed_by_date_prefix_and_read_with_signed_requests() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/bucket"))
        .and(query_param("list-type", "2"))
        .and(query_param("prefix", "forwarded/2026/01/02/"))
        .and(header_exists("x-amz-date"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(listing(&["forwarded/2026/01/02/1000"]), "application/xml"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/bucket"))
        .and(query_param("list-type", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(listing(&[]), "application/xml"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/bucket/forwarded/2026/01/02/1000"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"e1\"")
                .insert_header("last-modified", "Fri, 02 Jan 2026 00:00:00 GMT")
                .set_body_raw(BODY, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let objects = ForwardedObjects::from_url_with("s3://bucket/forwarded", settings(&server, true)).unwrap();
    let read: Vec<_> = objects
        .messages(date(2026, 1, 1), date(2026, 1, 3))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].message.hash_id(), "m1");
    assert_eq!(read[0].key.timestamp(), "1000");

    let requests = server.received_requests().await.unwrap();
    // One listing per day (1, 2 and 3 January), then the one object.
    assert_eq!(requests.len(), 4, "{requests:?}");
    for request in &requests {
        let authorization = request.headers.get("authorization").unwrap().to_str().unwrap();
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
                && authorization.contains("/eu-west-1/s3/aws4_request"),
            "{authorization}"
        );
        assert!(request.headers.contains_key("x-amz-content-sha256"));
        let agent = request.headers.get("user-agent").unwrap().to_str().unwrap();
        assert!(agent.starts_with("client-core/"), "{agent}");
    }
}

#[tokio::test]
async fn plain_http_is_refused_unless_the_settings_allow_it() {
    let server = MockServer::start().await;
    let objects = ForwardedObjects::from_url_with("s3://bucket", settings(&server, false)).unwrap();
    let err = objects
        .keys(date(2026, 1, 2), date(2026, 1, 2))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Store(_)), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refusal_is_an_error_not_an_empty_listing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_raw(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>\n  <Message>no</Message></Error>",
            "application/xml",
        ))
        .mount(&server)
        .await;
    let objects = ForwardedObjects::from_url_with("s3://bucket", settings(&server, true)).unwrap();
    let err = objects
        .keys(date(2026, 1, 2), date(2026, 1, 2))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("SignatureDoesNotMatch"), "{text}");
    assert!(!text.contains('\n'), "one line: {text}");
    assert!(!text.contains("wJalrXUtnFEMI"), "{text}");
}
