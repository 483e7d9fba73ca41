//! One nCr request from URL segments to answer: validate, ask the Factorial service for n!,
//! (n−r)! and r! concurrently, divide.
//!
//! Computing nCr from three factorial calls is the article's design and the point of the demo
//! (a gateway fanning out to a gRPC service), so it is kept, with its costs made safe: the calls
//! run concurrently, each with the deadline, and the big division (about 40 ms for n = 100000 in
//! a release build) runs off the async runtime, at most one per CPU core at a time, so large
//! requests cannot stall small ones.

use std::num::NonZeroUsize;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::error::Error;
use crate::ncr::{Ncr, combination, parse_input};
use crate::upstream::FactorialUpstream;

/// The largest n whose division runs inline on the runtime: well under 50 µs at this size.
pub const INLINE_MAX_N: u64 = 1_000;

/// Answers nCr requests. Cheap to clone; clones share the channel and the division permits.
#[derive(Clone, Debug)]
pub struct Gateway {
    upstream: FactorialUpstream,
    max_n: u64,
    permits: Arc<Semaphore>,
}

impl Gateway {
    /// Answers for n up to `max_n`, with factorials from `upstream` and at most
    /// `max_big_divisions` big divisions at once.
    pub fn new(upstream: FactorialUpstream, max_n: u64, max_big_divisions: NonZeroUsize) -> Self {
        Self::sharing(upstream, max_n, Self::division_permits(max_big_divisions))
    }

    /// The limit on big divisions at once, for gateways that share one
    /// ([`Gateway::sharing`]).
    pub fn division_permits(max_big_divisions: NonZeroUsize) -> Arc<Semaphore> {
        Arc::new(Semaphore::new(max_big_divisions.get()))
    }

    /// A gateway drawing on `permits` for its big divisions, shared with other gateways (one
    /// per server thread).
    pub fn sharing(upstream: FactorialUpstream, max_n: u64, permits: Arc<Semaphore>) -> Self {
        Self {
            upstream,
            max_n,
            permits,
        }
    }

    /// The largest n accepted.
    pub fn max_n(&self) -> u64 {
        self.max_n
    }

    /// nCr for the URL segments `n` and `r`, tagging the upstream calls with `request_id`.
    pub async fn ncr(&self, n: &str, r: &str, request_id: Option<&str>) -> Result<Ncr, Error> {
        let (n, r) = parse_input(n, r, self.max_n)?;
        let (n_factorial, n_minus_r_factorial, r_factorial) = tokio::try_join!(
            self.upstream.factorial(n, request_id),
            self.upstream.factorial(n - r, request_id),
            self.upstream.factorial(r, request_id),
        )?;
        let divide = move || {
            combination(&n_factorial, &n_minus_r_factorial, &r_factorial)
                .map(|value| Ncr::new(&value))
        };
        if n <= INLINE_MAX_N {
            return divide();
        }
        // The semaphore is never closed, so acquiring only fails if that changes.
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::ShuttingDown)?;
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            divide()
        });
        match task.await {
            Ok(result) => result,
            // A panic is re-raised so it is reported like any other handler panic.
            Err(error) => match error.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(_) => Err(Error::ShuttingDown),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bookstore_client::{UpstreamConfig, UpstreamOptions};
    use bookstore_layers::Metrics;

    use super::*;

    fn gateway_without_upstream(max_n: u64) -> Gateway {
        // A port nothing listens on any more, so a call fails fast — but input errors must be
        // reported before any call is made.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let timeouts = UpstreamOptions {
            upstream_timeout: Duration::from_millis(200),
            upstream_connect_timeout: Duration::from_millis(200),
            ..UpstreamOptions::default()
        };
        let config = UpstreamConfig::new("127.0.0.1", port, &timeouts);
        let upstream = FactorialUpstream::connect_lazy(config, &Metrics::new()).unwrap();
        Gateway::new(upstream, max_n, NonZeroUsize::MIN)
    }

    #[tokio::test]
    async fn input_errors_need_no_upstream() {
        let gateway = gateway_without_upstream(100);
        let error = gateway.ncr("5", "abc", None).await.unwrap_err();
        assert!(matches!(error, Error::NotAWholeNumber { name: "r", .. }));
        let error = gateway.ncr("101", "1", None).await.unwrap_err();
        assert!(matches!(error, Error::AboveLimit { max_n: 100, .. }));
    }

    #[tokio::test]
    async fn an_absent_upstream_is_unavailable() {
        let gateway = gateway_without_upstream(100);
        let error = gateway.ncr("5", "2", None).await.unwrap_err();
        assert!(
            matches!(error, Error::UpstreamUnavailable { .. }),
            "{error:?}"
        );
    }
}
