//! W3C trace context (`traceparent`, `tracestate`) in and out of HTTP headers and gRPC metadata
//! (which travel as HTTP/2 headers).
//!
//! The extractor and injector are written here because they are a few lines each: the crate
//! that ships them (`opentelemetry-http`) would bring an HTTP client along for them.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;

/// The trace context `headers` carry (empty when they carry none).
pub fn extract(headers: &HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&Headers(headers))
}

/// Writes `context` into `headers` (nothing when it holds no span).
pub fn inject(context: &Context, headers: &mut HeaderMap) {
    TraceContextPropagator::new().inject_context(context, &mut HeadersMut(headers));
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeadersMut<'a>(&'a mut HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TraceContextExt as _;

    use super::*;

    #[test]
    fn a_context_goes_out_and_comes_back() {
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let mut incoming = HeaderMap::new();
        incoming.insert("traceparent", traceparent.parse().unwrap());
        let context = extract(&incoming);
        let span = context.span();
        let ids = span.span_context();
        assert_eq!(
            ids.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert!(ids.is_remote() && ids.is_sampled());

        let mut outgoing = HeaderMap::new();
        inject(&context, &mut outgoing);
        assert_eq!(outgoing["traceparent"], traceparent);
        assert!(!extract(&HeaderMap::new()).span().span_context().is_valid());
    }
}
