//! RFC 3339 timestamps of the usual form, read to the instant jiff reads.

use std::cell::Cell;

use jiff::Timestamp;

/// The instant of `text` when it is `YYYY-MM-DDTHH:MM:SS`, an optional fraction of one
/// to nine digits after `.`, and `Z` or an offset `±HH:MM` (hours 00–23, not `-00:00`),
/// with a real date in the years 0001–9998 and seconds 00–59. That is the instant jiff's
/// `Timestamp` parser reads from it; for any other text this returns `None`, for jiff to
/// decide (it accepts more forms, and reports the errors).
///
/// ```
/// use client_core::decode::fast_json::fast_rfc3339;
///
/// let text = "2026-05-31T00:00:00.25+03:00";
/// assert_eq!(fast_rfc3339(text), Some(text.parse()?));
/// assert_eq!(fast_rfc3339("2026-02-30T00:00:00Z"), None);
/// # Ok::<(), jiff::Error>(())
/// ```
pub fn fast_rfc3339(text: &str) -> Option<Timestamp> {
    fast_rfc3339_bytes(text.as_bytes())
}

/// [`fast_rfc3339`] of a timestamp's bytes, as they are between the quotes of the JSON
/// text (any bytes may be given: the form is all ASCII, checked here).
///
/// ```
/// use client_core::decode::fast_json::fast_rfc3339_bytes;
///
/// assert_eq!(fast_rfc3339_bytes(b"2026-05-31T00:00:00Z"), Some("2026-05-31T00:00:00Z".parse()?));
/// assert_eq!(fast_rfc3339_bytes(b"2026-05-31T00:00:00\xff"), None);
/// # Ok::<(), jiff::Error>(())
/// ```
pub fn fast_rfc3339_bytes(b: &[u8]) -> Option<Timestamp> {
    if b.len() < 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let days = days_of_date(b.get(..10)?)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut at = 19;
    let mut nanos = 0u32;
    if b[at] == b'.' {
        let start = at + 1;
        let count = b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        if count == 0 || count > 9 {
            return None;
        }
        nanos = digits(b, start, count)? as u32 * 10u32.pow(9 - count as u32);
        at = start + count;
    }
    let offset_seconds = match &b[at..] {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let hours = digits(b, at + 1, 2)?;
            let minutes = digits(b, at + 4, 2)?;
            if hours > 23 || minutes > 59 || (*sign == b'-' && hours == 0 && minutes == 0) {
                return None;
            }
            let seconds = hours * 3600 + minutes * 60;
            if *sign == b'-' { -seconds } else { seconds }
        }
        _ => return None,
    };
    let local = days * 86_400 + hour * 3600 + minute * 60 + second;
    Timestamp::new(local - offset_seconds, nanos as i32).ok()
}

thread_local! {
    /// The date last read and its days since 1970-01-01: the timestamps of a body mostly
    /// share their date, which is then read once.
    /// A real date from the start: the entry is compared before anything is checked.
    static LAST_DATE: Cell<([u8; 10], i64)> = const { Cell::new((*b"1970-01-01", 0)) };
}

/// The days since 1970-01-01 of the date `YYYY-MM-DD` (a real one, in the years
/// 0001–9998), or `None`.
fn days_of_date(text: &[u8]) -> Option<i64> {
    let date: [u8; 10] = text.try_into().ok()?;
    let (last, days) = LAST_DATE.get();
    if last == date {
        return Some(days);
    }
    if date[4] != b'-' || date[7] != b'-' {
        return None;
    }
    let year = digits(&date, 0, 4)?;
    let month = digits(&date, 5, 2)?;
    let day = digits(&date, 8, 2)?;
    if !(1..=9998).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    LAST_DATE.set((date, days));
    Some(days)
}

/// The number written by `count` ASCII digits at `at`.
fn digits(b: &[u8], at: usize, count: usize) -> Option<i64> {
    let mut n = 0i64;
    for &c in b.get(at..at + count)? {
        let digit = c.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n * 10 + i64::from(digit);
    }
    Some(n)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the proleptic Gregorian date (Howard Hinnant's algorithm),
/// for the years 0001–9998 only: the shifted year is never negative, so plain division
/// (a multiplication) stands in for the Euclidean one.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let (year, month) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let (year, month, day) = (year as u64, month as u64, day as u64);
    let era = year / 400;
    let year_of_era = year - era * 400;
    let day_of_year = (153 * month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era) as i64 - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_instant_jiff_reads() {
        for text in [
            "1970-01-01T00:00:00Z",
            "2026-05-31T00:00:00+03:00",
            "2026-05-31T00:00:00-05:30",
            "2024-02-29T23:59:59.999999999Z",
            "2000-03-01T00:00:00.1Z",
            "1900-02-28T12:00:00+23:59",
            "0001-01-01T00:00:00+00:00",
            "9998-12-31T23:59:59-23:59",
            "2026-12-04T15:25:43.123456Z",
        ] {
            let jiff: Timestamp = text.parse().unwrap();
            assert_eq!(fast_rfc3339(text), Some(jiff), "{text}");
        }
    }

    #[test]
    fn a_date_read_again_is_the_same_date() {
        // The second reading of a date comes from the last one read.
        for text in [
            "2026-05-31T00:00:00Z",
            "2026-05-31T23:59:59.5+03:00",
            "2026-05-30T12:00:00-05:00",
            "2026-05-31T00:00:01Z",
            "2026-02-29T00:00:00Z",
            "2026-05-31T00:00:01Z",
            "2024-02-29T00:00:00Z",
            "2024-02-29T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "\0\0\0\0\0\0\0\0\0\0T00:00:00Z",
        ] {
            assert_eq!(fast_rfc3339(text), text.parse().ok(), "{text}");
        }
    }

    #[test]
    fn a_thread_that_read_no_date_yet_checks_the_first() {
        let nul_date = std::thread::spawn(|| fast_rfc3339_bytes(b"\0\0\0\0\0\0\0\0\0\0T00:00:00Z"))
            .join()
            .unwrap();
        assert_eq!(nul_date, None);
    }

    #[test]
    fn every_year_and_month_is_jiffs() {
        // Days of every month of the years 0001 to 9998 (steps of 11 days), leap days and
        // month ends among them.
        for year in 1..=9998i16 {
            for month in 1..=12i8 {
                for day in (1..=jiff::civil::date(year, month, 1).days_in_month())
                    .step_by(11)
                    .chain([29])
                {
                    let Ok(date) = jiff::civil::Date::new(year, month, day) else {
                        continue;
                    };
                    let text = format!("{date}T23:59:59Z");
                    let jiff: Timestamp = text.parse().unwrap();
                    assert_eq!(fast_rfc3339(&text), Some(jiff), "{text}");
                }
            }
        }
    }

    #[test]
    fn leaves_other_forms_to_jiff() {
        for text in [
            "2026-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-05-31T24:00:00Z",
            "2026-05-31T23:59:60Z",
            "2026-05-31t00:00:00Z",
            "2026-05-31T00:00:00z",
            "2026-05-31 00:00:00Z",
            "2026-05-31T00:00:00-00:00",
            "2026-05-31T00:00:00+03",
            "2026-05-31T00:00:00+0300",
            "2026-05-31T00:00:00.Z",
            "2026-05-31T00:00:00.1234567890Z",
            "2026-05-31T00:00:00,5Z",
            "2026-05-31T00:00:00Z[UTC]",
            "+2026-05-31T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "2026-5-31T00:00:00Z",
        ] {
            assert_eq!(fast_rfc3339(text), None, "{text}");
        }
    }
}
