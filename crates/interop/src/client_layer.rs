//! The interop client's layer, around the platform's client channel: for a call that carries a
//! [`CallCompression`] in its extensions, it gzips the request messages the case plans to send
//! compressed and records which response messages arrived compressed (tonic compresses per
//! call; the cases need per message, see `frames`). Other calls pass untouched.

use std::task::{Context, Poll};

use http::header::HeaderName;
use http::{HeaderValue, Request, Response};
use tonic::body::Body;
use tower::{Layer, Service};

use crate::call_compression::CallCompression;
use crate::wire_body::WireBody;

const GRPC_ENCODING: HeaderName = HeaderName::from_static("grpc-encoding");

/// Adds [`WireCompression`] to a channel.
#[derive(Clone, Copy, Debug, Default)]
pub struct WireCompressionLayer;

impl<S> Layer<S> for WireCompressionLayer {
    type Service = WireCompression<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WireCompression { inner }
    }
}

/// A channel that compresses and inspects calls message by message (see the module docs).
#[derive(Clone, Debug)]
pub struct WireCompression<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for WireCompression<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = futures_util::future::BoxFuture<'static, Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        use futures_util::FutureExt as _;

        let Some(call) = request.extensions().get::<CallCompression>().cloned() else {
            return self.inner.call(request).boxed();
        };
        let (mut parts, body) = request.into_parts();
        parts
            .headers
            .insert(GRPC_ENCODING, HeaderValue::from_static("gzip"));
        let body = Body::new(WireBody::new(body).compressing(&call));
        let response = self.inner.call(Request::from_parts(parts, body));
        async move {
            let response = response.await?;
            Ok(response.map(|body| Body::new(WireBody::new(body).recording(&call))))
        }
        .boxed()
    }
}
