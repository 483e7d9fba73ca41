//! Telemetry for Online Books For You: log lines and OpenTelemetry traces, configured by
//! `RUST_LOG`, `--log-format` and OpenTelemetry's standard `OTEL_*` variables.
//!
//! - `lines`: one line per event ([`LogFormat`]: text or JSON), naming the service and, inside a
//!   traced call, its `trace_id` and `span_id`.
//! - `otel`: exporting traces over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` says where
//!   ([`OtelError`] when that cannot be done).
//! - `propagation`: W3C `traceparent` in and out of headers ([`extract`], [`inject`]).
//! - `trace_ids`: where a log line finds the ids of the traced call it is written in.
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

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Dispatch;
use tracing_subscriber::filter::{EnvFilter, FilterExt as _, filter_fn};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::{Layer as _, Registry};

pub use lines::LogFormat;
pub use otel::OtelError;
pub use propagation::{extract, inject};

use crate::lines::Lines;
use crate::trace_ids::TraceIdsLayer;

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
        let traced = || filter_fn(|metadata| metadata.target() == TRACE_TARGET);
        // Lines see the traced spans whatever the levels, so that a line inside one can name it
        // (nothing prints a span itself).
        let lines = tracing_subscriber::fmt::layer()
            .event_format(Lines {
                service: service.to_owned(),
                format,
            })
            .with_writer(std::io::stderr)
            .with_filter(levels.or(filter_fn(|metadata| {
                metadata.is_span() && metadata.target() == TRACE_TARGET
            })));
        let export = provider.as_ref().map(|provider| {
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("bookstore"))
                .with_filter(traced())
        });
        if provider.is_some() {
            EXPORTING.store(true, Ordering::Relaxed);
        }
        let subscriber = Registry::default()
            .with(lines)
            .with(TraceIdsLayer.with_filter(traced()))
            .with(export);
        Ok(Self {
            dispatch: Dispatch::new(subscriber),
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
