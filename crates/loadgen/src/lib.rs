//! A load generator for Online Books For You, in the manner of `ghz` and the load generator of
//! Google's Online Boutique: it drives the Recommendations service (legacy or v1 API, or its
//! health check) over gRPC, and the marketplace homepage, the nCr gateway or any URL over
//! HTTP/1.1, at a given number of connections and in-flight requests per connection, closed-loop
//! or at a fixed rate, for a duration or a number of requests.
//!
//! It reports throughput, latency percentiles (p50, p90, p99, p99.9, max, from an HDR
//! histogram, also per outcome) and errors by gRPC status or HTTP status (or `degraded`: a 2xx
//! page holding `--fail-if-body-contains`); writes JSON for scripts; and draws the
//! latency-by-percentile curve as SVG. `bench/run.sh` uses it to compare our services with the
//! Python original and with a bare tonic server (see `BENCHMARKS.md`).
//!
//! ```text
//! loadgen recommend-legacy --addr http://127.0.0.1:50051 -c 10 -m 10 -d 10s --json out.json
//! loadgen homepage --url http://127.0.0.1:5000/ -c 50 --rate 2000 -d 30s --plot homepage.svg
//! loadgen health --addr http://127.0.0.1:50051 --wait-ready 5s
//! ```
//!
//! The modules, each one concern, in the order a run goes through them:
//! - `cli`: the command line as clap parses it ([`Cli`], [`Command`], [`RecommendArgs`],
//!   [`LoadOptions`]), TLS flags included (the platform's `UpstreamTlsSettings`);
//! - `plan`: the load options checked and resolved into a [`Plan`] (and its [`Stop`]);
//! - `target`: what to call ([`TargetSpec`]): gRPC endpoints (plaintext or TLS) and HTTP URLs;
//! - `caller`: one connection's handle that sends requests to a target;
//! - `failure`: how a request failed, named as the specifications name it;
//! - `engine`: the run: client threads, connections and streams, results merged;
//! - `schedule`: when requests are sent and which are measured (closed loop, or the open
//!   loop's fixed schedule and its pacer);
//! - `progress`: the once-a-second progress line;
//! - `stats`: the HDR histogram of latencies and the failures by kind
//!   ([`LatencySummary`], [`CurvePoint`]);
//! - `report`: the [`Report`], as text and JSON;
//! - `plot`: the latency-by-percentile SVG (log-scale latency, each run's parameters beside
//!   its line), and [`Written`], where loadgen put a file;
//! - `ready`: `--wait-ready`, the readiness probe ([`wait_ready`], [`Ready`]);
//! - `error`: why loadgen could not run ([`Error`]).

mod caller;
mod cli;
mod engine;
mod error;
mod failure;
mod plan;
mod plot;
mod progress;
mod ready;
mod report;
mod schedule;
mod stats;
mod target;

use std::fmt;
use std::path::{Path, PathBuf};

pub use cli::{Cli, Command, LoadOptions, RecommendArgs};
pub use error::Error;
pub use plan::{Plan, Stop};
pub use ready::{Ready, wait_ready};
pub use report::Report;
pub use stats::{CurvePoint, LatencySummary};
pub use target::TargetSpec;

/// Runs a load test and reports on it.
pub fn run_load(plan: &Plan) -> Result<Report, Error> {
    let result = engine::run(plan)?;
    Ok(Report::new(plan, &result))
}

/// Writes `reports` as one latency-percentile SVG plot, each run's parameters beside its line.
fn write_plot(path: &Path, title: &str, reports: &[Report]) -> Result<Written, Error> {
    let contexts: Vec<String> = reports.iter().map(Report::context).collect();
    let series: Vec<plot::Series<'_>> = reports
        .iter()
        .zip(&contexts)
        .map(|(report, context)| plot::Series {
            label: &report.label,
            endpoint: &report.endpoint,
            context,
            curve: &report.curve,
        })
        .collect();
    std::fs::write(path, plot::svg(title, &series)).map_err(|source| Error::File {
        path: path.to_owned(),
        source,
    })?;
    Ok(Written::new("plot", path))
}

/// A file loadgen wrote, and where: printed after the report, so a `--plot` or `--json` given
/// a relative path is found again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// What it holds: `json` or `plot`.
    pub kind: &'static str,
    /// Where it is, absolute.
    pub path: PathBuf,
}

impl Written {
    /// `path` (made absolute against the working directory) holding `kind`.
    fn new(kind: &'static str, path: &Path) -> Self {
        Self {
            kind,
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
        }
    }
}

impl fmt::Display for Written {
    /// A line in the report's layout: `  plot        /home/me/homepage.svg`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "  {:<11} {}", self.kind, self.path.display())
    }
}

/// What the command line asked for: a load test's report, a readiness time, or a plot.
#[derive(Debug)]
pub enum Outcome {
    /// A load test ran.
    Load {
        /// What it measured.
        report: Box<Report>,
        /// The files it wrote (`--json`, `--plot`).
        written: Vec<Written>,
    },
    /// `--wait-ready` saw the target answer.
    Ready(Ready),
    /// `plot` wrote its file.
    Plotted {
        /// The SVG.
        written: Written,
        /// How many runs it draws.
        runs: usize,
    },
}

/// Carries out a parsed command line: runs the test (or the readiness probe, or the plot) and
/// writes the requested files. Printing is the caller's.
pub fn execute(cli: Cli) -> Result<Outcome, Error> {
    let (target, load) = match cli.command {
        Command::RecommendLegacy { recommend, load } => (
            TargetSpec::recommend_legacy(&recommend.addr, recommend.legacy_request()?)?,
            load,
        ),
        Command::RecommendV1 { recommend, load } => (
            TargetSpec::recommend_v1(&recommend.addr, recommend.v1_request()?)?,
            load,
        ),
        Command::Health {
            addr,
            service,
            load,
        } => (TargetSpec::health(&addr, &service)?, load),
        Command::Homepage { url, load } => (TargetSpec::http("homepage", &url)?, load),
        Command::Ncr {
            url,
            ncr_n,
            ncr_r,
            load,
        } => {
            let url = format!("{}/api/ncr/{ncr_n}/{ncr_r}", url.trim_end_matches('/'));
            (TargetSpec::http("ncr", &url)?, load)
        }
        Command::Http { url, load } => (TargetSpec::http("http", &url)?, load),
        Command::Plot { out, title, inputs } => {
            let reports = inputs
                .iter()
                .map(|path| Report::read_json(path))
                .collect::<Result<Vec<_>, _>>()?;
            let written = write_plot(&out, &title, &reports)?;
            return Ok(Outcome::Plotted {
                written,
                runs: reports.len(),
            });
        }
    };
    let plan = load.plan(target)?;
    if let Some(timeout) = load.wait_ready {
        return wait_ready(&plan.target, timeout).map(Outcome::Ready);
    }
    let report = run_load(&plan)?;
    let mut written = Vec::new();
    if let Some(path) = &load.json {
        report.write_json(path)?;
        written.push(Written::new("json", path));
    }
    if let Some(path) = &load.plot {
        written.push(write_plot(
            path,
            &format!("{} latency by percentile", report.label),
            std::slice::from_ref(&report),
        )?);
    }
    Ok(Outcome::Load {
        report: Box::new(report),
        written,
    })
}
