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

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bookstore_layers::{MethodTable, RpcKind, grpc_timeout};
use bytes::Bytes;
use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use http::request::Parts;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Full};
use tokio::time::Instant;
use tonic::Status;
use tonic::body::Body;
use tower::{Service, ServiceExt as _};

use crate::hedge::HedgeDelay;
use crate::latency_window::LatencyWindow;
use crate::outcome::{Attempted, Outcome, classify, grpc_timeout_value};
use crate::policy::{ResilienceOptions, THROTTLE_MAX_TOKENS, THROTTLE_TOKEN_RATIO_MILLI};
use crate::pool::{Health, InFlight, Member, Pool};
use crate::resilience_metrics::{MethodCounters, ResilienceFamilies};
use crate::retry::RetryPolicy;
use crate::throttle::{HedgeBudget, RetryThrottle};

/// One upstream's pool with its retry, hedging and throttling policies. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Attempts {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    pool: Arc<Pool>,
    upstream: String,
    retry: RetryPolicy,
    hedge: HedgeDelay,
    throttle: RetryThrottle,
    hedges: HedgeBudget,
    families: ResilienceFamilies,
    /// The idempotent unary methods, by path: the calls that may be retried and hedged.
    resilient: HashMap<String, MethodPolicy>,
}

#[derive(Debug)]
struct MethodPolicy {
    service: Arc<str>,
    method: Arc<str>,
    latency: LatencyWindow,
    /// Made at the first retry, hedge or throttled one: a method that never needs them shows
    /// no series.
    counters: OnceLock<MethodCounters>,
}

impl Attempts {
    /// Calls to `upstream` through `pool`, by `options`, counted in `families`.
    pub(crate) fn new(
        upstream: String,
        pool: Arc<Pool>,
        options: &ResilienceOptions,
        families: ResilienceFamilies,
    ) -> Self {
        let methods = MethodTable::standard();
        let resilient = methods
            .iter()
            .filter(|(path, info)| info.kind == RpcKind::Unary && methods.is_idempotent(path))
            .map(|(path, info)| {
                let policy = MethodPolicy {
                    service: info.service.clone(),
                    method: info.method.clone(),
                    latency: LatencyWindow::default(),
                    counters: OnceLock::new(),
                };
                (path.to_owned(), policy)
            })
            .collect();
        Self {
            shared: Arc::new(Shared {
                pool,
                upstream,
                retry: options.retry(),
                hedge: options.upstream_hedge_delay,
                throttle: RetryThrottle::new(THROTTLE_MAX_TOKENS, THROTTLE_TOKEN_RATIO_MILLI),
                hedges: HedgeBudget::default(),
                families,
                resilient,
            }),
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
        Box::pin(async move { shared.send(request).await })
    }
}

impl Shared {
    async fn send(&self, request: Request<Body>) -> Attempted {
        let policy = match self.resilient.get(request.uri().path()) {
            Some(policy) if self.retry.max_attempts > 1 => policy,
            _ => return self.once(request).await,
        };
        self.hedges.earn();
        let deadline = grpc_timeout(request.headers()).map(|limit| Instant::now() + limit);
        let (parts, body) = request.into_parts();
        let message = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(status) => {
                let status = Status::internal(format!("could not read the request: {status}"));
                return Ok(status.into_http());
            }
        };
        let call = Call {
            shared: self,
            policy,
            parts,
            message,
            deadline,
            tried: Vec::with_capacity(self.retry.max_attempts as usize),
            sent: Vec::with_capacity(self.retry.max_attempts as usize),
            retries: 0,
        };
        call.run().await
    }

    /// A call that is not retried: one attempt, to the endpoint the pool picks.
    async fn once(&self, request: Request<Body>) -> Attempted {
        let Some(member) = self.pool.pick(&[]) else {
            return Ok(self.no_endpoint());
        };
        let in_flight = InFlight::new(member);
        let result = in_flight.member().channel.clone().oneshot(request).await;
        match classify(result) {
            Outcome::Committed(response, _) => self.answered(&in_flight, response),
            Outcome::Retryable(failed) => {
                self.pool.record(in_flight.member(), Health::Failed);
                self.throttle.failed();
                failed
            }
        }
    }

    fn answered(&self, in_flight: &InFlight, response: Response<Body>) -> Attempted {
        self.pool.record(in_flight.member(), Health::Answered);
        self.throttle.succeeded();
        Ok(response)
    }

    fn no_endpoint(&self) -> Response<Body> {
        Status::unavailable(format!(
            "no address of {} is answering probes",
            self.upstream
        ))
        .into_http()
    }
}

/// What the timer of a call is set for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    Hedge,
    Retry,
}

/// One resilient call in progress.
struct Call<'a> {
    shared: &'a Shared,
    policy: &'a MethodPolicy,
    parts: Parts,
    message: Bytes,
    deadline: Option<Instant>,
    /// Every endpoint an attempt went to, in order.
    tried: Vec<Arc<Member>>,
    /// The attempts still in flight: endpoint and when each was sent.
    sent: Vec<(Arc<Member>, Instant)>,
    retries: u32,
}

type AttemptFuture = BoxFuture<'static, (InFlight, Instant, Attempted)>;

/// A timer that is never due, for while nothing is scheduled.
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

impl Call<'_> {
    async fn run(mut self) -> Attempted {
        let mut running = FuturesUnordered::new();
        if !self.start(&mut running) {
            return Ok(self.shared.no_endpoint());
        }
        let hedge_delay = self.shared.hedge.delay(&self.policy.latency);
        let timer = tokio::time::sleep(hedge_delay.unwrap_or(NEVER));
        tokio::pin!(timer);
        let mut next = hedge_delay.map(|_| Next::Hedge);
        let mut last: Option<Attempted> = None;
        loop {
            tokio::select! {
                Some((in_flight, sent_at, result)) = running.next() => {
                    self.sent.retain(|(member, at)| {
                        !(Arc::ptr_eq(member, in_flight.member()) && *at == sent_at)
                    });
                    match classify(result) {
                        Outcome::Committed(response, success) => {
                            if success {
                                let now = self.shared.pool.now();
                                self.policy.latency.record(sent_at.elapsed(), now);
                            }
                            self.outrun_by(sent_at);
                            return self.shared.answered(&in_flight, response);
                        }
                        Outcome::Retryable(result) => {
                            self.shared.pool.record(in_flight.member(), Health::Failed);
                            self.shared.throttle.failed();
                            last = Some(result);
                        }
                    }
                    if running.is_empty() {
                        // Nothing else can answer: back off, then retry — or give up.
                        let Some(wait) = self.retry_after() else {
                            return last.expect("an attempt just failed");
                        };
                        timer.as_mut().reset(Instant::now() + wait);
                        next = Some(Next::Retry);
                    }
                }
                () = &mut timer, if next.is_some() => {
                    let retrying = next.take() == Some(Next::Retry);
                    if retrying {
                        self.retries += 1;
                        self.counters().retries.inc();
                    } else if !self.may_send_another() {
                        continue;
                    } else if !self.shared.hedges.spend() {
                        self.counters().throttled.inc();
                        continue;
                    } else {
                        self.counters().hedges.inc();
                    }
                    if !self.start(&mut running) && running.is_empty() {
                        return last.unwrap_or_else(|| Ok(self.shared.no_endpoint()));
                    }
                    if let Some(delay) = self.shared.hedge.delay(&self.policy.latency) {
                        timer.as_mut().reset(Instant::now() + delay);
                        next = Some(Next::Hedge);
                    }
                }
                else => return last.unwrap_or_else(|| Ok(self.shared.no_endpoint())),
            }
        }
    }

    fn counters(&self) -> &MethodCounters {
        self.policy.counters.get_or_init(|| {
            self.shared
                .families
                .method(&self.policy.service, &self.policy.method)
        })
    }

    /// Whether another attempt may go out now: attempts left, time left, budget left.
    fn may_send_another(&self) -> bool {
        if self.tried.len() >= self.shared.retry.max_attempts as usize
            || self
                .deadline
                .is_some_and(|deadline| Instant::now() >= deadline)
        {
            return false;
        }
        if !self.shared.throttle.allows() {
            self.counters().throttled.inc();
            return false;
        }
        true
    }

    /// How long to wait before retrying, or `None` if the call may not be retried.
    fn retry_after(&self) -> Option<Duration> {
        if !self.may_send_another() {
            return None;
        }
        let wait = self.shared.retry.backoff(self.retries + 1);
        let in_time = self
            .deadline
            .is_none_or(|deadline| Instant::now() + wait < deadline);
        in_time.then_some(wait)
    }

    /// Attempts sent before the winner (sent at `won_at`) and still running were slower than a
    /// later attempt: their endpoints' records say so (a silent endpoint is ejected this way).
    fn outrun_by(&self, won_at: Instant) {
        for (member, sent_at) in &self.sent {
            if *sent_at < won_at {
                self.shared.pool.record(member, Health::Failed);
            }
        }
    }

    /// Sends an attempt to an endpoint the call has not tried, if there is time and an
    /// endpoint. Returns whether one went out.
    fn start(&mut self, running: &mut FuturesUnordered<AttemptFuture>) -> bool {
        let now = Instant::now();
        let remaining = match self.deadline {
            Some(deadline) if deadline <= now => return false,
            Some(deadline) => Some(deadline - now),
            None => None,
        };
        let Some(member) = self.shared.pool.pick(&self.tried) else {
            return false;
        };
        let mut parts = self.parts.clone();
        if let (Some(remaining), false) = (remaining, self.tried.is_empty()) {
            // A later attempt has only what is left of the call's deadline.
            parts
                .headers
                .insert("grpc-timeout", grpc_timeout_value(remaining));
        }
        let request = Request::from_parts(parts, Body::new(Full::new(self.message.clone())));
        self.tried.push(member.clone());
        self.sent.push((member.clone(), now));
        let in_flight = InFlight::new(member);
        let channel = in_flight.member().channel.clone();
        running.push(Box::pin(async move {
            let result = channel.oneshot(request).await;
            (in_flight, now, result)
        }));
        true
    }
}
