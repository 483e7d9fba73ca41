//! `bookstore up`: binds every service's ports first (so a port conflict fails before anything
//! runs), prints where everything is, then runs the services side by side until shutdown. If
//! one service fails, the others are shut down too, and the failure is reported.

use std::future::Future;

use bookstore_platform::server::{Listeners, bind};
use bookstore_platform::shutdown::Shutdown;
use clap::Args;

use crate::Error;

/// Options of `bookstore up`.
#[derive(Args, Debug, Clone)]
pub struct UpArgs {
    /// Address every service listens on. Use 0.0.0.0 to accept connections from other machines.
    #[arg(long, env = "BOOKSTORE_HOST", default_value = "127.0.0.1")]
    pub host: String,
}

/// Runs `service` and, if it fails, shuts the rest of the system down.
async fn supervise<E>(
    service: &'static str,
    shutdown: Shutdown,
    run: impl Future<Output = Result<(), E>>,
) -> Result<(), Error>
where
    E: std::error::Error + Send + Sync + 'static,
{
    run.await.map_err(|error| {
        tracing::error!(service, %error, "service failed; shutting the system down");
        shutdown.trigger();
        Error::Service {
            service,
            source: Box::new(error),
        }
    })
}

/// Runs the whole system until `shutdown` is triggered.
pub async fn run(args: UpArgs, shutdown: Shutdown) -> Result<(), Error> {
    let recommendations_config = recommendations::Config::default();
    let recommendations_listeners = Listeners::bind(
        &args.host,
        recommendations_config.port,
        Some(recommendations_config.metrics_port),
    )
    .await?;
    let marketplace_config = marketplace::Config {
        recommendations_host: args.host.clone(),
        ..marketplace::Config::default()
    };
    let marketplace_listener = bind(&args.host, marketplace_config.port).await?;

    let shown = if args.host == "0.0.0.0" {
        "localhost"
    } else {
        args.host.as_str()
    };
    println!("Online Books For You is running:");
    println!(
        "  marketplace       http://{shown}:{}/",
        marketplace_config.port
    );
    println!(
        "  recommendations   grpc://{shown}:{}   (metrics: http://{shown}:{}/metrics)",
        recommendations_config.port, recommendations_config.metrics_port
    );
    println!("Press Ctrl+C to stop.");

    let results = tokio::join!(
        supervise(
            "recommendations",
            shutdown.clone(),
            recommendations::run(
                recommendations_listeners,
                recommendations_config,
                shutdown.wait_owned()
            ),
        ),
        supervise(
            "marketplace",
            shutdown.clone(),
            marketplace::run(
                marketplace_listener,
                marketplace_config,
                shutdown.wait_owned()
            ),
        ),
    );
    results.0?;
    results.1?;
    println!("Online Books For You stopped.");
    Ok(())
}
