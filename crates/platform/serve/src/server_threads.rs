//! Thread-per-core serving: connections are accepted once and handed round-robin to server
//! threads, each running its own single-threaded tokio runtime, which then does all of the
//! connection's work — TLS, HTTP/2, every call — without another thread ever being woken for it.
//!
//! Why not tokio's multi-threaded runtime, as usual: its work-stealing scheduler wakes an idle
//! worker thread whenever a task is spawned or woken (hyper spawns one per HTTP/2 stream), so that it
//! may steal the work. For calls that take microseconds those wake-ups cost more than the calls:
//! on the 2-core VM of `BENCHMARKS.md` a bare tonic server did 66,000 calls/s at 10 × 10 on the
//! default runtime and 121,000 thread-per-core, at 10 µs of CPU per call instead of 18
//! (`bench-ceiling` with and without `--server-threads`, in `bench/run.sh`). What it
//! gives up is stealing: a connection stays on the thread it was given, so a few very busy
//! connections can load one core more than the others (round-robin keeps the counts even), and
//! a handler that blocks its thread stalls that thread's other connections (handlers here never
//! block: CPU-heavy work goes to `spawn_blocking`).
//!
//! The listening socket stays on the caller's runtime; only accepted sockets move, as
//! `std::net::TcpStream`s, which each server thread registers with its own reactor.
//!
//! Written here because no library fits: tokio has no thread-per-core server mode;
//! actix-server spreads connections over per-thread runtimes too, but hands each one to a
//! service callback of its own, so tonic's and axum's serve loops (their graceful shutdown and
//! connection tracking, which the platform relies on) would have to be rewritten around it; and
//! glommio or monoio are other runtimes, on which tonic and hyper do not run. What is here is
//! ~200 lines over tokio's own pieces: `current_thread` runtimes and `TcpStream::into_std` /
//! `from_std`.

use std::io;
use std::net::SocketAddr;
use std::num::NonZeroUsize;

use futures_util::future::BoxFuture;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::listeners::accept;

/// How many server threads to use when not told: one per CPU this process may use (cgroup
/// quotas included, so a pod limited to one CPU gets one).
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// The connections handed to one server thread, as accepted sockets registered with its runtime.
#[derive(Debug)]
pub struct ThreadConnections {
    accepted: mpsc::UnboundedReceiver<(std::net::TcpStream, SocketAddr)>,
    local_addr: SocketAddr,
}

impl ThreadConnections {
    /// The next connection, or `None` once accepting has stopped. Must be called on the
    /// thread's runtime (where the socket is registered).
    pub async fn next(&mut self) -> Option<(TcpStream, SocketAddr)> {
        loop {
            let (socket, remote) = self.accepted.recv().await?;
            match TcpStream::from_std(socket) {
                Ok(socket) => return Some((socket, remote)),
                Err(error) => tracing::warn!(%error, %remote, "registering a connection failed"),
            }
        }
    }

    /// The address the connections were accepted on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The connections as a stream (for tonic's `serve_with_incoming`).
    pub fn into_stream(self) -> impl futures_util::Stream<Item = (TcpStream, SocketAddr)> {
        futures_util::stream::unfold(self, |mut connections| async move {
            let next = connections.next().await?;
            Some((next, connections))
        })
    }
}

/// Server threads serving the connections [`ServerThreads::run`] hands them.
///
/// A thread that ends before it is told to (its serve future failed, or panicked) stops the
/// whole server: accepting stops, the other threads are told to stop, and
/// `ServerThreads::run` returns the failure — a process that can no longer serve on one of
/// its threads exits and is restarted, rather than silently dropping that thread's share.
#[derive(Debug)]
pub struct ServerThreads {
    senders: Vec<mpsc::UnboundedSender<(std::net::TcpStream, SocketAddr)>>,
    finished: Vec<oneshot::Receiver<io::Result<()>>>,
    /// Cancelled by a server thread as it ends, whatever the reason.
    thread_ended: CancellationToken,
    abandon: CancellationToken,
}

/// What a server thread runs: serves its connections until they end, then returns.
pub type Serve = Box<dyn Fn(ThreadConnections) -> BoxFuture<'static, io::Result<()>> + Send + Sync>;

/// Cancels its token when dropped: when the server thread ends, even by a panic.
struct OnEnd(CancellationToken);

impl Drop for OnEnd {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

impl ServerThreads {
    /// Starts `threads` server threads named `name-0`, `name-1`, ..., each running `serve` on its
    /// own single-threaded runtime, for the connections `listener` will accept. If one cannot be
    /// started, those already running are stopped.
    pub fn spawn(
        threads: usize,
        name: &str,
        listener: &TcpListener,
        serve: Serve,
    ) -> io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let serve = std::sync::Arc::new(serve);
        // Built up as threads start, so that an error part way drops it, and its `Drop` stops
        // the threads already running.
        let mut started = Self {
            senders: Vec::with_capacity(threads),
            finished: Vec::with_capacity(threads),
            thread_ended: CancellationToken::new(),
            abandon: CancellationToken::new(),
        };
        for index in 0..threads.max(1) {
            let (sender, accepted) = mpsc::unbounded_channel();
            let (done, finished) = oneshot::channel();
            let (serve, abandon) = (serve.clone(), started.abandon.clone());
            let ended = OnEnd(started.thread_ended.clone());
            // The thread logs and traces where the code that starts it does (under `bookstore
            // up`, each service has its own telemetry).
            let dispatch = tracing::dispatcher::get_default(tracing::Dispatch::clone);
            std::thread::Builder::new()
                .name(format!("{name}-{index}"))
                .spawn(move || {
                    let _ended = ended;
                    let _dispatch = tracing::dispatcher::set_default(&dispatch);
                    // Built on the thread that runs it: a runtime must not be dropped inside
                    // another runtime's async context, as it would be if this thread failed
                    // to start.
                    let runtime = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(runtime) => runtime,
                        Err(error) => {
                            let _ = done.send(Err(error));
                            return;
                        }
                    };
                    let result = runtime.block_on(async move {
                        tokio::select! {
                            result = serve(ThreadConnections { accepted, local_addr }) => result,
                            () = abandon.cancelled() => Ok(()),
                        }
                    });
                    // Dropping the runtime here cancels whatever the connections left behind.
                    drop(runtime);
                    let _ = done.send(result);
                })?;
            started.senders.push(sender);
            started.finished.push(finished);
        }
        Ok(started)
    }

    /// Serves: accepts connections on `listener` and hands them to the threads in turn until
    /// `stop` is cancelled, then waits for the threads to finish. A thread that ends early
    /// cancels `stop` (so that the others wind down too) and its failure is returned.
    pub async fn run(mut self, listener: TcpListener, stop: CancellationToken) -> io::Result<()> {
        self.accept(listener, stop).await;
        self.finished().await
    }

    /// Accepts until `stop` is cancelled or a thread ends early; then closes the listener and
    /// tells the threads no more are coming.
    async fn accept(&mut self, listener: TcpListener, stop: CancellationToken) {
        let mut next = 0;
        loop {
            let (socket, remote) = tokio::select! {
                biased;
                () = stop.cancelled() => break,
                () = self.thread_ended.cancelled() => {
                    tracing::error!("a server thread has stopped; stopping the server");
                    stop.cancel();
                    break;
                }
                accepted = accept(&listener) => accepted,
            };
            let socket = match socket.into_std() {
                Ok(socket) => socket,
                Err(error) => {
                    tracing::warn!(%error, %remote, "handing a connection over failed");
                    continue;
                }
            };
            // A thread that has just ended drops the connection, as a closed port would; the
            // `thread_ended` branch above then stops the server.
            let _ = self.senders[next].send((socket, remote));
            next = (next + 1) % self.senders.len();
        }
        self.senders.clear();
    }

    /// Waits for every thread to finish serving. On the first failure the others are
    /// abandoned (their connections cut) and the failure is returned.
    async fn finished(&mut self) -> io::Result<()> {
        let mut pending: futures_util::stream::FuturesUnordered<_> =
            std::mem::take(&mut self.finished).into_iter().collect();
        while let Some(outcome) = futures_util::StreamExt::next(&mut pending).await {
            let outcome = outcome.unwrap_or_else(|_| {
                Err(io::Error::other(
                    "a server thread stopped without finishing (it panicked)",
                ))
            });
            if outcome.is_err() {
                self.abandon.cancel();
                return outcome;
            }
        }
        Ok(())
    }
}

impl Drop for ServerThreads {
    fn drop(&mut self) {
        self.abandon.cancel();
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// A thread that answers every connection with the name of the thread serving it.
    fn thread_names() -> Serve {
        Box::new(|mut connections| {
            Box::pin(async move {
                while let Some((mut socket, _)) = connections.next().await {
                    let name = std::thread::current().name().unwrap_or("?").to_owned();
                    socket.write_all(name.as_bytes()).await?;
                }
                Ok(())
            })
        })
    }

    async fn served_by(addr: SocketAddr) -> String {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        let mut name = String::new();
        socket.read_to_string(&mut name).await.unwrap();
        name
    }

    #[tokio::test]
    async fn connections_go_round_robin_to_the_threads_and_stay_there() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let threads = ServerThreads::spawn(2, "test", &listener, thread_names()).unwrap();
        let stop = CancellationToken::new();
        let accepting = tokio::spawn(threads.run(listener, stop.clone()));
        let mut names = Vec::new();
        for _ in 0..4 {
            names.push(served_by(addr).await);
        }
        assert_eq!(names, ["test-0", "test-1", "test-0", "test-1"]);

        // Once accepting stops, the threads see the end of their connections and finish.
        stop.cancel();
        accepting.await.unwrap().unwrap();
        assert!(TcpStream::connect(addr).await.is_err(), "still listening");
    }

    #[tokio::test]
    async fn a_thread_that_fails_stops_the_server_with_its_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The first thread cannot build its app; the second would serve forever (as axum's
        // accept loop does until told to stop).
        let serve: Serve = Box::new(|_| {
            if std::thread::current().name() == Some("test-0") {
                Box::pin(async { Err(io::Error::other("the app could not be built")) })
            } else {
                Box::pin(std::future::pending())
            }
        });
        let threads = ServerThreads::spawn(2, "test", &listener, serve).unwrap();
        let stop = CancellationToken::new();
        let server = threads.run(listener, stop.clone());
        // No connection needed, and no hang waiting for the healthy thread.
        let result = tokio::time::timeout(std::time::Duration::from_secs(10), server)
            .await
            .expect("the server kept running after one of its threads failed");
        assert_eq!(
            result.unwrap_err().to_string(),
            "the app could not be built"
        );
        assert!(
            stop.is_cancelled(),
            "the other threads were not told to stop"
        );
        assert!(TcpStream::connect(addr).await.is_err(), "still listening");
    }

    #[test]
    fn there_is_always_at_least_one_thread() {
        assert!(default_threads() >= 1);
    }
}
