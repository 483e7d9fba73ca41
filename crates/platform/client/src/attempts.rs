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
        let call = Call {
            shared: self,
            policy,
            parts,
            message,
            started,
            deadline: None,
            tried: Vec::new(),
            sent: Vec::new(),
            retries: 0,
        };
        call.run(extensions).await
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
    /// The request's method, URI and headers, for every attempt.
    parts: Parts,
    message: Bytes,
    started: Instant,
    /// When the call's deadline passes, read from `grpc-timeout` when first needed.
    deadline: Option<Option<Instant>>,
    /// Every endpoint an attempt went to, once there is more than one attempt.
    tried: Vec<Arc<Member>>,
    /// The later attempts still in flight: endpoint and when each was sent.
    sent: Vec<(Arc<Member>, Instant)>,
    retries: u32,
}

type AttemptFuture = BoxFuture<'static, (InFlight, Instant, Attempted)>;

/// A timer that is never due, for while nothing is scheduled.
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

impl Call<'_> {
    /// Runs the call. The first attempt — the only one almost every call makes — runs in
    /// place; later ones, in a set made when the first of them goes out.
    async fn run(mut self, extensions: http::Extensions) -> Attempted {
        let Some(first) = self.shared.pool.pick(&[]) else {
            return Ok(self.shared.no_endpoint());
        };
        let mut request = Request::from_parts(self.parts.clone(), self.body());
        *request.extensions_mut() = extensions;
        let mut first_in_flight = Some(InFlight::new(first.clone()));
        let first_attempt = first.channel.clone().oneshot(request);
        tokio::pin!(first_attempt);
        let mut later: Option<FuturesUnordered<AttemptFuture>> = None;

        let hedge_delay = self.shared.hedge.delay(&self.policy.latency);
        let timer = tokio::time::sleep(hedge_delay.unwrap_or(NEVER));
        tokio::pin!(timer);
        let mut next = hedge_delay.map(|_| Next::Hedge);
        let mut last: Option<Attempted> = None;
        loop {
            let (in_flight, sent_at, result) = tokio::select! {
                result = &mut first_attempt, if first_in_flight.is_some() => {
                    (first_in_flight.take().expect("checked"), self.started, result)
                }
                Some(done) = next_of(&mut later) => done,
                () = &mut timer, if next.is_some() => {
                    let retrying = next.take() == Some(Next::Retry);
                    if !self.may_start(retrying) {
                        continue;
                    }
                    let later = later.get_or_insert_with(FuturesUnordered::new);
                    if !self.start(later, &first) && first_in_flight.is_none() && later.is_empty() {
                        return last.unwrap_or_else(|| Ok(self.shared.no_endpoint()));
                    }
                    if let Some(delay) = self.shared.hedge.delay(&self.policy.latency) {
                        timer.as_mut().reset(Instant::now() + delay);
                        next = Some(Next::Hedge);
                    }
                    continue;
                }
                else => return last.unwrap_or_else(|| Ok(self.shared.no_endpoint())),
            };
            if !self.sent.is_empty() {
                self.sent.retain(|(member, at)| {
                    !(Arc::ptr_eq(member, in_flight.member()) && *at == sent_at)
                });
            }
            match classify(result) {
                Outcome::Committed(response, success) => {
                    let now = Instant::now();
                    if success {
                        let latency = now.saturating_duration_since(sent_at);
                        self.policy
                            .latency
                            .record(latency, self.shared.pool.nanos(now));
                    }
                    let first_running = first_in_flight.is_some().then_some(&first);
                    self.outrun_by(sent_at, first_running);
                    return self.shared.answered(&in_flight, response);
                }
                Outcome::Retryable(result) => {
                    self.shared.pool.record(in_flight.member(), Health::Failed);
                    self.shared.throttle.failed();
                    last = Some(result);
                }
            }
            if first_in_flight.is_none() && later.as_ref().is_none_or(|l| l.is_empty()) {
                // Nothing else can answer: back off, then retry — or give up.
                let Some(wait) = self.retry_after() else {
                    return last.expect("an attempt just failed");
                };
                timer.as_mut().reset(Instant::now() + wait);
                next = Some(Next::Retry);
            }
        }
    }

    fn body(&self) -> Body {
        Body::new(Full::new(self.message.clone()))
    }

    fn counters(&self) -> &MethodCounters {
        self.policy.counters.get_or_init(|| {
            self.shared
                .families
                .method(&self.policy.service, &self.policy.method)
        })
    }

    /// When the call's deadline passes, if it has one.
    fn deadline(&mut self) -> Option<Instant> {
        let started = self.started;
        let headers = &self.parts.headers;
        *self
            .deadline
            .get_or_insert_with(|| grpc_timeout(headers).map(|limit| started + limit))
    }

    /// Whether another attempt may go out now — attempts left, time left, budget left —
    /// counting it as a retry or a hedge if so.
    fn may_start(&mut self, retrying: bool) -> bool {
        if !self.may_send_another() {
            return false;
        }
        if retrying {
            self.retries += 1;
            self.counters().retries.inc();
        } else if self.shared.hedges.spend() {
            self.counters().hedges.inc();
        } else {
            self.counters().throttled.inc();
            return false;
        }
        true
    }

    /// Whether attempts, time and the retry budget allow another attempt.
    fn may_send_another(&mut self) -> bool {
        let attempts = self.tried.len().max(1);
        if attempts >= self.shared.retry.max_attempts as usize
            || self
                .deadline()
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
    fn retry_after(&mut self) -> Option<Duration> {
        if !self.may_send_another() {
            return None;
        }
        let wait = self.shared.retry.backoff(self.retries + 1);
        let in_time = self
            .deadline()
            .is_none_or(|deadline| Instant::now() + wait < deadline);
        in_time.then_some(wait)
    }

    /// Attempts sent before the winner (sent at `won_at`) and still running were slower than a
    /// later attempt: their endpoints' records say so (a silent endpoint is ejected this way).
    fn outrun_by(&self, won_at: Instant, first_running: Option<&Arc<Member>>) {
        if let Some(first) = first_running {
            self.shared.pool.record(first, Health::Failed);
        }
        for (member, sent_at) in &self.sent {
            if *sent_at < won_at {
                self.shared.pool.record(member, Health::Failed);
            }
        }
    }

    /// Sends a later attempt to an endpoint the call has not tried, if there is time and an
    /// endpoint. Returns whether one went out.
    fn start(
        &mut self,
        running: &mut FuturesUnordered<AttemptFuture>,
        first: &Arc<Member>,
    ) -> bool {
        let now = Instant::now();
        let remaining = match self.deadline() {
            Some(deadline) if deadline <= now => return false,
            Some(deadline) => Some(deadline - now),
            None => None,
        };
        if self.tried.is_empty() {
            self.tried.push(first.clone());
        }
        let Some(member) = self.shared.pool.pick(&self.tried) else {
            return false;
        };
        let mut parts = self.parts.clone();
        if let Some(remaining) = remaining {
            // A later attempt has only what is left of the call's deadline.
            parts
                .headers
                .insert(GRPC_TIMEOUT, grpc_timeout_value(remaining));
        }
        let request = Request::from_parts(parts, self.body());
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

const GRPC_TIMEOUT: http::HeaderName = http::HeaderName::from_static("grpc-timeout");

/// The next later attempt to finish, if any are running.
async fn next_of(
    later: &mut Option<FuturesUnordered<AttemptFuture>>,
) -> Option<(InFlight, Instant, Attempted)> {
    later.as_mut()?.next().await
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
