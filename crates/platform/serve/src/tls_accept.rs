//! The TLS accept loop: accepts TCP connections (from a listener, or as a server thread is
//! handed them), runs each handshake in its own task (bounded by a timeout, so a client that
//! never finishes cannot hold a slot), and yields established connections tagged with the
//! peer's identity, for tonic's `serve_with_incoming`.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::StreamExt as _;
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;

use bookstore_layers::PeerIdentity;
use bookstore_tls::{ServerTls, certificate_names};

use crate::listeners::accept;

/// Established connections waiting for the server to pick them up.
const ACCEPT_BACKLOG: usize = 128;

pin_project! {
    /// An established TLS connection and who is on the other end.
    pub struct TlsConnection {
        #[pin]
        stream: TlsStream<TcpStream>,
        peer: PeerIdentity,
    }
}

impl Connected for TlsConnection {
    type ConnectInfo = PeerIdentity;

    fn connect_info(&self) -> PeerIdentity {
        self.peer.clone()
    }
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().stream.poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().stream.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().stream.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().stream.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().stream.poll_shutdown(cx)
    }
}

/// Accepts TLS connections on `listener` until `stop` is cancelled (then the listener closes).
pub(crate) fn incoming(
    listener: TcpListener,
    tls: Arc<ServerTls>,
    handshake_timeout: Duration,
    stop: CancellationToken,
) -> ReceiverStream<io::Result<TlsConnection>> {
    let accepted = futures_util::stream::unfold(listener, |listener| async move {
        let accepted = accept(&listener).await;
        Some((accepted, listener))
    });
    handshakes(accepted, tls, handshake_timeout, stop)
}

/// Runs a TLS handshake on each connection `accepted` yields (each in its own task, on the
/// current runtime, each within `handshake_timeout`) until `stop` is cancelled or the
/// connections end, and yields the established ones.
pub(crate) fn handshakes(
    accepted: impl futures_util::Stream<Item = (TcpStream, SocketAddr)> + Send + 'static,
    tls: Arc<ServerTls>,
    handshake_timeout: Duration,
    stop: CancellationToken,
) -> ReceiverStream<io::Result<TlsConnection>> {
    let (established, stream) = tokio::sync::mpsc::channel(ACCEPT_BACKLOG);
    tokio::spawn(async move {
        let mut accepted = std::pin::pin!(accepted);
        loop {
            let (tcp, remote_addr) = tokio::select! {
                () = stop.cancelled() => break,
                next = accepted.next() => match next {
                    Some(next) => next,
                    None => break,
                },
            };
            let acceptor = TlsAcceptor::from(tls.config());
            let established = established.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        let names = stream
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|chain| chain.first())
                            .map(certificate_names)
                            .unwrap_or_default();
                        let peer = PeerIdentity {
                            remote_addr: Some(remote_addr),
                            names: names.into(),
                        };
                        let _ = established.send(Ok(TlsConnection { stream, peer })).await;
                    }
                    Ok(Err(error)) => {
                        tracing::debug!(%remote_addr, %error, "TLS handshake failed");
                    }
                    Err(_) => tracing::debug!(%remote_addr, "TLS handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(stream)
}
