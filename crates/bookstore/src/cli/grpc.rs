//! Calling a gRPC service from the command line, through the platform's client side: one
//! channel, the command's deadline on the call (sent as `grpc-timeout`, enforced here too), TLS
//! from the `--upstream-*` flags; and what a failed call means, in words.

use std::time::Duration;

use bookstore_client::{GrpcChannel, UpstreamConfig, UpstreamOptions};
use bookstore_layers::Metrics;
use bookstore_tls::UpstreamTlsSettings;
use tonic::{Code, Status};

use crate::cli::error::unreachable;
use crate::cli::{CliError, Target};

/// A service to call: where it is, and a channel to it.
#[derive(Debug)]
pub(crate) struct Grpc {
    /// Where it is.
    pub(crate) target: Target,
    /// How calls to it are made (their deadline, above all).
    pub(crate) upstream: UpstreamConfig,
    /// The channel, connected on the first call.
    pub(crate) channel: GrpcChannel,
}

impl Grpc {
    /// A channel to `target`; the whole call, connecting included, must finish within
    /// `timeout`.
    pub(crate) fn new(
        target: Target,
        timeout: Duration,
        tls: &UpstreamTlsSettings,
    ) -> Result<Self, CliError> {
        let options = UpstreamOptions {
            upstream_timeout: timeout,
            upstream_connect_timeout: timeout,
            ..UpstreamOptions::default()
        };
        let upstream = UpstreamConfig::from_settings(
            target.service,
            target.host.clone(),
            target.port,
            &options,
            tls,
        )?;
        // A one-shot process: its client metrics are never scraped.
        let channel = upstream.channel(&Metrics::new())?;
        Ok(Self {
            target,
            upstream,
            channel,
        })
    }

    /// `message` as a request carrying the deadline.
    pub(crate) fn request<T>(&self, message: T) -> tonic::Request<T> {
        self.upstream.request(message, None)
    }

    /// What a failed call means: the service is not there, too slow, or said no.
    pub(crate) fn error(&self, status: &Status) -> CliError {
        let address = self.target.to_string();
        let service = self.target.service;
        if is_deadline(status) {
            return CliError::Timeout {
                service,
                address,
                timeout: self.upstream.call_timeout,
            };
        }
        // A failure of the connection carries its cause; a status the server sent does not.
        if let Some(cause) = std::error::Error::source(status) {
            return unreachable(service, address, cause);
        }
        CliError::Refused {
            service,
            status: code_name(status.code()),
            message: status.message().to_owned(),
        }
    }
}

/// Whether `status` reports the deadline passing, whichever side noticed: the server, this
/// client's deadline layer (`DEADLINE_EXCEEDED`), or tonic's own backstop (`CANCELLED`,
/// caused by `TimeoutExpired`).
fn is_deadline(status: &Status) -> bool {
    let mut cause = std::error::Error::source(status);
    while let Some(error) = cause {
        if error.is::<tonic::TimeoutExpired>() {
            return true;
        }
        cause = error.source();
    }
    status.code() == Code::DeadlineExceeded
}

/// A status code's name as the gRPC specification writes it: `InvalidArgument` →
/// `INVALID_ARGUMENT`.
fn code_name(code: Code) -> String {
    let mut name = String::new();
    for (i, c) in format!("{code:?}").chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grpc() -> Grpc {
        let target = Target {
            service: "factorial",
            host: "localhost".into(),
            port: 50052,
        };
        Grpc::new(
            target,
            Duration::from_secs(2),
            &UpstreamTlsSettings::default(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_servers_status_is_told_in_its_own_words() {
        assert_eq!(code_name(Code::InvalidArgument), "INVALID_ARGUMENT");
        assert_eq!(code_name(Code::Ok), "OK");
        assert_eq!(code_name(Code::Cancelled), "CANCELLED");
        assert_eq!(code_name(Code::OutOfRange), "OUT_OF_RANGE");
        let grpc = grpc();
        let refused = grpc.error(&Status::out_of_range("n must be at most 100000"));
        assert_eq!(
            refused.to_string(),
            "factorial answered OUT_OF_RANGE: n must be at most 100000"
        );
        let late = grpc.error(&Status::deadline_exceeded("too slow"));
        assert_eq!(
            late.to_string(),
            "factorial at localhost:50052 did not answer within 2s"
        );
    }
}
