//! The process's Prometheus registry and the metric families the middleware records into.
//!
//! Names follow the grpc-ecosystem convention (go-grpc-prometheus / go-grpc-middleware), so
//! existing dashboards and alerts work unchanged:
//!
//! | series | labels |
//! |---|---|
//! | `grpc_server_started_total` | `grpc_type`, `grpc_service`, `grpc_method` |
//! | `grpc_server_handled_total` | the same plus `grpc_code` |
//! | `grpc_server_msg_received_total`, `grpc_server_msg_sent_total` | as started |
//! | `grpc_server_handling_seconds` (histogram) | as started |
//! | `grpc_server_in_flight_requests` (gauge) | — |
//! | `grpc_client_*` | the same, for outgoing calls |
//! | `http_requests_total` | `method`, `route` (the route template), `status` |
//! | `http_request_duration_seconds` (histogram) | `method`, `route` |
//! | `http_requests_in_flight` (gauge) | — |
//!
//! The hot path never builds a label set: middleware resolves a [`MethodMetrics`] per method
//! once, and per status code once, and then only touches atomics and the histogram.

use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Metric, Registry};
use tonic::Code;

use crate::methods::MethodInfo;

/// Latency buckets in seconds: finer than Prometheus' defaults at the low end, because a
/// healthy call here takes tens of microseconds.
const LATENCY_BUCKETS: [f64; 16] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The label set of a gRPC method.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    grpc_type: &'static str,
    grpc_service: String,
    grpc_method: String,
}

/// The label set of a finished gRPC call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandledLabels {
    grpc_type: &'static str,
    grpc_service: String,
    grpc_method: String,
    grpc_code: &'static str,
}

/// The label set of a finished HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct HttpLabels {
    pub(crate) method: String,
    pub(crate) route: String,
    pub(crate) status: u16,
}

/// The label set of HTTP latency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct HttpRouteLabels {
    pub(crate) method: String,
    pub(crate) route: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// One side's (server or client) gRPC families.
struct GrpcFamilies {
    started: Family<MethodLabels, Counter>,
    handled: Family<HandledLabels, Counter>,
    msg_received: Family<MethodLabels, Counter>,
    msg_sent: Family<MethodLabels, Counter>,
    handling: HistogramFamily<MethodLabels>,
    in_flight: Gauge,
}

impl GrpcFamilies {
    fn new(registry: &mut Registry, side: &str) -> Self {
        let families = Self {
            started: Family::default(),
            handled: Family::default(),
            msg_received: Family::default(),
            msg_sent: Family::default(),
            handling: Family::new_with_constructor(latency_histogram),
            in_flight: Gauge::default(),
        };
        let (verb, peer) = match side {
            "server" => ("started on the server", "received from clients"),
            _ => ("started by the client", "received from servers"),
        };
        registry.register(
            format!("grpc_{side}_started"),
            format!("Total number of RPCs {verb}."),
            families.started.clone(),
        );
        registry.register(
            format!("grpc_{side}_handled"),
            format!(
                "Total number of RPCs completed ({side} side), regardless of success or failure."
            ),
            families.handled.clone(),
        );
        registry.register(
            format!("grpc_{side}_msg_received"),
            format!("Total number of RPC stream messages {peer}."),
            families.msg_received.clone(),
        );
        registry.register(
            format!("grpc_{side}_msg_sent"),
            format!("Total number of gRPC stream messages sent by the {side}."),
            families.msg_sent.clone(),
        );
        registry.register(
            format!("grpc_{side}_handling_seconds"),
            format!("Histogram of response latency (seconds) of gRPC calls, {side} side."),
            families.handling.clone(),
        );
        registry.register(
            format!("grpc_{side}_in_flight_requests"),
            format!("Number of gRPC calls in progress, {side} side."),
            families.in_flight.clone(),
        );
        families
    }

    fn method(&self, info: &MethodInfo) -> MethodMetrics {
        let labels = MethodLabels {
            grpc_type: info.kind.as_str(),
            grpc_service: info.service.to_string(),
            grpc_method: info.method.to_string(),
        };
        MethodMetrics {
            started: self.started.get_or_create(&labels).clone(),
            msg_received: self.msg_received.get_or_create(&labels).clone(),
            msg_sent: self.msg_sent.get_or_create(&labels).clone(),
            handling: self.handling.get_or_create(&labels).clone(),
            in_flight: self.in_flight.clone(),
            handled_family: self.handled.clone(),
            handled: std::array::from_fn(|_| OnceLock::new()),
            labels,
        }
    }
}

/// Every handle needed to record one method's calls, resolved once.
pub struct MethodMetrics {
    labels: MethodLabels,
    started: Counter,
    msg_received: Counter,
    msg_sent: Counter,
    handling: Histogram,
    in_flight: Gauge,
    handled_family: Family<HandledLabels, Counter>,
    /// One counter per status code (17 codes), created on first use so that only codes that
    /// happened appear in the exposition.
    handled: [OnceLock<Counter>; 17],
}

impl fmt::Debug for MethodMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MethodMetrics")
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

impl MethodMetrics {
    /// A call started.
    pub fn started(&self) {
        self.started.inc();
        self.in_flight.inc();
    }

    /// A message arrived from the peer.
    pub fn message_received(&self) {
        self.msg_received.inc();
    }

    /// A message went to the peer.
    pub fn message_sent(&self) {
        self.msg_sent.inc();
    }

    /// A call finished with `code` after `seconds`.
    pub fn handled(&self, code: Code, seconds: f64) {
        self.in_flight.dec();
        self.handling.observe(seconds);
        let slot = usize::try_from(code as i32).unwrap_or(2).min(16);
        self.handled[slot]
            .get_or_init(|| {
                self.handled_family
                    .get_or_create(&HandledLabels {
                        grpc_type: self.labels.grpc_type,
                        grpc_service: self.labels.grpc_service.clone(),
                        grpc_method: self.labels.grpc_method.clone(),
                        grpc_code: code_name(code),
                    })
                    .clone()
            })
            .inc();
    }
}

/// The canonical upper-case name of a status code, as the Prometheus convention labels it.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

/// HTTP request families.
pub(crate) struct HttpFamilies {
    pub(crate) requests: Family<HttpLabels, Counter>,
    pub(crate) duration: HistogramFamily<HttpRouteLabels>,
    pub(crate) in_flight: Gauge,
}

struct Inner {
    registry: RwLock<Registry>,
    grpc_server: GrpcFamilies,
    grpc_client: GrpcFamilies,
    http: HttpFamilies,
}

/// The process's metrics: a Prometheus registry holding the gRPC server, gRPC client and HTTP
/// families. Cheap to clone; every clone records into the same registry.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every standard family registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let grpc_server = GrpcFamilies::new(&mut registry, "server");
        let grpc_client = GrpcFamilies::new(&mut registry, "client");
        let http = HttpFamilies {
            requests: Family::default(),
            duration: Family::new_with_constructor(latency_histogram),
            in_flight: Gauge::default(),
        };
        registry.register(
            "http_requests",
            "Total number of HTTP requests handled, by method, route template and status.",
            http.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Histogram of HTTP request latency (seconds), by method and route template.",
            http.duration.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "Number of HTTP requests in progress.",
            http.in_flight.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                registry: RwLock::new(registry),
                grpc_server,
                grpc_client,
                http,
            }),
        }
    }

    /// Registers a service's own metric (e.g. a pool gauge) in the same exposition.
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.inner
            .registry
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .register(name, help, metric);
    }

    /// Handles for recording calls to one served method.
    pub fn server_method(&self, info: &MethodInfo) -> MethodMetrics {
        self.inner.grpc_server.method(info)
    }

    /// Handles for recording calls this process makes to one method.
    pub fn client_method(&self, info: &MethodInfo) -> MethodMetrics {
        self.inner.grpc_client.method(info)
    }

    pub(crate) fn http(&self) -> &HttpFamilies {
        &self.inner.http
    }

    /// The OpenMetrics text exposition of every registered metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self
            .inner
            .registry
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        encode(&mut out, &registry).expect("writing to a String cannot fail");
        out
    }

    /// The value of one sample, looked up by its exposition line prefix, e.g.
    /// `grpc_server_handled_total{grpc_type="unary",grpc_service="S",grpc_method="M",grpc_code="OK"}`.
    /// Labels must be written in the order the exposition uses. Meant for tests and debugging;
    /// a missing series reads as 0, as Prometheus treats absent counters.
    pub fn sample(&self, series: &str) -> f64 {
        self.encode()
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|value| value.split(' ').next()?.parse().ok())
            .unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::RpcKind;

    #[test]
    fn records_under_the_conventional_names() {
        let metrics = Metrics::new();
        let info = MethodInfo {
            service: "pkg.Svc".into(),
            method: "Do".into(),
            kind: RpcKind::Unary,
        };
        let method = metrics.server_method(&info);
        method.started();
        method.handled(Code::NotFound, 0.001);
        let labels = r#"grpc_type="unary",grpc_service="pkg.Svc",grpc_method="Do""#;
        assert_eq!(
            metrics.sample(&format!("grpc_server_started_total{{{labels}}}")),
            1.0
        );
        assert_eq!(
            metrics.sample(&format!(
                r#"grpc_server_handled_total{{{labels},grpc_code="NotFound"}}"#
            )),
            1.0
        );
        assert_eq!(
            metrics.sample(&format!("grpc_server_handling_seconds_count{{{labels}}}")),
            1.0
        );
        assert_eq!(metrics.sample("grpc_server_in_flight_requests"), 0.0);
    }
}
