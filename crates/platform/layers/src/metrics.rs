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
use prometheus_client::registry::{Metric, Registry};

use crate::grpc_families::{GrpcFamilies, MethodMetrics};
use crate::latency::{HistogramFamily, latency_histogram};
use crate::methods::MethodInfo;
use crate::process_metrics::ProcessMetrics;

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

/// HTTP request families.
pub(crate) struct HttpFamilies {
    pub(crate) requests: Family<HttpLabels, Counter>,
    pub(crate) duration: HistogramFamily<HttpRouteLabels>,
    pub(crate) in_flight: Gauge,
}

struct Inner {
    registry: RwLock<Registry>,
    // Each registered when first used, so a process shows only the series it can move (a web
    // app no gRPC server series, a gRPC service no HTTP ones).
    grpc_server: OnceLock<GrpcFamilies>,
    grpc_client: OnceLock<GrpcFamilies>,
    http: OnceLock<HttpFamilies>,
}

/// The process's metrics: a Prometheus registry holding the process metrics and, as they are
/// first used, the gRPC server, gRPC client and HTTP families. Cheap to clone; every clone
/// records into the same registry.
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

impl HttpFamilies {
    fn new(registry: &mut Registry) -> Self {
        let http = Self {
            requests: Family::default(),
            duration: Family::new_with_constructor(latency_histogram),
            in_flight: Gauge::default(),
        };
        registry.register(
            "http_requests",
            "Total number of HTTP requests handled, by method, route template and status",
            http.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Histogram of HTTP request latency (seconds), by method and route template",
            http.duration.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "Number of HTTP requests in progress",
            http.in_flight.clone(),
        );
        http
    }
}

impl Metrics {
    /// A fresh registry with the process metrics in it.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(ProcessMetrics));
        Self {
            inner: Arc::new(Inner {
                registry: RwLock::new(registry),
                grpc_server: OnceLock::new(),
                grpc_client: OnceLock::new(),
                http: OnceLock::new(),
            }),
        }
    }

    /// `families`, registered in the registry the first time they are asked for.
    fn families<'a, T>(
        &self,
        families: &'a OnceLock<T>,
        make: impl FnOnce(&mut Registry) -> T,
    ) -> &'a T {
        families.get_or_init(|| {
            make(
                &mut self
                    .inner
                    .registry
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            )
        })
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
        self.families(&self.inner.grpc_server, |registry| {
            GrpcFamilies::new(registry, "server")
        })
        .method(info)
    }

    /// Handles for recording calls this process makes to one method.
    pub fn client_method(&self, info: &MethodInfo) -> MethodMetrics {
        self.families(&self.inner.grpc_client, |registry| {
            GrpcFamilies::new(registry, "client")
        })
        .method(info)
    }

    pub(crate) fn http(&self) -> &HttpFamilies {
        self.families(&self.inner.http, HttpFamilies::new)
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
    use tonic::Code;

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
        method.handled(Code::NotFound, 0.001, None);
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
