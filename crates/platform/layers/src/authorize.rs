//! Per-service authorization over mutual TLS: only clients whose certificate names one of the
//! allowed identities may call the service; any other (valid) client gets `PERMISSION_DENIED`
//! with a message saying who it is and that it is not allowed, and the refusal is counted.
//!
//! The identity was read from the certificate once, at the handshake ([`PeerIdentity`]); this
//! layer only compares names. Health checks are always allowed, so load balancers and probes
//! can ask whether the service is up.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::{Either, Ready, ready};
use http::{Request, Response};
use prometheus_client::metrics::counter::Counter;
use tonic::Status;
use tower::{Layer, Service};

use crate::metrics::Metrics;
use crate::peer_identity::PeerIdentity;

/// The path prefix of health checks, which every client may call.
const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";

/// Admits only the allowed client identities (or everyone, when no list is configured).
#[derive(Clone, Debug)]
pub struct AuthorizeLayer {
    allowed: Option<Arc<[String]>>,
    denied: Counter,
}

impl AuthorizeLayer {
    /// Admits clients named in `allowed`; `None` admits everyone. Refusals are counted as
    /// `grpc_server_authorization_denied_total` in `metrics`.
    pub fn new(allowed: Option<Vec<String>>, metrics: &Metrics) -> Self {
        let denied = Counter::default();
        if allowed.is_some() {
            metrics.register(
                "grpc_server_authorization_denied",
                "Calls refused because the client's certificate identity is not allowed",
                denied.clone(),
            );
        }
        Self {
            allowed: allowed.map(Into::into),
            denied,
        }
    }
}

impl<S> Layer<S> for AuthorizeLayer {
    type Service = Authorize<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authorize {
            inner,
            allowed: self.allowed.clone(),
            denied: self.denied.clone(),
        }
    }
}

/// The service made by [`AuthorizeLayer`].
#[derive(Clone, Debug)]
pub struct Authorize<S> {
    inner: S,
    allowed: Option<Arc<[String]>>,
    denied: Counter,
}

impl<S> Authorize<S> {
    /// Why `request` may not proceed, if it may not.
    fn refusal<B>(&self, request: &Request<B>) -> Option<Status> {
        let allowed = self.allowed.as_deref()?;
        if request.uri().path().starts_with(HEALTH_PREFIX) {
            return None;
        }
        let status = match request.extensions().get::<PeerIdentity>() {
            Some(peer) if peer.is_any_of(allowed) => return None,
            Some(peer) if !peer.names.is_empty() => Status::permission_denied(format!(
                "client {:?} is not allowed to call this service (allowed: {})",
                peer.names.first().map_or("", String::as_str),
                allowed.join(", ")
            )),
            _ => Status::unauthenticated("this service requires a client certificate"),
        };
        self.denied.inc();
        Some(status)
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Authorize<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response<ResBody>, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        match self.refusal(&request) {
            Some(status) => Either::Left(ready(Ok(status.into_http()))),
            None => Either::Right(self.inner.call(request)),
        }
    }
}
