//! How a server turns away a connection beyond its limit: politely, in the connection's own
//! protocol, saying why — a gRPC call gets `UNAVAILABLE` (which clients retry, ideally on
//! another replica), any other request a `503 Service Unavailable` with `Retry-After` — and
//! then closes it. Served by hyper with a one-line service; the connection is given
//! [`REFUSAL_LINGER`] at most, so refusals cannot pile up either.

use std::convert::Infallible;
use std::time::Duration;

use bookstore_layers::is_grpc;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};

/// Longest a refused connection is kept to say so.
pub(crate) const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// Answers every request on `io` with the refusal, then closes it.
pub(crate) async fn refuse<IO>(io: IO, limit: usize)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().keep_alive(false);
    let service = service_fn(move |request: Request<Incoming>| async move {
        Ok::<_, Infallible>(refusal(&request, limit))
    });
    let connection = builder.serve_connection(TokioIo::new(io), service);
    let _ = tokio::time::timeout(REFUSAL_LINGER, connection).await;
}

/// The answer to `request` on a full server.
fn refusal<B>(request: &Request<B>, limit: usize) -> Response<Full<Bytes>> {
    let message = format!(
        "the server is at its limit of {limit} connections; try again shortly, or another replica"
    );
    if is_grpc(request.headers().get(header::CONTENT_TYPE)) {
        // Trailers-only, as tonic writes every status.
        return tonic::Status::unavailable(message).into_http();
    }
    let mut response = Response::new(Full::new(Bytes::from(message + "\n")));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_calls_get_unavailable_and_others_503() {
        let grpc = Request::builder()
            .header("content-type", "application/grpc+proto")
            .body(())
            .unwrap();
        let answer = refusal(&grpc, 7);
        assert_eq!(answer.status(), StatusCode::OK);
        // As a client reads it (the message is percent-encoded on the wire).
        let status = tonic::Status::from_header_map(answer.headers()).unwrap();
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert!(
            status.message().contains("limit of 7 connections"),
            "{status:?}"
        );

        let page = Request::builder().body(()).unwrap();
        let answer = refusal(&page, 7);
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.headers()[header::RETRY_AFTER], "1");
    }
}
