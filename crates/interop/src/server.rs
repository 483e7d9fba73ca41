//! `interop-server`: [`Interop`] served through the platform's production stack — every
//! server layer, health, reflection, metrics, TLS, graceful shutdown — exactly as the product
//! services are, so the interop suite tests what they run on. It takes the standard interop
//! server flags (`--port`, `--use_tls`) beside the platform's own.

use bookstore_layers::Metrics;
use bookstore_proto::grpc_testing::test_service_server::TestServiceServer;
use bookstore_serve::{
    GrpcServeArgs, GrpcServer, GrpcServiceDefaults, Listeners, ServeError, ServiceDefaults,
};
use bookstore_tls::TlsSettings;
use tonic::codec::CompressionEncoding;

use crate::server_layer::TestFeatures;
use crate::service::Interop;

/// What tells this server's flags from the services': its name and ports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InteropServer;

impl ServiceDefaults for InteropServer {
    const NAME: &'static str = "interop-server";
    const PORT_ENV: &'static str = "INTEROP_PORT";
    const DEFAULT_PORT: u16 = 10000;
}

impl GrpcServiceDefaults for InteropServer {
    const DEFAULT_METRICS_PORT: u16 = 9105;
}

/// The server's flags: the interop suite's standard ones and the platform's.
#[derive(clap::Parser, Clone, Debug, Default, PartialEq, Eq)]
#[command(
    name = "interop-server",
    version,
    about = "grpc.testing.TestService on the platform's full server stack, for gRPC's interop tests."
)]
pub struct Config {
    /// Where and how it serves (`--port` is the interop suite's flag too).
    #[command(flatten)]
    pub serve: GrpcServeArgs<InteropServer>,

    /// Serve TLS, with the certificate and key of `--tls-cert` and `--tls-key` (required then).
    #[arg(long = "use_tls", alias = "use-tls", default_value_t = false, action = clap::ArgAction::Set)]
    pub use_tls: bool,
}

impl Config {
    /// The configuration as it serves: TLS exactly when `--use_tls` says, or why that cannot be.
    pub fn checked(mut self) -> Result<Self, String> {
        if !self.use_tls {
            self.serve.tls = TlsSettings::default();
        } else if self.serve.tls.tls_cert.is_none() {
            return Err(
                "--use_tls true needs a certificate: give --tls-cert and --tls-key \
                 (`bookstore certs` makes a set)"
                    .to_owned(),
            );
        }
        Ok(self)
    }
}

/// Serves on `listeners` until `shutdown` completes and in-flight calls have finished.
pub async fn run(
    listeners: Listeners,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    tracing::info!(
        grpc = %listeners.main_addr(),
        metrics = listeners.admin_addr().map(tracing::field::display),
        tls = config.use_tls,
        "interop-server serving"
    );
    let service = TestServiceServer::new(Interop).accept_compressed(CompressionEncoding::Gzip);
    GrpcServer::new(&config.serve.server, &Metrics::new())
        .tls(&config.serve.tls)
        .faults(&config.serve.faults)
        .add_service(TestFeatures::new(service))
        .serve(listeners, shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn takes_the_standard_flags() {
        let config =
            Config::try_parse_from(["interop-server", "--port", "8080", "--use_tls", "false"])
                .unwrap();
        assert_eq!((config.serve.port, config.use_tls), (8080, false));
        assert_eq!(
            Config::try_parse_from(["interop-server"]).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn tls_needs_a_certificate() {
        let config = Config::try_parse_from(["interop-server", "--use_tls", "true"]).unwrap();
        assert!(config.checked().unwrap_err().contains("--tls-cert"));
    }
}
