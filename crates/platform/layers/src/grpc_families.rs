//! The grpc-ecosystem gRPC families (`grpc_server_*` or `grpc_client_*`: started, handled by
//! code, messages each way, handling time, in flight) and [`MethodMetrics`], every handle one
//! method's calls are recorded with, resolved once so the hot path never builds a label set.

use std::fmt;
use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tonic::Code;

use crate::latency::{HistogramFamily, LatencyHistogram, TraceExemplar, latency_histogram};
use crate::methods::MethodInfo;

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

/// One side's (server or client) gRPC families.
pub(crate) struct GrpcFamilies {
    started: Family<MethodLabels, Counter>,
    handled: Family<HandledLabels, Counter>,
    msg_received: Family<MethodLabels, Counter>,
    msg_sent: Family<MethodLabels, Counter>,
    handling: HistogramFamily<MethodLabels>,
    in_flight: Gauge,
}

impl GrpcFamilies {
    pub(crate) fn new(registry: &mut Registry, side: &str) -> Self {
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
            format!("Total number of RPCs {verb}"),
            families.started.clone(),
        );
        registry.register(
            format!("grpc_{side}_handled"),
            format!(
                "Total number of RPCs completed ({side} side), regardless of success or failure"
            ),
            families.handled.clone(),
        );
        registry.register(
            format!("grpc_{side}_msg_received"),
            format!("Total number of RPC stream messages {peer}"),
            families.msg_received.clone(),
        );
        registry.register(
            format!("grpc_{side}_msg_sent"),
            format!("Total number of gRPC stream messages sent by the {side}"),
            families.msg_sent.clone(),
        );
        registry.register(
            format!("grpc_{side}_handling_seconds"),
            format!("Histogram of response latency (seconds) of gRPC calls, {side} side"),
            families.handling.clone(),
        );
        registry.register(
            format!("grpc_{side}_in_flight_requests"),
            format!("Number of gRPC calls in progress, {side} side"),
            families.in_flight.clone(),
        );
        families
    }

    pub(crate) fn method(&self, info: &MethodInfo) -> MethodMetrics {
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
    handling: LatencyHistogram,
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

    /// A call finished with `code` after `seconds`, in the trace `exemplar` names if traced.
    pub(crate) fn handled(&self, code: Code, seconds: f64, exemplar: Option<TraceExemplar>) {
        self.in_flight.dec();
        self.handling.observe(seconds, exemplar, None);
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
