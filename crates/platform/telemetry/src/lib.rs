//! Telemetry for Online Books For You: log lines and OpenTelemetry traces, configured by
//! `RUST_LOG`, `--log-format` and OpenTelemetry's standard `OTEL_*` variables.
//!
//! - `lines`: one line per event ([`LogFormat`]: text or JSON), naming the service and, inside a
//!   traced call, its `trace_id` and `span_id`.
//! - `otel`: exporting traces over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` says where
//!   ([`OtelError`] when that cannot be done).
//! - `propagation`: W3C `traceparent` in and out of headers ([`extract`], [`inject`]).
//! - `trace_ids`: where a log line finds the ids of the traced call it is written in
//!   ([`remember_trace_ids`]: the middleware calls it as it makes each call's span).
//!
//! The middleware makes one span per traced call, with [`TRACE_TARGET`] as its target, and only
//! when [`exporting`] says traces go anywhere: without an endpoint no span is made at all, so
//! tracing costs nothing.
//!
//! [`Telemetry`] is one service's: its own log lines and its own tracer (the OpenTelemetry
//! resource names the service). A binary installs its service's as the process default;
//! `bookstore up`, which runs five services in one process, gives each service's tasks and
//! server threads that service's telemetry (`with_subscriber`, and the server threads take the
//! telemetry of the code that starts them).

mod lines;
mod otel;
mod propagation;
mod trace_ids;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Dispatch;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::filter::{EnvFilter, FilterExt as _, filter_fn};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::{Layer as _, Registry};

pub use lines::LogFormat;
pub use otel::OtelError;
pub use propagation::{extract, inject};
pub use trace_ids::remember_trace_ids;

use crate::lines::Lines;

/// The target of the spans (and span events) that become OpenTelemetry spans: the one span per
/// traced call the middleware makes. Nothing else is exported.
pub const TRACE_TARGET: &str = "bookstore::trace";

/// Whether some telemetry of this process exports traces.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether traces are exported: the middleware makes spans only then.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// One service's logging and tracing.
pub struct Telemetry {
    dispatch: Dispatch,
    provider: Option<SdkTracerProvider>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("exporting", &self.provider.is_some())
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// The telemetry of `service`: lines in `format` on stderr at the levels `RUST_LOG` says
    /// (default `info`), and traces exported as the `OTEL_*` variables say. Must be called inside
    /// a Tokio runtime.
    pub fn new(service: &str, format: LogFormat) -> Result<Self, OtelError> {
        let provider = otel::tracer_provider(service)?;
        let levels = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        if provider.is_some() {
            EXPORTING.store(true, Ordering::Relaxed);
        }
        Ok(Self {
            dispatch: dispatch(service, format, levels, provider.as_ref(), std::io::stderr),
            provider,
        })
    }

    /// The dispatch to run this service's code under (`tracing::instrument::WithSubscriber`).
    pub fn dispatch(&self) -> &Dispatch {
        &self.dispatch
    }

    /// Makes this the process's default; later calls (tests run several services in one
    /// process) leave the first in place.
    pub fn install(&self) {
        let _ = tracing::dispatcher::set_global_default(self.dispatch.clone());
    }

    /// Sends the spans still buffered, within a few seconds; called as the service stops.
    pub fn shutdown(&self) {
        if let Some(provider) = &self.provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("telemetry: could not send the last spans: {error}");
        }
    }
}

/// The subscriber of one service: its lines at `levels` to `writer`, and its traced spans
/// exported by `provider`, if any.
fn dispatch<W>(
    service: &str,
    format: LogFormat,
    levels: EnvFilter,
    provider: Option<&SdkTracerProvider>,
    writer: W,
) -> Dispatch
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let traced = || filter_fn(|metadata| metadata.target() == TRACE_TARGET);
    // Lines see the traced spans whatever the levels, so that a line inside one can find its
    // ids, but never print them, nor the traced spans' events (a message event per message):
    // those are for the exporter.
    let lines = tracing_subscriber::fmt::layer()
        .event_format(Lines {
            service: service.to_owned(),
            format,
        })
        .fmt_fields(NoSpanFields)
        .with_writer(writer)
        .with_filter(
            filter_fn(|metadata| metadata.target() != TRACE_TARGET)
                .and(levels)
                .or(filter_fn(|metadata| {
                    metadata.is_span() && metadata.target() == TRACE_TARGET
                })),
        );
    let subscriber = Registry::default().with(lines);
    // Two subscribers rather than an `Option` layer: a `None` layer tells every callsite it is
    // always interesting, which turns on every disabled span of every library (h2 alone makes
    // forty per call) and costs a third of a call's instructions.
    match provider {
        Some(provider) => Dispatch::new(
            subscriber.with(
                tracing_opentelemetry::layer()
                    .with_tracer(provider.tracer("bookstore"))
                    // Only the conventions' attributes: not where in our middleware the span
                    // was made (code.*), on which thread, under which tracing target, nor its
                    // busy and idle times, which would cost every span a clock read per poll.
                    .with_location(false)
                    .with_threads(false)
                    .with_target(false)
                    .with_tracked_inactivity(false)
                    // Nothing here reads OpenTelemetry's own current context (the middleware
                    // passes each span's context explicitly), so entering a span (every poll)
                    // need not make it current there too.
                    .with_context_activation(false)
                    .with_filter(traced()),
            ),
        ),
        None => Dispatch::new(subscriber),
    }
}

/// The fields of spans, as the line layer keeps them: not at all. Its lines print no span
/// fields (a traced call's ids come from `TraceIds`), and formatting every span's fields as it
/// opens was most of what an unsampled call cost.
struct NoSpanFields;

impl<'writer> FormatFields<'writer> for NoSpanFields {
    fn format_fields<R: RecordFields>(&self, _writer: Writer<'writer>, _fields: R) -> fmt::Result {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what a subscriber writes.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What a library's disabled span costs must stay nothing: not made, not even asked about
    /// per call (the callsite is never interesting).
    #[test]
    fn other_libraries_trace_spans_stay_off_without_an_exporter() {
        let dispatch = dispatch(
            "test",
            LogFormat::Text,
            EnvFilter::new("info"),
            None,
            std::io::sink,
        );
        tracing::dispatcher::with_default(&dispatch, || {
            let library = tracing::trace_span!(target: "h2::proto", "poll");
            assert!(
                library.is_disabled(),
                "a trace span of another library was made"
            );
            assert!(!tracing::enabled!(target: "h2::proto", tracing::Level::DEBUG));
            assert!(tracing::enabled!(target: "recommendations", tracing::Level::INFO));
        });
    }

    /// Lines inside a traced span are written; the span's own events (one per message) are for
    /// the exporter only.
    #[test]
    fn traced_spans_events_are_not_log_lines() {
        let sink = Sink::default();
        let writer = sink.clone();
        let dispatch = dispatch(
            "test",
            LogFormat::Text,
            EnvFilter::new("info"),
            None,
            move || writer.clone(),
        );
        tracing::dispatcher::with_default(&dispatch, || {
            let traced = tracing::info_span!(target: TRACE_TARGET, "call");
            assert!(!traced.is_disabled(), "lines must see the traced spans");
            traced.in_scope(|| {
                tracing::info!(target: TRACE_TARGET, kind = "SENT", "message");
                tracing::info!("handled");
            });
        });
        let output = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(output.lines().count(), 1, "{output}");
        assert!(output.contains("handled"), "{output}");
    }
}
