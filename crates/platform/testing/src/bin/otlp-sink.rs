//! `otlp-sink`: an OTLP trace receiver that only counts, for benchmarks that export traces
//! (`bench/tracing-cost.sh`): the services under test need a collector to send their spans to,
//! and it must not be the bottleneck or hold every span in memory, as the tests'
//! `OtlpReceiver` does.
//!
//! ```text
//! otlp-sink [--port PORT]      # gRPC (OTEL_EXPORTER_OTLP_PROTOCOL=grpc), on 127.0.0.1
//! ```
//!
//! Prints `listening on 127.0.0.1:PORT` once ready; on SIGINT or SIGTERM prints
//! `{"exports": N, "spans": M}` (what it was sent) and exits.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Parser;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tokio::signal::unix::{SignalKind, signal};
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

/// Command-line flags.
#[derive(Debug, Parser)]
#[command(about = "An OTLP/gRPC trace receiver that counts what it is sent, for benchmarks")]
struct Cli {
    /// Port on 127.0.0.1 (0: any free port; the chosen one is printed).
    #[arg(long, default_value_t = 4317)]
    port: u16,
}

/// What has been received.
#[derive(Default)]
struct Counts {
    exports: AtomicU64,
    spans: AtomicU64,
}

/// The receiving end: counts and drops.
struct Sink(Arc<Counts>);

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let spans: usize = request
            .get_ref()
            .resource_spans
            .iter()
            .flat_map(|resource| &resource.scope_spans)
            .map(|scope| scope.spans.len())
            .sum();
        self.0.exports.fetch_add(1, Ordering::Relaxed);
        self.0.spans.fetch_add(spans as u64, Ordering::Relaxed);
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, cli.port))).await?;
    println!("listening on {}", listener.local_addr()?);
    let counts = Arc::new(Counts::default());
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(Sink(counts.clone())))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
        .await?;
    println!(
        r#"{{"exports": {}, "spans": {}}}"#,
        counts.exports.load(Ordering::Relaxed),
        counts.spans.load(Ordering::Relaxed)
    );
    Ok(())
}
