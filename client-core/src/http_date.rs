//! HTTP-dates (RFC 9110 5.6.7) in the three forms a recipient must accept, for
//! `Retry-After`:
//!
//! - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT` (what servers send today);
//! - RFC 850 (obsolete): `Sunday, 06-Nov-94 08:49:37 GMT`, a two-digit year;
//! - asctime: `Sun Nov  6 08:49:37 1994`.
//!
//! The parser is hand-written and small: it never panics nor allocates more than the
//! tokens of its input, whatever a server sends.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// The instant `value` names, or `None` if it is not an HTTP-date. `now` resolves the
/// century of an RFC 850 two-digit year.
pub(crate) fn parse(value: &str, now: Timestamp) -> Option<Timestamp> {
    // An HTTP-date is ASCII and short; anything else is not worth tokenising.
    if value.len() > 64 || !value.is_ascii() {
        return None;
    }
    let tokens: Vec<&str> = value.split_ascii_whitespace().collect();
    let parsed = match tokens.as_slice() {
        [day, date, month, year, time, "GMT"] if day.ends_with(',') => {
            imf_fixdate(day, date, month, year, time)
        }
        [day, date, time, "GMT"] if day.ends_with(',') => rfc850(day, date, time, now),
        [day, month, date, time, year] => asctime(day, month, date, time, year),
        _ => None,
    };
    // Servers that write the date with a numeric zone (`+0000`) are read by the RFC 2822
    // parser, as before.
    parsed.or_else(|| Some(jiff::fmt::rfc2822::parse(value).ok()?.timestamp()))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn imf_fixdate(day: &str, date: &str, month: &str, year: &str, time: &str) -> Option<Timestamp> {
    short_day_name(day.strip_suffix(',')?)?;
    let year = digits(year, 4, 4)?;
    utc(year, month_number(month)?, digits(date, 2, 2)?, time)
}

/// `Sunday, 06-Nov-94 08:49:37 GMT`
fn rfc850(day: &str, date: &str, time: &str, now: Timestamp) -> Option<Timestamp> {
    long_day_name(day.strip_suffix(',')?)?;
    let mut parts = date.split('-');
    let (Some(dd), Some(month), Some(yy), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let yy = digits(yy, 2, 2)?;
    // RFC 9110: a two-digit year more than 50 years ahead is the most recent past year
    // with the same last two digits.
    let this_year = now.to_zoned(TimeZone::UTC).year();
    let mut year = this_year - this_year.rem_euclid(100) + yy;
    if year > this_year + 50 {
        year -= 100;
    }
    utc(year, month_number(month)?, digits(dd, 2, 2)?, time)
}

/// `Sun Nov  6 08:49:37 1994`
fn asctime(day: &str, month: &str, date: &str, time: &str, year: &str) -> Option<Timestamp> {
    short_day_name(day)?;
    utc(
        digits(year, 4, 4)?,
        month_number(month)?,
        digits(date, 1, 2)?,
        time,
    )
}

/// `hh:mm:ss` on the given day, in UTC (GMT). A leap second (`:60`) is read as `:59`.
fn utc(year: i16, month: i8, day: i16, time: &str) -> Option<Timestamp> {
    let mut parts = time.split(':');
    let (Some(h), Some(m), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let (hour, minute, second) = (digits(h, 2, 2)?, digits(m, 2, 2)?, digits(s, 2, 2)?.min(59));
    let civil = DateTime::new(
        year,
        month,
        i8::try_from(day).ok()?,
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(second).ok()?,
        0,
    )
    .ok()?;
    Some(civil.to_zoned(TimeZone::UTC).ok()?.timestamp())
}

/// A number of `min..=max` ASCII digits.
fn digits(text: &str, min: usize, max: usize) -> Option<i16> {
    if text.len() < min || text.len() > max || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month_number(name: &str) -> Option<i8> {
    let index = MONTHS.iter().position(|m| *m == name)?;
    i8::try_from(index + 1).ok()
}

fn short_day_name(name: &str) -> Option<()> {
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        .contains(&name)
        .then_some(())
}

fn long_day_name(name: &str) -> Option<()> {
    [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    .contains(&name)
    .then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-03T12:00:00Z".parse().unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn imf_fixdate() {
        assert_eq!(
            parse("Sun, 06 Nov 1994 08:49:37 GMT", now()),
            Some(at("1994-11-06T08:49:37Z"))
        );
    }

    #[test]
    fn rfc850_with_its_two_digit_year() {
        assert_eq!(
            parse("Sunday, 06-Nov-94 08:49:37 GMT", now()),
            Some(at("1994-11-06T08:49:37Z"))
        );
        // Within 50 years ahead: this century.
        assert_eq!(
            parse("Thursday, 03-Dec-26 12:00:30 GMT", now()),
            Some(at("2026-12-03T12:00:30Z"))
        );
        assert_eq!(
            parse("Monday, 01-Jan-74 00:00:00 GMT", now()),
            Some(at("2074-01-01T00:00:00Z"))
        );
        // More than 50 years ahead: the last century.
        assert_eq!(
            parse("Tuesday, 01-Jan-80 00:00:00 GMT", now()),
            Some(at("1980-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn asctime_with_a_padded_or_two_digit_day() {
        assert_eq!(
            parse("Sun Nov  6 08:49:37 1994", now()),
            Some(at("1994-11-06T08:49:37Z"))
        );
        assert_eq!(
            parse("Thu Dec 03 12:01:00 2026", now()),
            Some(at("2026-12-03T12:01:00Z"))
        );
    }

    #[test]
    fn a_numeric_zone_is_still_read() {
        assert_eq!(
            parse("Sun, 06 Nov 1994 08:49:37 +0000", now()),
            Some(at("1994-11-06T08:49:37Z"))
        );
    }

    #[test]
    fn garbage_and_hostile_inputs_are_refused_without_panic() {
        let long = "9".repeat(10_000);
        let bad = [
            "",
            "soon",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 99999 08:49:37 GMT",
            "Sun, 06 Nov -994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:61:00 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37:01 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sunday, 06-Nov-94-1 08:49:37 GMT",
            "Sunday, 6-Nov-94 08:49:37 GMT",
            "Sun Nov 123 08:49:37 1994",
            "Sun Nov  6 08:49:37 94",
            "Sun, 06 Nov 1994 08:49:37 GMT ünïcode",
            "\u{0}\u{1}\u{2}",
            ",,,,, GMT",
            ": : : : :",
            &long,
        ];
        for value in bad {
            assert_eq!(parse(value, now()), None, "{value:?}");
        }
    }
}
