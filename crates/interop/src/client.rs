//! `interop-client`: the standard interop client flags, a channel built the way every client
//! here builds one (the platform's client stack: deadlines, metrics, trace context) plus the
//! per-message compression the cases need (`client_layer`).

use std::path::PathBuf;
use std::time::Duration;

use bookstore_client::{GrpcChannel, UpstreamConfig, UpstreamOptions};
use bookstore_config::parse_positive_duration;
use bookstore_layers::Metrics;
use bookstore_proto::grpc_testing::test_service_client::TestServiceClient;
use bookstore_proto::grpc_testing::unimplemented_service_client::UnimplementedServiceClient;
use bookstore_tls::ClientTls;
use tonic::codec::CompressionEncoding;
use tower::Layer as _;

use crate::client_layer::{WireCompression, WireCompressionLayer};

/// The channel the cases call through.
pub type InteropChannel = WireCompression<GrpcChannel>;

/// The interop client's flags (the suite's names, with underscores).
#[derive(clap::Parser, Clone, Debug, PartialEq, Eq)]
#[command(
    name = "interop-client",
    version,
    about = "Runs gRPC's interop test cases against a grpc.testing.TestService server."
)]
pub struct Args {
    /// The server's host name or address.
    #[arg(long = "server_host", default_value = "localhost")]
    pub server_host: String,

    /// The name to verify the server's certificate as (default: --server_host).
    #[arg(long = "server_host_override")]
    pub server_host_override: Option<String>,

    /// The server's port.
    #[arg(long = "server_port", default_value_t = 10000)]
    pub server_port: u16,

    /// The case to run, or `all` for every one (see --list).
    #[arg(long = "test_case", default_value = "all")]
    pub test_case: String,

    /// Connect over TLS (the server's CA comes from --ca_file).
    #[arg(long = "use_tls", default_value_t = false, action = clap::ArgAction::Set)]
    pub use_tls: bool,

    /// Accepted for compatibility with the suite's scripts: the CA is always --ca_file's.
    #[arg(long = "use_test_ca", default_value_t = false, action = clap::ArgAction::Set)]
    pub use_test_ca: bool,

    /// The CA certificate (PEM) that signs the server's, for --use_tls.
    #[arg(long = "ca_file", env = "INTEROP_CA_FILE")]
    pub ca_file: Option<PathBuf>,

    /// Deadline of each call (the timeout case sets its own 1 ms); more than zero.
    #[arg(long, default_value = "10s", value_parser = parse_positive_duration)]
    pub call_timeout: Duration,

    /// Lists the cases and exits.
    #[arg(long)]
    pub list: bool,
}

/// The stubs the cases call, with the deadline each call gets.
#[derive(Clone, Debug)]
pub struct Clients {
    /// `grpc.testing.TestService`, accepting gzip responses.
    pub test: TestServiceClient<InteropChannel>,
    /// `grpc.testing.UnimplementedService`, which no server implements.
    pub unimplemented: UnimplementedServiceClient<InteropChannel>,
    /// Deadline of each call.
    pub call_timeout: Duration,
}

impl Clients {
    /// Stubs over one lazily connected channel to the server `args` name.
    pub fn connect(args: &Args) -> Result<Self, String> {
        let options = UpstreamOptions {
            upstream_timeout: args.call_timeout,
            upstream_connect_timeout: Duration::from_secs(5),
            ..UpstreamOptions::default()
        };
        let tls = if args.use_tls {
            let ca = args
                .ca_file
                .as_deref()
                .ok_or("--use_tls true needs --ca_file (the CA that signed the server)")?;
            let tls = ClientTls::load(ca, None, None, args.server_host_override.as_deref())
                .map_err(|error| error.to_string())?;
            Some(tls)
        } else {
            None
        };
        let channel = UpstreamConfig::new(&args.server_host, args.server_port, &options)
            .with_tls(tls)
            .channel(&Metrics::new())
            .map_err(|error| error.to_string())?;
        let channel = WireCompressionLayer.layer(channel);
        Ok(Self {
            test: TestServiceClient::new(channel.clone())
                .accept_compressed(CompressionEncoding::Gzip),
            unimplemented: UnimplementedServiceClient::new(channel),
            call_timeout: args.call_timeout,
        })
    }

    /// `message` as a request with the call deadline.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(self.call_timeout);
        request
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_call_timeout_is_a_duration_above_zero() {
        let parse = |flags: &[&str]| {
            Args::try_parse_from(std::iter::once("interop-client").chain(flags.iter().copied()))
        };
        assert_eq!(parse(&[]).unwrap().call_timeout, Duration::from_secs(10));
        let args = parse(&["--call-timeout", "250ms"]).unwrap();
        assert_eq!(args.call_timeout, Duration::from_millis(250));
        // Zero would fail every call: refused at start, in every duration flag's words.
        for (text, problem) in [
            ("0s", "must be more than zero, such as 250ms, 2s or 1m"),
            (
                "soon",
                "not a duration: use a number with a unit, such as 250ms, 2s or 1m",
            ),
        ] {
            let error = parse(&["--call-timeout", text]).unwrap_err().to_string();
            assert!(
                error.contains(&format!(
                    "invalid value '{text}' for '--call-timeout <CALL_TIMEOUT>': {problem}"
                )),
                "{error}"
            );
        }
    }
}
