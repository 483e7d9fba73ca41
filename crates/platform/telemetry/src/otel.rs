//! Exporting traces over OTLP, configured only by OpenTelemetry's standard variables:
//!
//! - `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): where to send
//!   spans. Without one, nothing is exported and no span is even made.
//! - `OTEL_EXPORTER_OTLP_PROTOCOL` (or `..._TRACES_PROTOCOL`): `grpc` or `http/protobuf`
//!   (the default, as the specification says).
//! - `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`: the resource; `service.name` defaults to
//!   the service's own name (each of `bookstore up`'s services has its own).
//! - `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`, `OTEL_BSP_*`: read by the SDK itself.
//! - `OTEL_SDK_DISABLED=true`, or `OTEL_TRACES_EXPORTER=none`: off, whatever else is set.

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// `service.name` when the SDK found none in the environment.
const UNKNOWN_SERVICE: &str = "unknown_service";

/// Why traces cannot be exported as configured.
#[derive(Debug, thiserror::Error)]
#[error("OpenTelemetry: cannot export traces as configured ({0})")]
pub struct OtelError(#[from] opentelemetry_otlp::ExporterBuildError);

/// Whether the environment asks for traces to be exported.
pub(crate) fn export_configured() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|value| !value.trim().is_empty());
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.trim() == "true")
        || std::env::var("OTEL_TRACES_EXPORTER").is_ok_and(|v| v.trim() == "none");
    !disabled && (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
}

/// The tracer provider of `service`, exporting over OTLP in batches, or `None` when the
/// environment asks for no export. Must be called inside a Tokio runtime (the gRPC exporter's
/// channel is made on it).
pub(crate) fn tracer_provider(service: &str) -> Result<Option<SdkTracerProvider>, OtelError> {
    if !export_configured() {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder().build()?;
    Ok(Some(
        SdkTracerProvider::builder()
            .with_resource(resource(service))
            .with_batch_exporter(exporter)
            .build(),
    ))
}

/// The resource the environment describes, named `service` unless it names a service itself.
fn resource(service: &str) -> Resource {
    let detected = Resource::builder().build();
    let named = detected
        .get(&opentelemetry::Key::from_static_str("service.name"))
        .is_some_and(|name| !name.as_str().starts_with(UNKNOWN_SERVICE));
    if named {
        detected
    } else {
        Resource::builder()
            .with_attributes([KeyValue::new("service.name", service.to_owned())])
            .build()
    }
}
