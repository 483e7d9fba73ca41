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
//!
//! `grpc` holds [`GrpcServeArgs`], and where a gRPC service's admin port is read from;
//! `faults` its fault-injection flags ([`FaultSettings`]).

mod faults;
mod grpc;

use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::sync::{Mutex, PoisonError};

use clap::Args;

pub use self::faults::FaultSettings;
pub use self::grpc::{GrpcServeArgs, SHARED_METRICS_PORT_ENV};

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

    /// The environment variable of its admin port, read before the shared
    /// [`SHARED_METRICS_PORT_ENV`]: by default its port's variable with `_PORT` made
    /// `_METRICS_PORT` (`RECOMMENDATIONS_PORT` → `RECOMMENDATIONS_METRICS_PORT`), so every
    /// service has one without naming it.
    fn metrics_port_env() -> &'static str {
        metrics_port_env_for(Self::PORT_ENV)
    }
}

/// `RECOMMENDATIONS_PORT` → `RECOMMENDATIONS_METRICS_PORT`.
fn metrics_port_env_for(port_env: &'static str) -> &'static str {
    let stem = port_env.strip_suffix("_PORT").unwrap_or(port_env);
    kept(format!("{stem}_METRICS_PORT"))
}

/// `text` as the `&'static str` clap wants for names and defaults, made once per distinct
/// text and kept for the life of the process (a few bytes per service).
///
/// Defaults go through here rather than `default_value_t`, which clap keeps in a `static`
/// inside the generic `augment_args` — one `static` shared by every service type, so that in a
/// program holding several services (`bookstore serve`) each defaulted to the port of the first.
fn kept(text: String) -> &'static str {
    static TEXTS: Mutex<BTreeSet<&str>> = Mutex::new(BTreeSet::new());
    let mut texts = TEXTS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(text) = texts.get(text.as_str()) {
        return text;
    }
    let text: &'static str = Box::leak(text.into_boxed_str());
    texts.insert(text);
    text
}

/// How a web app serves: address, port and limits (it serves `/metrics` on its own port).
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct HttpServeArgs<S: ServiceDefaults> {
    /// Address to listen on.
    #[arg(long, env = "BIND_HOST", default_value = DEFAULT_HOST)]
    pub host: String,

    /// HTTP port (pages, the JSON API and /metrics).
    #[arg(long, env = S::PORT_ENV, default_value = kept(S::DEFAULT_PORT.to_string()))]
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
pub(crate) mod fixtures {
    //! Example services for the tests of this module and of `grpc`.

    use super::{GrpcServeArgs, GrpcServiceDefaults, ServiceDefaults};

    /// A service with its own variables and default ports.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub(crate) struct Example;

    impl ServiceDefaults for Example {
        const NAME: &'static str = "example";
        const PORT_ENV: &'static str = "BOOKSTORE_TEST_EXAMPLE_PORT";
        const DEFAULT_PORT: u16 = 6100;
    }

    impl GrpcServiceDefaults for Example {
        const DEFAULT_METRICS_PORT: u16 = 6101;
    }

    /// The example's gRPC flags as a whole command line.
    #[derive(clap::Parser, Debug)]
    pub(crate) struct GrpcCli {
        #[command(flatten)]
        pub(crate) serve: GrpcServeArgs<Example>,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::fixtures::{Example, GrpcCli};
    use super::*;

    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    struct Other;

    impl ServiceDefaults for Other {
        const NAME: &'static str = "other";
        const PORT_ENV: &'static str = "BOOKSTORE_TEST_OTHER_PORT";
        const DEFAULT_PORT: u16 = 6200;
    }

    impl GrpcServiceDefaults for Other {
        const DEFAULT_METRICS_PORT: u16 = 6201;
    }

    /// Services in one program, as `bookstore serve` holds five.
    #[derive(Parser, Debug)]
    enum Services {
        Example(GrpcCli),
        OtherGrpc {
            #[command(flatten)]
            serve: GrpcServeArgs<Other>,
        },
        OtherHttp {
            #[command(flatten)]
            serve: HttpServeArgs<Other>,
        },
    }

    #[test]
    fn services_in_one_program_keep_their_own_defaults() {
        let parse = |name| Services::try_parse_from(["services", name]).unwrap();
        let Services::Example(example) = parse("example") else {
            panic!("example");
        };
        assert_eq!(
            (example.serve.port, example.serve.metrics_port),
            (6100, 6101)
        );
        let Services::OtherGrpc { serve } = parse("other-grpc") else {
            panic!("other-grpc");
        };
        assert_eq!((serve.port, serve.metrics_port), (6200, 6201));
        let Services::OtherHttp { serve } = parse("other-http") else {
            panic!("other-http");
        };
        assert_eq!(serve.port, 6200);
        assert_eq!(
            HttpCli::try_parse_from(["example"]).unwrap().serve.port,
            6100
        );
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
