//! Everything that stops a load test before it can report (failed requests during a test are
//! not errors here: they are counted by status in the report), and [`error_chain`], which puts a
//! transport error's causes into the one line an [`Error`] reports.

use std::path::PathBuf;
use std::time::Duration;

/// Why loadgen could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag, or a combination of flags, makes no sense.
    #[error("{0}")]
    Invalid(String),
    /// An `https://` address: TLS to gRPC targets is asked for with `--upstream-ca`; HTTP
    /// targets (the web apps) serve plain HTTP.
    #[error(
        "https:// addresses are not used: pass --upstream-ca (and --upstream-cert/--upstream-key for mutual TLS) to call a gRPC target over TLS; HTTP targets are plain HTTP"
    )]
    TlsUnsupported,
    /// The TLS files could not be used.
    #[error("TLS: {0}")]
    Tls(#[from] bookstore_tls::TlsError),
    /// The target address is not a usable URI.
    #[error("invalid address {address:?}: {reason}")]
    Address {
        /// What was given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A connection could not be opened before the test started.
    #[error("cannot connect to {endpoint}: {reason}")]
    Connect {
        /// Where.
        endpoint: String,
        /// The transport's message, with its causes.
        reason: String,
    },
    /// `--wait-ready` ran out of time.
    #[error("{endpoint} did not answer successfully within {timeout:?} (last: {last})")]
    NotReady {
        /// Where.
        endpoint: String,
        /// How long we tried.
        timeout: Duration,
        /// The last failure seen.
        last: String,
    },
    /// A client thread or its runtime could not be started.
    #[error("cannot start a client thread: {0}")]
    Thread(#[source] std::io::Error),
    /// A client thread panicked.
    #[error("a client thread panicked: {0}")]
    Panicked(String),
    /// A result or plot file could not be written or read.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A saved result is not loadgen JSON.
    #[error("{path} is not a loadgen result: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

/// An error and its causes on one line (transport errors hide the useful part in `source`),
/// each said once: hyper and tonic wrap an error in one that displays the same words ("tcp
/// connect error: tcp connect error: Connection refused"), so a cause the line already ends
/// with is left out.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        // A wrapper that quotes its cause ends with ": cause" (or is the cause again); a
        // cause that merely ends the same way ("connection refused", then "refused") is news.
        let quoted = text == said || text.ends_with(&format!(": {said}"));
        if !said.is_empty() && !quoted {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error saying `text`, caused by `source`.
    #[derive(Debug)]
    struct Layer {
        text: &'static str,
        source: Option<Box<Layer>>,
    }

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.text)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.source.as_deref().map(|s| s as _)
        }
    }

    fn chain(texts: &[&'static str]) -> Layer {
        texts
            .iter()
            .rev()
            .fold(None, |source, text| {
                Some(Layer {
                    text,
                    source: source.map(Box::new),
                })
            })
            .unwrap()
    }

    #[test]
    fn says_each_cause_once() {
        let error = chain(&[
            "transport error",
            "tcp connect error",
            "tcp connect error",
            "Connection refused (os error 111)",
        ]);
        assert_eq!(
            error_chain(&error),
            "transport error: tcp connect error: Connection refused (os error 111)"
        );
        // A wrapper that already quotes its cause, and a cause with nothing to say.
        let error = chain(&["dns error: no such host", "no such host", ""]);
        assert_eq!(error_chain(&error), "dns error: no such host");
        // Different causes all stay, in order.
        let error = chain(&["a", "b", "c"]);
        assert_eq!(error_chain(&error), "a: b: c");
        // A cause that is only the end of the words before it is a cause of its own.
        let error = chain(&["connection refused", "refused"]);
        assert_eq!(error_chain(&error), "connection refused: refused");
    }

    #[test]
    fn a_refused_connection_reads_as_one_line_without_repeats() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let error = runtime.block_on(async {
            tonic::transport::Endpoint::from_static("http://127.0.0.1:1")
                .connect()
                .await
                .unwrap_err()
        });
        let text = error_chain(&error);
        // tonic says "tcp connect error" at two levels of the chain.
        assert!(text.contains("tcp connect error"), "{text}");
        let parts: Vec<&str> = text.split(": ").collect();
        for pair in parts.windows(2) {
            assert_ne!(pair[0], pair[1], "{text}");
        }
    }
}
