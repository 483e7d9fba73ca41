//! What every accepted connection passes before a server speaks HTTP with it: a place under the
//! server's connection limit, and a deadline for its first bytes.
//!
//! - **The limit**: each admitted connection holds a permit of the server's
//!   [`ConnectionGuard`] until it closes; a connection beyond the limit is not served, but
//!   answered by `refusal` (which says why) and closed. Without it, anyone could hold every
//!   descriptor a container allows.
//! - **The first bytes**: a connection that never sends the HTTP/2 preface (or an HTTP/1
//!   request line) would otherwise be kept open forever; [`Guarded`] fails its reads once the
//!   handshake timeout passes before [`FIRST_BYTES`] have arrived (or, for HTTP/1, its first
//!   byte), and the server closes it.
//!   Later stalls are someone else's: hyper's header-read timeout (HTTP/1) and HTTP/2 keepalive
//!   pings.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bookstore_layers::PeerIdentity;
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
use tonic::transport::server::Connected;

/// How many bytes end the first-bytes deadline: the length of the HTTP/2 client preface
/// (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`), longer than the shortest HTTP/1 request line.
pub(crate) const FIRST_BYTES: usize = 24;

/// One server's connection limit and first-bytes deadline. Cheap to clone; clones share the
/// limit (every server thread admits against the same count).
#[derive(Clone, Debug)]
pub(crate) struct ConnectionGuard {
    permits: Arc<Semaphore>,
    limit: usize,
    first_bytes_timeout: Duration,
}

impl ConnectionGuard {
    /// At most `limit` connections at once, each sending its first bytes within `timeout`.
    pub(crate) fn new(limit: usize, first_bytes_timeout: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
            first_bytes_timeout,
        }
    }

    /// The limit.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// `io`, admitted under the limit (its deadline starts now, on the current runtime), or
    /// handed back when the server is full.
    pub(crate) fn admit<IO>(&self, io: IO) -> Result<Guarded<IO>, IO> {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => Ok(Guarded {
                io,
                _permit: permit,
                first_bytes: Some(FirstBytes {
                    read: 0,
                    deadline: Box::pin(tokio::time::sleep(self.first_bytes_timeout)),
                }),
            }),
            Err(_) => Err(io),
        }
    }
}

/// The first-bytes deadline, until it is met.
#[derive(Debug)]
struct FirstBytes {
    read: usize,
    deadline: Pin<Box<Sleep>>,
}

pin_project! {
    /// An admitted connection: holds its place under the limit, and fails its reads if its
    /// first bytes are late.
    #[derive(Debug)]
    pub(crate) struct Guarded<IO> {
        #[pin]
        io: IO,
        _permit: OwnedSemaphorePermit,
        first_bytes: Option<FirstBytes>,
    }
}

impl<IO: Connected<ConnectInfo = PeerIdentity>> Connected for Guarded<IO> {
    type ConnectInfo = PeerIdentity;

    fn connect_info(&self) -> PeerIdentity {
        self.io.connect_info()
    }
}

impl<IO: AsyncRead> AsyncRead for Guarded<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let Some(first) = this.first_bytes.as_mut() else {
            return this.io.poll_read(cx, buf);
        };
        let before = buf.filled().len();
        match this.io.poll_read(cx, buf) {
            Poll::Ready(result) => {
                let read = &buf.filled()[before..];
                // HTTP/1 (anything but the preface's `P`) is hyper's header-read timeout's from
                // its first byte: a complete request may be shorter than the preface.
                let http1 = first.read == 0 && read.first().is_some_and(|&byte| byte != b'P');
                first.read += read.len();
                if http1 || first.read >= FIRST_BYTES {
                    *this.first_bytes = None;
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                ready!(first.deadline.as_mut().poll(cx));
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client sent too little too slowly after connecting",
                )))
            }
        }
    }
}

impl<IO: AsyncWrite> AsyncWrite for Guarded<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    #[tokio::test]
    async fn admits_up_to_the_limit_and_frees_places_as_connections_close() {
        let guard = ConnectionGuard::new(2, Duration::from_secs(10));
        let first = guard.admit(()).unwrap();
        let _second = guard.admit(()).unwrap();
        assert!(guard.admit(()).is_err(), "a third is over the limit");
        drop(first);
        assert!(
            guard.admit(()).is_ok(),
            "a closed connection frees its place"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_sends_too_little_fails_at_the_deadline() {
        let guard = ConnectionGuard::new(1, Duration::from_secs(10));
        let (client, server) = tokio::io::duplex(64);
        let mut server = guard.admit(server).unwrap();
        let mut client = client;
        client.write_all(b"PRI * HTTP").await.unwrap();
        let mut buf = [0; 64];
        assert_eq!(server.read(&mut buf).await.unwrap(), 10);
        let error = server.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_http1_request_ends_the_deadline_at_its_first_byte() {
        let guard = ConnectionGuard::new(1, Duration::from_secs(10));
        let (mut client, server) = tokio::io::duplex(64);
        let mut server = guard.admit(server).unwrap();
        client.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
        let mut buf = [0; 64];
        assert_eq!(server.read(&mut buf).await.unwrap(), 18);
        let quiet = tokio::time::timeout(Duration::from_secs(60), server.read(&mut buf)).await;
        assert!(
            quiet.is_err(),
            "no deadline for an HTTP/1 request: {quiet:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn once_the_first_bytes_are_in_quiet_is_allowed() {
        let guard = ConnectionGuard::new(1, Duration::from_secs(10));
        let (mut client, server) = tokio::io::duplex(64);
        let mut server = guard.admit(server).unwrap();
        client.write_all(&[b'x'; FIRST_BYTES]).await.unwrap();
        let mut buf = [0; 64];
        assert_eq!(server.read(&mut buf).await.unwrap(), FIRST_BYTES);
        let quiet = tokio::time::timeout(Duration::from_secs(60), server.read(&mut buf)).await;
        assert!(
            quiet.is_err(),
            "no deadline after the first bytes: {quiet:?}"
        );
    }
}
