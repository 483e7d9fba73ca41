//! An OTLP trace receiver for tests: the collector end of `OTEL_EXPORTER_OTLP_ENDPOINT`,
//! serving `opentelemetry.proto.collector.trace.v1.TraceService` over gRPC on a loopback port
//! and keeping every span it is sent, with the name of the service that sent it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

use crate::spawn::{Running, spawn};

/// One span as a receiver got it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedSpan {
    /// The `service.name` of the resource that sent it.
    pub service: String,
    /// The span's name.
    pub name: String,
    /// Its kind (OTLP's numbering: 2 SERVER, 3 CLIENT).
    pub kind: i32,
    /// Its trace id, as lowercase hex.
    pub trace_id: String,
    /// Its span id, as lowercase hex.
    pub span_id: String,
    /// Its parent's span id, as lowercase hex (empty for a root).
    pub parent_span_id: String,
    /// Its attributes, each value as text.
    pub attributes: BTreeMap<String, String>,
    /// Its status code (OTLP's numbering: 0 unset, 1 OK, 2 ERROR).
    pub status: i32,
    /// The names of its events, in order.
    pub events: Vec<String>,
}

impl ReceivedSpan {
    /// OTLP's number for a SERVER span.
    pub const SERVER: i32 = 2;
    /// OTLP's number for a CLIENT span.
    pub const CLIENT: i32 = 3;
    /// OTLP's number for an `ERROR` status.
    pub const ERROR: i32 = 2;

    /// The attribute `key`, if the span has it.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

/// A running receiver.
#[derive(Debug)]
pub struct OtlpReceiver {
    running: Running<tonic::transport::Error>,
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
}

impl OtlpReceiver {
    /// Starts a receiver on a free loopback port.
    pub async fn start() -> Self {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let router =
            tonic::transport::Server::builder().add_service(TraceServiceServer::new(Collector {
                spans: spans.clone(),
            }));
        let running = spawn(|listeners, shutdown| {
            router.serve_with_incoming_shutdown(TcpIncoming::from(listeners.main), shutdown)
        })
        .await;
        Self { running, spans }
    }

    /// The endpoint to export to: `OTEL_EXPORTER_OTLP_ENDPOINT`, with protocol `grpc`.
    pub fn endpoint(&self) -> String {
        self.running.url()
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits up to `timeout` until the spans received satisfy `done`, and returns them all
    /// (satisfying or not: the caller asserts on them).
    pub async fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&[ReceivedSpan]) -> bool,
    ) -> Vec<ReceivedSpan> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let spans = self.spans();
            if done(&spans) || tokio::time::Instant::now() >= deadline {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The receiving end: flattens each export into [`ReceivedSpan`]s.
struct Collector {
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let mut received = Vec::new();
        for resource_spans in request.into_inner().resource_spans {
            let resource = resource_spans.resource.unwrap_or_default().attributes;
            let service = attributes(&resource)
                .remove("service.name")
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    received.push(ReceivedSpan {
                        service: service.clone(),
                        name: span.name,
                        kind: span.kind,
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                        attributes: attributes(&span.attributes),
                        status: span.status.map_or(0, |status| status.code),
                        events: span.events.into_iter().map(|event| event.name).collect(),
                    });
                }
            }
        }
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(received);
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

fn attributes(attributes: &[KeyValue]) -> BTreeMap<String, String> {
    attributes
        .iter()
        .map(|kv| (kv.key.clone(), text(kv.value.as_ref())))
        .collect()
}

fn text(value: Option<&AnyValue>) -> String {
    match value.and_then(|value| value.value.as_ref()) {
        Some(any_value::Value::StringValue(text)) => text.clone(),
        Some(any_value::Value::IntValue(number)) => number.to_string(),
        Some(any_value::Value::DoubleValue(number)) => number.to_string(),
        Some(any_value::Value::BoolValue(flag)) => flag.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
