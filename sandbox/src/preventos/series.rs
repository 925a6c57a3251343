//! The values themselves: a deterministic value per signal and second. In a file of
//! their own because the plan (`plan.rs`) and the body writer (`generate.rs`) both read
//! them, and neither may import the other back.

/// A signal's seed (FNV-1a of its id): the same signal always has the same values.
pub(super) fn seed(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A deterministic value with three decimals.
pub(super) fn value_at(seed: u64, t: i64) -> f64 {
    let mixed = (seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    // Integer thousandths divided once: the f64 prints as the short decimal it stands for.
    (((mixed >> 44) % 100_000) as i64 - 20_000) as f64 / 1000.0
}
