//! A load test as the engine runs it: a [`Plan`] (and when it stops, [`Stop`]), resolved from
//! the command line's [`LoadOptions`] by [`LoadOptions::plan`]. Every check of the load options
//! happens here, so a bad combination fails with one clear line before any connection is opened.

use std::time::Duration;

use crate::cli::LoadOptions;
use crate::error::Error;
use crate::target::TargetSpec;

/// When a load test stops measuring.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stop {
    /// After this long.
    After(Duration),
    /// After this many requests.
    Count(u64),
}

/// A validated load test, ready for [`crate::run_load`].
#[derive(Clone, Debug)]
pub struct Plan {
    /// What to call.
    pub target: TargetSpec,
    /// Name in reports.
    pub label: String,
    /// Connections.
    pub connections: usize,
    /// In-flight requests per connection.
    pub concurrency: usize,
    /// Client threads (never more than connections).
    pub threads: usize,
    /// Open-loop requests per second, if any.
    pub rate: Option<f64>,
    /// When measuring stops.
    pub stop: Stop,
    /// Unmeasured load first.
    pub warmup: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Print a progress line every second.
    pub progress: bool,
}

impl LoadOptions {
    /// Checks the options against `target` and resolves them into a [`Plan`].
    pub fn plan(&self, target: TargetSpec) -> Result<Plan, Error> {
        let target = match self.tls.load()? {
            Some(tls) => target.with_tls(&tls)?,
            None => target,
        };
        let target = match &self.fail_if_body_contains {
            Some(text) => target.failing_if_body_contains(text)?,
            None => target,
        };
        if self.connections == 0 || self.concurrency == 0 || self.threads == 0 {
            return Err(Error::Invalid(
                "--connections, --concurrency and --threads must be at least 1".into(),
            ));
        }
        if target.is_http() && self.concurrency > 1 {
            return Err(Error::Invalid(
                "HTTP/1.1 carries one request at a time per connection: use --connections, \
                 not --concurrency"
                    .into(),
            ));
        }
        if let Some(rate) = self.rate.filter(|rate| !(rate.is_finite() && *rate > 0.0)) {
            return Err(Error::Invalid(format!(
                "--rate must be a positive number, got {rate}"
            )));
        }
        if self.requests == Some(0) || (self.requests.is_none() && self.duration.is_zero()) {
            return Err(Error::Invalid(
                "--duration and --requests must be above zero".into(),
            ));
        }
        Ok(Plan {
            label: self
                .label
                .clone()
                .unwrap_or_else(|| target.name().to_owned()),
            target,
            connections: self.connections,
            concurrency: self.concurrency,
            threads: self.threads.min(self.connections),
            rate: self.rate,
            stop: match self.requests {
                Some(count) => Stop::Count(count),
                None => Stop::After(self.duration),
            },
            warmup: self.warmup,
            timeout: self.timeout,
            progress: !self.quiet,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("loadgen").chain(args.iter().copied()))
    }

    fn load(cli: Cli) -> (TargetSpec, LoadOptions) {
        match cli.command {
            Command::RecommendLegacy { recommend, load } => (
                TargetSpec::recommend_legacy(&recommend.addr, recommend.legacy_request().unwrap())
                    .unwrap(),
                load,
            ),
            Command::Homepage { url, load } => (TargetSpec::http("homepage", &url).unwrap(), load),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn resolves_a_closed_loop_duration_plan() {
        let (target, options) = load(
            parse(&[
                "recommend-legacy",
                "-c",
                "10",
                "-m",
                "20",
                "-t",
                "4",
                "-d",
                "2s",
            ])
            .unwrap(),
        );
        let plan = options.plan(target).unwrap();
        assert_eq!(plan.connections, 10);
        assert_eq!(plan.concurrency, 20);
        assert_eq!(plan.threads, 4);
        assert_eq!(plan.stop, Stop::After(Duration::from_secs(2)));
        assert_eq!(plan.label, "recommend-legacy");
        assert_eq!(plan.rate, None);
    }

    #[test]
    fn never_runs_more_threads_than_connections() {
        let (target, options) = load(parse(&["recommend-legacy", "-c", "2", "-t", "8"]).unwrap());
        assert_eq!(options.plan(target).unwrap().threads, 2);
    }

    #[test]
    fn requests_replace_the_duration() {
        let (target, options) = load(parse(&["recommend-legacy", "-n", "500"]).unwrap());
        assert_eq!(options.plan(target).unwrap().stop, Stop::Count(500));
        assert!(parse(&["recommend-legacy", "-n", "5", "-d", "1s"]).is_err());
    }

    #[test]
    fn refuses_pipelining_over_http1() {
        let (target, options) = load(parse(&["homepage", "-c", "2", "-m", "2"]).unwrap());
        assert!(matches!(options.plan(target), Err(Error::Invalid(_))));
    }

    #[test]
    fn tls_needs_readable_files_and_a_grpc_target() {
        let (target, options) =
            load(parse(&["recommend-legacy", "--upstream-ca", "/no/ca.pem"]).unwrap());
        assert!(matches!(options.plan(target), Err(Error::Tls(_))));
        assert!(
            parse(&["recommend-legacy", "--upstream-cert", "c.pem"]).is_err(),
            "--upstream-cert needs --upstream-ca and --upstream-key"
        );
    }

    #[test]
    fn a_body_check_is_for_http_targets_only() {
        let text = "--fail-if-body-contains=unavailable";
        let (target, options) = load(parse(&["homepage", text]).unwrap());
        assert!(options.plan(target).is_ok());
        let (target, options) = load(parse(&["recommend-legacy", text]).unwrap());
        assert!(matches!(options.plan(target), Err(Error::Invalid(_))));
        let (target, options) = load(parse(&["homepage", "--fail-if-body-contains="]).unwrap());
        assert!(matches!(options.plan(target), Err(Error::Invalid(_))));
    }

    #[test]
    fn refuses_nonsense_rates() {
        for rate in ["--rate=0", "--rate=-5", "--rate=NaN"] {
            let (target, options) = load(parse(&["recommend-legacy", rate]).unwrap());
            assert!(options.plan(target).is_err(), "rate {rate}");
        }
    }
}
