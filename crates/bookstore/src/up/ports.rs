//! Where `bookstore up` puts each service: on the ports the services' own binaries read
//! (`MARKETPLACE_PORT`, `RECOMMENDATIONS_PORT`, ...), admin ports on per-service variables
//! (`RECOMMENDATIONS_METRICS_PORT`, ...: the shared `METRICS_PORT` cannot tell the three gRPC
//! services of one process apart, so `up` does not read it). Every port is bound before anything
//! runs, so a taken one stops `up` with one line naming the service, the address and the
//! setting that moves it; port 0 picks a free port, and what was picked is read back from the
//! listener.

use bookstore_serve::{GrpcServiceDefaults, Listeners, ServeError, ServiceDefaults};
use clap::Args;
use demo::DemoService;
use factorial::FactorialService;
use marketplace::MarketplaceService;
use ncr_gateway::NcrGatewayService;
use recommendations::RecommendationsService;
use tokio::net::TcpListener;

use crate::Error;

/// Every service's ports. Each is read, first to last, from its flag, its variable and its
/// default; 0 picks a free port.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
#[command(next_help_heading = "Ports (0 picks a free port)")]
pub struct Ports {
    /// Marketplace: pages, the JSON API and /metrics.
    #[arg(
        long,
        env = MarketplaceService::PORT_ENV,
        default_value_t = MarketplaceService::DEFAULT_PORT
    )]
    pub marketplace_port: u16,

    /// nCr gateway: its JSON API and /metrics.
    #[arg(
        long,
        env = NcrGatewayService::PORT_ENV,
        default_value_t = NcrGatewayService::DEFAULT_PORT
    )]
    pub ncr_gateway_port: u16,

    /// Recommendations (gRPC); the marketplace calls it here.
    #[arg(
        long,
        env = RecommendationsService::PORT_ENV,
        default_value_t = RecommendationsService::DEFAULT_PORT
    )]
    pub recommendations_port: u16,

    /// Recommendations' admin endpoint (/metrics, /healthz).
    #[arg(
        long,
        env = RecommendationsService::metrics_port_env(),
        default_value_t = RecommendationsService::DEFAULT_METRICS_PORT
    )]
    pub recommendations_metrics_port: u16,

    /// Factorial (gRPC); the nCr gateway calls it here.
    #[arg(long, env = FactorialService::PORT_ENV, default_value_t = FactorialService::DEFAULT_PORT)]
    pub factorial_port: u16,

    /// Factorial's admin endpoint (/metrics, /healthz).
    #[arg(
        long,
        env = FactorialService::metrics_port_env(),
        default_value_t = FactorialService::DEFAULT_METRICS_PORT
    )]
    pub factorial_metrics_port: u16,

    /// Demo (gRPC).
    #[arg(long, env = DemoService::PORT_ENV, default_value_t = DemoService::DEFAULT_PORT)]
    pub demo_port: u16,

    /// Demo's admin endpoint (/metrics, /healthz).
    #[arg(
        long,
        env = DemoService::metrics_port_env(),
        default_value_t = DemoService::DEFAULT_METRICS_PORT
    )]
    pub demo_metrics_port: u16,
}

/// Every service's listeners, bound.
#[derive(Debug)]
pub(crate) struct Bound {
    pub(crate) marketplace: Listeners,
    pub(crate) ncr_gateway: Listeners,
    pub(crate) recommendations: Listeners,
    pub(crate) factorial: Listeners,
    pub(crate) demo: Listeners,
}

impl Ports {
    /// Binds every port on `host`, the web apps' first (the ports people open in a browser).
    pub(crate) async fn bind(&self, host: &str) -> Result<Bound, Error> {
        let web = |service, setting, port| async move {
            Ok::<_, Error>(Listeners {
                main: listen(host, service, setting, port).await?,
                admin: None,
            })
        };
        let grpc = |service, setting, port, admin_setting, admin_port| async move {
            Ok::<_, Error>(Listeners {
                main: listen(host, service, setting, port).await?,
                admin: Some(listen(host, service, admin_setting, admin_port).await?),
            })
        };
        Ok(Bound {
            marketplace: web("marketplace", "marketplace_port", self.marketplace_port).await?,
            ncr_gateway: web("ncr-gateway", "ncr_gateway_port", self.ncr_gateway_port).await?,
            recommendations: grpc(
                "recommendations",
                "recommendations_port",
                self.recommendations_port,
                "recommendations_metrics_port",
                self.recommendations_metrics_port,
            )
            .await?,
            factorial: grpc(
                "factorial",
                "factorial_port",
                self.factorial_port,
                "factorial_metrics_port",
                self.factorial_metrics_port,
            )
            .await?,
            demo: grpc(
                "demo",
                "demo_port",
                self.demo_port,
                "demo_metrics_port",
                self.demo_metrics_port,
            )
            .await?,
        })
    }
}

/// Binds `host:port` for `service`; `setting` is the id of the [`Ports`] field that moves it.
async fn listen(
    host: &str,
    service: &'static str,
    setting: &'static str,
    port: u16,
) -> Result<TcpListener, Error> {
    match Listeners::bind(host, port, None).await {
        Ok(listeners) => Ok(listeners.main),
        Err(ServeError::Bind { addr, source }) => {
            let (flag, env) = flag_and_variable(setting);
            let admin = setting.ends_with("_metrics_port");
            Err(Error::Listen {
                service,
                addr,
                purpose: if admin { " (metrics and health)" } else { "" },
                reason: if source.kind() == std::io::ErrorKind::AddrInUse {
                    "address already in use".to_owned()
                } else {
                    source.to_string()
                },
                flag,
                env,
            })
        }
        Err(error) => Err(Error::Service {
            service,
            source: Box::new(error),
        }),
    }
}

/// The flag and the variable of the [`Ports`] field `id`, as its clap attributes name them (so
/// a message can never name a setting that does not exist).
fn flag_and_variable(id: &str) -> (String, String) {
    let command = Ports::augment_args(clap::Command::new("up"));
    let arg = command
        .get_arguments()
        .find(|arg| arg.get_id() == id)
        .expect("every port is a field of Ports");
    let flag = format!("--{}", arg.get_long().expect("every port has a flag"));
    let env = arg
        .get_env()
        .expect("every port has a variable")
        .to_string_lossy()
        .into_owned();
    (flag, env)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        ports: Ports,
    }

    #[test]
    fn each_port_is_set_by_the_variable_its_service_reads() {
        assert_eq!(
            flag_and_variable("marketplace_port"),
            ("--marketplace-port".into(), "MARKETPLACE_PORT".into())
        );
        assert_eq!(
            flag_and_variable("ncr_gateway_port"),
            ("--ncr-gateway-port".into(), "NCR_GATEWAY_PORT".into())
        );
        assert_eq!(
            flag_and_variable("recommendations_metrics_port"),
            (
                "--recommendations-metrics-port".into(),
                "RECOMMENDATIONS_METRICS_PORT".into()
            )
        );
        assert_eq!(flag_and_variable("factorial_port").1, "FACTORIAL_PORT");
        assert_eq!(
            flag_and_variable("factorial_metrics_port").1,
            "FACTORIAL_METRICS_PORT"
        );
        assert_eq!(flag_and_variable("demo_port").1, "DEMO_PORT");
        assert_eq!(
            flag_and_variable("demo_metrics_port").1,
            "DEMO_METRICS_PORT"
        );
        // What the services' own binaries read: `bookstore up` and `bookstore serve` agree.
        let command = <recommendations::Config as clap::CommandFactory>::command();
        let metrics_port = command
            .get_arguments()
            .find(|arg| arg.get_id() == "metrics_port")
            .unwrap();
        assert_eq!(
            metrics_port.get_env().unwrap(),
            "RECOMMENDATIONS_METRICS_PORT"
        );
    }

    #[test]
    fn flags_move_ports_and_the_rest_keep_their_defaults() {
        let cli =
            Cli::try_parse_from(["up", "--marketplace-port", "0", "--demo-port", "6003"]).unwrap();
        assert_eq!(
            (
                cli.ports.marketplace_port,
                cli.ports.demo_port,
                cli.ports.recommendations_port,
                cli.ports.recommendations_metrics_port,
            ),
            (0, 6003, 50051, 9101)
        );
    }

    #[tokio::test]
    async fn a_taken_port_names_the_service_the_address_and_the_setting() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let error = listen("127.0.0.1", "factorial", "factorial_metrics_port", port)
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            format!(
                "factorial cannot listen on 127.0.0.1:{port} (metrics and health): address \
                 already in use — set FACTORIAL_METRICS_PORT (or --factorial-metrics-port) to a \
                 free port"
            )
        );
    }
}
