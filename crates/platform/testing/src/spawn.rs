//! Any service, running inside the test's runtime on free loopback ports and stopped at will:
//! the one way every crate's tests start the service they test.
//!
//! ```ignore
//! let server = spawn(|listeners, shutdown| recommendations::run(listeners, config, shutdown)).await;
//! let channel = server.channel().await;
//! // ... calls ...
//! server.stop_cleanly().await; // fails the test unless it stopped cleanly and promptly
//! ```
//!
//! Every service's `run` takes bound [`Listeners`] and a [`ShutdownSignal`], so the same
//! helper serves them all (web apps use `listeners.main`).

use std::net::SocketAddr;

use bookstore_serve::{Listeners, Shutdown, ShutdownSignal};
use tokio::task::JoinHandle;
use tonic::transport::Channel;

use crate::waiting::WAIT;

/// A service started by [`spawn`]; told to shut down when dropped.
#[derive(Debug)]
pub struct Running<E> {
    addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    shutdown: Shutdown,
    task: Option<JoinHandle<Result<(), E>>>,
}

/// Binds loopback ports, then runs `run` with them on a task of its own.
pub async fn spawn<F, Fut, E>(run: F) -> Running<E>
where
    F: FnOnce(Listeners, ShutdownSignal) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Send + 'static,
{
    let listeners = Listeners::ephemeral()
        .await
        .expect("bind free loopback ports");
    spawn_on(listeners, run)
}

/// Runs `run` with `listeners` a test bound itself (a port chosen before the service starts,
/// say), on a task of its own.
pub fn spawn_on<F, Fut, E>(listeners: Listeners, run: F) -> Running<E>
where
    F: FnOnce(Listeners, ShutdownSignal) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Send + 'static,
{
    let (addr, admin_addr) = (listeners.main_addr(), listeners.admin_addr());
    let shutdown = Shutdown::new();
    let task = tokio::spawn(run(listeners, shutdown.signal()));
    Running {
        addr,
        admin_addr,
        shutdown,
        task: Some(task),
    }
}

impl<E: std::fmt::Debug> Running<E> {
    /// The service's own address (gRPC, or HTTP for a web app).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://` and the service's address.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The admin endpoint's address (a gRPC service's `/metrics` and `/healthz`).
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr.expect("the admin port was bound")
    }

    /// A channel to the service, connected now (the service was listening before it started).
    pub async fn channel(&self) -> Channel {
        crate::calls::channel(self.addr).await
    }

    /// Starts the service's graceful shutdown without waiting for it.
    pub fn trigger_shutdown(&self) {
        self.shutdown.trigger();
    }

    /// Shuts the service down and returns how its `run` ended; fails the test if it panicked
    /// or took longer than [`WAIT`].
    pub async fn stop(mut self) -> Result<(), E> {
        self.shutdown.trigger();
        let task = self.task.take().expect("stopped once");
        tokio::time::timeout(WAIT, task)
            .await
            .unwrap_or_else(|_| panic!("the service did not stop within {WAIT:?}"))
            .expect("the service did not panic")
    }

    /// [`Running::stop`], failing the test unless the service stopped without an error.
    pub async fn stop_cleanly(self) {
        self.stop()
            .await
            .expect("the service stopped without error");
    }
}

impl<E> Drop for Running<E> {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}
