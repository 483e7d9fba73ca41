//! A load generator for Online Books For You, in the manner of `ghz` and the load generator of
//! Google's Online Boutique: it drives the Recommendations service (legacy or v1 API, or its
//! health check) over gRPC, and the marketplace homepage, the nCr gateway or any URL over
//! HTTP/1.1, at a given number of connections and in-flight requests per connection, closed-loop
//! or at a fixed rate, for a duration or a number of requests.
//!
//! It reports throughput, latency percentiles (p50, p90, p99, p99.9, max, from an HDR
//! histogram) and errors by gRPC status or HTTP status; writes JSON for scripts; and draws the
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
//! - `plot`: the latency-by-percentile SVG;
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

use std::path::Path;

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

/// Writes `reports` as one latency-percentile SVG plot.
fn write_plot(path: &Path, title: &str, reports: &[Report]) -> Result<(), Error> {
    let series: Vec<plot::Series<'_>> = reports
        .iter()
        .map(|report| plot::Series {
            label: &report.label,
            curve: &report.curve,
        })
        .collect();
    std::fs::write(path, plot::svg(title, &series)).map_err(|source| Error::File {
        path: path.to_owned(),
        source,
    })
}

/// What the command line asked for: a load test's report, a readiness time, or a plot.
#[derive(Debug)]
pub enum Outcome {
    /// A load test ran.
    Load(Box<Report>),
    /// `--wait-ready` saw the target answer.
    Ready(Ready),
    /// `plot` wrote its file.
    Plotted,
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
        Command::Ncr { url, n, r, load } => {
            let url = format!("{}/api/ncr/{n}/{r}", url.trim_end_matches('/'));
            (TargetSpec::http("ncr", &url)?, load)
        }
        Command::Http { url, load } => (TargetSpec::http("http", &url)?, load),
        Command::Plot { out, title, inputs } => {
            let reports = inputs
                .iter()
                .map(|path| Report::read_json(path))
                .collect::<Result<Vec<_>, _>>()?;
            write_plot(&out, &title, &reports)?;
            return Ok(Outcome::Plotted);
        }
    };
    let plan = load.plan(target)?;
    if let Some(timeout) = load.wait_ready {
        return wait_ready(&plan.target, timeout).map(Outcome::Ready);
    }
    let report = run_load(&plan)?;
    if let Some(path) = &load.json {
        report.write_json(path)?;
    }
    if let Some(path) = &load.plot {
        write_plot(
            path,
            &format!("{} latency", report.label),
            std::slice::from_ref(&report),
        )?;
    }
    Ok(Outcome::Load(Box::new(report)))
}
