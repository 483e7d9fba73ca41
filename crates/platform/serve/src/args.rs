//! The flags every service shares, once: where it listens, its limits, its TLS. A service
//! flattens [`GrpcServeArgs`] or [`HttpServeArgs`] into its own `Config`, naming itself with a
//! type that says what differs — its port's environment variable (the tutorial's
//! `RECOMMENDATIONS_PORT`, ...) and its default ports:
//!
//! ```
//! use bookstore_serve::{GrpcServeArgs, GrpcServiceDefaults, ServiceDefaults};
//!
//! #[derive(Clone, Debug, Default, PartialEq, Eq)]
//! struct Recommendations;
//!
//! impl ServiceDefaults for Recommendations {
//!     const NAME: &'static str = "recommendations";
//!     const PORT_ENV: &'static str = "RECOMMENDATIONS_PORT";
//!     const DEFAULT_PORT: u16 = 50051;
//! }
//!
//! impl GrpcServiceDefaults for Recommendations {
//!     const DEFAULT_METRICS_PORT: u16 = 9101;
//! }
//!
//! #[derive(clap::Parser)]
//! struct Config {
//!     #[command(flatten)]
//!     serve: GrpcServeArgs<Recommendations>,
//! }
//! ```

use std::marker::PhantomData;

use bookstore_tls::TlsSettings;
use clap::Args;

use crate::error::ServeError;
use crate::listeners::Listeners;
use crate::settings::ServerSettings;

/// The address every service listens on unless told otherwise: every interface, as a
/// container needs.
const DEFAULT_HOST: &str = "0.0.0.0";

/// What tells one service's serving flags from another's.
pub trait ServiceDefaults: Clone + std::fmt::Debug + Default + Send + Sync + 'static {
    /// The program's name, as its errors and logs give it.
    const NAME: &'static str;
    /// The environment variable of its port, e.g. `RECOMMENDATIONS_PORT`.
    const PORT_ENV: &'static str;
    /// Its port when not told otherwise.
    const DEFAULT_PORT: u16;
}

/// What a gRPC service adds: the port of its admin endpoint.
pub trait GrpcServiceDefaults: ServiceDefaults {
    /// The admin (`/metrics`, `/healthz`) port when not told otherwise.
    const DEFAULT_METRICS_PORT: u16;
}

/// How a gRPC service serves: address, ports, limits and TLS.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct GrpcServeArgs<S: GrpcServiceDefaults> {
    /// Address to listen on.
    #[arg(long, env = "BIND_HOST", default_value = DEFAULT_HOST)]
    pub host: String,

    /// gRPC port.
    #[arg(long, env = S::PORT_ENV, default_value_t = S::DEFAULT_PORT)]
    pub port: u16,

    /// Port of the admin endpoint serving Prometheus metrics at /metrics and /healthz.
    #[arg(long, env = "METRICS_PORT", default_value_t = S::DEFAULT_METRICS_PORT)]
    pub metrics_port: u16,

    /// Limits and shutdown.
    #[command(flatten)]
    pub server: ServerSettings,

    /// TLS or mutual TLS on the gRPC port.
    #[command(flatten)]
    pub tls: TlsSettings,

    /// Which service these flags are for: a marker, with nothing to set (public so that
    /// `..Default::default()` works outside this crate).
    #[arg(skip)]
    pub service: PhantomData<S>,
}

impl<S: GrpcServiceDefaults> Default for GrpcServeArgs<S> {
    fn default() -> Self {
        Self {
            host: DEFAULT_HOST.to_owned(),
            port: S::DEFAULT_PORT,
            metrics_port: S::DEFAULT_METRICS_PORT,
            server: ServerSettings::default(),
            tls: TlsSettings::default(),
            service: PhantomData,
        }
    }
}

/// How a web app serves: address, port and limits (it serves `/metrics` on its own port).
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct HttpServeArgs<S: ServiceDefaults> {
    /// Address to listen on.
    #[arg(long, env = "BIND_HOST", default_value = DEFAULT_HOST)]
    pub host: String,

    /// HTTP port (pages, the JSON API and /metrics).
    #[arg(long, env = S::PORT_ENV, default_value_t = S::DEFAULT_PORT)]
    pub port: u16,

    /// Limits and shutdown.
    #[command(flatten)]
    pub server: ServerSettings,

    /// Which service these flags are for: a marker, with nothing to set (public so that
    /// `..Default::default()` works outside this crate).
    #[arg(skip)]
    pub service: PhantomData<S>,
}

impl<S: ServiceDefaults> Default for HttpServeArgs<S> {
    fn default() -> Self {
        Self {
            host: DEFAULT_HOST.to_owned(),
            port: S::DEFAULT_PORT,
            server: ServerSettings::default(),
            service: PhantomData,
        }
    }
}

/// What [`crate::run_service`] needs of a service's serving flags.
pub trait ServeArgs {
    /// The program's name.
    fn name(&self) -> &'static str;
    /// Its limits and shutdown settings.
    fn server(&self) -> &ServerSettings;
    /// Binds its listeners.
    fn bind(&self) -> impl Future<Output = Result<Listeners, ServeError>> + Send;
}

impl<S: GrpcServiceDefaults> ServeArgs for GrpcServeArgs<S> {
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn server(&self) -> &ServerSettings {
        &self.server
    }

    async fn bind(&self) -> Result<Listeners, ServeError> {
        Listeners::bind(&self.host, self.port, Some(self.metrics_port)).await
    }
}

impl<S: ServiceDefaults> ServeArgs for HttpServeArgs<S> {
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn server(&self) -> &ServerSettings {
        &self.server
    }

    async fn bind(&self) -> Result<Listeners, ServeError> {
        Listeners::bind(&self.host, self.port, None).await
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    struct Example;

    impl ServiceDefaults for Example {
        const NAME: &'static str = "example";
        const PORT_ENV: &'static str = "BOOKSTORE_TEST_EXAMPLE_PORT";
        const DEFAULT_PORT: u16 = 6100;
    }

    impl GrpcServiceDefaults for Example {
        const DEFAULT_METRICS_PORT: u16 = 6101;
    }

    #[derive(Parser, Debug)]
    struct GrpcCli {
        #[command(flatten)]
        serve: GrpcServeArgs<Example>,
    }

    #[derive(Parser, Debug)]
    struct HttpCli {
        #[command(flatten)]
        serve: HttpServeArgs<Example>,
    }

    #[test]
    fn defaults_match_the_flags_and_name_the_service() {
        let grpc = GrpcCli::try_parse_from(["example"]).unwrap().serve;
        assert_eq!(grpc, GrpcServeArgs::default());
        assert_eq!((grpc.port, grpc.metrics_port), (6100, 6101));
        assert_eq!(grpc.name(), "example");
        let http = HttpCli::try_parse_from(["example"]).unwrap().serve;
        assert_eq!(http, HttpServeArgs::default());
    }

    #[test]
    fn the_port_is_read_from_the_services_own_variable() {
        let command = <GrpcCli as clap::CommandFactory>::command();
        let port = command
            .get_arguments()
            .find(|arg| arg.get_id() == "port")
            .unwrap();
        assert_eq!(
            port.get_env().and_then(|name| name.to_str()),
            Some("BOOKSTORE_TEST_EXAMPLE_PORT")
        );
        let flags =
            GrpcCli::try_parse_from(["example", "--port", "7000", "--host", "::1"]).unwrap();
        assert_eq!((flags.serve.port, flags.serve.host.as_str()), (7000, "::1"));
    }
}
