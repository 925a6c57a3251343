//! The exact-text rule of numbers.

/// A decimal number's exact value in canonical form: sign, significant digits (no
/// leading or trailing zeros; empty for zero) and the power of ten of the last digit.
#[derive(Debug, PartialEq, Eq)]
struct Canonical {
    negative: bool,
    digits: String,
    exponent: i128,
}

/// Whether `text` is a decimal number: `-`/`+` sign, digits with an optional `.` and
/// fraction, an optional `e`/`E` exponent (JSON's grammar, leniently: leading zeros,
/// `+`, `.5` and `5.` are read too).
pub(super) fn is_decimal(text: &str) -> bool {
    canonical(text).is_some()
}

/// `text`'s exact value, or `None` when it is not a decimal number. An exponent of more
/// digits than an `i128` holds gives `None` too (no `f64` is near such a value but 0
/// and infinity, which [`needs_text`] tells by other means).
fn canonical(text: &str) -> Option<Canonical> {
    let bytes = text.as_bytes();
    let (negative, rest) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let mantissa_end = rest
        .iter()
        .position(|b| matches!(b, b'e' | b'E'))
        .unwrap_or(rest.len());
    let (mantissa, exponent_part) = rest.split_at(mantissa_end);
    let (whole, fraction) = match mantissa.iter().position(|&b| b == b'.') {
        Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
        None => (mantissa, &mantissa[mantissa.len()..]),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole.iter().chain(fraction).all(u8::is_ascii_digit) {
        return None;
    }
    let mut exponent_digits: &[u8] = b"";
    let mut exponent_sign: i128 = 1;
    if !exponent_part.is_empty() {
        let digits = &exponent_part[1..];
        let (sign, digits) = match digits.first() {
            Some(b'-') => (-1, &digits[1..]),
            Some(b'+') => (1, &digits[1..]),
            _ => (1, digits),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        exponent_digits = digits;
        exponent_sign = sign;
    }
    let all: String = whole.iter().chain(fraction).map(|&b| b as char).collect();
    let significant = all.trim_start_matches('0');
    let trimmed = significant.trim_end_matches('0');
    if trimmed.is_empty() {
        // Zero, whatever its exponent.
        return Some(Canonical {
            negative,
            digits: String::new(),
            exponent: 0,
        });
    }
    let exponent_digits = std::str::from_utf8(exponent_digits).ok()?.trim_start_matches('0');
    let exponent = if exponent_digits.is_empty() {
        0
    } else {
        exponent_sign.checked_mul(exponent_digits.parse::<i128>().ok()?)?
    };
    // An exponent at the edge of i128 is no number an f64 holds: not canonical (its text
    // is kept), never an overflow.
    let exponent = exponent
        .checked_sub(i128::try_from(fraction.len()).ok()?)?
        .checked_add(i128::try_from(significant.len() - trimmed.len()).ok()?)?;
    Some(Canonical {
        negative,
        digits: trimmed.to_owned(),
        exponent,
    })
}

/// Whether a number's text must be kept beside `value`, the `f64` read from it: `true`
/// when the text's decimal value differs from the value of `value`'s shortest
/// round-trip rendering, when `value` is not finite, or when `text` is not a decimal
/// number. See [the module's rule](super#the-exact-text-of-numbers).
///
/// ```
/// use client_core::columns::needs_text;
///
/// let keeps = |text: &str| needs_text(text, text.parse().unwrap());
/// assert!(!keeps("0.1") && !keeps("1.50") && !keeps("-0") && !keeps("1e300"));
/// assert!(keeps("0.1000000000000000055511151231257827"));
/// assert!(keeps("9007199254740993") && !keeps("9007199254740992"));
/// assert!(keeps("1e400") && keeps("1e-400"));
/// ```
pub fn needs_text(text: &str, value: f64) -> bool {
    if !value.is_finite() {
        return true;
    }
    match canonical(text) {
        Some(exact) => canonical(&format!("{value:e}")).is_none_or(|shortest| shortest != exact),
        None => true,
    }
}

/// The value of a text that holds a number: a decimal number (nearest `f64`), or
/// `NaN`, `Infinity`, `-Infinity`.
pub(super) fn number_in_text(text: &str) -> Option<f64> {
    match text.trim() {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        text if is_decimal(text) => text.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keeps(text: &str) -> bool {
        needs_text(text, text.parse().unwrap())
    }

    #[test]
    fn the_rule_on_the_hard_cases() {
        for exact in [
            "0",
            "-0",
            "0.0",
            "-0.000e5",
            "0.1",
            "1.50",
            "100",
            "1e300",
            "2.5E-3",
            "9007199254740992",
            "1.7976931348623157e308",
            "5e-324",
        ] {
            assert!(!keeps(exact), "{exact}");
        }
        for inexact in [
            "0.1000000000000000055511151231257827",
            "9007199254740993",
            "123456789012345678901234567890",
            "1e400",
            "-1e400",
            "1e-400",
            "0.30000000000000000001",
        ] {
            assert!(keeps(inexact), "{inexact}");
        }
        assert!(needs_text(
            "1e99999999999999999999999999999999999999999",
            f64::INFINITY
        ));
        assert!(!needs_text("0e99999999999999999999999999999999999999999", 0.0));
        // Exponents at the edge of i128: kept as text, never an overflow.
        assert!(needs_text(
            "10e170141183460469231731687303715884105727",
            f64::INFINITY
        ));
        assert!(needs_text("1.25e-170141183460469231731687303715884105728", 0.0));
        assert!(needs_text("1.25e-170141183460469231731687303715884105727", 0.0));
        let _ = number_in_text("10e170141183460469231731687303715884105727");
        assert!(needs_text("abc", 1.0));
        assert_eq!(number_in_text("NaN").map(f64::is_nan), Some(true));
        assert_eq!(number_in_text("1.5"), Some(1.5));
        assert_eq!(number_in_text("inf"), None, "Rust's words are not JSON's");
    }

    /// Any finite `f64`'s shortest text keeps no text; its 25 significant digits keep
    /// text exactly when they are not the shortest text's digits (padded with zeros):
    /// even an integer the `f64` holds exactly (`9074314992552858624`) keeps its text
    /// when its shortest rendering (`9.074314992552859e18`) reads back as another value.
    #[test]
    fn the_rule_on_random_doubles() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..20_000 {
            let x = f64::from_bits(rng.u64(..));
            if !x.is_finite() {
                continue;
            }
            assert!(!needs_text(&format!("{x}"), x), "{x}");
            let shortest = format!("{x:e}");
            assert!(!needs_text(&shortest, x), "{shortest}");
            let long = format!("{x:.24e}");
            let (long_mantissa, long_exponent) = long.split_once('e').unwrap();
            let (mantissa, exponent) = shortest.split_once('e').unwrap();
            let same = long_mantissa.trim_end_matches('0').trim_end_matches('.') == mantissa
                && long_exponent == exponent;
            assert_eq!(needs_text(&long, long.parse().unwrap()), !same, "{long}");
        }
    }
}
