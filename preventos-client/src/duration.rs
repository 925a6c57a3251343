//! ISO 8601 durations (`PT1M`, `P31D`) as absolute durations.

use jiff::{SignedDuration, Span, SpanRelativeTo};
use serde::{Deserialize, Deserializer};

/// Parses an ISO 8601 duration, taking a day as 24 hours (the catalog's intervals and
/// ranges are fixed lengths, not calendar spans). `hh:mm:ss` is accepted too.
pub fn parse_duration(text: &str) -> Option<SignedDuration> {
    let text = text.trim();
    if let Some(duration) = parse_clock(text) {
        return Some(duration);
    }
    let span: Span = text.parse().ok()?;
    span.to_duration(SpanRelativeTo::days_are_24_hours()).ok()
}

/// `01:00:00` (the API accepts intervals written so).
fn parse_clock(text: &str) -> Option<SignedDuration> {
    let parts: Vec<&str> = text.split(':').collect();
    let [h, m, s] = parts.as_slice() else { return None };
    let (h, m, s): (i64, i64, i64) = (h.parse().ok()?, m.parse().ok()?, s.parse().ok()?);
    Some(SignedDuration::from_secs(h * 3600 + m * 60 + s))
}

/// Deserialises an optional ISO 8601 duration; text that is not one is kept as `None`
/// rather than failing the whole catalog.
pub(crate) fn optional<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SignedDuration>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    Ok(text.as_deref().and_then(parse_duration))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_and_clock_forms() {
        assert_eq!(parse_duration("PT1M"), Some(SignedDuration::from_mins(1)));
        assert_eq!(parse_duration("PT1H"), Some(SignedDuration::from_hours(1)));
        assert_eq!(parse_duration("P31D"), Some(SignedDuration::from_hours(31 * 24)));
        assert_eq!(parse_duration("01:00:00"), Some(SignedDuration::from_hours(1)));
        assert_eq!(parse_duration("soon"), None);
    }
}
