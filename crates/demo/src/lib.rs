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
//! The other side, one call of each kind, is the `demo-client` crate (the `demo` binary).
//! Health, reflection, metrics, error mapping and graceful shutdown come from the platform
//! crates.
//!
//! [`run`] takes already-bound listeners and a shutdown future, so tests can bind port 0 and
//! stop the server at will.

pub mod activity;
pub mod countdown;
pub mod error;
pub mod replies;
pub mod service;
pub mod sum;

use bookstore_layers::Metrics;
use bookstore_proto::demo::v1::demo_service_server::DemoServiceServer;
use bookstore_proto::legacy::bidirectional::bidirectional_server::BidirectionalServer;
use bookstore_proto::legacy::unary::unary_server::UnaryServer;
use bookstore_serve::{
    GrpcServeArgs, GrpcServer, GrpcServiceDefaults, Listeners, ServeError, ServiceDefaults,
};

pub use activity::StreamActivity;
pub use error::Error;
pub use service::Demo;

/// What tells this service's serving flags from the others': its name and ports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoService;

impl ServiceDefaults for DemoService {
    const NAME: &'static str = "demo-server";
    const PORT_ENV: &'static str = "DEMO_PORT";
    const DEFAULT_PORT: u16 = 50053;
}

impl GrpcServiceDefaults for DemoService {
    const DEFAULT_METRICS_PORT: u16 = 9103;
}

/// The service's configuration: flags, each with an environment variable.
#[derive(clap::Parser, Clone, Debug, Default, PartialEq, Eq)]
#[command(
    name = "demo-server",
    version,
    about = "The demo gRPC service of Online Books For You: unary, server-streaming, client-streaming and bidirectional calls."
)]
pub struct Config {
    /// Where and how it serves.
    #[command(flatten)]
    pub serve: GrpcServeArgs<DemoService>,
}

/// Serves a fresh [`Demo`] on `listeners` until `shutdown` completes and in-flight calls have
/// finished (or the grace period is over).
pub async fn run(
    listeners: Listeners,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    serve(Demo::default(), listeners, config, shutdown).await
}

/// [`run`] with a given [`Demo`], for callers that keep a clone to watch its
/// [`StreamActivity`].
pub async fn serve(
    demo: Demo,
    listeners: Listeners,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    tracing::info!(
        grpc = %listeners.main_addr(),
        metrics = listeners.admin_addr().map(tracing::field::display),
        "demo serving"
    );
    let metrics = Metrics::new();
    GrpcServer::new(&config.serve.server, &metrics)
        .tls(&config.serve.tls)
        .faults(&config.serve.faults)
        .add_service(UnaryServer::new(demo.clone()))
        .add_service(BidirectionalServer::new(demo.clone()))
        .add_service(DemoServiceServer::new(demo))
        .serve(listeners, shutdown)
        .await
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
        let serve = &config.serve;
        assert_eq!(
            (serve.host.as_str(), serve.port, serve.metrics_port),
            ("127.0.0.1", 6000, 6001)
        );
        assert!(Config::try_parse_from(["demo-server", "--port", "http"]).is_err());
    }
}
