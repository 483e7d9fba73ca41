//! `bench-ceiling`: serves the constant-answer Recommendations service until Ctrl+C or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;

use bench_ceiling::{DEFAULT_PORT, Error};
use clap::Parser;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

/// The ceiling of our stack for benchmarks: a bare tonic server answering
/// Recommendations/Recommend with a constant response.
#[derive(Parser, Debug)]
#[command(name = "bench-ceiling", version)]
struct Cli {
    /// Port to listen on (127.0.0.1 only: it is a benchmark fixture).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,

    /// Serve thread-per-core on this many threads, as our servers do; 0 (the default) keeps
    /// tonic's defaults on tokio's multi-threaded runtime.
    #[arg(long, default_value_t = 0)]
    server_threads: usize,

    /// With --server-threads: give each thread a listening socket of its own (SO_REUSEPORT)
    /// instead of handing it connections accepted on one, to compare the two arrangements.
    #[arg(long, requires = "server_threads")]
    reuseport: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let addr = SocketAddr::from(([127, 0, 0, 1], cli.port));
    let result = async {
        let mut terminate =
            signal(SignalKind::terminate()).expect("installing a SIGTERM handler cannot fail");
        let shutdown = async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        };
        if cli.reuseport {
            return bench_ceiling::serve_with_reuseport(addr, cli.server_threads, shutdown).await;
        }
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind { addr, source })?;
        match cli.server_threads {
            0 => bench_ceiling::serve(listener, shutdown).await,
            threads => bench_ceiling::serve_on_threads(listener, threads, shutdown).await,
        }
    };
    match result.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-ceiling: {error}");
            ExitCode::FAILURE
        }
    }
}
