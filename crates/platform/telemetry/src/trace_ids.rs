//! The ids of the trace a request span belongs to, kept where the log lines inside it can find
//! them: the middleware records `trace_id` and `span_id` on the span it makes for each traced
//! call, and [`TraceIdsLayer`] copies them into the span's extensions as they are recorded.

use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// A request span's trace and span ids, as lowercase hex.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TraceIds {
    pub(crate) trace_id: String,
    pub(crate) span_id: String,
}

impl Visit for TraceIds {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "trace_id" => value.clone_into(&mut self.trace_id),
            "span_id" => value.clone_into(&mut self.span_id),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if matches!(field.name(), "trace_id" | "span_id") {
            self.record_str(field, &format!("{value:?}"));
        }
    }
}

/// Copies `trace_id` and `span_id` fields into [`TraceIds`] span extensions.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TraceIdsLayer;

impl<S> Layer<S> for TraceIdsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.on_record(id, &Record::new(attrs.values()), ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        let mut ids = extensions.remove::<TraceIds>().unwrap_or_default();
        values.record(&mut ids);
        if !ids.trace_id.is_empty() {
            extensions.insert(ids);
        }
    }
}
