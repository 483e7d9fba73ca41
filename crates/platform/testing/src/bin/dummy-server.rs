//! `dummy-server`: the harness's dummy service on the platform's [`GrpcServer`], run as a real
//! process so the graceful-shutdown tests can send it real signals.
//!
//! Special inputs: `slow` is echoed after `--slow-delay` (2 s by default), `stuck` is never
//! answered (a server stream that never ends). Once listening it prints one line,
//! `listening on 127.0.0.1:PORT`, on stdout, so a test can read the port it was given.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use bookstore_config::parse_duration;
use bookstore_layers::{Metrics, TracingReporter};
use bookstore_proto::testing::v1::dummy_service_server::DummyServiceServer;
use bookstore_serve::{GrpcServer, Listeners, ServeArgs, ServeError, ServerSettings};
use bookstore_testing::{DummyService, SpecialCases};
use clap::Parser;

/// Command-line flags.
#[derive(Debug, Parser)]
#[command(about = "The middleware harness's dummy gRPC service, for process-level tests")]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,

    /// gRPC port (0: any free port; the chosen one is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// Port of the admin `/metrics` endpoint (none: not served).
    #[arg(long)]
    metrics_port: Option<u16>,

    /// How long the input `slow` takes.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    slow_delay: Duration,

    #[command(flatten)]
    settings: ServerSettings,
}

impl ServeArgs for Cli {
    fn name(&self) -> &'static str {
        "dummy-server"
    }

    fn server(&self) -> &ServerSettings {
        &self.settings
    }

    async fn bind(&self) -> Result<Listeners, ServeError> {
        Listeners::bind(&self.host, self.port, self.metrics_port).await
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let cases = SpecialCases::new()
        .delay("slow", cli.slow_delay)
        .hang("stuck");
    let server = GrpcServer::new(&cli.settings, &Metrics::new())
        .error_reporter(Arc::new(TracingReporter))
        .add_service(DummyServiceServer::new(DummyService::new(cases)));
    bookstore_serve::run_service(cli, |listeners, shutdown| {
        let mut stdout = std::io::stdout().lock();
        // The test reading these lines is the only consumer; if it went away there is nobody
        // to tell.
        let _ = writeln!(stdout, "listening on {}", listeners.main_addr());
        if let Some(admin) = listeners.admin_addr() {
            let _ = writeln!(stdout, "metrics on {admin}");
        }
        let _ = stdout.flush();
        server.serve(listeners, shutdown)
    })
    .await
}
