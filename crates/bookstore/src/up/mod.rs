//! `bookstore up`: binds every service's ports first (so a port conflict fails before anything
//! runs, naming the setting that moves it: see [`Ports`]), prints where everything is, then runs
//! the services side by side until shutdown. If one service fails, the others are shut down
//! too, and the failure is reported. The marketplace and the nCr gateway call the ports their
//! upstreams were actually given, so any port can move, or be 0 (a free port).
//!
//! The catalog is kept in an SQLite file in the data directory (see `catalog_location`), so
//! books added with `bookstore books add` are still there after a restart.
//!
//! With `--tls`, every gRPC hop runs over mutual TLS with certificates generated for this run
//! (deleted when it stops), and each gRPC service admits only its own clients: Recommendations
//! only the marketplace, the load generator and `admin` (the one client that may change the
//! catalog), Factorial only the nCr gateway (and the load generator).

mod catalog_location;
mod ports;

use std::future::Future;
use std::path::{Path, PathBuf};

use bookstore_serve::{Listeners, Shutdown};
use bookstore_telemetry::{LogFormat, Telemetry};
use bookstore_tls::dev_certs::write_bundle;
use bookstore_tls::{TlsSettings, UpstreamTlsSettings};
use clap::Args;
use tracing::instrument::WithSubscriber as _;

use self::catalog_location::CatalogLocation;
pub use self::catalog_location::CatalogLocationError;
use self::ports::Bound;
pub use self::ports::Ports;
use crate::Error;
use crate::certs::{ADMIN, IDENTITIES};

/// Options of `bookstore up`.
#[derive(Args, Debug, Clone)]
pub struct UpArgs {
    /// Address every service listens on. Use 0.0.0.0 to accept connections from other machines.
    #[arg(long, env = "BOOKSTORE_HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// Run every gRPC hop over mutual TLS, with certificates generated for this run.
    #[arg(long)]
    pub tls: bool,

    /// Directory for the catalog's SQLite database, `catalog.db` (created if needed); by
    /// default `$XDG_DATA_HOME/bookstore`, or `~/.local/share/bookstore`.
    #[arg(long, env = "BOOKSTORE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The catalog's database instead of the data directory's file: sqlite://PATH or
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Log output format: `text` for people, `json` for log shippers. Levels come from RUST_LOG.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Every service's ports.
    #[command(flatten)]
    pub ports: Ports,
}

/// Runs `service` under its own telemetry (its log lines and its traces name it) and, if it
/// fails, shuts the rest of the system down.
async fn supervise<E>(
    service: &'static str,
    shutdown: Shutdown,
    log_format: LogFormat,
    run: impl Future<Output = Result<(), E>>,
) -> Result<(), Error>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let failed = |source: Box<dyn std::error::Error + Send + Sync>| {
        tracing::error!(service, error = %source, "service failed; shutting the system down");
        shutdown.trigger();
        Error::Service { service, source }
    };
    let telemetry = Telemetry::new(service, log_format).map_err(|error| failed(error.into()))?;
    let result = run.with_subscriber(telemetry.dispatch().clone()).await;
    telemetry.shutdown();
    result.map_err(|error| failed(error.into()))
}

/// Every service's configuration, wired to reach each other on `host`.
struct System {
    recommendations: recommendations::Config,
    marketplace: marketplace::Config,
    factorial: factorial::Config,
    ncr_gateway: ncr_gateway::Config,
    demo: demo::Config,
}

impl System {
    fn on(host: &str) -> Self {
        // Clients dial the address services listen on; "any address" is dialled as localhost,
        // which the development certificates also name.
        let host = match host {
            "0.0.0.0" | "::" | "[::]" => "localhost",
            host => host,
        };
        Self {
            recommendations: recommendations::Config::default(),
            marketplace: marketplace::Config {
                recommendations_host: host.to_owned(),
                ..marketplace::Config::default()
            },
            factorial: factorial::Config::default(),
            ncr_gateway: ncr_gateway::Config {
                factorial_host: host.to_owned(),
                ..ncr_gateway::Config::default()
            },
            demo: demo::Config::default(),
        }
    }

    /// Mutual TLS everywhere, from certificates in `dir`, with per-service allow-lists.
    fn with_mutual_tls(mut self, dir: &Path) -> Self {
        self.recommendations.serve.tls = TlsSettings::mutual_from_dir(
            dir,
            "recommendations",
            &["marketplace", "loadgen", ADMIN],
        );
        self.factorial.serve.tls =
            TlsSettings::mutual_from_dir(dir, "factorial", &["ncr-gateway", "loadgen"]);
        self.demo.serve.tls = TlsSettings::mutual_from_dir(dir, "demo", &[]);
        self.marketplace.upstream_tls =
            UpstreamTlsSettings::mutual_from_dir(dir, "marketplace", "recommendations");
        self.ncr_gateway.upstream_tls =
            UpstreamTlsSettings::mutual_from_dir(dir, "ncr-gateway", "factorial");
        self
    }
}

/// Runs the whole system until `shutdown` is triggered.
pub async fn run(args: UpArgs, shutdown: Shutdown) -> Result<(), Error> {
    let host = args.host.as_str();
    let mut system = System::on(host);
    let catalog = CatalogLocation::resolve(args.database_url.as_deref(), args.data_dir.as_deref())?;
    system.recommendations.database_url = Some(catalog.url.clone());
    // Kept alive until the system stops; the certificates are deleted with it.
    let certs = if args.tls {
        let dir = tempfile::Builder::new()
            .prefix("bookstore-certs-")
            .tempdir()
            .map_err(|source| Error::Service {
                service: "certs",
                source: Box::new(source),
            })?;
        write_bundle(dir.path(), &IDENTITIES, true)?;
        system = system.with_mutual_tls(dir.path());
        Some(dir)
    } else {
        None
    };
    let bound = args.ports.bind(host).await?;
    // Clients call the ports their upstreams were given, which port 0 leaves to the system.
    system.marketplace.recommendations_port = bound.recommendations.main_addr().port();
    system.ncr_gateway.factorial_port = bound.factorial.main_addr().port();
    print!(
        "{}",
        banner(host, &bound, &catalog, certs.as_ref().map(|dir| dir.path()))
    );
    let Bound {
        marketplace: marketplace_listeners,
        ncr_gateway: gateway_listeners,
        recommendations: recommendations_listeners,
        factorial: factorial_listeners,
        demo: demo_listeners,
    } = bound;

    let stop = || shutdown.signal();
    let results = tokio::join!(
        supervise(
            "recommendations",
            shutdown.clone(),
            args.log_format,
            recommendations::run(recommendations_listeners, system.recommendations, stop()),
        ),
        supervise(
            "marketplace",
            shutdown.clone(),
            args.log_format,
            marketplace::run(marketplace_listeners, system.marketplace, stop())
        ),
        supervise(
            "factorial",
            shutdown.clone(),
            args.log_format,
            factorial::run(factorial_listeners, system.factorial, stop())
        ),
        supervise(
            "ncr-gateway",
            shutdown.clone(),
            args.log_format,
            ncr_gateway::run(gateway_listeners, system.ncr_gateway, stop())
        ),
        supervise(
            "demo",
            shutdown.clone(),
            args.log_format,
            demo::run(demo_listeners, system.demo, stop())
        ),
    );
    results.0?;
    results.1?;
    results.2?;
    results.3?;
    results.4?;
    println!("Online Books For You stopped.");
    Ok(())
}

/// What `bookstore up` prints once every port is bound: where each service is, on the ports it
/// actually got.
fn banner(host: &str, bound: &Bound, catalog: &CatalogLocation, certs: Option<&Path>) -> String {
    let shown = match host {
        "0.0.0.0" | "::" | "[::]" => "localhost",
        host if host.contains(':') && !host.starts_with('[') => &format!("[{host}]"),
        host => host,
    };
    let port = |listeners: &Listeners| listeners.main_addr().port();
    let mut text = String::from("Online Books For You is running:\n");
    text += &format!(
        "  marketplace       http://{shown}:{}/\n",
        port(&bound.marketplace)
    );
    text += &format!(
        "  ncr-gateway       http://{shown}:{}/   (JSON: /api/ncr/10/3)\n",
        port(&bound.ncr_gateway)
    );
    for (name, listeners) in [
        ("recommendations", &bound.recommendations),
        ("factorial", &bound.factorial),
        ("demo", &bound.demo),
    ] {
        let admin = listeners.admin_addr().map_or(0, |addr| addr.port());
        text += &format!(
            "  {name:<17} grpc://{shown}:{}   (metrics: http://{shown}:{admin}/metrics)\n",
            port(listeners)
        );
    }
    text += &format!("  catalog           {}\n", catalog.shown);
    if let Some(dir) = certs {
        let dir = dir.display();
        text += &format!("Every gRPC hop uses mutual TLS; this run's certificates are in {dir}\n");
        text += &format!(
            "  e.g. grpcurl -cacert {dir}/ca.pem -cert {dir}/loadgen.pem -key {dir}/loadgen.key \\\n"
        );
        text += &format!("         {shown}:{} list\n", port(&bound.recommendations));
        text += &format!(
            "  catalog writes need the {ADMIN} certificate: bookstore books add ... \\\n         \
             --upstream-ca {dir}/ca.pem --upstream-cert {dir}/{ADMIN}.pem --upstream-key \
             {dir}/{ADMIN}.key\n"
        );
    }
    text += "Press Ctrl+C to stop.\n";
    text
}
