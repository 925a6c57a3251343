//! Inputs for the differential tests of the SDK's fast JSON paths (see
//! `client_core::decode::FastJson`): a fixed corpus of the usual and the awkward, and a
//! proptest strategy that writes flat records of a given set of keys with every kind of
//! value, spacing, and now and then a cut or a stray byte.

use proptest::prelude::*;

/// The fixed corpus, one input per line: records of all four APIs, the usual shapes and
/// the ones only serde may answer (escapes, duplicates, out-of-range numbers, other
/// timestamp forms, malformed text). Also the fuzz target's seeds.
pub const CORPUS: &str = include_str!("corpus.ndjson");

/// The lines of [`CORPUS`].
pub fn corpus() -> impl Iterator<Item = &'static [u8]> {
    CORPUS.lines().map(str::as_bytes)
}

/// Keys that no record type knows, or almost knows.
const STRANGERS: [&str; 6] = ["quality", "extra", "Value", "value ", "", "é"];

/// What a known member usually holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A plain string.
    Text,
    /// An RFC 3339 timestamp string.
    Timestamp,
    /// A number, usually of a few digits.
    Number,
    /// An integer, usually of a few digits.
    Integer,
    /// Epoch milliseconds.
    EpochMs,
    /// A DT event type and its data come as `eventType` and `data`: the type's name.
    EventType,
    /// DT event data keyed by its type.
    EventData,
    /// `true` or `false`.
    Bool,
    /// An array of plain strings.
    Texts,
    /// An array of DT temperature samples (`{"value", "sampleTime"}` objects, each with
    /// members left out, repeated or unknown now and then).
    Samples,
}

/// JSON text of one object with the members `known` names, each mostly holding its
/// usual kind of value and sometimes any value, sometimes left out or repeated, in any
/// order, with unknown members among them; and now and then cut short or given a stray
/// byte.
pub fn objects(known: &'static [(&'static str, Kind)]) -> impl Strategy<Value = String> {
    let members: Vec<BoxedStrategy<Vec<(String, String)>>> = known
        .iter()
        .map(|&(key, kind)| {
            let value = prop_oneof![4 => usual(kind), 1 => value()];
            // Usually once, sometimes left out, now and then twice.
            let times = prop_oneof![12 => Just(1usize), 2 => Just(0usize), 1 => Just(2usize)];
            (times, value.clone(), value)
                .prop_map(move |(times, first, second)| {
                    [first, second]
                        .into_iter()
                        .take(times)
                        .map(|v| (key.to_owned(), v))
                        .collect()
                })
                .boxed()
        })
        .collect();
    let strangers = proptest::collection::vec(
        (
            proptest::sample::select(&STRANGERS[..]).prop_map(str::to_owned),
            value(),
        ),
        0..3,
    );
    let spacings = proptest::collection::vec(spacing(), 16);
    (members, strangers, spacings, damage())
        .prop_flat_map(|(members, strangers, spacings, damage)| {
            let all: Vec<(String, String)> = members.into_iter().flatten().chain(strangers).collect();
            (Just(all).prop_shuffle(), Just(spacings), Just(damage))
        })
        .prop_map(|(members, spacings, damage)| {
            let space = |i: usize| spacings[i % spacings.len()].as_str();
            let mut text = format!("{}{{", space(15));
            for (index, (key, value)) in members.iter().enumerate() {
                if index > 0 {
                    text.push(',');
                }
                text.push_str(&format!(
                    "{}\"{key}\"{}:{}{value}{}",
                    space(index),
                    space(index + 1),
                    space(index + 2),
                    space(index + 3)
                ));
            }
            text.push_str(space(14));
            text.push('}');
            damage.apply(text)
        })
}

/// The usual value of a member of `kind` (now and then any value), as JSON text.
pub fn member_value(kind: Kind) -> impl Strategy<Value = String> {
    prop_oneof![4 => usual(kind), 1 => value()]
}

/// The usual value of a member of `kind`.
fn usual(kind: Kind) -> BoxedStrategy<String> {
    match kind {
        Kind::Text => "[A-Za-z0-9/._-]{1,24}".prop_map(|s| format!("\"{s}\"")).boxed(),
        Kind::Timestamp => prop_oneof![3 => valid_timestamp(), 1 => timestamp()]
            .prop_map(|t| format!("\"{t}\""))
            .boxed(),
        Kind::Number => prop_oneof![3 => "-?(0|[1-9][0-9]{0,5})(\\.[0-9]{1,6})?", 1 => number()].boxed(),
        Kind::Integer => prop_oneof![3 => "-?[1-9][0-9]{0,9}", 1 => number()].boxed(),
        Kind::EpochMs => (-1_000_000_000_000i64..4_102_444_800_000)
            .prop_map(|ms| ms.to_string())
            .boxed(),
        Kind::EventType => proptest::sample::select(&EVENT_TYPES[..])
            .prop_map(|t| format!("\"{t}\""))
            .boxed(),
        Kind::EventData => event_data().boxed(),
        Kind::Bool => any::<bool>().prop_map(|b| b.to_string()).boxed(),
        Kind::Texts => proptest::collection::vec(usual(Kind::Text), 0..4)
            .prop_map(|items| format!("[{}]", items.join(",")))
            .boxed(),
        Kind::Samples => proptest::collection::vec(undamaged(SAMPLE), 0..4)
            .prop_map(|items| format!("[{}]", items.join(",")))
            .boxed(),
    }
}

/// The members of a DT event envelope, for [`objects`].
pub const DT_EVENT: &[(&str, Kind)] = &[
    ("eventId", Kind::Text),
    ("targetName", Kind::Text),
    ("eventType", Kind::EventType),
    ("data", Kind::EventData),
    ("timestamp", Kind::Timestamp),
];

/// The members of DT temperature data.
const TEMPERATURE: &[(&str, Kind)] = &[
    ("value", Kind::Number),
    ("updateTime", Kind::Timestamp),
    ("samples", Kind::Samples),
    ("isBackfilled", Kind::Bool),
];

/// The members of a DT temperature sample.
const SAMPLE: &[(&str, Kind)] = &[("value", Kind::Number), ("sampleTime", Kind::Timestamp)];

/// An object like [`objects`] writes, without spacing, cuts or stray bytes: what is
/// nested in a record (the record around it is spaced and damaged now and then).
fn undamaged(known: &'static [(&'static str, Kind)]) -> BoxedStrategy<String> {
    let member = |(key, kind): (&'static str, Kind)| {
        let times = prop_oneof![12 => Just(1usize), 2 => Just(0usize), 1 => Just(2usize)];
        // Odd values are numbers and strings only: `value()` holds event data, which holds
        // this.
        let odd = prop_oneof![4 => usual(kind), 1 => number(), 1 => string()];
        (times, usual(kind), odd).prop_map(move |(times, first, second)| {
            [first, second]
                .into_iter()
                .take(times)
                .map(|value| format!("\"{key}\":{value}"))
                .collect::<Vec<_>>()
        })
    };
    let members: Vec<_> = known.iter().map(|&known| member(known)).collect();
    let stranger = (
        proptest::sample::select(&STRANGERS[..]),
        prop_oneof![number(), string()],
    )
        .prop_map(|(key, value)| format!("\"{key}\":{value}"));
    (members, proptest::collection::vec(stranger, 0..2))
        .prop_flat_map(|(members, strangers)| {
            let all: Vec<String> = members.into_iter().flatten().chain(strangers).collect();
            Just(all).prop_shuffle()
        })
        .prop_map(|members| format!("{{{}}}", members.join(",")))
        .boxed()
}

/// DT event types the client types, one it does not know, and `labelsChanged`.
const EVENT_TYPES: [&str; 8] = [
    "temperature",
    "touch",
    "objectPresent",
    "networkStatus",
    "labelsChanged",
    "somethingNew",
    "humidity",
    "connectionStatus",
];

/// The data of DT's event types, keyed by the type (or not, as `labelsChanged`'s is).
fn event_data() -> impl Strategy<Value = String> {
    (
        prop_oneof![3 => Just("temperature"), 1 => proptest::sample::select(&EVENT_TYPES[..])],
        number(),
        timestamp(),
        prop_oneof![number(), string()],
        prop_oneof![2 => Just(None), 1 => undamaged(TEMPERATURE).prop_map(Some)],
    )
        .prop_map(|(kind, value, at, any, temperature)| match kind {
            "labelsChanged" => format!(r#"{{"added":{{"a":"b"}},"modified":{{}},"removed":["{at}"]}}"#),
            "touch" => format!(r#"{{"touch":{{"updateTime":"{at}"}}}}"#),
            "objectPresent" => format!(r#"{{"objectPresent":{{"state":"PRESENT","updateTime":"{at}"}}}}"#),
            "somethingNew" => format!(r#"{{"x":{any}}}"#),
            "humidity" => format!(
                r#"{{"humidity":{{"temperature":{value},"relativeHumidity":{value},"updateTime":"{at}","samples":[{{"temperature":{value},"relativeHumidity":{any},"sampleTime":"{at}"}}],"isBackfilled":true}}}}"#
            ),
            "connectionStatus" => format!(r#"{{"connectionStatus":{{"connection":"ETHERNET","available":["ETHERNET",{any}],"updateTime":"{at}"}}}}"#),
            "temperature" if temperature.is_some() => format!(r#"{{"temperature":{}}}"#, temperature.unwrap_or_default()),
            kind => format!(r#"{{"{kind}":{{"value":{value},"updateTime":"{at}"}}}}"#),
        })
}

/// Any JSON value a record member might hold, and some that are not JSON.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        3 => number(),
        3 => timestamp().prop_map(|t| format!("\"{t}\"")),
        1 => event_data(),
        2 => string(),
        1 => proptest::sample::select(&["null", "true", "false", "nul", "\"NaN\"", "\"Infinity\"", "\"-Infinity\""][..])
            .prop_map(str::to_owned),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(","))),
            proptest::collection::vec(("[a-z]{1,12}", inner), 0..4).prop_map(|members| {
                let members: Vec<String> = members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

/// Numbers as servers write them: integers, decimals, exponents, `-0`, too many digits,
/// out of range; and some that break JSON's grammar.
fn number() -> impl Strategy<Value = String> {
    let written = (
        any::<bool>(),
        "(0|[1-9][0-9]{0,20})",
        proptest::option::of("[0-9]{1,20}"),
        proptest::option::of(("[eE]", "[+-]?", "[0-9]{1,4}")),
    )
        .prop_map(|(negative, integer, fraction, exponent)| {
            let mut text = String::new();
            if negative {
                text.push('-');
            }
            text.push_str(&integer);
            if let Some(fraction) = fraction {
                text.push('.');
                text.push_str(&fraction);
            }
            if let Some((e, sign, digits)) = exponent {
                text.push_str(&format!("{e}{sign}{digits}"));
            }
            text
        });
    prop_oneof![
        4 => written,
        2 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| f.to_string()),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:e}")),
        2 => any::<i64>().prop_map(|n| n.to_string()),
        1 => (0i64..4_102_444_800_000).prop_map(|ms| ms.to_string()),
        1 => proptest::sample::select(&["-0", "-0.0", "01", "1.", ".5", "1e", "-", "+1", "0x1", "1e400", "9007199254740993"][..])
            .prop_map(str::to_owned),
    ]
}

/// Real instants of 1900 to 2200 in RFC 3339, with zero to nine fraction digits and `Z` or
/// an offset of up to 23:59.
fn valid_timestamp() -> impl Strategy<Value = String> {
    (
        -2_208_988_800i64..7_258_118_400,
        0u32..1_000_000_000,
        0usize..10,
        -1439i32..1440,
        any::<bool>(),
    )
        .prop_map(|(second, nanos, digits, offset_minutes, zulu)| {
            let offset_minutes = if zulu { 0 } else { offset_minutes };
            let local = jiff::Timestamp::from_second(second + i64::from(offset_minutes) * 60)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
                .to_zoned(jiff::tz::TimeZone::UTC);
            let fraction = match digits {
                0 => String::new(),
                digits => format!(".{}", &format!("{nanos:09}")[..digits]),
            };
            let offset = match (zulu, offset_minutes) {
                (true, _) => "Z".to_owned(),
                (false, minutes) => {
                    let sign = if minutes < 0 { '-' } else { '+' };
                    format!("{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60)
                }
            };
            format!("{}{fraction}{offset}", local.strftime("%Y-%m-%dT%H:%M:%S"))
        })
}

/// Timestamps of the RFC 3339 form and its near misses: impossible dates, leap seconds,
/// other separators and offsets, long fractions.
fn timestamp() -> impl Strategy<Value = String> {
    (
        (0u32..10_000, 0u32..14, 0u32..33),
        (0u32..25, 0u32..61, 0u32..62),
        proptest::option::of("[0-9]{1,11}"),
        proptest::sample::select(&["T", "T", "T", "t", " "][..]),
        prop_oneof![
            3 => Just("Z".to_owned()),
            3 => (any::<bool>(), 0u32..26, 0u32..61).prop_map(|(minus, h, m)| format!("{}{h:02}:{m:02}", if minus { '-' } else { '+' })),
            1 => proptest::sample::select(&["z", "-00:00", "+0300", "+03", "", "Z[UTC]", "+03:00:00"][..]).prop_map(str::to_owned),
        ],
    )
        .prop_map(|((year, month, day), (hour, minute, second), fraction, separator, offset)| {
            let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
            format!("{year:04}-{month:02}-{day:02}{separator}{hour:02}:{minute:02}:{second:02}{fraction}{offset}")
        })
}

/// Strings plain, escaped, non-ASCII, empty, and some numeric or lenient texts.
fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9 /._-]{0,16}".prop_map(|s| format!("\"{s}\"")),
        1 => "[0-9]{1,6}".prop_map(|s| format!("\"{s}\"")),
        1 => proptest::sample::select(&[r#""a\"b""#, r#""\u0041""#, r#""é€😀""#, r#""  7 ""#, "\"\t\"", r#""\x""#, r#""soon""#][..])
            .prop_map(str::to_owned),
    ]
}

/// JSON's four whitespace characters, or none.
fn spacing() -> impl Strategy<Value = String> {
    proptest::sample::select(&["", "", "", " ", "\n", "\t", " \r\n "][..]).prop_map(str::to_owned)
}

/// What may happen to a record's text on the way.
#[derive(Debug, Clone)]
enum Damage {
    None,
    Cut(usize),
    Stray(usize, u8),
}

impl Damage {
    fn apply(self, text: String) -> String {
        let mut bytes = text.into_bytes();
        match self {
            Damage::None => {}
            Damage::Cut(at) => bytes.truncate(at % (bytes.len() + 1)),
            Damage::Stray(at, byte) => {
                let at = at % (bytes.len() + 1);
                // Only ASCII, so that the text stays a `String`.
                bytes.insert(at, byte & 0x7f);
            }
        }
        String::from_utf8(bytes).unwrap_or_default()
    }
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        8 => Just(Damage::None),
        1 => any::<usize>().prop_map(Damage::Cut),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Damage::Stray(at, byte)),
    ]
}

/// Runs a differential `check` (such as `client_core::decode::fast_json::check_fast_path`)
/// on every line of [`CORPUS`], panicking on the first difference; returns how many lines
/// the fast path took.
pub fn on_corpus(check: impl Fn(&[u8]) -> Result<bool, String>) -> usize {
    corpus()
        .map(|line| usize::from(check(line).unwrap_or_else(|difference| panic!("{difference}"))))
        .sum()
}

/// Runs a differential `check` on `cases` texts of `inputs` (proptest shrinks a
/// difference to a small one before panicking with it); returns how many the fast path
/// took.
pub fn on_generated(
    inputs: impl Strategy<Value = String>,
    cases: u32,
    check: impl Fn(&[u8]) -> Result<bool, String>,
) -> u32 {
    let config = proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    };
    let taken = std::cell::Cell::new(0u32);
    proptest::test_runner::TestRunner::new(config)
        .run(&inputs, |text| {
            let fast = check(text.as_bytes()).map_err(proptest::test_runner::TestCaseError::fail)?;
            taken.set(taken.get() + u32::from(fast));
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
    taken.get()
}
