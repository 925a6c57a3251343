//! Exact values: `significand * 10^orderOfMagnitude`.

use std::cmp::Ordering;
use std::fmt;

/// An exact decimal number `significand * 10^exponent`, as the platform sends values.
///
/// Equality and ordering are by value (`7827e3 == 78270e2`), `Display` is the exact
/// value in plain notation without trailing zeros (`7827000`, `230.41`, `-0.0012`), and
/// [`Decimal::to_f64`] rounds correctly to the nearest `f64`.
///
/// An exponent outside [`Decimal::PLAIN_EXPONENTS`] (the vendor's range, which decoded
/// messages always keep to) is displayed in scientific notation instead
/// (`15e-300`, `-7e2147483647`), so that `Display` never writes more than about 170
/// characters, whatever the exponent: plain notation of `1e2147483647` would be 2 GiB.
#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    significand: i64,
    exponent: i32,
}

impl Decimal {
    /// The exponents `Display` writes in plain notation: the vendor's range of
    /// `orderOfMagnitude`, -128 to 127.
    pub const PLAIN_EXPONENTS: std::ops::RangeInclusive<i32> = -128..=127;

    /// `significand * 10^exponent`.
    pub const fn new(significand: i64, exponent: i32) -> Self {
        Decimal {
            significand,
            exponent,
        }
    }

    /// The significand as sent.
    pub const fn significand(self) -> i64 {
        self.significand
    }

    /// The power of ten as sent.
    pub const fn exponent(self) -> i32 {
        self.exponent
    }

    /// Whether the value is zero.
    pub const fn is_zero(self) -> bool {
        self.significand == 0
    }

    /// The nearest `f64` (correctly rounded; very large or small values give infinity or
    /// zero).
    pub fn to_f64(self) -> f64 {
        // Rust's float parser rounds correctly, which arithmetic on f64 would not.
        format!("{}e{}", self.significand, self.exponent)
            .parse()
            .unwrap_or(f64::NAN)
    }

    /// The digits of |significand| without trailing zeros, and the exponent of the last
    /// digit: the canonical form two equal values share. Zero gives `("0", 0)`.
    fn canonical(self) -> (String, i64) {
        if self.significand == 0 {
            return ("0".to_owned(), 0);
        }
        let digits = self.significand.unsigned_abs().to_string();
        let trimmed = digits.trim_end_matches('0');
        let exponent = i64::from(self.exponent) + (digits.len() - trimmed.len()) as i64;
        (trimmed.to_owned(), exponent)
    }

    fn sign(self) -> Ordering {
        self.significand.cmp(&0)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (digits, exponent) = self.canonical();
        if self.significand < 0 {
            f.write_str("-")?;
        }
        if self.significand != 0 && !Self::PLAIN_EXPONENTS.contains(&self.exponent) {
            // Plain notation would write |exponent| zeros: bounded output instead.
            return write!(f, "{digits}e{exponent}");
        }
        // From here at most 19 digits and 128 zeros (the range above): ~150 bytes.
        if exponent >= 0 {
            f.write_str(&digits)?;
            for _ in 0..exponent {
                f.write_str("0")?;
            }
            return Ok(());
        }
        let fraction_len = exponent.unsigned_abs() as usize;
        if digits.len() > fraction_len {
            let (whole, fraction) = digits.split_at(digits.len() - fraction_len);
            write!(f, "{whole}.{fraction}")
        } else {
            f.write_str("0.")?;
            for _ in 0..fraction_len - digits.len() {
                f.write_str("0")?;
            }
            f.write_str(&digits)
        }
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Decimal {}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        match self.sign().cmp(&other.sign()) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
        if self.sign() == Ordering::Equal {
            return Ordering::Equal;
        }
        let magnitude = compare_magnitude(self.canonical(), other.canonical());
        if self.sign() == Ordering::Less {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

impl std::hash::Hash for Decimal {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let (digits, exponent) = self.canonical();
        self.sign().hash(state);
        digits.hash(state);
        exponent.hash(state);
    }
}

/// Compares two non-zero magnitudes in canonical form.
fn compare_magnitude((a, a_exp): (String, i64), (b, b_exp): (String, i64)) -> Ordering {
    // The position of the leading digit decides first...
    let a_top = a.len() as i64 + a_exp;
    let b_top = b.len() as i64 + b_exp;
    match a_top.cmp(&b_top) {
        Ordering::Equal => {}
        unequal => return unequal,
    }
    // ...then the digits, left-aligned (a missing digit counts as 0).
    let len = a.len().max(b.len());
    let pad = |s: &str| format!("{s:0<len$}");
    pad(&a).cmp(&pad(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_exact_and_plain() {
        let cases = [
            (7827, 3, "7827000"),
            (23041, -2, "230.41"),
            (23041, 0, "23041"),
            (-12, -4, "-0.0012"),
            (0, 5, "0"),
            (0, -5, "0"),
            (2300, -2, "23"),
            (-5, 0, "-5"),
            (1, -1, "0.1"),
            (i64::MIN, 0, "-9223372036854775808"),
            (1, 20, "100000000000000000000"),
        ];
        for (significand, exponent, text) in cases {
            assert_eq!(
                Decimal::new(significand, exponent).to_string(),
                text,
                "{significand}e{exponent}"
            );
        }
        let tiny = Decimal::new(15, -128).to_string();
        assert!(tiny.starts_with("0.000") && tiny.ends_with("15") && tiny.len() == 2 + 128);
    }

    #[test]
    fn display_is_bounded_for_any_exponent() {
        // The extremes in the vendor's range stay plain and short.
        for significand in [i64::MIN, i64::MAX, 1, -1, 10, 0] {
            for exponent in [-128, 127] {
                let text = Decimal::new(significand, exponent).to_string();
                assert!(
                    text.len() <= 170,
                    "{significand}e{exponent}: {} bytes",
                    text.len()
                );
                assert!(!text.contains('e'), "{text}");
            }
        }
        // Outside it: scientific notation, never |exponent| zeros.
        let cases = [
            // Small ones first: without the bound they fail fast instead of writing 2 GiB.
            (1500, 128, "15e130"),
            (15, -129, "15e-129"),
            (1, i32::MAX, "1e2147483647"),
            (-7, i32::MIN, "-7e-2147483648"),
            (i64::MIN, i32::MAX, "-9223372036854775808e2147483647"),
        ];
        for (significand, exponent, text) in cases {
            assert_eq!(Decimal::new(significand, exponent).to_string(), text);
        }
        assert_eq!(Decimal::new(15, -300).to_f64(), 15e-300);
        assert_eq!(Decimal::new(0, i32::MAX).to_string(), "0");
    }

    #[test]
    fn equality_and_order_by_value() {
        assert_eq!(Decimal::new(7827, 3), Decimal::new(78270, 2));
        assert_eq!(Decimal::new(0, 3), Decimal::new(0, -100));
        assert!(Decimal::new(-1, 0) < Decimal::new(0, 0));
        assert!(Decimal::new(-2, 0) < Decimal::new(-1, 0));
        assert!(Decimal::new(1, 127) > Decimal::new(i64::MAX, 0));
        assert!(Decimal::new(9, -1) < Decimal::new(1, 0));
        assert!(Decimal::new(123, -2) > Decimal::new(12, -1));
        assert!(Decimal::new(-123, -2) < Decimal::new(-12, -1));
        let mut values = [
            Decimal::new(5, 0),
            Decimal::new(-3, 1),
            Decimal::new(49, -1),
            Decimal::new(0, 0),
        ];
        values.sort();
        let text: Vec<String> = values.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["-30", "0", "4.9", "5"]);
    }

    #[test]
    fn to_f64_rounds_correctly() {
        assert_eq!(Decimal::new(23041, -2).to_f64(), 230.41);
        assert_eq!(Decimal::new(7827, 3).to_f64(), 7_827_000.0);
        assert_eq!(Decimal::new(-12, -4).to_f64(), -0.0012);
        assert_eq!(Decimal::new(1, 400).to_f64(), f64::INFINITY);
    }
}
