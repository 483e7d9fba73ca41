//! What the trace layers share: the OpenTelemetry semantic conventions for RPC spans (names,
//! message events, which codes make a span's status `ERROR`), and the current trace as a
//! latency exemplar for the metrics.

use bookstore_telemetry::TRACE_TARGET;
use opentelemetry::trace::TraceContextExt as _;
use tonic::Code;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::latency::TraceExemplar;

/// Which end of a call a span is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Server,
    Client,
}

/// `rpc.service` and `rpc.method` of an HTTP/2 path `/package.Service/Method` (the path itself,
/// as the service, when it is not one).
pub(crate) fn service_and_method(path: &str) -> (&str, &str) {
    path.trim_start_matches('/')
        .split_once('/')
        .unwrap_or((path, ""))
}

/// The trace of the current span, as a latency exemplar, if traces are exported and the span
/// is sampled.
pub(crate) fn current_trace() -> Option<TraceExemplar> {
    if !bookstore_telemetry::exporting() {
        return None;
    }
    let context = Span::current().context();
    let span = context.span();
    let ids = span.span_context();
    (ids.is_valid() && ids.is_sampled()).then(|| TraceExemplar {
        trace_id: ids.trace_id().to_string(),
    })
}

/// The `message` event of the conventions: the `id`th message sent or received.
pub(crate) fn message_event(span: &Span, kind: &'static str, id: u64) {
    tracing::event!(
        target: TRACE_TARGET,
        parent: span,
        tracing::Level::INFO,
        { "rpc.message.type" = kind, "rpc.message.id" = id },
        "message"
    );
}

/// Records the call's status code, and `ERROR` as the span's status where the conventions say:
/// on a client, every code but OK; on a server, only the codes that mean the server failed
/// (the others are the client's doing).
pub(crate) fn record_status(span: &Span, side: Side, code: Code) {
    span.record("rpc.grpc.status_code", code as i64);
    let failed = match side {
        Side::Client => code != Code::Ok,
        Side::Server => matches!(
            code,
            Code::Unknown
                | Code::DeadlineExceeded
                | Code::Unimplemented
                | Code::Internal
                | Code::Unavailable
                | Code::DataLoss
        ),
    };
    if failed {
        span.record("otel.status_code", "error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_service_and_method_of_a_path() {
        assert_eq!(
            service_and_method("/bookstore.factorial.v1.FactorialService/Factorial"),
            ("bookstore.factorial.v1.FactorialService", "Factorial")
        );
        assert_eq!(
            service_and_method("/Recommendations/Recommend"),
            ("Recommendations", "Recommend")
        );
        assert_eq!(service_and_method("/nonsense"), ("/nonsense", ""));
    }
}
