//! `x-request-id`: accept the caller's id or assign one, and echo it on the response, so a
//! request can be followed through the marketplace into the gRPC services and back in logs.
//!
//! Built from tower-http's request-id layers; this file only fixes the header and generator.

use tower::Layer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestId, PropagateRequestIdLayer, SetRequestId, SetRequestIdLayer,
};

/// The header carrying the request id, on HTTP and gRPC alike.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Sets `x-request-id` on requests that lack one (a random UUID) and copies it to the response.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = SetRequestId<PropagateRequestId<S>, MakeRequestUuid>;

    fn layer(&self, inner: S) -> Self::Service {
        let inner = PropagateRequestIdLayer::x_request_id().layer(inner);
        SetRequestIdLayer::x_request_id(MakeRequestUuid).layer(inner)
    }
}
