//! How a gRPC service serves ([`GrpcServeArgs`]), and where its admin port is read from: first
//! to last, `--metrics-port`, the service's own variable
//! ([`GrpcServiceDefaults::metrics_port_env`], e.g. `RECOMMENDATIONS_METRICS_PORT`), the shared
//! `METRICS_PORT`, and the service's default. `METRICS_PORT` is what every binary read before
//! the services had variables of their own; it still works for a process alone in its
//! environment (a container), but cannot tell services apart where they share one (`bookstore
//! up`, a developer's shell).
//!
//! The flags are parsed into [`GrpcServeFlags`], which tells whether the admin port was given,
//! then resolved into [`GrpcServeArgs`]: clap gives one argument one variable.

use std::ffi::OsString;
use std::marker::PhantomData;

use bookstore_tls::TlsSettings;
use clap::{Args, FromArgMatches};

use super::faults::FaultSettings;
use super::{DEFAULT_HOST, GrpcServiceDefaults, kept};
use crate::settings::ServerSettings;

/// The admin-port variable every gRPC service reads after its own: shared by every binary.
pub const SHARED_METRICS_PORT_ENV: &str = "METRICS_PORT";

/// How a gRPC service serves: address, ports, limits and TLS, once the admin port's fallbacks
/// are applied (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrpcServeArgs<S: GrpcServiceDefaults> {
    /// Address to listen on.
    pub host: String,
    /// gRPC port.
    pub port: u16,
    /// Port of the admin endpoint (see the module docs for where it is read from).
    pub metrics_port: u16,
    /// Limits and shutdown.
    pub server: ServerSettings,
    /// TLS or mutual TLS on the gRPC port.
    pub tls: TlsSettings,
    /// Faults injected on purpose (none by default); give them to the server with
    /// `GrpcServer::faults`.
    pub faults: FaultSettings,
    /// Which service these flags are for: a marker, with nothing to set (public so that
    /// `..Default::default()` works outside this crate).
    pub service: PhantomData<S>,
}

/// The flags of [`GrpcServeArgs`], as given: the admin port only if the flag or the service's
/// own variable set it.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
struct GrpcServeFlags<S: GrpcServiceDefaults> {
    /// Address to listen on.
    #[arg(long, env = "BIND_HOST", default_value = DEFAULT_HOST)]
    host: String,

    /// gRPC port.
    #[arg(long, env = S::PORT_ENV, default_value = kept(S::DEFAULT_PORT.to_string()))]
    port: u16,

    #[arg(long, env = S::metrics_port_env(), help = metrics_port_help::<S>())]
    metrics_port: Option<u16>,

    /// Limits and shutdown.
    #[command(flatten)]
    server: ServerSettings,

    /// TLS or mutual TLS on the gRPC port.
    #[command(flatten)]
    tls: TlsSettings,

    /// Faults injected on purpose.
    #[command(flatten)]
    faults: FaultSettings,

    #[arg(skip)]
    service: PhantomData<S>,
}

/// `--metrics-port`'s help, which names the service's own default and variable.
fn metrics_port_help<S: GrpcServiceDefaults>() -> String {
    format!(
        "Port of the admin endpoint serving Prometheus metrics at /metrics and /healthz \
         [default: {SHARED_METRICS_PORT_ENV} if set (shared by every service), else {}]",
        S::DEFAULT_METRICS_PORT
    )
}

impl<S: GrpcServiceDefaults> GrpcServeFlags<S> {
    /// The settings these flags mean, reading `shared` (the value of [`SHARED_METRICS_PORT_ENV`])
    /// only if neither the flag nor the service's own variable named the admin port.
    fn resolve(self, shared: Option<OsString>) -> Result<GrpcServeArgs<S>, clap::Error> {
        let metrics_port = match (self.metrics_port, shared) {
            (Some(port), _) => port,
            // As clap treats its own variables: an empty one is not set.
            (None, Some(value)) if !value.is_empty() => value
                .to_str()
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| {
                    // In `bookstore_config::parse_args`' words for the variables clap reads.
                    clap::Error::raw(
                        clap::error::ErrorKind::ValueValidation,
                        format!(
                            "invalid value '{}' in {SHARED_METRICS_PORT_ENV} (--metrics-port): \
                             expected a port number (0 to 65535)\n",
                            value.to_string_lossy()
                        ),
                    )
                })?,
            (None, _) => S::DEFAULT_METRICS_PORT,
        };
        Ok(GrpcServeArgs {
            host: self.host,
            port: self.port,
            metrics_port,
            server: self.server,
            tls: self.tls,
            faults: self.faults,
            service: PhantomData,
        })
    }
}

impl<S: GrpcServiceDefaults> FromArgMatches for GrpcServeArgs<S> {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        GrpcServeFlags::<S>::from_arg_matches(matches)?
            .resolve(std::env::var_os(SHARED_METRICS_PORT_ENV))
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        // What is already set counts as given: only what `matches` holds changes.
        let mut flags = GrpcServeFlags::<S> {
            host: self.host.clone(),
            port: self.port,
            metrics_port: Some(self.metrics_port),
            server: self.server.clone(),
            tls: self.tls.clone(),
            faults: self.faults.clone(),
            service: PhantomData,
        };
        flags.update_from_arg_matches(matches)?;
        *self = flags.resolve(None)?;
        Ok(())
    }
}

impl<S: GrpcServiceDefaults> Args for GrpcServeArgs<S> {
    fn group_id() -> Option<clap::Id> {
        GrpcServeFlags::<S>::group_id()
    }

    fn augment_args(command: clap::Command) -> clap::Command {
        GrpcServeFlags::<S>::augment_args(command)
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        GrpcServeFlags::<S>::augment_args_for_update(command)
    }
}

impl<S: GrpcServiceDefaults> Default for GrpcServeArgs<S> {
    fn default() -> Self {
        Self {
            host: DEFAULT_HOST.to_owned(),
            port: S::DEFAULT_PORT,
            metrics_port: S::DEFAULT_METRICS_PORT,
            server: ServerSettings::default(),
            tls: TlsSettings::default(),
            faults: FaultSettings::default(),
            service: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::args::ServiceDefaults;
    use crate::args::fixtures::{Example, GrpcCli};

    /// Flags as given on a command line with no variables set.
    fn given(argv: &[&str]) -> GrpcServeFlags<Example> {
        let command = GrpcServeFlags::<Example>::augment_args(clap::Command::new("example"));
        let matches = command
            .try_get_matches_from(std::iter::once("example").chain(argv.iter().copied()))
            .unwrap();
        GrpcServeFlags::from_arg_matches(&matches).unwrap()
    }

    #[test]
    fn the_admin_port_has_a_variable_of_the_services_own() {
        assert_eq!(
            Example::metrics_port_env(),
            "BOOKSTORE_TEST_EXAMPLE_METRICS_PORT"
        );
        let command = <GrpcCli as clap::CommandFactory>::command();
        let metrics_port = command
            .get_arguments()
            .find(|arg| arg.get_id() == "metrics_port")
            .unwrap();
        assert_eq!(
            metrics_port.get_env().and_then(|name| name.to_str()),
            Some("BOOKSTORE_TEST_EXAMPLE_METRICS_PORT")
        );
        let help = metrics_port.get_help().unwrap().to_string();
        assert!(
            help.contains("METRICS_PORT if set") && help.contains("6101"),
            "{help}"
        );
    }

    #[test]
    fn the_shared_metrics_port_counts_only_when_nothing_more_specific_is_set() {
        let shared = |value: &str| Some(OsString::from(value));
        let resolved = |flags: GrpcServeFlags<Example>, value| flags.resolve(value).unwrap();

        // The flag (or the service's own variable, which clap reads into it) wins.
        let flagged = given(&["--metrics-port", "7001"]);
        assert_eq!(resolved(flagged, shared("7002")).metrics_port, 7001);
        // Then the shared variable; then the default. An empty variable is not set.
        assert_eq!(resolved(given(&[]), shared("7002")).metrics_port, 7002);
        assert_eq!(resolved(given(&[]), None).metrics_port, 6101);
        assert_eq!(resolved(given(&[]), shared("")).metrics_port, 6101);
        // Port 0 (any free port) is a port like any other.
        assert_eq!(resolved(given(&[]), shared("0")).metrics_port, 0);

        for bad in ["http", "65536", "-1"] {
            let error = given(&[]).resolve(shared(bad)).unwrap_err().to_string();
            assert_eq!(
                error,
                format!(
                    "error: invalid value '{bad}' in METRICS_PORT (--metrics-port): expected a \
                     port number (0 to 65535)\n"
                )
            );
        }
    }

    /// A service whose port variable every test process has, holding text: cargo sets
    /// `CARGO_PKG_NAME` for the tests it runs.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    struct Named;

    impl ServiceDefaults for Named {
        const NAME: &'static str = "named";
        const PORT_ENV: &'static str = "CARGO_PKG_NAME";
        const DEFAULT_PORT: u16 = 6200;
    }

    impl GrpcServiceDefaults for Named {
        const DEFAULT_METRICS_PORT: u16 = 6201;
    }

    #[derive(Parser, Debug)]
    struct NamedCli {
        #[command(flatten)]
        serve: GrpcServeArgs<Named>,
    }

    #[test]
    fn parse_args_names_the_variable_a_bad_port_came_from() {
        let value = std::env::var("CARGO_PKG_NAME").expect("cargo sets it: run with cargo test");
        let error = bookstore_config::try_parse_args_from::<NamedCli, _, _>(["named"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "error: invalid value '{value}' in CARGO_PKG_NAME (--port): invalid digit found \
                 in string\n"
            )
        );
        let cli =
            bookstore_config::try_parse_args_from::<NamedCli, _, _>(["named", "--port", "7000"])
                .unwrap();
        assert_eq!(cli.serve.port, 7000);
    }

    #[test]
    fn an_update_without_the_admin_port_keeps_it() {
        let mut cli = GrpcCli::try_parse_from(["example", "--metrics-port", "7001"]).unwrap();
        clap::Parser::try_update_from(&mut cli, ["example", "--port", "7000"]).unwrap();
        assert_eq!((cli.serve.port, cli.serve.metrics_port), (7000, 7001));
        clap::Parser::try_update_from(&mut cli, ["example", "--metrics-port", "7003"]).unwrap();
        assert_eq!(cli.serve.metrics_port, 7003);
    }
}
