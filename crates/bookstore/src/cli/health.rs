//! `bookstore health`: every service's health at a glance, all checked at once — the gRPC
//! services through `grpc.health.v1.Health/Check` (the server's overall status), the web apps
//! through `GET /healthz` — as a table of service, address, status and latency. The exit status
//! is 1 if any service is not serving.
//!
//! ```text
//! $ bookstore health
//!   SERVICE          ADDRESS                 STATUS                            LATENCY
//!   marketplace      http://localhost:5000   serving                            5.0 ms
//!   ncr-gateway      http://localhost:5001   serving                            5.2 ms
//!   recommendations  grpc://localhost:50051  serving                            3.4 ms
//!   factorial        grpc://localhost:50052  unreachable (connection refused)        -
//!   demo             grpc://localhost:50053  serving                            2.1 ms
//! bookstore: 1 of 5 services not serving: factorial
//! ```

use std::io::{self, Write};
use std::time::{Duration, Instant};

use bookstore_config::parse_positive_duration;
use bookstore_tls::UpstreamTlsSettings;
use clap::Args;
use http::StatusCode;
use serde::Serialize;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::cli::grpc::Grpc;
use crate::cli::output::{OutputArgs, Report, table};
use crate::cli::{
    CliError, DemoAt, FactorialAt, MarketplaceAt, NcrGatewayAt, RecommendationsAt, Target, web,
};

/// Options of `bookstore health`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct HealthArgs {
    /// The marketplace.
    #[command(flatten)]
    pub marketplace: MarketplaceAt,

    /// The nCr gateway.
    #[command(flatten)]
    pub ncr_gateway: NcrGatewayAt,

    /// Recommendations.
    #[command(flatten)]
    pub recommendations: RecommendationsAt,

    /// Factorial.
    #[command(flatten)]
    pub factorial: FactorialAt,

    /// Demo.
    #[command(flatten)]
    pub demo: DemoAt,

    /// Deadline of each check (they run at the same time).
    #[arg(
        long,
        env = "BOOKSTORE_TIMEOUT",
        default_value = "3s",
        value_parser = parse_positive_duration
    )]
    pub timeout: Duration,

    /// TLS or mutual TLS to the gRPC services.
    #[command(flatten)]
    pub tls: UpstreamTlsSettings,

    /// Text or JSON.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What a check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Health {
    /// It answered, serving.
    Serving,
    /// It answered, not serving (shutting down, say).
    NotServing,
    /// Nothing could be reached at its address.
    Unreachable,
    /// No answer within the deadline.
    Timeout,
    /// Something else went wrong (the answer could not be read, say).
    Error,
}

/// One service's check.
#[derive(Debug, Serialize)]
struct Check {
    service: &'static str,
    address: String,
    status: Health,
    /// How long the answer took, connecting included; none without an answer.
    latency_ms: Option<f64>,
    /// Why it is not serving.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

impl Check {
    fn answered(target: &Target, scheme: &str, started: Instant, health: Health) -> Self {
        Self {
            service: target.service,
            address: format!("{scheme}://{target}"),
            status: health,
            // To the microsecond: finer is noise.
            latency_ms: Some((started.elapsed().as_secs_f64() * 1e6).round() / 1e3),
            detail: None,
        }
    }

    fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The check of a service whose call failed with `error`: with a latency only if it
    /// answered.
    fn failed(target: &Target, scheme: &str, started: Instant, error: CliError) -> Self {
        let (status, detail) = match error {
            CliError::NotRunning { .. } => (Health::Unreachable, "connection refused".to_owned()),
            CliError::Unreachable { reason, .. } => (Health::Unreachable, reason),
            CliError::Timeout { timeout, .. } => {
                (Health::Timeout, format!("no answer within {timeout:?}"))
            }
            error => (Health::Error, error.to_string()),
        };
        let mut check = Self::answered(target, scheme, started, status).detail(detail);
        if status != Health::Error {
            check.latency_ms = None;
        }
        check
    }
}

/// Every check.
#[derive(Debug, Serialize)]
struct HealthReport {
    /// Whether every service is serving.
    serving: bool,
    services: Vec<Check>,
}

impl Report for HealthReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let rows: Vec<Vec<String>> = self
            .services
            .iter()
            .map(|check| {
                let status = match check.status {
                    Health::Serving => "serving",
                    Health::NotServing => "NOT SERVING",
                    Health::Unreachable => "unreachable",
                    Health::Timeout => "timeout",
                    Health::Error => "error",
                };
                let status = match &check.detail {
                    Some(detail) => format!("{status} ({detail})"),
                    None => status.to_owned(),
                };
                let latency = check
                    .latency_ms
                    .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.1} ms"));
                vec![
                    check.service.to_owned(),
                    check.address.clone(),
                    status,
                    latency,
                ]
            })
            .collect();
        let header = ["SERVICE", "ADDRESS", "STATUS", "LATENCY"];
        table(out, &header, &[false, false, false, true], &rows)
    }
}

/// A gRPC service's overall status.
async fn check_grpc(target: Target, timeout: Duration, tls: &UpstreamTlsSettings) -> Check {
    let started = Instant::now();
    let answer = async {
        let grpc = Grpc::new(target.clone(), timeout, tls)?;
        let request = grpc.request(HealthCheckRequest {
            service: String::new(),
        });
        let response = HealthClient::new(grpc.channel.clone())
            .check(request)
            .await
            .map_err(|status| grpc.error(&status))?;
        Ok::<_, CliError>(response.into_inner().status())
    };
    match answer.await {
        Ok(ServingStatus::Serving) => Check::answered(&target, "grpc", started, Health::Serving),
        Ok(status) => Check::answered(&target, "grpc", started, Health::NotServing)
            .detail(status.as_str_name()),
        Err(error) => Check::failed(&target, "grpc", started, error),
    }
}

/// A web app's `/healthz`.
async fn check_http(target: Target, timeout: Duration) -> Check {
    let started = Instant::now();
    match web::get(&target, "/healthz", timeout).await {
        Ok(answer) if answer.status == StatusCode::OK => {
            Check::answered(&target, "http", started, Health::Serving)
        }
        Ok(answer) => {
            let body = String::from_utf8_lossy(&answer.body);
            let said = body.lines().next().unwrap_or_default().trim();
            let detail = match said {
                "" => answer.status.to_string(),
                said => format!("{}: {said}", answer.status),
            };
            Check::answered(&target, "http", started, Health::NotServing).detail(detail)
        }
        Err(error) => Check::failed(&target, "http", started, error),
    }
}

/// Checks every service at once and writes what each said to `out`; fails if any is not
/// serving.
pub async fn run(args: &HealthArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let timeout = args.timeout;
    let (marketplace, ncr_gateway, recommendations, factorial, demo) = tokio::join!(
        check_http(args.marketplace.target(), timeout),
        check_http(args.ncr_gateway.target(), timeout),
        check_grpc(args.recommendations.target(), timeout, &args.tls),
        check_grpc(args.factorial.target(), timeout, &args.tls),
        check_grpc(args.demo.target(), timeout, &args.tls),
    );
    let services = vec![marketplace, ncr_gateway, recommendations, factorial, demo];
    let down: Vec<&'static str> = services
        .iter()
        .filter(|check| check.status != Health::Serving)
        .map(|check| check.service)
        .collect();
    let report = HealthReport {
        serving: down.is_empty(),
        services,
    };
    args.output.write(&report, out)?;
    if down.is_empty() {
        Ok(())
    } else {
        Err(CliError::NotServing {
            total: report.services.len(),
            services: down,
        })
    }
}
