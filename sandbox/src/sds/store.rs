//! The Sensor Data simulator's data: values generated lazily for the built-in sensors,
//! uploads and removals kept as changes on top of them.

use std::collections::{BTreeMap, HashMap, HashSet};

/// A metric's unit and its conversion from the metric's base unit.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitSpec {
    /// The unit key.
    pub unit: String,
    /// Its display name.
    pub display_name: String,
    /// Its notation.
    pub notation: String,
    /// `value = base * scale + offset`.
    pub scale: f64,
    /// See `scale`.
    pub offset: f64,
}

/// A metric of the simulated sensors.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSpec {
    /// The metric key.
    pub metric: String,
    /// Its display name.
    pub display_name: String,
    /// Its default unit (the first of `units` has scale 1).
    pub default_unit: String,
    /// Its units.
    pub units: Vec<UnitSpec>,
}

fn unit(unit: &str, display_name: &str, notation: &str, scale: f64, offset: f64) -> UnitSpec {
    UnitSpec {
        unit: unit.into(),
        display_name: display_name.into(),
        notation: notation.into(),
        scale,
        offset,
    }
}

/// The document's two metrics: frequency (`Hz`, `digits`) and temperature (`C`, `F`, `K`).
pub fn standard_metrics() -> Vec<MetricSpec> {
    vec![
        MetricSpec {
            metric: "f".into(),
            display_name: "Frequency".into(),
            default_unit: "Hz".into(),
            units: vec![
                unit("Hz", "hertz", "Hz", 1.0, 0.0),
                unit("digits", "digits", "digits", 1000.0, 0.0),
            ],
        },
        MetricSpec {
            metric: "T".into(),
            display_name: "Temperature".into(),
            default_unit: "C".into(),
            units: vec![
                unit("C", "celsius", "°C", 1.0, 0.0),
                unit("F", "fahrenheit", "°F", 1.8, 32.0),
                unit("K", "kelvin", "°K", 1.0, 273.15),
            ],
        },
    ]
}

/// Changes made through the data API to one sensor.
#[derive(Debug, Default)]
struct Changes {
    uploaded: BTreeMap<i64, BTreeMap<String, f64>>,
    removed_ranges: Vec<(i64, i64)>,
    removed_points: HashSet<i64>,
}

impl Changes {
    fn removes(&self, at: i64) -> bool {
        self.removed_points.contains(&at)
            || self
                .removed_ranges
                .iter()
                .any(|(lo, hi)| (*lo..=*hi).contains(&at))
    }
}

/// Generated series and the changes on top of them.
#[derive(Debug)]
pub(crate) struct Store {
    interval_ms: i64,
    data_start_ms: i64,
    data_end_ms: i64,
    changes: HashMap<String, Changes>,
}

impl Store {
    pub(crate) fn new(interval_seconds: i64, data_start_ms: i64, data_end_ms: i64) -> Store {
        Store {
            interval_ms: interval_seconds.max(1) * 1000,
            data_start_ms,
            data_end_ms,
            changes: HashMap::new(),
        }
    }

    /// The first generated instant at or after `at`.
    fn first_at_or_after(&self, at: i64) -> i64 {
        let at = at.max(self.data_start_ms);
        let steps = (at - self.data_start_ms + self.interval_ms - 1).div_euclid(self.interval_ms);
        self.data_start_ms + steps * self.interval_ms
    }

    /// How many generated instants lie in `[low, high]`.
    fn generated_count(&self, low: i64, high: i64) -> u64 {
        let high = high.min(self.data_end_ms - 1);
        let first = self.first_at_or_after(low);
        if first > high {
            return 0;
        }
        ((high - first) / self.interval_ms + 1) as u64
    }

    /// Every row of `sensor` in `[low, high]` in time order: each instant with every
    /// metric's value in the base unit.
    pub(crate) fn rows<'a>(
        &'a self,
        sensor: &'a str,
        generated: Option<&'a [MetricSpec]>,
        low: i64,
        high: i64,
    ) -> Box<dyn Iterator<Item = (i64, BTreeMap<String, f64>)> + 'a> {
        self.rows_with(sensor, generated, low, high, true)
    }

    /// [`Store::rows`], with the removed generated rows kept when `apply_removals` is
    /// false (the places removed observations held).
    fn rows_with<'a>(
        &'a self,
        sensor: &'a str,
        generated: Option<&'a [MetricSpec]>,
        low: i64,
        high: i64,
        apply_removals: bool,
    ) -> Box<dyn Iterator<Item = (i64, BTreeMap<String, f64>)> + 'a> {
        let changes = self.changes.get(sensor).filter(|_| apply_removals);
        let uploads = self.changes.get(sensor);
        let generated_times = generated.into_iter().flat_map(move |metrics| {
            let first = self.first_at_or_after(low);
            let last = high.min(self.data_end_ms - 1);
            (0..)
                .map(move |step| first + step * self.interval_ms)
                .take_while(move |at| *at <= last)
                .map(move |at| {
                    let row = metrics
                        .iter()
                        .map(|m| (m.metric.clone(), base_value(sensor, &m.metric, at)))
                        .collect::<BTreeMap<_, _>>();
                    (at, row)
                })
        });
        let uploaded = uploads
            .into_iter()
            .flat_map(move |c| c.uploaded.range(low..=high).map(|(at, row)| (*at, row.clone())));
        let merged = merge(
            generated_times.filter(move |(at, _)| !changes.is_some_and(|c| c.removes(*at))),
            uploaded,
        );
        Box::new(merged)
    }

    /// The observations of one metric in `[low, high]`, from `offset` on, at most `count`
    /// of them, as `(epoch ms, base value)`; and how many there are in all. With
    /// `holes`, removed observations are counted and cut into pages, then dropped.
    pub(crate) fn page(
        &self,
        sensor: &str,
        generated: Option<&[MetricSpec]>,
        metric: &str,
        (low, high): (i64, i64),
        (offset, count): (u64, u32),
        holes: bool,
    ) -> (Vec<(i64, f64)>, u64) {
        if holes {
            if let Some(changes) = self.changes.get(sensor) {
                let places = || {
                    self.rows_with(sensor, generated, low, high, false)
                        .filter_map(|(at, row)| row.get(metric).map(|v| (at, *v)))
                };
                let total = places().count() as u64;
                let points = places()
                    .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                    .take(count as usize)
                    .filter(|(at, _)| !changes.removes(*at) || changes.uploaded.contains_key(at))
                    .collect();
                return (points, total);
            }
        }
        if !self.changes.contains_key(sensor) {
            // Untouched generated data: arithmetic, so a year costs nothing to page.
            let Some(_) = generated.filter(|g| g.iter().any(|m| m.metric == metric)) else {
                return (Vec::new(), 0);
            };
            let total = self.generated_count(low, high);
            let first = self.first_at_or_after(low);
            let points = (offset..total.min(offset.saturating_add(u64::from(count))))
                .map(|index| {
                    let at = first + index as i64 * self.interval_ms;
                    (at, base_value(sensor, metric, at))
                })
                .collect();
            return (points, total);
        }
        let with_metric = || {
            self.rows(sensor, generated, low, high)
                .filter_map(|(at, row)| row.get(metric).map(|v| (at, *v)))
        };
        let total = with_metric().count() as u64;
        let points = with_metric()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(count as usize)
            .collect();
        (points, total)
    }

    /// Stores uploaded values (they replace generated ones at the same instant).
    pub(crate) fn upload(&mut self, sensor: &str, at: i64, values: BTreeMap<String, f64>) {
        let changes = self.changes.entry(sensor.to_owned()).or_default();
        changes.removed_points.remove(&at);
        changes.uploaded.entry(at).or_default().extend(values);
    }

    /// Removes everything in `[low, high]`.
    pub(crate) fn remove_range(&mut self, sensor: &str, low: i64, high: i64) {
        let changes = self.changes.entry(sensor.to_owned()).or_default();
        changes.uploaded.retain(|at, _| !(low..=high).contains(at));
        changes.removed_ranges.push((low, high));
    }

    /// Removes the rows at exactly these instants.
    pub(crate) fn remove_points(&mut self, sensor: &str, points: impl IntoIterator<Item = i64>) {
        let changes = self.changes.entry(sensor.to_owned()).or_default();
        for at in points {
            changes.uploaded.remove(&at);
            changes.removed_points.insert(at);
        }
    }
}

/// Two time-ordered row iterators merged; at the same instant the second's values win.
fn merge<'a>(
    first: impl Iterator<Item = (i64, BTreeMap<String, f64>)> + 'a,
    second: impl Iterator<Item = (i64, BTreeMap<String, f64>)> + 'a,
) -> impl Iterator<Item = (i64, BTreeMap<String, f64>)> + 'a {
    let mut first = first.peekable();
    let mut second = second.peekable();
    std::iter::from_fn(move || match (first.peek(), second.peek()) {
        (Some((a, _)), Some((b, _))) if a < b => first.next(),
        (Some((a, _)), Some((b, _))) if a > b => second.next(),
        (Some(_), Some(_)) => {
            let (at, mut row) = first.next()?;
            let (_, newer) = second.next()?;
            row.extend(newer);
            Some((at, row))
        }
        (Some(_), None) => first.next(),
        (None, _) => second.next(),
    })
}

/// A deterministic base value (0.000 to 9.999) of one metric of one sensor at one time.
pub(crate) fn base_value(sensor: &str, metric: &str, at_ms: i64) -> f64 {
    let seed = sensor
        .bytes()
        .chain(metric.bytes())
        .fold(17u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mixed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (at_ms as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    ((mixed >> 40) % 10_000) as f64 / 1000.0
}

/// A base value in `unit`, rounded to 3 decimals.
pub(crate) fn convert(base: f64, unit: &UnitSpec) -> f64 {
    ((base * unit.scale + unit.offset) * 1000.0).round() / 1000.0
}
