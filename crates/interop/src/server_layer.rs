//! The interop server's own layer, innermost (inside the platform's whole stack): what the
//! interop cases ask of a server beyond its handlers, which tonic's handlers cannot do alone.
//!
//! - **Echo Metadata**: `x-grpc-test-echo-initial` comes back in the response headers,
//!   `x-grpc-test-echo-trailing-bin` in the trailers (tonic's handlers set headers, not
//!   trailers, on success).
//! - **CompressedRequest / CompressedResponse**: each call gets a [`CallCompression`] in its
//!   extensions; the layer records which request messages arrived compressed and gzips the
//!   response messages the handler plans to send compressed, when the client accepts gzip.

use std::convert::Infallible;
use std::task::{Context, Poll};

use bookstore_proto::DecodingLimit;
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use http::header::HeaderName;
use http::{HeaderValue, Request, Response};
use tonic::body::Body;
use tonic::server::NamedService;
use tower::Service;

use crate::call_compression::CallCompression;
use crate::wire_body::WireBody;

/// Echoed in the response headers.
pub const ECHO_INITIAL: &str = "x-grpc-test-echo-initial";
/// Echoed in the response trailers.
pub const ECHO_TRAILING: &str = "x-grpc-test-echo-trailing-bin";
const GRPC_ENCODING: HeaderName = HeaderName::from_static("grpc-encoding");
const GRPC_ACCEPT_ENCODING: &str = "grpc-accept-encoding";
const GRPC_STATUS: &str = "grpc-status";

/// A generated `TestServiceServer` with the interop cases' wire features (see the module docs).
#[derive(Clone, Debug)]
pub struct TestFeatures<S> {
    inner: S,
}

impl<S> TestFeatures<S> {
    /// `inner` with the features.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S: NamedService> NamedService for TestFeatures<S> {
    const NAME: &'static str = S::NAME;
}

impl<S: DecodingLimit> DecodingLimit for TestFeatures<S> {
    fn with_decoding_limit(self, bytes: usize) -> Self {
        Self::new(self.inner.with_decoding_limit(bytes))
    }
}

impl<S> Service<Request<Body>> for TestFeatures<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let call = CallCompression::default();
        let headers = request.headers();
        let echo_initial = headers.get(ECHO_INITIAL).cloned();
        let echo_trailing = headers.get(ECHO_TRAILING).cloned();
        let accepts_gzip = headers
            .get_all(GRPC_ACCEPT_ENCODING)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|encoding| encoding.trim() == "gzip");

        let (mut parts, body) = request.into_parts();
        parts.extensions.insert(call.clone());
        let body = Body::new(WireBody::new(body).recording(&call));
        let response = self.inner.call(Request::from_parts(parts, body));
        async move {
            let response = response.await?;
            let (mut parts, body) = response.into_parts();
            if let Some(value) = echo_initial {
                parts.headers.insert(ECHO_INITIAL, value);
            }
            let echo_trailing =
                echo_trailing.map(|value| (HeaderName::from_static(ECHO_TRAILING), value));
            let body = if parts.headers.contains_key(GRPC_STATUS) {
                // Trailers-only: the status is in the headers, and so is the trailer.
                if let Some((name, value)) = echo_trailing {
                    parts.headers.insert(name, value);
                }
                body
            } else {
                let mut body = WireBody::new(body).with_trailer(echo_trailing);
                if accepts_gzip {
                    parts
                        .headers
                        .insert(GRPC_ENCODING, HeaderValue::from_static("gzip"));
                    body = body.compressing(&call);
                }
                Body::new(body)
            };
            Ok(Response::from_parts(parts, body))
        }
        .boxed()
    }
}
