//! The result of a load test: for people (a short text block) and for scripts (JSON, stable
//! field names with their units in them).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::engine::RunResult;
use crate::error::Error;
use crate::plan::Plan;
use crate::stats::{CurvePoint, LatencySummary};

/// Everything a run measured, with how it was run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Name of the run (`--label`, or the target's name).
    pub label: String,
    /// When the load started, warm-up first: RFC 3339, UTC, to the second. Absent from
    /// results written before loadgen recorded it.
    #[serde(default)]
    pub started_at: Option<String>,
    /// Target kind: `recommend-legacy`, `recommend-v1`, `health`, `homepage`, `ncr`, `http`.
    pub target: String,
    /// Address or URL.
    pub endpoint: String,
    /// Connections.
    pub connections: usize,
    /// In-flight requests per connection.
    pub concurrency: usize,
    /// Client threads.
    pub threads: usize,
    /// Open-loop rate in requests per second; absent for a closed loop.
    pub rate: Option<f64>,
    /// Unmeasured warm-up, seconds.
    pub warmup_s: f64,
    /// Measured time, seconds.
    pub elapsed_s: f64,
    /// Measured requests (successful or not).
    pub requests: u64,
    /// Of which successful.
    pub ok: u64,
    /// Failed requests by kind (`grpc UNAVAILABLE`, `http 503`, `timeout`, ...).
    pub errors: BTreeMap<String, u64>,
    /// HTTP connections reopened after the server closed them.
    pub reconnects: u64,
    /// Measured requests per second.
    pub throughput_rps: f64,
    /// Latency percentiles.
    pub latency: LatencySummary,
    /// Latency percentiles of each outcome apart: `ok`, and each kind of failure as in
    /// `errors`. Absent from results written before loadgen recorded them.
    #[serde(default)]
    pub latency_by_outcome: BTreeMap<String, LatencySummary>,
    /// loadgen's own CPU (user + system) per measured request, microseconds; warm-up included
    /// in the CPU, so slightly pessimistic.
    pub client_cpu_us_per_request: Option<f64>,
    /// The latency-by-percentile curve.
    pub curve: Vec<CurvePoint>,
}

impl Report {
    /// The report of `result`, run as `plan` says.
    pub(crate) fn new(plan: &Plan, result: &RunResult) -> Self {
        let requests = result.recorder.total();
        let elapsed_s = result.elapsed.as_secs_f64();
        let errors = result.recorder.failures();
        Self {
            label: plan.label.clone(),
            started_at: Some(humantime::format_rfc3339_seconds(result.started).to_string()),
            target: plan.target.name().to_owned(),
            endpoint: plan.target.endpoint(),
            connections: plan.connections,
            concurrency: plan.concurrency,
            threads: plan.threads,
            rate: plan.rate,
            warmup_s: plan.warmup.as_secs_f64(),
            elapsed_s,
            requests,
            ok: result.recorder.ok(),
            errors,
            reconnects: result.recorder.reconnects(),
            throughput_rps: if elapsed_s > 0.0 {
                requests as f64 / elapsed_s
            } else {
                0.0
            },
            latency: result.recorder.summary(),
            latency_by_outcome: result.recorder.summary_by_outcome(),
            client_cpu_us_per_request: result
                .client_cpu
                .filter(|_| requests > 0)
                .map(|cpu| cpu.as_secs_f64() * 1e6 / requests as f64),
            curve: result.recorder.curve(),
        }
    }

    /// Failed requests.
    pub fn failed(&self) -> u64 {
        self.requests - self.ok
    }

    /// How the run was made, on one line (for a plot's legend, under the label and endpoint):
    /// how much load, for how long and when — `10 connections × 1 in flight · closed loop ·
    /// 1001 requests in 2.00 s after 1.00 s warm-up · 2025-06-01T12:00:00Z`.
    pub fn context(&self) -> String {
        let mut parts = vec![
            format!(
                "{} × {} in flight",
                plural(self.connections, "connection"),
                self.concurrency
            ),
            self.mode(),
            format!(
                "{} requests in {:.2} s after {:.2} s warm-up",
                self.requests, self.elapsed_s, self.warmup_s
            ),
        ];
        parts.extend(self.started_at.clone());
        parts.join(" · ")
    }

    /// Closed loop, or open at a rate.
    fn mode(&self) -> String {
        match self.rate {
            Some(rate) => format!("open loop at {rate} req/s"),
            None => "closed loop".to_owned(),
        }
    }

    /// Writes the report as pretty JSON.
    pub fn write_json(&self, path: &Path) -> Result<(), Error> {
        let json = serde_json::to_string_pretty(self).expect("a report always serializes");
        std::fs::write(path, json + "\n").map_err(|source| Error::File {
            path: path.to_owned(),
            source,
        })
    }

    /// Reads a report written by [`Report::write_json`].
    pub fn read_json(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::File {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| Error::Json {
            path: path.to_owned(),
            source,
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = self.mode();
        writeln!(f, "{} -> {}", self.label, self.endpoint)?;
        writeln!(
            f,
            "  load        {} x {} in flight, {}, {mode}; {:.2} s measured after {:.2} s warm-up",
            plural(self.connections, "connection"),
            self.concurrency,
            plural(self.threads, "thread"),
            self.elapsed_s,
            self.warmup_s,
        )?;
        writeln!(
            f,
            "  requests    {} ({} ok, {} failed)",
            self.requests,
            self.ok,
            self.failed()
        )?;
        writeln!(f, "  throughput  {:.1} req/s", self.throughput_rps)?;
        let l = &self.latency;
        writeln!(
            f,
            "  latency     p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (min {}, mean {})",
            latency(l.p50_us),
            latency(l.p90_us),
            latency(l.p99_us),
            latency(l.p999_us),
            latency(l.max_us),
            latency(l.min_us),
            latency(l.mean_us),
        )?;
        if let Some(cpu) = self.client_cpu_us_per_request {
            writeln!(f, "  client CPU  {cpu:.1} us per request")?;
        }
        if self.reconnects > 0 {
            writeln!(f, "  reconnects  {}", self.reconnects)?;
        }
        if !self.errors.is_empty() {
            let mut errors = String::new();
            for (kind, count) in &self.errors {
                let _ = write!(
                    errors,
                    "{}{kind}: {count}",
                    if errors.is_empty() { "" } else { ", " }
                );
            }
            writeln!(f, "  errors      {errors}")?;
            // With failures, the latencies of each outcome apart: fast refusals and slow
            // successes mixed in one histogram describe neither.
            for (outcome, l) in &self.latency_by_outcome {
                writeln!(
                    f,
                    "    {outcome:<24} p50 {}  p99 {}  max {}",
                    latency(l.p50_us),
                    latency(l.p99_us),
                    latency(l.max_us),
                )?;
            }
        }
        Ok(())
    }
}

/// `n word`, with an `s` unless `n` is 1.
fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// A latency in microseconds, in the unit that reads best.
fn latency(us: f64) -> String {
    if us < 1_000.0 {
        format!("{us:.0}us")
    } else if us < 1_000_000.0 {
        format!("{:.2}ms", us / 1_000.0)
    } else {
        format!("{:.2}s", us / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::failure::Failure;
    use crate::plan::Stop;
    use crate::stats::Recorder;
    use crate::target::TargetSpec;

    fn sample() -> Report {
        let plan = Plan {
            target: TargetSpec::http("homepage", "http://127.0.0.1:5000/").unwrap(),
            label: "ours".into(),
            connections: 10,
            concurrency: 1,
            threads: 1,
            rate: None,
            stop: Stop::After(Duration::from_secs(2)),
            warmup: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            progress: false,
        };
        let mut recorder = Recorder::default();
        for us in 1..=1_000 {
            recorder.record(Duration::from_micros(us), Ok(()));
        }
        recorder.record(Duration::from_micros(10), Err(Failure::Http(503)));
        let result = RunResult {
            recorder,
            elapsed: Duration::from_secs(2),
            client_cpu: Some(Duration::from_millis(100)),
            started: std::time::UNIX_EPOCH + Duration::from_secs(1_748_779_200),
        };
        Report::new(&plan, &result)
    }

    #[test]
    fn throughput_is_measured_requests_over_measured_time() {
        let report = sample();
        assert_eq!(report.requests, 1_001);
        assert_eq!(report.ok, 1_000);
        assert_eq!(report.failed(), 1);
        assert!((report.throughput_rps - 500.5).abs() < 1e-9);
        let cpu = report.client_cpu_us_per_request.unwrap();
        assert!((cpu - 100_000.0 / 1_001.0).abs() < 1e-6);
        assert_eq!(report.errors["http 503"], 1);
        assert_eq!(report.endpoint, "http://127.0.0.1:5000/");
    }

    #[test]
    fn json_round_trips() {
        let report = sample();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        report.write_json(&path).unwrap();
        let read = Report::read_json(&path).unwrap();
        // Floats come back within serde_json's default parsing precision, not bit for bit.
        assert_eq!(read.requests, report.requests);
        assert_eq!(read.errors, report.errors);
        assert_eq!(read.curve.len(), report.curve.len());
        assert!((read.latency.p99_us - report.latency.p99_us).abs() < 1e-9);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(json["latency"]["p99_us"].is_f64());
        assert_eq!(json["rate"], serde_json::Value::Null);
    }

    #[test]
    fn the_text_names_every_number() {
        let text = sample().to_string();
        for needle in [
            "ours -> http://127.0.0.1:5000/",
            "10 connections x 1 in flight, 1 thread, closed loop",
            "1001 (1000 ok, 1 failed)",
            "500.5 req/s",
            "p50 500us",
            "errors      http 503: 1",
            "    http 503                 p50 10us",
            "    ok                       p50 500us",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
    }

    #[test]
    fn the_context_says_how_hard_how_long_and_when() {
        let report = sample();
        assert_eq!(report.started_at.as_deref(), Some("2025-06-01T12:00:00Z"));
        assert_eq!(
            report.context(),
            "10 connections × 1 in flight · closed loop · \
             1001 requests in 2.00 s after 1.00 s warm-up · 2025-06-01T12:00:00Z"
        );
        let open = Report {
            rate: Some(500.0),
            connections: 1,
            started_at: None,
            ..report
        };
        assert!(
            open.context()
                .contains("1 connection × 1 in flight · open loop at 500 req/s · "),
            "{}",
            open.context()
        );
        assert!(open.context().ends_with("warm-up"), "{}", open.context());
    }

    #[test]
    fn results_written_before_the_start_time_was_kept_still_read() {
        let mut json = serde_json::to_value(sample()).unwrap();
        json.as_object_mut().unwrap().remove("started_at");
        json.as_object_mut().unwrap().remove("latency_by_outcome");
        let report: Report = serde_json::from_value(json).unwrap();
        assert_eq!(report.started_at, None);
        assert!(report.latency_by_outcome.is_empty());
    }

    #[test]
    fn latencies_read_in_their_best_unit() {
        assert_eq!(latency(87.4), "87us");
        assert_eq!(latency(1_234.0), "1.23ms");
        assert_eq!(latency(2_500_000.0), "2.50s");
    }
}
