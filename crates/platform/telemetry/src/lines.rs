//! One log line per event, as text for people or JSON for log shippers, each naming the service
//! and, inside a traced request, its `trace_id` and `span_id`.
//!
//! Written here rather than configured from tracing-subscriber's own formats because those
//! cannot say what these lines must: the JSON format repeats a key when an event has a field
//! named like one of its own (`message`, say), cannot name the service (under `bookstore up`,
//! five share a process), and can only nest the request span's ids under `span`. Here every
//! line is one flat object built as a map, so no key appears twice; fields keep their types, so
//! numbers stay numbers.

use std::fmt;

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::trace_ids::TraceIds;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Formats every event of one service as one line.
#[derive(Clone, Debug)]
pub(crate) struct Lines {
    pub(crate) service: String,
    pub(crate) format: LogFormat,
}

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        let ids = ctx.lookup_current().and_then(|span| {
            span.scope()
                .find_map(|span| span.extensions().get::<TraceIds>().cloned())
        });
        let metadata = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut line = Line::default();
        line.push("timestamp", timestamp.into());
        line.push("level", metadata.level().as_str().into());
        line.push("service", self.service.clone().into());
        line.push("target", metadata.target().into());
        if let Some(ids) = ids {
            line.push("trace_id", ids.trace_id.into());
            line.push("span_id", ids.span_id.into());
        }
        line.push("message", fields.message.take().unwrap_or_default().into());
        for (name, value) in fields.values {
            line.push(&name, value);
        }
        match self.format {
            LogFormat::Json => line.write_json(&mut writer),
            LogFormat::Text => line.write_text(&mut writer),
        }
    }
}

/// One line's keys and values, in the order they were added, each key once.
#[derive(Default)]
struct Line(Vec<(String, Value)>);

impl Line {
    /// Adds `key`; a key already there (an event field named like one of the line's own) is
    /// kept under `field.key` rather than repeated.
    fn push(&mut self, key: &str, value: Value) {
        let key = if self.0.iter().any(|(existing, _)| existing == key) {
            format!("field.{key}")
        } else {
            key.to_owned()
        };
        self.0.push((key, value));
    }

    fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(existing, _)| existing == key)
            .and_then(|(_, value)| value.as_str())
            .unwrap_or_default()
    }

    /// `{"timestamp": ..., ...}`: one flat JSON object.
    fn write_json(&self, writer: &mut Writer<'_>) -> fmt::Result {
        writer.write_char('{')?;
        for (index, (key, value)) in self.0.iter().enumerate() {
            let separator = if index == 0 { "" } else { "," };
            write!(writer, "{separator}{}:{value}", Value::from(key.as_str()))?;
        }
        writer.write_str("}\n")
    }

    /// `TIMESTAMP LEVEL service target: message key=value ...`, strings unquoted.
    fn write_text(&self, writer: &mut Writer<'_>) -> fmt::Result {
        write!(
            writer,
            "{} {:>5} {} {}: {}",
            self.get("timestamp"),
            self.get("level"),
            self.get("service"),
            self.get("target"),
            self.get("message")
        )?;
        for (key, value) in &self.0 {
            if matches!(
                key.as_str(),
                "timestamp" | "level" | "service" | "target" | "message"
            ) {
                continue;
            }
            match value {
                Value::String(text) => write!(writer, " {key}={text}")?,
                other => write!(writer, " {key}={other}")?,
            }
        }
        writeln!(writer)
    }
}

/// An event's message and fields, with their types.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    values: Vec<(String, Value)>,
}

impl Fields {
    fn push(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::String(text) => text,
                other => other.to_string(),
            });
        } else {
            self.values.push((field.name().to_owned(), value));
        }
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let number = serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number);
        self.push(field, number);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push(field, value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    /// Formats the events `emit` makes as `format` lines, and returns them.
    fn lines(format: LogFormat, emit: impl FnOnce()) -> String {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let layer = tracing_subscriber::fmt::layer()
            .event_format(Lines {
                service: "recommendations".to_owned(),
                format,
            })
            .with_writer(move || Sink(sink.clone()));
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
        String::from_utf8(buffer.lock().unwrap().clone()).unwrap()
    }

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

    #[test]
    fn json_lines_name_the_service_keep_types_and_never_repeat_a_key() {
        let output = lines(LogFormat::Json, || {
            tracing::warn!(
                service = "a field named like a key",
                latency_ms = 0.049,
                attempts = 3,
                retried = true,
                "gRPC call failed"
            );
        });
        let text = output.trim_end();
        assert_eq!(text.lines().count(), 1, "{output}");
        let keys: Vec<&str> = text
            .trim_matches(|c| c == '{' || c == '}')
            .split(',')
            .filter_map(|pair| pair.split_once(':').map(|(key, _)| key))
            .collect();
        let unique: std::collections::BTreeSet<&&str> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len(), "a key repeats: {text}");
        let line: Value = serde_json::from_str(text).unwrap();
        assert_eq!(line["service"], "recommendations");
        assert_eq!(line["field.service"], "a field named like a key");
        assert_eq!(line["message"], "gRPC call failed");
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["latency_ms"], 0.049);
        assert_eq!(line["attempts"], 3);
        assert_eq!(line["retried"], true);
    }

    #[test]
    fn text_lines_read_left_to_right() {
        let output = lines(LogFormat::Text, || {
            tracing::info!(route = "/", status = 200, "request");
        });
        let line = output.trim_end();
        assert!(
            line.ends_with(
                "INFO recommendations bookstore_telemetry::lines::tests: request route=/ status=200"
            ),
            "{line}"
        );
    }
}
