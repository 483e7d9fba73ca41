//! The bottom of every channel: [`Attempts`] sends each call to an endpoint of the pool as one
//! or more attempts, under the policies of `retry`, `hedge` and `throttle`.
//!
//! A call to a method the protos mark idempotent, with one request message, is *resilient*:
//! its request message is kept, so it can be sent again.
//! - A retryable failure (no response, `UNAVAILABLE`, a shed call) with nothing else in flight
//!   is retried after a jittered backoff, on an endpoint the call has not tried.
//! - An attempt that has not answered within the hedging delay gets a hedge on another
//!   endpoint; the first committed answer wins and dropping the rest cancels them.
//! - Never more than `--upstream-max-attempts` attempts, never past the call's deadline (each
//!   attempt's `grpc-timeout` is what is left of it), never while the retry budget is spent,
//!   and hedges only within their own budget (`throttle`).
//!
//! Every other call (streams; unary methods that may have side effects) is sent once, to the
//! endpoint the pool picks. Every attempt's outcome is recorded against its endpoint, for
//! outlier ejection.
//!
//! Written by hand rather than with tower's `Retry` and `Hedge`: they cannot send a second
//! attempt to a *different* endpoint (they wrap a service, not a pool), tower's hedge has no
//! fixed delay, and neither has gRFC A6's commit rule or throttling. The deadline layer above
//! this one bounds the whole call; client metrics and traces above it count the call once.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Request, Response};
use http_body_util::BodyExt as _;
use tokio::time::Instant;
use tonic::Status;
use tonic::body::Body;
use tower::{Service, ServiceExt as _};

use crate::call::Call;
use crate::outcome::{Attempted, Outcome, classify};
use crate::pool::{Attempt, Health, InFlight, Pool};
use crate::upstream_state::{Policies, Shared};

/// One upstream's pool with its retry, hedging and throttling policies. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Attempts {
    shared: Arc<Shared>,
}

impl Attempts {
    /// Calls through `pool`, by `policies`.
    pub(crate) fn new(pool: Arc<Pool>, policies: Arc<Policies>) -> Self {
        Self {
            shared: Arc::new(Shared { pool, policies }),
        }
    }
}

impl Service<Request<Body>> for Attempts {
    type Response = Response<Body>;
    type Error = tonic::transport::Error;
    type Future = BoxFuture<'static, Attempted>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Each attempt waits for its endpoint's channel to be ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let shared = self.shared.clone();
        Box::pin(async move { send(&shared, request).await })
    }
}

/// Sends one call, resilient or once.
async fn send(shared: &Shared, request: Request<Body>) -> Attempted {
    let policy = match shared.policies.resilient.get(request.uri().path()) {
        Some(policy) if shared.policies.retry.max_attempts > 1 => policy,
        _ => return once(shared, request).await,
    };
    shared.policies.hedges.earn();
    let started = Instant::now();
    let (mut parts, body) = request.into_parts();
    let message = match read_message(body).await {
        Ok(message) => message,
        Err(status) => {
            let status = Status::internal(format!("could not read the request: {status}"));
            return Ok(status.into_http());
        }
    };
    // Later attempts need the method, URI and headers again; the extensions (tonic's
    // method name, for layers that have already run) go with the first attempt only.
    let extensions = std::mem::take(&mut parts.extensions);
    let call = Call::new(shared, policy, parts, message, started);
    call.run(extensions).await
}

/// A call that is not retried: one attempt, to the endpoint the pool picks.
async fn once(shared: &Shared, request: Request<Body>) -> Attempted {
    let Some(member) = shared.pool.pick(&[], Attempt::FirstOrRetry) else {
        return Ok(shared.no_endpoint());
    };
    let in_flight = InFlight::new(member);
    let result = in_flight.member().channel.clone().oneshot(request).await;
    match classify(result) {
        Outcome::Committed(response, _) => shared.answered(&in_flight, response),
        Outcome::Retryable(failed) => {
            shared.pool.record(in_flight.member(), Health::Failed);
            shared.policies.throttle.failed();
            failed
        }
    }
}

/// The request message: the body's data, which for a unary call is one frame.
async fn read_message(mut body: Body) -> Result<Bytes, Status> {
    let mut message = Bytes::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        message = if message.is_empty() {
            data
        } else {
            // Written by hand rather than collected: a unary body is one frame, which this
            // takes as it is, with no buffer list to allocate.
            let mut joined = bytes::BytesMut::from(&message[..]);
            joined.extend_from_slice(&data);
            joined.freeze()
        };
    }
    Ok(message)
}
