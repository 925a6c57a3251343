//! Ranges at the ends of time: the export's overlap and a values request's window never
//! overflow; they are clamped to the end of time or refused as `InvalidRequest`.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use preventos_client::{BearerToken, Catalog, Client, Error, Export, SecretString};
use serde_json::json;

fn client() -> Client {
    Client::builder()
        .base_url("https://data.example.com/api/")
        .credential(
            BearerToken::builder()
                .token(SecretString::from("t"))
                .build()
                .unwrap(),
        )
        .subscription_key(SecretString::from("k"))
        .build()
        .unwrap()
}

fn catalog() -> Catalog {
    serde_json::from_value(json!({
        "environments": [{"id": "100", "sites": [{"id": "site-ref", "signals": [
            {"id": "Velocity", "baseInterval": "PT1M"}
        ]}]}]
    }))
    .unwrap()
}

/// The export of `[from, to)` planned from the catalog.
fn export(from: Timestamp, to: Timestamp) -> Export {
    client()
        .export("100", "site-ref", ["Velocity"])
        .range(from, to)
        .catalog(&catalog())
}

/// The `from` and `to` its first request sends.
fn first_request_range(export: &Export) -> (String, String) {
    let request = export.to_request().unwrap();
    let value = |name| request.query_value(name).unwrap().to_owned();
    (value("from"), value("to"))
}

#[test]
fn an_export_up_to_the_end_of_time_clamps_its_overlap() {
    let day = SignedDuration::from_hours(24);
    let second = SignedDuration::from_secs(1);
    let last_day = export(Timestamp::MAX - day, Timestamp::MAX);
    assert_eq!(
        first_request_range(&last_day),
        (
            (Timestamp::MAX - day - second).to_string(),
            Timestamp::MAX.to_string()
        )
    );
    let first_day = export(Timestamp::MIN, Timestamp::MIN + day);
    assert_eq!(
        first_request_range(&first_day),
        (
            Timestamp::MIN.to_string(),
            (Timestamp::MIN + day + second).to_string()
        )
    );
}

#[test]
fn an_export_of_all_time_plans_without_overflow() {
    let all = export(Timestamp::MIN, Timestamp::MAX);
    let windows = all.plan(&catalog()).unwrap();
    assert_eq!(windows.first().map(|w| w.0), Some(Timestamp::MIN));
    assert_eq!(windows.last().map(|w| w.1), Some(Timestamp::MAX));
    assert_eq!(first_request_range(&all).0, Timestamp::MIN.to_string());
}

#[test]
fn the_last_day_of_the_calendar_is_refused_not_a_panic() {
    let err = client()
        .export("100", "site-ref", ["Velocity"])
        .date(Date::MAX)
        .to_request()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    let err = client()
        .site_values("100", "site-ref", ["Velocity"])
        .date(Date::MAX)
        .time_zone("Pacific/Kiritimati")
        .to_request()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
}

#[test]
fn a_values_request_over_all_time_is_sent_as_asked() {
    let request = client()
        .site_values("100", "site-ref", ["Velocity"])
        .range(Timestamp::MIN, Timestamp::MAX)
        .to_request()
        .unwrap();
    assert_eq!(
        request.query_value("to"),
        Some(Timestamp::MAX.to_string().as_str())
    );
    let values = client()
        .site_values("100", "site-ref", ["Velocity"])
        .range(Timestamp::MIN, Timestamp::MAX);
    assert_eq!(values.window().unwrap(), Some((Timestamp::MIN, Timestamp::MAX)));
}
