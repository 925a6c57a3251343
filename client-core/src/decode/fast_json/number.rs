//! Numbers read as serde_json reads them, bit for bit, for the usual cases only.
//!
//! serde_json (without its `float_roundtrip` feature) builds a float from the decimal
//! significand of all its digits and a power of ten: `significand as f64` times or
//! divided by `10^exponent`. When the significand is below 2^53 and the exponent within
//! ±22, both operands are exact and the one operation rounds correctly, so the result is
//! the correctly rounded double, which is also what `float_roundtrip` gives. These
//! functions answer only in that range and return `None` otherwise, for serde to decide.

/// The largest power of ten that is an exact double.
const MAX_EXACT_POWER: usize = 22;

const POWERS_OF_TEN: [f64; MAX_EXACT_POWER + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];

/// The decimal parts of a JSON number's text.
struct Parts {
    negative: bool,
    /// Every digit, integer and fraction, as one integer.
    significand: u64,
    /// The power of ten to scale `significand` by.
    exponent: i32,
    /// No fraction and no exponent: serde_json reads it as an integer.
    integer: bool,
}

/// Splits `text` into its parts, checking it against JSON's number grammar on the way:
/// `None` when it is not a number by that grammar, or has more than 18 digits or an
/// exponent of more than 4 digits.
fn parts(text: &[u8]) -> Option<Parts> {
    let (parts, length) = parts_prefix(text)?;
    (length == text.len()).then_some(parts)
}

/// [`parts`] of the number at the start of `text`, and its length: what follows is the
/// caller's to check.
#[inline]
fn parts_prefix(text: &[u8]) -> Option<(Parts, usize)> {
    let (negative, mut at) = match text.first()? {
        b'-' => (true, 1),
        _ => (false, 0),
    };
    let mut significand = 0u64;
    let mut digits = 0usize;
    let mut exponent = 0i32;
    // The integer part: `0`, or a digit 1-9 and more digits.
    let first = at;
    while let Some(&b @ b'0'..=b'9') = text.get(at) {
        significand = significand.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
        at += 1;
    }
    digits += at - first;
    if digits == 0 || (text[first] == b'0' && digits > 1) {
        return None;
    }
    let mut integer = true;
    if text.get(at) == Some(&b'.') {
        integer = false;
        at += 1;
        let start = at;
        while let Some(&b @ b'0'..=b'9') = text.get(at) {
            significand = significand.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
            at += 1;
        }
        let fraction = at - start;
        if fraction == 0 {
            return None;
        }
        digits += fraction;
        exponent = -i32::try_from(fraction).ok()?;
    }
    if let Some(b'e' | b'E') = text.get(at) {
        integer = false;
        at += 1;
        let sign = match text.get(at) {
            Some(b'-') => -1,
            Some(b'+') => 1,
            _ => 0,
        };
        if sign != 0 {
            at += 1;
        }
        let start = at;
        let mut value = 0i32;
        while let Some(&b @ b'0'..=b'9') = text.get(at) {
            value = value.saturating_mul(10).saturating_add(i32::from(b - b'0'));
            at += 1;
        }
        if at == start || at - start > 4 {
            return None;
        }
        exponent += if sign < 0 { -value } else { value };
    }
    // More than 18 digits may overflow the significand (wrapping above): serde decides.
    if digits > 18 {
        return None;
    }
    let parts = Parts {
        negative,
        significand,
        exponent,
        integer,
    };
    Some((parts, at))
}

/// The double serde_json reads from the number `text` (as `f64`, or into an
/// `Option<f64>`), or `None` outside the range where that is certain.
///
/// ```
/// use client_core::decode::fast_json::fast_f64;
///
/// assert_eq!(fast_f64("0.1"), Some(0.1));
/// assert_eq!(fast_f64("-0").map(f64::to_bits), Some((-0.0f64).to_bits()));
/// assert_eq!(fast_f64("1e300"), None); // serde decides
/// ```
pub fn fast_f64(text: &str) -> Option<f64> {
    fast_f64_bytes(text.as_bytes())
}

/// [`fast_f64`] of a number's bytes, as they are in the JSON text (checked against JSON's
/// number grammar here, so any bytes may be given): `None` for anything that is not a
/// number, or outside the range where the reading is certain.
///
/// ```
/// use client_core::decode::fast_json::fast_f64_bytes;
///
/// assert_eq!(fast_f64_bytes(b"21.5"), Some(21.5));
/// assert_eq!(fast_f64_bytes(b"01"), None); // not JSON
/// ```
pub fn fast_f64_bytes(text: &[u8]) -> Option<f64> {
    let (value, length) = fast_f64_prefix(text)?;
    (length == text.len()).then_some(value)
}

/// [`fast_f64_bytes`] of the number at the start of `json`, and its length: for a record
/// matched against its usual text, whose number runs up to a delimiter the caller checks.
///
/// ```
/// use client_core::decode::fast_json::fast_f64_prefix;
///
/// assert_eq!(fast_f64_prefix(b"21.5}"), Some((21.5, 4)));
/// assert_eq!(fast_f64_prefix(b"-}"), None);
/// ```
#[inline]
pub fn fast_f64_prefix(json: &[u8]) -> Option<(f64, usize)> {
    let (parts, length) = parts_prefix(json)?;
    if parts.significand > 1 << 53 {
        return None;
    }
    let magnitude = parts.significand as f64;
    let power = POWERS_OF_TEN.get(parts.exponent.unsigned_abs() as usize)?;
    let magnitude = if parts.exponent >= 0 {
        magnitude * power
    } else {
        magnitude / power
    };
    // serde_json reads `-0` (an integer) as the double -0.0 too.
    Some((if parts.negative { -magnitude } else { magnitude }, length))
}

/// The `i64` serde_json reads from the number `text`, or `None` when it is not an
/// integer of at most 18 digits (serde decides those).
pub fn fast_i64(text: &str) -> Option<i64> {
    let parts = parts(text.as_bytes())?;
    // serde_json reads `-0` as the double -0.0, which no integer type takes.
    if !parts.integer || (parts.negative && parts.significand == 0) {
        return None;
    }
    // Below 10^18, so within i64 either way.
    let magnitude = i64::try_from(parts.significand).ok()?;
    Some(if parts.negative { -magnitude } else { magnitude })
}

/// The `serde_json::Value` serde_json reads from the number `text`: integers of at most
/// 18 digits directly, anything else through serde_json itself.
pub fn number_value(text: &str) -> Option<serde_json::Value> {
    match parts(text.as_bytes()) {
        // `-0` is the double -0.0 to serde_json, not an integer.
        Some(parts) if parts.integer && !(parts.negative && parts.significand == 0) => {
            Some(match parts.negative {
                false => serde_json::Value::from(parts.significand),
                true => serde_json::Value::from(-i64::try_from(parts.significand).ok()?),
            })
        }
        _ => serde_json::from_str(text).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_f64(text: &str) -> f64 {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn doubles_are_serde_jsons_bit_for_bit() {
        for text in [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "1",
            "-1",
            "0.1",
            "0.3",
            "1.5",
            "23.45",
            "-12.75",
            "1e5",
            "1E5",
            "1e+5",
            "1e-5",
            "2.5e-3",
            "9007199254740992",
            "0.000001",
            "4.1",
            "1.50",
            "1234567.891",
            "9999999999999.99",
            "1e22",
            "1e-22",
            "0.1e-21",
        ] {
            let fast = fast_f64(text).unwrap_or_else(|| panic!("{text} has a fast reading"));
            assert_eq!(fast.to_bits(), serde_f64(text).to_bits(), "{text}");
        }
    }

    #[test]
    fn leaves_the_rest_to_serde() {
        for text in [
            "1e23",
            "1e-23",
            "12e-24",
            "9007199254740993",
            "123456789012345678",
            "1234567890123456789",
            "1e123456",
            "",
            "-",
        ] {
            assert_eq!(fast_f64(text), None, "{text}");
        }
    }

    #[test]
    fn numbers_past_u64_are_serdes_to_read() {
        for text in [
            "18446744073709551615",
            "18446744073709551616",
            "18446744073709551619",
            "99999999999999999999",
            "1.8446744073709551616",
            "0.99999999999999999999999",
        ] {
            assert_eq!(fast_f64(text), None, "{text}");
            assert_eq!(fast_i64(text), None, "{text}");
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(number_value(text), Some(value), "{text}");
        }
    }

    #[test]
    fn bytes_off_the_grammar_are_not_numbers() {
        for text in [
            "01", "-01", "1.", ".5", "-", "1e", "1e+", "+1", "1x", "--1", "1.5.5", "1e5e5", "1 ", " 1",
            "0x1", "1e-", "1.e5", "-.5", "",
        ] {
            assert_eq!(fast_f64_bytes(text.as_bytes()), None, "{text:?}");
            assert!(
                serde_json::from_str::<f64>(text).is_err() || text.trim() != text,
                "{text:?}"
            );
        }
        assert_eq!(fast_f64_bytes(b"-0.5e-1"), Some(-0.05));
    }

    #[test]
    fn integers_and_values_are_serde_jsons() {
        assert_eq!(fast_i64("-42"), Some(-42));
        assert_eq!(fast_i64("42.0"), None);
        assert_eq!(fast_i64("1e2"), None);
        assert_eq!(fast_i64("-0"), None);
        assert!(serde_json::from_str::<i64>("-0").is_err());
        for text in [
            "0",
            "-0",
            "7",
            "-7",
            "1.50",
            "1e2",
            "18446744073709551615",
            "123456789012345678901234",
        ] {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            let fast = number_value(text).unwrap();
            assert_eq!(fast, value, "{text}");
            assert_eq!(
                fast.as_f64().map(f64::to_bits),
                value.as_f64().map(f64::to_bits),
                "{text}"
            );
        }
    }
}
