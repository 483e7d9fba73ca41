//! The client policies' settings, as flags every web app flattens in with its upstream's
//! (`UpstreamOptions`): retries, hedging and outlier ejection. The README's "Client policies"
//! section explains each with its default.

use std::time::Duration;

use clap::Args;

use bookstore_config::parse_positive_duration;

use crate::hedge::{HedgeDelay, parse_hedge_delay};
use crate::outlier::EjectionPolicy;
use crate::retry::{MAX_ATTEMPTS_CAP, RetryPolicy};

/// The longest an endpoint is ejected, however often it fails.
pub(crate) const MAX_EJECTION: Duration = Duration::from_secs(30);
/// gRFC A6's example retry throttling: a bucket of 10 tokens...
pub(crate) const THROTTLE_MAX_TOKENS: u32 = 10;
/// ...refilled by 0.1 token per answered attempt.
pub(crate) const THROTTLE_TOKEN_RATIO_MILLI: u32 = 100;

/// How calls to an upstream are retried, hedged, and kept off failing endpoints.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct ResilienceOptions {
    /// Attempts per idempotent call, the first included (1 to 5; 1 turns retries and hedging
    /// off). Retries go to another endpoint when there is one.
    #[arg(long, env = "UPSTREAM_MAX_ATTEMPTS", default_value = "3", value_parser = parse_max_attempts)]
    pub upstream_max_attempts: u32,

    /// The first retry's backoff bound; each later retry doubles it, up to
    /// --upstream-retry-max-backoff. Each wait is random below its bound (jitter).
    #[arg(long, env = "UPSTREAM_RETRY_BACKOFF", default_value = "25ms", value_parser = parse_positive_duration)]
    pub upstream_retry_backoff: Duration,

    /// The largest retry backoff bound.
    #[arg(long, env = "UPSTREAM_RETRY_MAX_BACKOFF", default_value = "250ms", value_parser = parse_positive_duration)]
    pub upstream_retry_max_backoff: Duration,

    /// When an idempotent call's attempt has not answered, send another to a different
    /// endpoint: `auto` (after the method's recent p95 latency, at least 5ms), a duration, or
    /// `off`.
    #[arg(long, env = "UPSTREAM_HEDGE_DELAY", default_value = "auto", value_parser = parse_hedge_delay)]
    pub upstream_hedge_delay: HedgeDelay,

    /// Consecutive failures (no answer, UNAVAILABLE, shed, outrun by a hedge) that eject an
    /// endpoint from the pool; 0 never ejects. The last endpoint is never ejected.
    #[arg(long, env = "UPSTREAM_EJECT_AFTER", default_value = "3")]
    pub upstream_eject_after: u32,

    /// How long an endpoint's first ejection lasts; it doubles while the endpoint keeps
    /// failing, up to 30s.
    #[arg(long, env = "UPSTREAM_EJECTION_TIME", default_value = "1s", value_parser = parse_positive_duration)]
    pub upstream_ejection_time: Duration,
}

impl Default for ResilienceOptions {
    fn default() -> Self {
        Self {
            upstream_max_attempts: 3,
            upstream_retry_backoff: Duration::from_millis(25),
            upstream_retry_max_backoff: Duration::from_millis(250),
            upstream_hedge_delay: HedgeDelay::Auto,
            upstream_eject_after: 3,
            upstream_ejection_time: Duration::from_secs(1),
        }
    }
}

impl ResilienceOptions {
    /// The retry policy these options make.
    pub(crate) fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.upstream_max_attempts,
            initial_backoff: self.upstream_retry_backoff,
            max_backoff: self
                .upstream_retry_max_backoff
                .max(self.upstream_retry_backoff),
        }
    }

    /// The ejection policy these options make.
    pub(crate) fn ejection(&self) -> EjectionPolicy {
        EjectionPolicy {
            after_failures: self.upstream_eject_after,
            base: self.upstream_ejection_time,
            max: MAX_EJECTION.max(self.upstream_ejection_time),
        }
    }
}

fn parse_max_attempts(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(attempts @ 1..=MAX_ATTEMPTS_CAP) => Ok(attempts),
        _ => Err(format!(
            "must be a whole number from 1 to {MAX_ATTEMPTS_CAP} (gRPC's retry design caps attempts at 5)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        options: ResilienceOptions,
    }

    fn parse(args: &[&str]) -> Result<ResilienceOptions, String> {
        Cli::try_parse_from(std::iter::once("web").chain(args.iter().copied()))
            .map(|cli| cli.options)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        assert_eq!(parse(&[]).unwrap(), ResilienceOptions::default());
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        for attempts in ["0", "6", "three"] {
            let error = parse(&["--upstream-max-attempts", attempts]).unwrap_err();
            assert!(error.contains("from 1 to 5"), "{attempts}: {error}");
        }
        let error = parse(&["--upstream-hedge-delay", "soon"]).unwrap_err();
        assert!(error.contains("`auto`"), "{error}");
        let error = parse(&["--upstream-ejection-time", "0s"]).unwrap_err();
        assert!(error.contains("must be more than zero"), "{error}");
        let options = parse(&[
            "--upstream-max-attempts",
            "1",
            "--upstream-hedge-delay",
            "off",
        ]);
        assert_eq!(options.unwrap().upstream_max_attempts, 1);
    }

    #[test]
    fn a_max_backoff_below_the_initial_one_is_raised_to_it() {
        let options = parse(&["--upstream-retry-backoff", "1s"]).unwrap();
        assert_eq!(options.retry().max_backoff, Duration::from_secs(1));
    }
}
