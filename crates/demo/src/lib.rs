//! The demo service of Online Books For You: all four kinds of gRPC call on one server.
//!
//! | kind | service / method | what it does |
//! |---|---|---|
//! | unary | `unary.Unary/GetServerResponse` | acknowledges one message (the article's example) |
//! | server streaming | `bookstore.demo.v1.DemoService/Countdown` | counts down, one number per interval |
//! | client streaming | `bookstore.demo.v1.DemoService/Sum` | adds up a stream of numbers |
//! | bidirectional | `bidirectional.Bidirectional/GetServerResponse` | answers each message as it arrives |
//!
//! The article's two services keep their original packages, so clients generated from its
//! protos work unchanged. Streams are produced lazily, so HTTP/2 flow control is the only buffer
//! (backpressure), a cancelled call's work stops when the transport drops its stream, and the
//! first invalid message ends a stream with its status. The limits are documented in
//! [`replies`], [`countdown`] and [`sum`].
//!
//! [`client`] is the other side: one function per kind of call, used by the `demo` binary and
//! by the launcher's `bookstore demo` subcommand. Health, reflection, metrics, error mapping and
//! graceful shutdown come from `bookstore-platform`.
//!
//! [`run`] takes already-bound listeners and a shutdown future, so tests can bind port 0 and
//! stop the server at will.

pub mod activity;
pub mod client;
pub mod countdown;
pub mod error;
pub mod replies;
pub mod service;
pub mod sum;

use bookstore_platform::Metrics;
use bookstore_platform::config::ServerSettings;
use bookstore_platform::server::{GrpcServer, Listeners};
use bookstore_platform::tls::TlsSettings;
use bookstore_proto::demo::v1::demo_service_server::DemoServiceServer;
use bookstore_proto::legacy::bidirectional::bidirectional_server::BidirectionalServer;
use bookstore_proto::legacy::unary::unary_server::UnaryServer;

pub use activity::StreamActivity;
pub use client::{ClientArgs, ClientCommand, ClientError, run_client};
pub use error::Error;
pub use service::Demo;

/// The default gRPC port.
pub const DEFAULT_PORT: u16 = 50053;
/// The default port of the admin endpoint (`/metrics`).
pub const DEFAULT_METRICS_PORT: u16 = 9103;

/// The service's configuration: flags, each with an environment variable.
#[derive(clap::Parser, Clone, Debug, PartialEq, Eq)]
#[command(
    name = "demo-server",
    version,
    about = "The demo gRPC service of Online Books For You: unary, server-streaming, client-streaming and bidirectional calls."
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "BIND_HOST", default_value = "0.0.0.0")]
    pub host: String,

    /// gRPC port.
    #[arg(long, env = "DEMO_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Port of the admin endpoint serving Prometheus metrics at /metrics.
    #[arg(long, env = "METRICS_PORT", default_value_t = DEFAULT_METRICS_PORT)]
    pub metrics_port: u16,

    /// Limits and shutdown.
    #[command(flatten)]
    pub server: ServerSettings,

    /// TLS or mutual TLS on the gRPC port.
    #[command(flatten)]
    pub tls: TlsSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".to_owned(),
            port: DEFAULT_PORT,
            metrics_port: DEFAULT_METRICS_PORT,
            server: ServerSettings::default(),
            tls: TlsSettings::default(),
        }
    }
}

/// Serves a fresh [`Demo`] on `listeners` until `shutdown` completes and in-flight calls have
/// finished (or the grace period is over).
pub async fn run(
    listeners: Listeners,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    serve(Demo::default(), listeners, config, shutdown).await
}

/// [`run`] with a given [`Demo`], for callers that keep a clone to watch its
/// [`StreamActivity`].
pub async fn serve(
    demo: Demo,
    listeners: Listeners,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    tracing::info!(
        grpc = %listeners.grpc_addr(),
        metrics = ?listeners.admin_addr(),
        "demo serving"
    );
    let metrics = Metrics::new();
    GrpcServer::new(&config.server, &metrics)
        .tls(&config.tls)?
        .add_service(UnaryServer::new(demo.clone()))
        .add_service(BidirectionalServer::new(demo.clone()))
        .add_service(DemoServiceServer::new(demo))
        .serve(listeners, shutdown)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn default_config_matches_the_flags_defaults() {
        assert_eq!(
            Config::try_parse_from(["demo-server"]).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn flags_override_the_defaults() {
        let config = Config::try_parse_from([
            "demo-server",
            "--host",
            "127.0.0.1",
            "--port",
            "6000",
            "--metrics-port",
            "6001",
        ])
        .unwrap();
        assert_eq!(
            (config.host.as_str(), config.port, config.metrics_port),
            ("127.0.0.1", 6000, 6001)
        );
        assert!(Config::try_parse_from(["demo-server", "--port", "http"]).is_err());
    }
}
