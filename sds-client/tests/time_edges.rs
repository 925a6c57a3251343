//! Ranges at the ends of time: every request with a range reaching `Timestamp::MIN` or
//! `Timestamp::MAX` is shown and sent, never a panic (the queries start one millisecond
//! before `from`, which does not exist before `Timestamp::MIN`).

use futures::TryStreamExt;
use jiff::Timestamp;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod common;

use common::{client_of, wire_client};

const MIN: &str = "-009999-01-02T01:59:59Z";
const MAX: &str = "9999-12-30T22:00:00.999Z";

/// Whether `query` holds `name=value`.
fn has(query: &[(String, String)], name: &str, value: &str) -> bool {
    query.contains(&(name.to_owned(), value.to_owned()))
}

#[test]
fn a_range_from_the_start_of_time_asks_from_there() {
    let client = client_of("https://api.example.com/sensor-data");
    let observations = client
        .observations("tw", "s")
        .metric("T")
        .unit("C")
        .range(Timestamp::MIN, Timestamp::MAX)
        .to_request()
        .unwrap();
    assert!(has(&observations.query, "startDate", MIN), "{observations}");
    assert!(has(&observations.query, "endDate", MAX), "{observations}");

    let data = client
        .query_data("s")
        .range(Timestamp::MIN, Timestamp::MAX)
        .to_request()
        .unwrap();
    assert_eq!(
        data.json_body(),
        Some(json!({"sensorId": "s", "startDate": MIN, "endDate": MAX}))
    );

    let removal = client
        .remove_data("s")
        .range(Timestamp::MIN, Timestamp::MAX)
        .timestamps([Timestamp::MIN, Timestamp::MAX])
        .to_request()
        .unwrap();
    assert_eq!(
        removal.json_body(),
        Some(json!({
            "sensorId": "s",
            "startDate": MIN,
            "endDate": MAX,
            "timestamps": [MIN, MAX],
        }))
    );
}

#[tokio::test]
async fn reads_over_all_of_time_are_sent_and_trimmed() {
    let server = MockServer::start().await;
    // One observation on page 0, the first page shorter than asked for: page 1 (empty)
    // confirms that the server did not cap it.
    Mock::given(method("GET"))
        .and(path("/sensor-data/observations"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"pageTotal": 1, "observations": []})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/sensor-data/observations"))
        .and(query_param("page", "0"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"pageTotal": 1, "observations": [{"timestamp": 0, "value": 1.0}]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sensor-data/data/observations"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"1970-01-01T00:00:00Z": {"T": 1.0}}})),
        )
        .mount(&server)
        .await;
    let client = wire_client(&server);
    let observations: Vec<_> = client
        .observations("tw", "s")
        .metric("T")
        .unit("C")
        .range(Timestamp::MIN, Timestamp::MAX)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(observations.len(), 1);
    let points: Vec<_> = client
        .query_data("s")
        .range(Timestamp::MIN, Timestamp::MAX)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].timestamp, Timestamp::UNIX_EPOCH);
    client
        .remove_data("s")
        .range(Timestamp::MIN, Timestamp::MAX)
        .send()
        .await
        .unwrap_err(); // no mock: a 404, not a panic
}
