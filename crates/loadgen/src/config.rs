//! The command line: which target to drive and how hard, resolved into a [`Plan`] the engine
//! runs. Every check of the flags happens here, so a bad combination fails with one clear line
//! before any connection is opened.

use std::path::PathBuf;
use std::time::Duration;

use bookstore_platform::tls::ClientTls;
use bookstore_proto::legacy;
use bookstore_proto::recommendations::v1;
use clap::{Args, Parser, Subcommand};

use crate::error::Error;
use crate::target::TargetSpec;

/// The default address of the Recommendations service.
pub const DEFAULT_GRPC_ADDR: &str = "http://127.0.0.1:50051";
/// The default marketplace homepage.
pub const DEFAULT_HOMEPAGE_URL: &str = "http://127.0.0.1:5000/";
/// The default nCr gateway.
pub const DEFAULT_NCR_URL: &str = "http://127.0.0.1:5001";

/// Drives a gRPC or HTTP service with load and reports throughput, latency percentiles and
/// errors.
#[derive(Parser, Debug)]
#[command(name = "loadgen", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A target to load (or the `plot` tool).
#[derive(Subcommand, Debug)]
pub enum Command {
    /// The tutorial's legacy `Recommendations/Recommend` (gRPC).
    RecommendLegacy {
        /// Where and what to ask.
        #[command(flatten)]
        recommend: RecommendArgs,
        /// How hard, for how long.
        #[command(flatten)]
        load: LoadOptions,
    },
    /// `bookstore.recommendations.v1.RecommendationsService/Recommend` (gRPC).
    RecommendV1 {
        /// Where and what to ask.
        #[command(flatten)]
        recommend: RecommendArgs,
        /// How hard, for how long.
        #[command(flatten)]
        load: LoadOptions,
    },
    /// `grpc.health.v1.Health/Check` (gRPC); with `--wait-ready`, the readiness probe.
    Health {
        /// gRPC server address.
        #[arg(long, default_value = DEFAULT_GRPC_ADDR)]
        addr: String,
        /// Service whose status to ask for ("" is the whole server).
        #[arg(long, default_value = "")]
        service: String,
        /// How hard, for how long.
        #[command(flatten)]
        load: LoadOptions,
    },
    /// The marketplace homepage (HTTP GET).
    Homepage {
        /// The page's URL.
        #[arg(long, default_value = DEFAULT_HOMEPAGE_URL)]
        url: String,
        /// How hard, for how long.
        #[command(flatten)]
        load: LoadOptions,
    },
    /// The nCr gateway: HTTP GET `{url}/api/ncr/{n}/{r}`.
    Ncr {
        /// The gateway's base URL.
        #[arg(long, default_value = DEFAULT_NCR_URL)]
        url: String,
        /// n.
        #[arg(long, default_value_t = 20)]
        n: u64,
        /// r.
        #[arg(long, default_value_t = 10)]
        r: u64,
        /// How hard, for how long.
        #[command(flatten)]
        load: LoadOptions,
    },
    /// Any URL (HTTP GET).
    Http {
        /// The URL, e.g. http://127.0.0.1:5000/healthz.
        url: String,
        /// How hard, for how long.
        #[command(flatten)]
        load: LoadOptions,
    },
    /// Draws saved `--json` results into one latency-percentile SVG, one line per run.
    Plot {
        /// The SVG file to write.
        #[arg(long)]
        out: PathBuf,
        /// Title above the plot.
        #[arg(long, default_value = "Latency by percentile")]
        title: String,
        /// JSON results written by `--json`.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
}

/// Where to send Recommend and what to ask for.
#[derive(Args, Debug, Clone)]
pub struct RecommendArgs {
    /// gRPC server address.
    #[arg(long, default_value = DEFAULT_GRPC_ADDR)]
    pub addr: String,
    /// `user_id` of every request.
    #[arg(long, default_value_t = 1)]
    pub user_id: i32,
    /// Category: a proto enum name (`MYSTERY`, `CATEGORY_MYSTERY`) or number; default mystery.
    #[arg(long)]
    pub category: Option<String>,
    /// `max_results` of every request.
    #[arg(long, default_value_t = 3)]
    pub max_results: i32,
}

/// How hard to drive the target and for how long; the same for every target.
#[derive(Args, Debug, Clone)]
pub struct LoadOptions {
    /// Connections to open (gRPC: one channel each; HTTP/1.1: one keep-alive connection each).
    #[arg(short = 'c', long, default_value_t = 1)]
    pub connections: usize,

    /// Requests in flight at once on each connection (gRPC streams; HTTP/1.1 allows only 1).
    /// In flight in total: connections × concurrency.
    #[arg(short = 'm', long, default_value_t = 1)]
    pub concurrency: usize,

    /// Client threads, each running its share of the connections on its own single-threaded
    /// runtime. One is the least intrusive on a small machine shared with the server.
    #[arg(short = 't', long, default_value_t = 1)]
    pub threads: usize,

    /// Open loop: send this many requests per second on a fixed schedule, whatever the
    /// responses do; latency counts from each request's scheduled time when it had to queue.
    /// Without it, the loop is closed: each stream sends its next request when the last returns.
    #[arg(long)]
    pub rate: Option<f64>,

    /// How long to measure, after the warm-up (e.g. 10s, 500ms).
    #[arg(short = 'd', long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,

    /// Measure this many requests instead of a duration.
    #[arg(short = 'n', long, conflicts_with = "duration")]
    pub requests: Option<u64>,

    /// Load sent before measuring starts and not counted (connections warm, caches filled).
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub warmup: Duration,

    /// Longest one request may take before it counts as a `timeout` error.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,

    /// Name of this run in the report, the JSON and plots (default: the target's name).
    #[arg(long)]
    pub label: Option<String>,

    /// Writes the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// Draws the latency-percentile curve as SVG to this file.
    #[arg(long)]
    pub plot: Option<PathBuf>,

    /// No progress lines on stderr.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Instead of a load test: retry one request until it succeeds (or this long has passed),
    /// print `{"ready_unix_us": ...}` and exit. For measuring a server's start-up time.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub wait_ready: Option<Duration>,

    /// CA certificate (PEM) to verify a gRPC server with: calls go over TLS.
    #[arg(long, help_heading = "TLS (gRPC targets)")]
    pub ca: Option<PathBuf>,

    /// Client certificate (PEM) to present, for mutual TLS (e.g. `certs/loadgen.pem`).
    #[arg(
        long,
        help_heading = "TLS (gRPC targets)",
        requires = "ca",
        requires = "key"
    )]
    pub cert: Option<PathBuf>,

    /// Private key (PEM) of --cert.
    #[arg(long, help_heading = "TLS (gRPC targets)", requires = "cert")]
    pub key: Option<PathBuf>,

    /// Name the server's certificate must carry (default: the host dialled).
    #[arg(long, help_heading = "TLS (gRPC targets)", requires = "ca")]
    pub server_name: Option<String>,
}

/// When a load test stops measuring.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stop {
    /// After this long.
    After(Duration),
    /// After this many requests.
    Count(u64),
}

/// A validated load test, ready for [`crate::engine::run`].
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
        let target = match &self.ca {
            Some(ca) => target.with_tls(&ClientTls::load(
                ca,
                self.cert.as_deref(),
                self.key.as_deref(),
                self.server_name.as_deref(),
            )?)?,
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

impl RecommendArgs {
    /// The legacy request these flags describe.
    pub fn legacy_request(&self) -> Result<legacy::RecommendationRequest, Error> {
        let category = match &self.category {
            None => legacy::BookCategory::Mystery as i32,
            Some(text) => parse_enum(text, legacy::BookCategory::from_str_name)?,
        };
        Ok(legacy::RecommendationRequest {
            user_id: self.user_id,
            category,
            max_results: self.max_results,
        })
    }

    /// The v1 request these flags describe.
    pub fn v1_request(&self) -> Result<v1::RecommendRequest, Error> {
        let category = match &self.category {
            None => v1::Category::Mystery as i32,
            Some(text) => parse_enum(text, v1::Category::from_str_name)?,
        };
        Ok(v1::RecommendRequest {
            user_id: self.user_id.into(),
            category,
            max_results: self.max_results,
        })
    }
}

/// A proto enum value given by number or by (case-insensitive) name.
fn parse_enum<E: Into<i32>>(text: &str, by_name: fn(&str) -> Option<E>) -> Result<i32, Error> {
    text.parse::<i32>()
        .ok()
        .or_else(|| by_name(&text.to_ascii_uppercase()).map(Into::into))
        .ok_or_else(|| Error::Invalid(format!("unknown category {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let (target, options) = load(parse(&["recommend-legacy", "--ca", "/no/ca.pem"]).unwrap());
        assert!(matches!(options.plan(target), Err(Error::Tls(_))));
        assert!(
            parse(&["recommend-legacy", "--cert", "c.pem"]).is_err(),
            "--cert needs --ca and --key"
        );
    }

    #[test]
    fn refuses_nonsense_rates() {
        for rate in ["--rate=0", "--rate=-5", "--rate=NaN"] {
            let (target, options) = load(parse(&["recommend-legacy", rate]).unwrap());
            assert!(options.plan(target).is_err(), "rate {rate}");
        }
    }

    #[test]
    fn parses_categories_by_name_or_number() {
        let args = |category: &str| RecommendArgs {
            addr: DEFAULT_GRPC_ADDR.into(),
            user_id: 1,
            category: Some(category.into()),
            max_results: 3,
        };
        assert_eq!(args("self_help").legacy_request().unwrap().category, 2);
        assert_eq!(args("CATEGORY_FANTASY").v1_request().unwrap().category, 4);
        assert_eq!(args("7").v1_request().unwrap().category, 7);
        assert!(args("poetry").legacy_request().is_err());
        let default = RecommendArgs {
            category: None,
            ..args("0")
        };
        assert_eq!(default.legacy_request().unwrap().category, 0);
        assert_eq!(default.v1_request().unwrap().category, 1);
    }
}
