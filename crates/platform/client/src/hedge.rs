//! Hedging: when an attempt of an idempotent call has not answered within the hedging delay,
//! a second attempt goes to another endpoint; the first answer wins and the other attempt is
//! cancelled (its HTTP/2 stream reset). Retries cannot save a call whose endpoint went silent —
//! nothing fails, it just never answers — hedging can.
//!
//! The delay is `--upstream-hedge-delay`:
//! - `auto` (the default): the method's own recent 95th-percentile latency
//!   (`latency_window`), but at least [`AUTO_FLOOR`] — so about one call in twenty is hedged on
//!   a healthy upstream, the "tail at scale" trade (Dean and Barroso, 2013), and hedging waits
//!   long enough to matter. Before the first figure is in, [`AUTO_BEFORE_DATA`].
//! - a duration, such as `20ms`: always that (gRFC A6's `hedgingDelay`);
//! - `off`: never hedge (retries still apply).
//!
//! A hedge goes out only while the upstream's retry budget allows retries (A6), within a
//! hedge budget of its own (`throttle`), to an endpoint the call has not tried (with one
//! endpoint, never), and counts toward the call's maximum attempts.

use std::fmt;
use std::time::Duration;

use bookstore_config::parse_positive_duration;

use crate::latency_window::LatencyWindow;

/// The shortest automatic hedging delay.
pub(crate) const AUTO_FLOOR: Duration = Duration::from_millis(5);
/// The automatic hedging delay before a method has a latency figure.
pub(crate) const AUTO_BEFORE_DATA: Duration = Duration::from_millis(50);

/// When to hedge an idempotent call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HedgeDelay {
    /// After the method's recent 95th-percentile latency (at least 5 ms).
    #[default]
    Auto,
    /// After this long.
    After(Duration),
    /// Never.
    Off,
}

impl HedgeDelay {
    /// How long an attempt of a method with these recent latencies may take before a hedge.
    pub(crate) fn delay(&self, latency: &LatencyWindow) -> Option<Duration> {
        match self {
            Self::Auto => Some(
                latency
                    .p95()
                    .map_or(AUTO_BEFORE_DATA, |p95| p95.max(AUTO_FLOOR)),
            ),
            Self::After(delay) => Some(*delay),
            Self::Off => None,
        }
    }
}

impl fmt::Display for HedgeDelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::After(delay) => write!(f, "{delay:?}"),
            Self::Off => f.write_str("off"),
        }
    }
}

/// Parses `auto`, `off`, or a duration such as `20ms` (more than zero).
pub fn parse_hedge_delay(text: &str) -> Result<HedgeDelay, String> {
    match text.trim() {
        "auto" => Ok(HedgeDelay::Auto),
        "off" => Ok(HedgeDelay::Off),
        other => parse_positive_duration(other)
            .map(HedgeDelay::After)
            .map_err(|error| format!("{error}; or `auto` (the recent p95) or `off`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_auto_off_and_durations_and_explains_what_it_refuses() {
        assert_eq!(parse_hedge_delay("auto"), Ok(HedgeDelay::Auto));
        assert_eq!(parse_hedge_delay("off"), Ok(HedgeDelay::Off));
        assert_eq!(
            parse_hedge_delay("20ms"),
            Ok(HedgeDelay::After(Duration::from_millis(20)))
        );
        for bad in ["0s", "soon", ""] {
            let error = parse_hedge_delay(bad).unwrap_err();
            assert!(
                error.ends_with("or `auto` (the recent p95) or `off`"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn auto_follows_the_methods_p95_above_a_floor() {
        let window = LatencyWindow::default();
        assert_eq!(HedgeDelay::Auto.delay(&window), Some(AUTO_BEFORE_DATA));
        for _ in 0..100 {
            window.record(Duration::from_micros(300), 0);
        }
        assert_eq!(HedgeDelay::Auto.delay(&window), Some(AUTO_FLOOR));
        let slow = LatencyWindow::default();
        for _ in 0..100 {
            slow.record(Duration::from_millis(40), 0);
        }
        let delay = HedgeDelay::Auto.delay(&slow).unwrap();
        assert!(delay >= Duration::from_millis(40), "{delay:?}");
        assert_eq!(HedgeDelay::Off.delay(&slow), None);
        let fixed = HedgeDelay::After(Duration::from_millis(7));
        assert_eq!(fixed.delay(&slow), Some(Duration::from_millis(7)));
    }
}
