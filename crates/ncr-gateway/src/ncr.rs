//! The arithmetic of nCr = n! / ((n−r)! · r!): reading `n` and `r` from the URL, dividing the
//! three factorials exactly, and choosing the answer's JSON representation. Plain functions, so
//! unit tests call them directly.
//!
//! # JSON representation
//!
//! JSON numbers are read as 64-bit floats by most clients (JavaScript always, many others by
//! default), which hold every integer only up to 2^53. So:
//!
//! - `"ncr"` is a JSON **number** when the value is at most 2^53 − 1 (JavaScript's
//!   `Number.MAX_SAFE_INTEGER`, the largest n for which n and n + 1 are both exact), as in the
//!   article; above that it is the exact base-10 **string**, never a rounded number;
//! - `"ncr_decimal"` is always the exact base-10 string: the field for clients that want one
//!   type whatever the size.

use num_bigint::BigUint;
use num_integer::Integer as _;

use crate::error::Error;

/// The largest integer every JSON client reads exactly: 2^53 − 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Reads `n` and `r` from their URL path segments: whole numbers in base 10 (digits only, so no
/// sign, fraction or exponent) with 0 ≤ r ≤ n ≤ `max_n`.
pub fn parse_input(n: &str, r: &str, max_n: u64) -> Result<(u64, u64), Error> {
    let n_value = whole_number("n", n)?;
    let r_value = whole_number("r", r)?;
    let n_value = n_value
        .filter(|value| *value <= max_n)
        .ok_or_else(|| Error::AboveLimit {
            value: n.to_owned(),
            max_n,
        })?;
    let r_value = r_value
        .filter(|value| *value <= n_value)
        .ok_or_else(|| Error::ROverN {
            n: n_value,
            r: r.to_owned(),
        })?;
    Ok((n_value, r_value))
}

/// The value of a path segment that is a whole number: `None` if it is one but exceeds `u64`.
pub fn whole_number(name: &'static str, text: &str) -> Result<Option<u64>, Error> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(Error::NotAWholeNumber {
            name,
            value: text.to_owned(),
        });
    }
    Ok(text.parse().ok())
}

/// n! / ((n−r)! · r!), checking that the division is exact (it always is for true factorials,
/// so a remainder means the upstream answered wrongly).
pub fn combination(
    n_factorial: &BigUint,
    n_minus_r_factorial: &BigUint,
    r_factorial: &BigUint,
) -> Result<BigUint, Error> {
    let denominator = n_minus_r_factorial * r_factorial;
    if denominator == BigUint::ZERO {
        return Err(Error::BadUpstreamAnswer("a factorial was zero".to_owned()));
    }
    let (quotient, remainder) = n_factorial.div_rem(&denominator);
    if remainder != BigUint::ZERO {
        return Err(Error::BadUpstreamAnswer(
            "n! is not divisible by (n-r)! * r!".to_owned(),
        ));
    }
    Ok(quotient)
}

/// An nCr answer in both of its JSON representations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ncr {
    /// The exact value in base 10.
    pub decimal: String,
    /// The value, if a JSON number can carry it exactly to every client.
    pub number: Option<u64>,
}

impl Ncr {
    /// Both representations of `value`.
    pub fn new(value: &BigUint) -> Self {
        let number = u64::try_from(value)
            .ok()
            .filter(|number| *number <= MAX_SAFE_INTEGER);
        Self {
            decimal: value.to_string(),
            number,
        }
    }

    /// The `"ncr"` field: a number up to 2^53 − 1, else the exact decimal string.
    pub fn json_value(&self) -> serde_json::Value {
        match self.number {
            Some(number) => number.into(),
            None => self.decimal.clone().into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn factorial(n: u64) -> BigUint {
        (2..=n).fold(BigUint::from(1u32), |acc, k| acc * k)
    }

    fn ncr(n: u64, r: u64) -> BigUint {
        combination(&factorial(n), &factorial(n - r), &factorial(r)).unwrap()
    }

    #[test]
    fn accepts_whole_numbers_with_r_at_most_n_at_most_the_limit() {
        assert_eq!(parse_input("10", "3", 100).unwrap(), (10, 3));
        assert_eq!(parse_input("0", "0", 100).unwrap(), (0, 0));
        assert_eq!(parse_input("100", "100", 100).unwrap(), (100, 100));
        assert_eq!(parse_input("007", "07", 100).unwrap(), (7, 7));
    }

    #[test]
    fn rejects_anything_else() {
        for (n, r) in [
            ("abc", "1"),
            ("-1", "0"),
            ("2.5", "1"),
            ("5", "-1"),
            ("5", "1.0"),
            ("+5", "1"),
            ("", "1"),
            ("1e3", "1"),
            ("٣", "1"),
        ] {
            let error = parse_input(n, r, 100).unwrap_err();
            assert!(
                matches!(error, Error::NotAWholeNumber { .. }),
                "{n}/{r}: {error}"
            );
        }
        let error = parse_input("101", "1", 100).unwrap_err();
        assert_eq!(error.to_string(), "n must be at most 100, got 101");
        let error = parse_input("99999999999999999999999", "1", 100).unwrap_err();
        assert!(matches!(error, Error::AboveLimit { .. }));
        let error = parse_input("3", "5", 100).unwrap_err();
        assert_eq!(
            error.to_string(),
            "r must not be larger than n, got n = 3 and r = 5"
        );
        let error = parse_input("3", "99999999999999999999999", 100).unwrap_err();
        assert!(matches!(error, Error::ROverN { .. }));
    }

    #[test]
    fn small_values() {
        assert_eq!(ncr(10, 3), BigUint::from(120u32));
        assert_eq!(ncr(5, 0), BigUint::from(1u32));
        assert_eq!(ncr(5, 5), BigUint::from(1u32));
        assert_eq!(ncr(0, 0), BigUint::from(1u32));
        assert_eq!(ncr(52, 5), BigUint::from(2_598_960u32));
    }

    #[test]
    fn exact_beyond_floats() {
        assert_eq!(ncr(100, 50).to_string(), "100891344545564193334812497256");
    }

    #[test]
    fn inconsistent_factorials_are_caught() {
        let error = combination(
            &BigUint::from(7u32),
            &BigUint::from(2u32),
            &BigUint::from(1u32),
        );
        assert!(matches!(error, Err(Error::BadUpstreamAnswer(_))));
        let error = combination(&BigUint::from(7u32), &BigUint::ZERO, &BigUint::from(1u32));
        assert!(matches!(error, Err(Error::BadUpstreamAnswer(_))));
    }

    #[test]
    fn json_number_up_to_2_pow_53_minus_1_then_string() {
        assert_eq!(Ncr::new(&BigUint::from(120u32)).json_value(), json!(120));
        let largest = Ncr::new(&BigUint::from(MAX_SAFE_INTEGER));
        assert_eq!(largest.json_value(), json!(9_007_199_254_740_991u64));
        let beyond = Ncr::new(&BigUint::from(MAX_SAFE_INTEGER + 1));
        assert_eq!(beyond.json_value(), json!("9007199254740992"));
        assert_eq!(beyond.decimal, "9007199254740992");
        // C(60, 30) = 118264581564861424 > 2^53: a string, not a rounded float.
        assert_eq!(
            Ncr::new(&ncr(60, 30)).json_value(),
            json!("118264581564861424")
        );
    }
}
