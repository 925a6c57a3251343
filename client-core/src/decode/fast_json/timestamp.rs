//! RFC 3339 timestamps of the usual form, read to the instant jiff reads.

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
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if !(1..=9998).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
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
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Timestamp::new(local - offset_seconds, nanos as i32).ok()
}

/// The number written by `count` ASCII digits at `at`.
fn digits(b: &[u8], at: usize, count: usize) -> Option<i64> {
    b.get(at..at + count)?.iter().try_fold(0i64, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
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
