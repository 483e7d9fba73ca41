//! The server-streaming example: counting down from `start` to 1, one number per interval.
//!
//! The numbers are produced lazily, one each time the transport asks for the next message. While
//! the client is not reading, HTTP/2 flow control fills up, the transport stops asking, and the
//! countdown stays parked at its current number (no timer runs, nothing is queued). When the
//! client cancels, the transport drops the stream and the countdown ends with it.
//!
//! Limits, so one call cannot hold a stream open for hours:
//! - `start` is between 1 and [`MAX_COUNTDOWN_START`];
//! - the whole countdown, `(start - 1) × interval`, takes at most [`MAX_COUNTDOWN_DURATION`].

use std::time::Duration;

use bookstore_proto::demo::v1::{CountdownRequest, CountdownResponse};
use futures_util::stream::{self, Stream};

use crate::activity::{OpenStream, StreamActivity};
use crate::error::Error;

/// The highest number a countdown may start from.
pub const MAX_COUNTDOWN_START: u32 = 10_000;

/// The longest a countdown may take from its first number to its last.
pub const MAX_COUNTDOWN_DURATION: Duration = Duration::from_secs(5 * 60);

/// A validated countdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Countdown {
    start: u32,
    interval: Duration,
}

impl Countdown {
    /// A countdown from `start` to 1 with `interval` between two numbers, if within the limits.
    pub fn new(start: u32, interval: Duration) -> Result<Self, Error> {
        if !(1..=MAX_COUNTDOWN_START).contains(&start) {
            return Err(Error::CountdownStart {
                start,
                max: MAX_COUNTDOWN_START,
            });
        }
        let countdown = Self { start, interval };
        let duration = countdown.duration();
        if duration > MAX_COUNTDOWN_DURATION {
            return Err(Error::CountdownTooLong {
                duration,
                limit: MAX_COUNTDOWN_DURATION,
            });
        }
        Ok(countdown)
    }

    /// The countdown a request asks for.
    pub fn from_request(request: &CountdownRequest) -> Result<Self, Error> {
        Self::new(
            request.start,
            Duration::from_millis(request.interval_ms.into()),
        )
    }

    /// How long the countdown takes from its first number to its last.
    pub fn duration(&self) -> Duration {
        self.interval.saturating_mul(self.start - 1)
    }

    /// The numbers `start, start - 1, ..., 1`, the first at once and each next one `interval`
    /// after the client asked for it.
    pub fn numbers(
        self,
        activity: StreamActivity,
    ) -> impl Stream<Item = CountdownResponse> + Send + 'static {
        let state = Ticking {
            next: self.start,
            interval: self.interval,
            first: true,
            _open: activity.open_stream(),
            activity,
        };
        stream::unfold(state, |mut state| async move {
            if state.next == 0 {
                return None;
            }
            if !state.first && !state.interval.is_zero() {
                tokio::time::sleep(state.interval).await;
            }
            state.first = false;
            let number = state.next;
            state.next -= 1;
            state.activity.countdown_number_produced();
            Some((CountdownResponse { number }, state))
        })
    }
}

/// A running countdown's state; dropping it (finished or cancelled) closes the stream's count.
struct Ticking {
    next: u32,
    interval: Duration,
    first: bool,
    activity: StreamActivity,
    /// Held only for its `Drop`, which closes the stream's count.
    _open: OpenStream,
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    #[test]
    fn start_must_be_within_the_limit() {
        assert!(matches!(
            Countdown::new(0, Duration::ZERO),
            Err(Error::CountdownStart { start: 0, .. })
        ));
        assert!(Countdown::new(MAX_COUNTDOWN_START, Duration::ZERO).is_ok());
        let error = Countdown::new(MAX_COUNTDOWN_START + 1, Duration::ZERO).unwrap_err();
        assert_eq!(
            error.to_string(),
            "start must be between 1 and 10000, got 10001"
        );
    }

    #[test]
    fn the_whole_countdown_must_fit_the_duration_limit() {
        // 301 numbers a second apart take 300 s: exactly the limit.
        assert!(Countdown::new(301, Duration::from_secs(1)).is_ok());
        let error = Countdown::new(302, Duration::from_secs(1)).unwrap_err();
        assert!(
            matches!(error, Error::CountdownTooLong { duration, .. } if duration == Duration::from_secs(301))
        );
        // A single number takes no time, whatever the interval.
        let request = CountdownRequest {
            start: 1,
            interval_ms: u32::MAX,
        };
        assert_eq!(
            Countdown::from_request(&request).unwrap().duration(),
            Duration::ZERO
        );
    }

    #[tokio::test]
    async fn counts_down_to_one_and_closes() {
        let activity = StreamActivity::default();
        let numbers: Vec<u32> = Countdown::new(5, Duration::ZERO)
            .unwrap()
            .numbers(activity.clone())
            .map(|response| response.number)
            .collect()
            .await;
        assert_eq!(numbers, [5, 4, 3, 2, 1]);
        assert_eq!(activity.countdown_numbers(), 5);
        assert_eq!(activity.open_streams(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn waits_the_interval_between_numbers_only() {
        let started = tokio::time::Instant::now();
        let mut numbers = Box::pin(
            Countdown::new(3, Duration::from_secs(2))
                .unwrap()
                .numbers(StreamActivity::default()),
        );
        assert_eq!(numbers.next().await.unwrap().number, 3);
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(numbers.next().await.unwrap().number, 2);
        assert_eq!(numbers.next().await.unwrap().number, 1);
        assert!(numbers.next().await.is_none());
        assert_eq!(started.elapsed(), Duration::from_secs(4));
    }

    #[tokio::test]
    async fn produces_only_what_is_asked_for_and_stops_when_dropped() {
        let activity = StreamActivity::default();
        let mut numbers = Box::pin(
            Countdown::new(100, Duration::ZERO)
                .unwrap()
                .numbers(activity.clone()),
        );
        numbers.next().await.unwrap();
        numbers.next().await.unwrap();
        assert_eq!(
            (activity.countdown_numbers(), activity.open_streams()),
            (2, 1)
        );
        drop(numbers);
        assert_eq!(
            (activity.countdown_numbers(), activity.open_streams()),
            (2, 0)
        );
    }
}
