//! The ids of the trace a request span belongs to, kept where the log lines inside it find
//! them: in the span's extensions, as OpenTelemetry's binary ids (written out as hex only when a
//! line is), not as span fields, which every layer would have to visit and the exporter would
//! send along as attributes.

use opentelemetry::trace::{SpanId, TraceContextExt as _, TraceId};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::Registry;
use tracing_subscriber::registry::LookupSpan as _;

/// A traced span's trace and span ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TraceIds {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
}

/// Starts `span`'s OpenTelemetry span (which decides whether it is sampled), keeps its ids for
/// the log lines written inside it, and says whether it is sampled: what only an exported span
/// needs (its message events, say) can be skipped for the others.
pub fn remember_trace_ids(span: &Span) -> bool {
    let context = span.context();
    let otel = context.span();
    let ids = otel.span_context();
    if ids.is_valid() {
        let remembered = TraceIds {
            trace_id: ids.trace_id(),
            span_id: ids.span_id(),
        };
        span.with_subscriber(|(id, dispatch)| {
            if let Some(span) = dispatch
                .downcast_ref::<Registry>()
                .and_then(|registry| registry.span(id))
            {
                span.extensions_mut().replace(remembered);
            }
        });
    }
    ids.is_sampled()
}
