//! The client-streaming example: adding up a stream of numbers.
//!
//! The server keeps a running total and a count, nothing else, and reads the next value only
//! after adding the previous one, so a fast client is slowed to the server's pace by flow control
//! rather than filling a queue. A call may stream at most [`MAX_SUM_VALUES`] values, and the sum
//! must fit in an `int64` (an overflow fails with `OUT_OF_RANGE` instead of wrapping around).
//! Its duration is bounded too: the handler runs until the client closes its stream, so the
//! server's request timeout (`--request-timeout`, 30 s by default) covers the whole call.

use bookstore_proto::demo::v1::SumResponse;

use crate::error::Error;

/// The most values one Sum call may stream.
pub const MAX_SUM_VALUES: u32 = 100_000;

/// A running total.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sum {
    total: i64,
    count: u32,
}

impl Sum {
    /// Adds one value, refusing the one past [`MAX_SUM_VALUES`] and any that would overflow.
    pub fn add(&mut self, value: i64) -> Result<(), Error> {
        if self.count >= MAX_SUM_VALUES {
            return Err(Error::TooManyValues {
                limit: MAX_SUM_VALUES,
            });
        }
        self.total = self.total.checked_add(value).ok_or(Error::SumOverflow)?;
        self.count += 1;
        Ok(())
    }

    /// The total so far.
    pub fn total(&self) -> i64 {
        self.total
    }

    /// How many values were added.
    pub fn count(&self) -> u32 {
        self.count
    }
}

impl From<Sum> for SumResponse {
    fn from(sum: Sum) -> Self {
        Self {
            sum: sum.total,
            count: sum.count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_and_counts() {
        let mut sum = Sum::default();
        for value in [1, -2, 3, 40] {
            sum.add(value).unwrap();
        }
        assert_eq!(SumResponse::from(sum), SumResponse { sum: 42, count: 4 });
        assert_eq!(
            SumResponse::from(Sum::default()),
            SumResponse { sum: 0, count: 0 }
        );
    }

    #[test]
    fn refuses_overflow_without_changing_the_total() {
        let mut sum = Sum::default();
        sum.add(i64::MAX).unwrap();
        assert!(matches!(sum.add(1), Err(Error::SumOverflow)));
        assert_eq!((sum.total(), sum.count()), (i64::MAX, 1));
        sum.add(i64::MIN).unwrap();
        assert_eq!(sum.total(), -1);
    }

    #[test]
    fn refuses_values_past_the_limit() {
        let mut sum = Sum::default();
        for _ in 0..MAX_SUM_VALUES {
            sum.add(1).unwrap();
        }
        assert!(matches!(sum.add(1), Err(Error::TooManyValues { .. })));
        assert_eq!(sum.total(), i64::from(MAX_SUM_VALUES));
    }
}
