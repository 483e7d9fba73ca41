//! The command line as clap parses it: the subcommands (one per target, and `plot`), where each
//! target is and what to ask it ([`RecommendArgs`]), and how hard to drive it ([`LoadOptions`],
//! the same for every target). Turning the flags into requests happens here; checking the load
//! options against each other and the target is the plan's (`plan.rs`).
//!
//! TLS to gRPC targets is the platform's client TLS, [`UpstreamTlsSettings`]: the same
//! `--upstream-ca`, `--upstream-cert`, `--upstream-key` and `--upstream-server-name` flags (and
//! environment variables) as every service's calls to its upstreams.

use std::path::PathBuf;
use std::time::Duration;

use bookstore_config::{parse_duration, parse_positive_duration};
use bookstore_proto::legacy;
use bookstore_proto::recommendations::v1;
use bookstore_tls::UpstreamTlsSettings;
use clap::{Args, Parser, Subcommand};

use crate::error::Error;

/// The default address of the Recommendations service.
const DEFAULT_GRPC_ADDR: &str = "http://127.0.0.1:50051";
/// The default marketplace homepage.
const DEFAULT_HOMEPAGE_URL: &str = "http://127.0.0.1:5000/";
/// The default nCr gateway.
const DEFAULT_NCR_URL: &str = "http://127.0.0.1:5001";

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
    // clap reads `{n}` in help text as a line break: the placeholders are written `<N>`, as
    // clap writes the values of flags.
    /// The nCr gateway: HTTP GET `<URL>/api/ncr/<N>/<R>`, "n choose r".
    Ncr {
        /// The gateway's base URL.
        #[arg(long, default_value = DEFAULT_NCR_URL)]
        url: String,
        /// n of nCr: how many items to choose from (`-n` is --requests, as for every target).
        #[arg(long = "ncr-n", value_name = "N", default_value_t = 20)]
        ncr_n: u64,
        /// r of nCr: how many of them to choose.
        #[arg(long = "ncr-r", value_name = "R", default_value_t = 10)]
        ncr_r: u64,
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
    #[arg(short = 'd', long, default_value = "10s", value_parser = parse_positive_duration)]
    pub duration: Duration,

    /// Measure this many requests instead of a duration (as `-n` in ab and h2load).
    #[arg(short = 'n', long, conflicts_with = "duration")]
    pub requests: Option<u64>,

    /// Load sent before measuring starts and not counted (connections warm, caches filled);
    /// `0s` for none. The progress line counts it apart from the measured requests.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub warmup: Duration,

    /// Longest one request may take before it counts as a `timeout` error.
    #[arg(long, default_value = "10s", value_parser = parse_positive_duration)]
    pub timeout: Duration,

    /// HTTP targets: a 2xx answer whose body holds this text fails, counted as `degraded` (e.g.
    /// the homepage's "Recommendations are unavailable right now" notice, served with 200).
    #[arg(long, value_name = "TEXT")]
    pub fail_if_body_contains: Option<String>,

    /// Name of this run in the report, the JSON and plots (default: the target's name).
    #[arg(long)]
    pub label: Option<String>,

    /// Writes the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// Draws the latency-percentile curve as SVG to this file (its path is printed after the
    /// report).
    #[arg(long)]
    pub plot: Option<PathBuf>,

    /// No progress lines on stderr.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Instead of a load test: retry one request until it succeeds (or this long has passed),
    /// print `{"ready_unix_us": ...}` and exit. For measuring a server's start-up time.
    #[arg(long, value_parser = parse_positive_duration)]
    pub wait_ready: Option<Duration>,

    /// TLS to a gRPC target (`--upstream-ca`; with `--upstream-cert` and `--upstream-key`, e.g.
    /// `certs/loadgen.pem` and `.key`, mutual TLS): the platform's client TLS flags.
    #[command(flatten, next_help_heading = "TLS (gRPC targets)")]
    pub tls: UpstreamTlsSettings,
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

    #[test]
    fn takes_the_platforms_tls_flags() {
        let cli = parse(&[
            "health",
            "--upstream-ca",
            "ca.pem",
            "--upstream-cert",
            "loadgen.pem",
            "--upstream-key",
            "loadgen.key",
            "--upstream-server-name",
            "recommendations",
        ])
        .unwrap();
        let Command::Health { load, .. } = cli.command else {
            panic!("not health")
        };
        assert_eq!(
            load.tls,
            UpstreamTlsSettings {
                upstream_ca: Some("ca.pem".into()),
                upstream_cert: Some("loadgen.pem".into()),
                upstream_key: Some("loadgen.key".into()),
                upstream_server_name: Some("recommendations".into()),
            }
        );
        for flag in ["--ca", "--cert", "--key", "--server-name"] {
            assert!(
                parse(&["health", flag, "x"]).is_err(),
                "{flag} is no longer a flag"
            );
        }
    }

    #[test]
    fn requests_and_the_ncr_inputs_do_not_clash() {
        let cli = parse(&["ncr", "-n", "500", "--ncr-n", "30", "--ncr-r", "7"]).unwrap();
        let Command::Ncr {
            ncr_n, ncr_r, load, ..
        } = cli.command
        else {
            panic!("not ncr")
        };
        assert_eq!((ncr_n, ncr_r, load.requests), (30, 7, Some(500)));
        let cli = parse(&["ncr", "--requests", "5"]).unwrap();
        let Command::Ncr {
            ncr_n, ncr_r, load, ..
        } = cli.command
        else {
            panic!("not ncr")
        };
        assert_eq!((ncr_n, ncr_r, load.requests), (20, 10, Some(5)));
        let error = parse(&["ncr", "--n", "5"]).unwrap_err().to_string();
        assert!(error.contains("unexpected argument '--n'"), "{error}");
    }

    #[test]
    fn help_shows_the_ncr_url_whole() {
        let mut command = <Cli as clap::CommandFactory>::command();
        let top = command.render_help().to_string();
        assert!(
            top.contains("HTTP GET `<URL>/api/ncr/<N>/<R>`, \"n choose r\"\n"),
            "{top}"
        );
        let ncr = command
            .find_subcommand_mut("ncr")
            .unwrap()
            .render_help()
            .to_string();
        assert!(ncr.contains("/api/ncr/<N>/<R>"), "{ncr}");
        assert!(
            ncr.contains("--ncr-n <N>") && ncr.contains("--ncr-r <R>"),
            "{ncr}"
        );
        assert!(ncr.contains("-n, --requests <REQUESTS>"), "{ncr}");
    }

    #[test]
    fn no_help_text_holds_what_clap_would_turn_into_a_line_break() {
        let command = <Cli as clap::CommandFactory>::command();
        for sub in std::iter::once(&command).chain(command.get_subcommands()) {
            let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
            assert!(!about.contains("{n}"), "{}: {about}", sub.get_name());
            for arg in sub.get_arguments() {
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                assert!(!help.contains("{n}"), "{}: {help}", arg.get_id());
            }
        }
    }

    #[test]
    fn durations_that_cannot_be_zero_are_refused_at_start() {
        for flag in ["--duration", "--timeout", "--wait-ready"] {
            let error = parse(&["health", flag, "0s"]).unwrap_err().to_string();
            assert!(error.contains("must be more than zero"), "{flag}: {error}");
        }
        let error = parse(&["health", "--timeout", "banana"])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("not a duration: use a number with a unit, such as 250ms, 2s or 1m"),
            "{error}"
        );
        let Command::Health { load, .. } = parse(&["health", "--warmup", "0s"]).unwrap().command
        else {
            panic!("not health")
        };
        assert_eq!(load.warmup, Duration::ZERO, "no warm-up is a choice");
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
