use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, TimestampNanosecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{SchemaRef, TimeUnit};

use super::*;

/// A record of the tests: `{"t":"..","id":"..","v":..}` and more.
struct Text(&'static str);

struct TextBuilder {
    schema: SchemaRef,
    at: TimestampColumn,
    id: DictionaryColumn,
    value: NumberColumns,
    extra: TextColumn,
    rows: usize,
}

impl Columnar for Text {
    type Builder = TextBuilder;
    fn batch_builder() -> TextBuilder {
        let [v, v_text] = NumberColumns::fields("v", "v_text");
        TextBuilder {
            schema: schema(vec![
                TimestampColumn::field("t", TimeUnit::Nanosecond, false),
                DictionaryColumn::field("id", false),
                v,
                v_text,
                TextColumn::field("extra", true),
            ]),
            at: TimestampColumn::nanoseconds(),
            id: DictionaryColumn::new(),
            value: NumberColumns::new(),
            extra: TextColumn::new(),
            rows: 0,
        }
    }
}

impl BatchBuilder<Text> for TextBuilder {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn append(&mut self, record: &Text) -> Result<()> {
        let mut object = JsonObject::parse(record.0)?;
        let at: jiff::Timestamp = object
            .take_str("t")?
            .ok_or_else(|| Error::decode("no t"))?
            .parse()
            .map_err(|e| Error::decode(format!("{e}")))?;
        let at = self.at.value_of(at)?;
        let id = object.take_str("id")?;
        let value = NumberCell::of_json(object.take("v"));
        self.at.append_value(Some(at));
        self.id.append(id.as_deref())?;
        self.value.append(&value);
        self.extra.append(object.rest().as_deref())?;
        self.rows += 1;
        Ok(())
    }
    fn rows(&self) -> usize {
        self.rows
    }
    fn finish(&mut self) -> Result<RecordBatch> {
        self.rows = 0;
        let [v, v_text] = self.value.finish();
        record_batch(
            self.schema.clone(),
            vec![self.at.finish(), self.id.finish(), v, v_text, self.extra.finish()],
        )
    }
}

const RECORDS: [&str; 5] = [
    r#"{"t":"2026-01-01T00:00:00.123456789+02:00","id":"a","v":0.1}"#,
    r#"{"t":"2026-01-01T00:00:01Z","v":0.1000000000000000055511151231257827,"id":"b","q":{"x": 1.50}}"#,
    r#"{"t":"2026-01-01T00:00:02Z","id":"a","v":1e400}"#,
    r#"{"t":"2026-01-01T00:00:03Z","id":"a","v":"NaN","e\"x":[1]}"#,
    r#"{"t":"2026-01-01T00:00:04Z","id":"b","v":null}"#,
];

#[test]
fn records_become_batches_of_at_most_the_size_asked() {
    let all: Vec<RecordBatch> = batches(RECORDS.map(|r| Ok::<_, Error>(Text(r))), 2)
        .collect::<Result<_>>()
        .unwrap();
    assert_eq!(
        all.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(),
        [2, 2, 1]
    );
    let first = &all[0];
    let t = first.column(0).as_primitive::<TimestampNanosecondType>();
    assert_eq!(t.timezone(), Some("UTC"));
    assert_eq!(t.value(0), 1_767_218_400_123_456_789);
    let id = first.column(1).as_dictionary::<Int32Type>();
    assert_eq!(
        id.values().as_string::<i32>().value(id.keys().value(1) as usize),
        "b"
    );
    let v = first.column(2).as_primitive::<Float64Type>();
    assert_eq!((v.value(0), v.value(1)), (0.1, 0.1));
    let text = first.column(3).as_string::<i32>();
    assert!(text.is_null(0));
    assert_eq!(text.value(1), "0.1000000000000000055511151231257827");
    let extra = first.column(4).as_string::<i32>();
    assert!(extra.is_null(0));
    assert_eq!(extra.value(1), r#"{"q":{"x": 1.50}}"#);
    let second = &all[1];
    let v = second.column(2).as_primitive::<Float64Type>();
    assert!(v.value(0).is_infinite() && v.value(1).is_nan());
    let text = second.column(3).as_string::<i32>();
    assert_eq!((text.value(0), text.value(1)), ("1e400", "\"NaN\""));
    assert_eq!(second.column(4).as_string::<i32>().value(1), r#"{"e\"x":[1]}"#);
    let last = &all[2];
    assert!(last.column(2).is_null(0) && last.column(3).is_null(0));
}

#[test]
fn an_error_ends_the_batches() {
    let records = [
        Ok(Text(RECORDS[0])),
        Ok(Text(r#"{"t":"2300-01-01T00:00:00Z"}"#)),
        Ok(Text(RECORDS[1])),
    ];
    let out: Vec<Result<RecordBatch>> = batches(records, 10).collect();
    assert_eq!(out.len(), 1);
    assert!(
        out[0].as_ref().unwrap_err().to_string().contains("range"),
        "{:?}",
        out[0]
    );
    let duplicate = [Ok::<_, Error>(Text(
        r#"{"t":"2026-01-01T00:00:00Z","id":"a","id":"b"}"#,
    ))];
    assert!(batches(duplicate, 10).next().unwrap().is_err());
}

#[tokio::test]
async fn a_stream_of_records_becomes_a_stream_of_batches() {
    use futures::TryStreamExt;
    let records = futures::stream::iter(RECORDS.map(|r| Ok::<_, Error>(Text(r))));
    let sizes: Vec<usize> = batch_stream(records, 3)
        .map_ok(|b| b.num_rows())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sizes, [3, 2]);
}

#[test]
fn text_cells_follow_the_rule() {
    use crate::decode::DecimalSeparator::{Comma, Point};
    assert_eq!(NumberCell::of_text("0,42", Comma), NumberCell::of_f64(Some(0.42)));
    assert_eq!(NumberCell::of_text("", Comma), NumberCell::NULL);
    let cell = NumberCell::of_text("9007199254740993", Point);
    assert_eq!(cell.text.as_deref(), Some("9007199254740993"));
    let cell = NumberCell::of_text("high", Point);
    assert_eq!((cell.value, cell.text.as_deref()), (None, Some("high")));
}

#[cfg(feature = "parquet")]
#[test]
fn batches_round_trip_through_parquet() {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let mut file = Vec::new();
    let rows = write_records_parquet(RECORDS.map(|r| Ok::<_, Error>(Text(r))), 2, &mut file).unwrap();
    assert_eq!(rows, 5);
    let written: Vec<RecordBatch> = batches(RECORDS.map(|r| Ok::<_, Error>(Text(r))), 5)
        .collect::<Result<_>>()
        .unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(file))
        .unwrap()
        .build()
        .unwrap();
    let read: Vec<RecordBatch> = reader.collect::<std::result::Result<_, _>>().unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].schema(), written[0].schema());
    // NaN is not equal to itself: compare the columns' data but for that value.
    for column in [0, 1, 3, 4] {
        assert_eq!(
            read[0].column(column).to_data(),
            written[0].column(column).to_data(),
            "column {column}"
        );
    }
    let v = read[0].column(2).as_primitive::<Float64Type>();
    assert_eq!(v.value(1), 0.1);
    assert!(v.value(3).is_nan());
}
