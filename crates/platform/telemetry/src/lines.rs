//! One log line per event, as text for people or JSON for log shippers, each naming the service
//! and, inside a traced request, its `trace_id` and `span_id`.
//!
//! Written here rather than configured from tracing-subscriber's own formats because those
//! cannot say what these lines must: the JSON format repeats a key when an event has a field
//! named like one of its own (`message`, say), cannot name the service (under `bookstore up`,
//! five share a process), and can only nest the request span's ids under `span`. Here every
//! line is one flat object whose event fields never take a key of the line's own (they become
//! `field.<name>`); fields keep their types, so numbers stay numbers. Fields are written out as
//! they are visited, without a map or an allocation per field: the web apps write one of these
//! lines per request.

use std::fmt::{self, Write as _};

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
        let ids = ctx.lookup_current().and_then(|span| {
            span.scope()
                .find_map(|span| span.extensions().get::<TraceIds>().copied())
        });
        let metadata = event.metadata();
        let mut fields = Fields::new(self.format);
        event.record(&mut fields);
        fields.result?;
        let writer = &mut writer;
        match self.format {
            LogFormat::Text => {
                SystemTime.format_time(writer)?;
                write!(
                    writer,
                    " {:>5} {} {}: {}",
                    metadata.level().as_str(),
                    self.service,
                    metadata.target(),
                    fields.message
                )?;
                if let Some(ids) = ids {
                    write!(writer, " trace_id={} span_id={}", ids.trace_id, ids.span_id)?;
                }
                writer.write_str(&fields.rest)?;
            }
            LogFormat::Json => {
                let mut timestamp = String::with_capacity(32);
                SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
                writer.write_str("{\"timestamp\":")?;
                json_str(writer, &timestamp)?;
                write!(
                    writer,
                    ",\"level\":\"{}\",\"service\":",
                    metadata.level().as_str()
                )?;
                json_str(writer, &self.service)?;
                writer.write_str(",\"target\":")?;
                json_str(writer, metadata.target())?;
                if let Some(ids) = ids {
                    // Lowercase hex: nothing to escape.
                    write!(
                        writer,
                        ",\"trace_id\":\"{}\",\"span_id\":\"{}\"",
                        ids.trace_id, ids.span_id
                    )?;
                }
                writer.write_str(",\"message\":")?;
                json_str(writer, &fields.message)?;
                writer.write_str(&fields.rest)?;
                writer.write_char('}')?;
            }
        }
        writer.write_char('\n')
    }
}

/// The keys every line has: an event field named like one is written as `field.<name>`.
const LINE_KEYS: [&str; 6] = [
    "timestamp",
    "level",
    "service",
    "target",
    "trace_id",
    "span_id",
];

/// An event's message, and its other fields already written out in the line's format: text
/// ` key=value` (strings unquoted) or JSON `,"key":value` (strings quoted, numbers as numbers).
/// Written as they are visited, so a line costs no allocation per field.
struct Fields {
    format: LogFormat,
    message: String,
    rest: String,
    result: fmt::Result,
}

impl Fields {
    fn new(format: LogFormat) -> Self {
        Self {
            format,
            message: String::new(),
            // Room for an access-log line's fields: one allocation, no regrowth.
            rest: String::with_capacity(192),
            result: Ok(()),
        }
    }

    /// Writes ` key=` or `,"key":` for `field`.
    fn key(&mut self, field: &Field) -> fmt::Result {
        let prefix = if LINE_KEYS.contains(&field.name()) {
            "field."
        } else {
            ""
        };
        // Pieces pushed rather than `write!`: the formatting machinery costs more than the copy.
        // Field names are Rust identifiers (or dotted ones): nothing to escape.
        let (open, close) = match self.format {
            LogFormat::Text => (" ", "="),
            LogFormat::Json => (",\"", "\":"),
        };
        for piece in [open, prefix, field.name(), close] {
            self.rest.push_str(piece);
        }
        Ok(())
    }

    /// Adds a field whose value is text.
    fn text(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            value.clone_into(&mut self.message);
            return;
        }
        self.result = self.result.and_then(|()| {
            self.key(field)?;
            match self.format {
                LogFormat::Text => self.rest.write_str(value),
                LogFormat::Json => json_str(&mut self.rest, value),
            }
        });
    }

    /// Adds a field whose value is a number or a boolean, written as itself.
    fn plain(&mut self, field: &Field, value: impl fmt::Display) {
        if field.name() == "message" {
            self.message = value.to_string();
            return;
        }
        self.result = self.result.and_then(|()| {
            self.key(field)?;
            write!(self.rest, "{value}")
        });
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        // As JSON has it: `1.0` stays `1.0`, and what JSON cannot hold is `null`.
        match serde_json::Number::from_f64(value) {
            Some(number) => self.plain(field, number),
            None => self.plain(field, "null"),
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.plain(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.plain(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.plain(field, value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.text(field, &value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // The message (`info!("...")` records it as `fmt::Arguments`) and text-format values
        // are written straight in; a JSON string must be escaped, so it goes through a copy.
        match (field.name(), self.format) {
            ("message", _) => {
                self.message.clear();
                self.result = self.result.and(write!(self.message, "{value:?}"));
            }
            (_, LogFormat::Text) => {
                self.result = self
                    .result
                    .and_then(|()| self.key(field))
                    .and_then(|()| write!(self.rest, "{value:?}"));
            }
            (_, LogFormat::Json) => self.text(field, &format!("{value:?}")),
        }
    }
}

/// Writes `text` as a JSON string, quoted and escaped by serde_json.
fn json_str(writer: &mut impl fmt::Write, text: &str) -> fmt::Result {
    /// `io::Write` over a `fmt::Write`, for serde_json's writer API. serde_json writes valid
    /// UTF-8, and only ever splits a string at an ASCII character it escapes.
    struct Adapter<'a, W>(&'a mut W);
    impl<W: fmt::Write> std::io::Write for Adapter<'_, W> {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let text = std::str::from_utf8(bytes).map_err(std::io::Error::other)?;
            self.0.write_str(text).map_err(std::io::Error::other)?;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    serde_json::to_writer(Adapter(writer), text).map_err(|_| fmt::Error)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt as _;

    use serde_json::Value;

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
    fn json_strings_are_escaped_and_odd_values_stay_valid() {
        let output = lines(LogFormat::Json, || {
            let path = "/a \"quoted\"\nline";
            tracing::error!(
                path,
                ratio = f64::NAN,
                trace_id = "not the line's",
                detail = ?Some("x"),
                "failed: {}",
                "\"why\"\t"
            );
        });
        let line: Value = serde_json::from_str(output.trim_end()).expect(&output);
        assert_eq!(line["path"], "/a \"quoted\"\nline");
        assert_eq!(line["message"], "failed: \"why\"\t");
        assert_eq!(line["ratio"], Value::Null);
        assert_eq!(line["field.trace_id"], "not the line's");
        assert_eq!(line["detail"], "Some(\"x\")");
        assert!(line.get("trace_id").is_none(), "{output}");
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
