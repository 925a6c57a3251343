//! The document's examples field by field, round trips, and bad input.

use forward_types::{Action, Decimal, DecodeError, ForwardMessage, ObjectKind, decode_body};
use jiff::Timestamp;
use serde_json::{Value, json};

const MEASUREMENT: &str = include_str!("fixtures/measurement.json");
const NOTIFICATION: &str = include_str!("fixtures/notification.json");

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn decode_value(value: &Value) -> Result<Vec<ForwardMessage>, DecodeError> {
    decode_body(value.to_string().as_bytes())
}

#[test]
fn measurement_example_field_by_field() {
    let messages = decode_body(MEASUREMENT.as_bytes()).unwrap();
    assert_eq!(messages.len(), 1);
    let ForwardMessage::Measurement(report) = &messages[0] else {
        panic!("expected a measurement message")
    };
    assert_eq!(report.hash_id, "qoa978");
    assert_eq!(report.environment_hash_id, "f1a4w1");
    assert_eq!(
        report.connectivity_environment_report_type_hash_id.as_deref(),
        Some("y124as")
    );
    assert_eq!(
        report.monitoring_environment_report_type_hash_id.as_deref(),
        Some("l19a7s")
    );
    assert_eq!(report.device_hash_id.as_deref(), Some("j1iha9"));
    assert_eq!(report.device_identifier.as_deref(), Some("device-serial-12345"));
    assert_eq!(
        Value::Object(report.device_fields.clone()),
        json!({"brand": "ExampleBrand", "model": "X100"})
    );
    assert_eq!(
        Value::Object(report.fields.clone()),
        json!({"firmware": "v2.1.0"})
    );
    assert_eq!(report.location_hash_id.as_deref(), Some("dao97"));
    assert_eq!(
        Value::Object(report.location_fields.clone()),
        json!({"site": "Amsterdam-North"})
    );
    assert_eq!(report.user_hash_id, None);
    assert_eq!(report.generated_at, ts("2023-01-01T00:00:00Z"));
    assert_eq!(report.created_at, ts("2023-01-01T00:00:01Z"));
    assert_eq!(report.attempt, 0);

    assert_eq!(report.observations.len(), 2);
    let power = &report.observations[0];
    assert_eq!(
        power.connectivity_environment_quantity_hash_id.as_deref(),
        Some("sajia1")
    );
    assert_eq!(
        power.monitoring_environment_quantity_hash_id.as_deref(),
        Some("sajia1")
    );
    assert_eq!(power.port_hash_id.as_deref(), Some("e13d57"));
    assert_eq!(power.channel_index, Some(0));
    assert_eq!((power.significand, power.order_of_magnitude), (7827, 3));
    assert_eq!(power.value(), Decimal::new(7_827_000, 0));
    assert_eq!(power.value().to_string(), "7827000");
    assert_eq!(power.formatted_value, "7,827,000");
    assert_eq!(power.unit.as_deref(), Some("W"));
    assert_eq!(power.generated_at, ts("2023-01-01T00:00:00Z"));
    assert_eq!(power.performance_f64(), 1.0);
    assert!(power.is_measured());

    let voltage = &report.observations[1];
    assert_eq!(voltage.channel_index, Some(1));
    // The document's inconsistent example: by the definition this is 23041, whatever
    // formattedValue says.
    assert_eq!(voltage.value().to_string(), "23041");
    assert_eq!(voltage.formatted_value, "230.41");
    assert_eq!(voltage.unit.as_deref(), Some("V"));
}

#[test]
fn notification_example_field_by_field() {
    let messages = decode_body(NOTIFICATION.as_bytes()).unwrap();
    let ForwardMessage::Notification(batch) = &messages[0] else {
        panic!("expected a notification message")
    };
    assert_eq!(batch.hash_id, "qoa978");
    assert_eq!(batch.environment_hash_id, "f1a4w1");
    assert_eq!(batch.generated_at, ts("2023-01-01T00:00:00Z"));
    assert_eq!(batch.attempt, 0);
    assert_eq!(batch.observations.len(), 2);

    let device = &batch.observations[0];
    assert_eq!(device.hash_id, "dfa1p");
    assert_eq!(device.object, ObjectKind::Device);
    assert_eq!(device.action, Action::Add);
    assert_eq!(
        device.device.as_ref().and_then(|d| d.identifier.as_deref()),
        Some("device-serial-12345")
    );
    assert!(device.quantity.is_none());
    assert_eq!(device.created_at, ts("2023-01-01T00:00:00Z"));
    assert_eq!(device.updated_at, ts("2023-01-01T00:00:00Z"));
    assert_eq!(device.deleted_at, None);

    let quantity = &batch.observations[1];
    assert_eq!(quantity.object, ObjectKind::Quantity);
    assert_eq!(quantity.action, Action::Update);
    assert!(quantity.device.is_none());
    let names = &quantity.quantity.as_ref().unwrap().name;
    assert_eq!(names["en"], "Active Power");
    assert_eq!(names["nl"], "Actief vermogen");
    assert_eq!(quantity.updated_at, ts("2023-01-02T12:00:00Z"));
}

#[test]
fn both_examples_round_trip() {
    for example in [MEASUREMENT, NOTIFICATION] {
        let input: Value = serde_json::from_str(example).unwrap();
        let messages = decode_body(example.as_bytes()).unwrap();
        assert_eq!(serde_json::to_value(&messages).unwrap(), input);
    }
}

#[test]
fn mixed_bodies_are_told_apart() {
    let measurement: Value = serde_json::from_str(MEASUREMENT).unwrap();
    let notification: Value = serde_json::from_str(NOTIFICATION).unwrap();
    let body = json!([notification[0], measurement[0], notification[0]]);
    let kinds: Vec<&str> = decode_value(&body)
        .unwrap()
        .iter()
        .map(|m| match m {
            ForwardMessage::Measurement(_) => "m",
            ForwardMessage::Notification(_) => "n",
        })
        .collect();
    assert_eq!(kinds, ["n", "m", "n"]);

    // Without observations, the measurement-only fields decide.
    let mut empty_measurement = measurement[0].clone();
    empty_measurement["observations"] = json!([]);
    let mut empty_notification = notification[0].clone();
    empty_notification["observations"] = json!([]);
    let decoded = decode_value(&json!([empty_measurement, empty_notification])).unwrap();
    assert!(matches!(decoded[0], ForwardMessage::Measurement(_)));
    assert!(matches!(decoded[1], ForwardMessage::Notification(_)));
}

#[test]
fn values_with_signs_and_magnitudes() {
    let mut body: Value = serde_json::from_str(MEASUREMENT).unwrap();
    let cases = [
        (-7827, 3, "-7827000"),
        (-12, -4, "-0.0012"),
        (5, 127, ""),
        (0, 0, "0"),
        (1, -128, ""),
    ];
    for (significand, order, text) in cases {
        body[0]["observations"][0]["significand"] = json!(significand);
        body[0]["observations"][0]["orderOfMagnitude"] = json!(order);
        let messages = decode_value(&body).unwrap();
        let ForwardMessage::Measurement(report) = &messages[0] else {
            unreachable!()
        };
        let value = report.observations[0].value();
        assert_eq!(value, Decimal::new(significand, order));
        if !text.is_empty() {
            assert_eq!(value.to_string(), text);
        }
    }
    let large = Decimal::new(5, 127).to_string();
    assert_eq!(large.len(), 128);
    assert!(large.starts_with('5') && large[1..].bytes().all(|b| b == b'0'));
}

#[test]
fn order_of_magnitude_outside_the_vendor_range_does_not_decode() {
    let mut body: Value = serde_json::from_str(MEASUREMENT).unwrap();
    for order in [128_i64, -129, i64::from(i32::MAX), i64::from(i32::MIN), i64::MAX] {
        body[0]["observations"][1]["orderOfMagnitude"] = json!(order);
        let err = decode_value(&body).unwrap_err();
        assert_eq!(err.path(), "[0].observations[1].orderOfMagnitude", "{order}");
        assert!(err.message().contains("-128..=127"), "{order}: {err}");
    }
}

#[test]
fn unknown_object_and_action_are_kept() {
    let mut body: Value = serde_json::from_str(NOTIFICATION).unwrap();
    body[0]["observations"][0]["object"] = json!("location");
    body[0]["observations"][0]["action"] = json!("archive");
    let messages = decode_value(&body).unwrap();
    let ForwardMessage::Notification(batch) = &messages[0] else {
        unreachable!()
    };
    assert_eq!(
        batch.observations[0].object,
        ObjectKind::Unknown("location".into())
    );
    assert_eq!(batch.observations[0].action, Action::Unknown("archive".into()));
    assert_eq!(
        serde_json::to_value(&messages).unwrap(),
        body,
        "unknown values serialise as sent"
    );
}

#[test]
fn null_and_missing_optional_fields() {
    let mut body: Value = serde_json::from_str(MEASUREMENT).unwrap();
    let report = body[0].as_object_mut().unwrap();
    for field in [
        "connectivityEnvironmentReportTypeHashId",
        "deviceHashId",
        "deviceIdentifier",
        "locationHashId",
    ] {
        report.insert(field.into(), Value::Null);
    }
    report.remove("userHashId");
    report.remove("deviceFields");
    let observation = report["observations"][0].as_object_mut().unwrap();
    for field in [
        "monitoringEnvironmentQuantityHashId",
        "portHashId",
        "channelIndex",
        "unit",
    ] {
        observation.insert(field.into(), Value::Null);
    }
    let messages = decode_value(&body).unwrap();
    let ForwardMessage::Measurement(report) = &messages[0] else {
        unreachable!()
    };
    assert_eq!(report.device_identifier, None);
    assert_eq!(report.user_hash_id, None);
    assert!(report.device_fields.is_empty());
    let observation = &report.observations[0];
    assert_eq!(
        observation.quantity_hash_id(),
        Some("sajia1"),
        "falls back to the connectivity id"
    );
    assert_eq!(
        (
            observation.port_hash_id.as_deref(),
            observation.channel_index,
            observation.unit.as_deref()
        ),
        (None, None, None)
    );

    let mut body: Value = serde_json::from_str(NOTIFICATION).unwrap();
    body[0]["observations"][0]["deletedAt"] = json!("2023-02-01T00:00:00.000Z");
    body[0]["observations"][0]["device"]["identifier"] = Value::Null;
    let messages = decode_value(&body).unwrap();
    let ForwardMessage::Notification(batch) = &messages[0] else {
        unreachable!()
    };
    assert_eq!(batch.observations[0].deleted_at, Some(ts("2023-02-01T00:00:00Z")));
    assert_eq!(batch.observations[0].device.as_ref().unwrap().identifier, None);
}

#[test]
fn added_unknown_fields_are_accepted() {
    let mut body: Value = serde_json::from_str(MEASUREMENT).unwrap();
    body[0]["newTopLevel"] = json!({"x": 1});
    body[0]["observations"][1]["quality"] = json!("good");
    let messages = decode_value(&body).unwrap();
    assert_eq!(messages.len(), 1);
}

#[test]
fn wrong_types_name_the_field_path() {
    let mut body: Value = serde_json::from_str(MEASUREMENT).unwrap();
    body[0]["observations"][1]["significand"] = json!("23041");
    let err = decode_value(&body).unwrap_err();
    assert_eq!(err.path(), "[0].observations[1].significand");
    assert!(
        err.to_string().contains("[0].observations[1].significand"),
        "{err}"
    );

    let mut body: Value = serde_json::from_str(NOTIFICATION).unwrap();
    body[0]["observations"][1]["updatedAt"] = json!("yesterday");
    let err = decode_value(&json!([
        serde_json::from_str::<Value>(MEASUREMENT).unwrap()[0],
        body[0]
    ]))
    .unwrap_err();
    assert_eq!(err.path(), "[1].observations[1].updatedAt");

    let mut body: Value = serde_json::from_str(MEASUREMENT).unwrap();
    body[0].as_object_mut().unwrap().remove("hashId");
    let err = decode_value(&body).unwrap_err();
    assert_eq!(err.path(), "[0]");
    assert!(err.message().contains("hashId"), "{err}");
}

#[test]
fn a_body_that_is_not_an_array() {
    for body in [&b"{\"hashId\":\"x\"}"[..], b"null", b"", b"[{]", b"[1]"] {
        let err = decode_body(body).unwrap_err();
        assert!(err.path() == "." || err.path() == "[0]", "{err}");
    }
    let err = decode_body(b"{}").unwrap_err();
    assert!(err.message().contains("expected a JSON array"), "{err}");
}

#[test]
fn a_byte_order_mark_before_the_body_is_skipped() {
    let plain = decode_body(MEASUREMENT.as_bytes()).unwrap();
    let marked = [b"\xEF\xBB\xBF".as_slice(), MEASUREMENT.as_bytes()].concat();
    assert_eq!(decode_body(&marked).unwrap(), plain);
    // Only at the start.
    assert!(decode_body(b" \xEF\xBB\xBF[]").is_err());
}
