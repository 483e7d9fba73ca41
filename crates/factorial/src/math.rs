//! The arithmetic: exact n! as a big integer, and the legacy API's float factorial with the
//! validation the nCr article left out. Plain functions, so unit tests and the cost-curve
//! benchmark call them directly.

use num_bigint::BigUint;

use crate::error::Error;

/// The largest n whose factorial fits a 32-bit float: 34! ≈ 2.95e38 is below `f32::MAX`
/// (≈ 3.40e38), 35! ≈ 1.03e40 is not.
pub const FLOAT_MAX_N: u32 = 34;

/// Below this many factors a range is multiplied out word by word; above it, it is split in
/// two. Small enough that the leaves stay cheap, large enough that the recursion stays shallow.
const LEAF_FACTORS: u64 = 64;

/// n!, exactly.
///
/// Multiplies by binary splitting (`lo..=mid` times `mid+1..=hi`, recursively), so the big
/// multiplications have operands of similar size and use num-bigint's sub-quadratic
/// algorithms; the naive running product is several times slower from n ≈ 2,000 on (see
/// `examples/cost_curve.rs`).
pub fn factorial(n: u64) -> BigUint {
    if n < 2 { BigUint::ONE } else { product(2, n) }
}

/// The product of every integer in `lo..=hi` (`lo <= hi`).
fn product(lo: u64, hi: u64) -> BigUint {
    if hi - lo < LEAF_FACTORS {
        // Accumulate in a machine word until it would overflow, so most multiplications are
        // word × word rather than big × small.
        let mut result = BigUint::ONE;
        let mut word: u64 = 1;
        for factor in lo..=hi {
            match word.checked_mul(factor) {
                Some(product) => word = product,
                None => {
                    result *= word;
                    word = factor;
                }
            }
        }
        result * word
    } else {
        let mid = lo + (hi - lo) / 2;
        product(lo, mid) * product(mid + 1, hi)
    }
}

/// The legacy `Factorial` API: `value!` as a float, for a whole, non-negative `value` no
/// larger than [`FLOAT_MAX_N`]. Computed exactly, then rounded once to the nearest float
/// (floats hold integers exactly only up to 2^24, so from 14! on the answer is the nearest
/// float, not the exact value — the v1 API exists for that).
pub fn legacy_factorial(value: f32) -> Result<f32, Error> {
    if !value.is_finite() {
        return Err(Error::NotFinite { value });
    }
    if value < 0.0 {
        return Err(Error::Negative { value });
    }
    if value.fract() != 0.0 {
        return Err(Error::NotWhole { value });
    }
    if value > FLOAT_MAX_N as f32 {
        return Err(Error::FloatOverflow {
            value,
            max_n: FLOAT_MAX_N,
        });
    }
    // Whole and within 0..=34, so the conversion is exact; 34! < 2^128, so is the product.
    let n = value as u128;
    let exact: u128 = (2..=n).product();
    Ok(exact as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(n: u64) -> BigUint {
        (2..=n).fold(BigUint::ONE, |acc, k| acc * k)
    }

    #[test]
    fn small_factorials() {
        let expected = [1u64, 1, 2, 6, 24, 120, 720, 5040, 40320, 362_880, 3_628_800];
        for (n, want) in expected.iter().enumerate() {
            assert_eq!(factorial(n as u64), BigUint::from(*want), "{n}!");
        }
    }

    #[test]
    fn binary_splitting_agrees_with_the_running_product() {
        // Around the leaf size and well past it, so both branches and the word overflow run.
        for n in [20, 21, 63, 64, 65, 66, 127, 128, 129, 500, 1234, 3000] {
            assert_eq!(factorial(n), naive(n), "{n}!");
        }
    }

    #[test]
    fn known_large_value() {
        let hundred = factorial(100).to_string();
        assert_eq!(hundred.len(), 158);
        assert!(hundred.starts_with("93326215443944152681699238856266700490715968264381621468"));
        assert!(hundred.ends_with(&"0".repeat(24)));
    }

    #[test]
    fn legacy_whole_numbers_up_to_34() {
        assert_eq!(legacy_factorial(0.0).unwrap(), 1.0);
        assert_eq!(legacy_factorial(-0.0).unwrap(), 1.0);
        assert_eq!(legacy_factorial(1.0).unwrap(), 1.0);
        assert_eq!(legacy_factorial(5.0).unwrap(), 120.0);
        assert_eq!(legacy_factorial(10.0).unwrap(), 3_628_800.0);
        let largest = legacy_factorial(34.0).unwrap();
        assert!(largest.is_finite());
        let exact = 295_232_799_039_604_140_847_618_609_643_520_000_000_f64;
        assert!(((f64::from(largest) - exact) / exact).abs() < 1e-7);
    }

    #[test]
    fn legacy_rejects_what_is_not_a_whole_non_negative_number() {
        assert!(matches!(
            legacy_factorial(-1.0),
            Err(Error::Negative { .. })
        ));
        assert!(matches!(
            legacy_factorial(-2.5),
            Err(Error::Negative { .. })
        ));
        assert!(matches!(legacy_factorial(2.5), Err(Error::NotWhole { .. })));
        assert!(matches!(
            legacy_factorial(f32::NAN),
            Err(Error::NotFinite { .. })
        ));
        assert!(matches!(
            legacy_factorial(f32::INFINITY),
            Err(Error::NotFinite { .. })
        ));
        assert!(matches!(
            legacy_factorial(f32::NEG_INFINITY),
            Err(Error::NotFinite { .. })
        ));
    }

    #[test]
    fn legacy_never_answers_infinity() {
        for value in [35.0, 100.0, 1e30, f32::MAX] {
            assert!(
                matches!(legacy_factorial(value), Err(Error::FloatOverflow { .. })),
                "{value}"
            );
        }
    }
}
