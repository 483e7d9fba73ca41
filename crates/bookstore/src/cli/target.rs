//! Where the command-line clients find each service, and how long they wait for it.
//!
//! Each service is found through the variables the system already uses for it: a service's
//! own port variable (`RECOMMENDATIONS_PORT`, `FACTORIAL_PORT`, `DEMO_PORT`, `MARKETPLACE_PORT`,
//! `NCR_GATEWAY_PORT`, which `bookstore up` and the services listen on) and the host variables
//! its callers read (`RECOMMENDATIONS_HOST`, `FACTORIAL_HOST`; `DEMO_HOST`, `MARKETPLACE_HOST`
//! and `NCR_GATEWAY_HOST` for the services nothing else calls), on `localhost` by default. So
//! a shell that moved a port for `bookstore up` finds it with the same setting.

use std::fmt;
use std::time::Duration;

use bookstore_config::parse_positive_duration;
use bookstore_serve::ServiceDefaults;
use clap::Args;
use demo::DemoService;
use factorial::FactorialService;
use marketplace::MarketplaceService;
use ncr_gateway::NcrGatewayService;
use recommendations::RecommendationsService;

/// Where the clients look for every service unless told otherwise.
const DEFAULT_HOST: &str = "localhost";

/// One service's address, named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The service, as messages name it.
    pub service: &'static str,
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl fmt::Display for Target {
    /// `host:port`, an IPv6 literal bracketed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') && !self.host.starts_with('[') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Generates the flags of one service's address, named after it.
macro_rules! service_address {
    (
        $(#[$doc:meta])*
        $name:ident for $service:literal, $marker:ty,
        $host:ident = $host_env:literal, $port:ident
    ) => {
        $(#[$doc])*
        #[derive(Args, Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            #[doc = concat!("Host of the ", $service, " service.")]
            #[arg(long, env = $host_env, default_value = DEFAULT_HOST,
                help = concat!("Host of the ", $service, " service"))]
            pub $host: String,

            #[doc = concat!("Port of the ", $service, " service.")]
            #[arg(long, env = <$marker>::PORT_ENV, default_value_t = <$marker>::DEFAULT_PORT,
                help = concat!("Port of the ", $service, " service"))]
            pub $port: u16,
        }

        impl $name {
            /// The address these flags name.
            pub fn target(&self) -> Target {
                Target {
                    service: $service,
                    host: self.$host.clone(),
                    port: self.$port,
                }
            }
        }
    };
}

service_address! {
    /// Where the Recommendations service (gRPC) is.
    RecommendationsAt for "recommendations", RecommendationsService,
    recommendations_host = "RECOMMENDATIONS_HOST", recommendations_port
}

service_address! {
    /// Where the Factorial service (gRPC) is.
    FactorialAt for "factorial", FactorialService,
    factorial_host = "FACTORIAL_HOST", factorial_port
}

service_address! {
    /// Where the demo service (gRPC) is.
    DemoAt for "demo", DemoService,
    demo_host = "DEMO_HOST", demo_port
}

service_address! {
    /// Where the marketplace (HTTP) is.
    MarketplaceAt for "marketplace", MarketplaceService,
    marketplace_host = "MARKETPLACE_HOST", marketplace_port
}

service_address! {
    /// Where the nCr gateway (HTTP) is.
    NcrGatewayAt for "ncr-gateway", NcrGatewayService,
    ncr_gateway_host = "NCR_GATEWAY_HOST", ncr_gateway_port
}

/// How long a command waits for its answer.
#[derive(Args, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// Deadline of the whole call, connecting included, e.g. `500ms` or `10s`.
    #[arg(
        long,
        env = "BOOKSTORE_TIMEOUT",
        default_value = "10s",
        value_parser = parse_positive_duration
    )]
    pub timeout: Duration,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        recommendations: RecommendationsAt,
        #[command(flatten)]
        gateway: NcrGatewayAt,
    }

    #[test]
    fn services_are_on_localhost_at_their_own_ports_unless_told_otherwise() {
        let cli = Cli::try_parse_from(["test", "--ncr-gateway-host", "::1"]).unwrap();
        let target = cli.recommendations.target();
        assert_eq!(target.to_string(), "localhost:50051");
        assert_eq!(target.service, "recommendations");
        assert_eq!(cli.gateway.target().to_string(), "[::1]:5001");
        let command = <Cli as clap::CommandFactory>::command();
        let env = |id: &str| {
            let arg = command.get_arguments().find(|arg| arg.get_id() == id);
            arg.and_then(|arg| arg.get_env()).unwrap().to_owned()
        };
        assert_eq!(env("recommendations_port"), "RECOMMENDATIONS_PORT");
        assert_eq!(env("recommendations_host"), "RECOMMENDATIONS_HOST");
        assert_eq!(env("ncr_gateway_port"), "NCR_GATEWAY_PORT");
    }
}
