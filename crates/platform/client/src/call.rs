//! One resilient call in progress ([`Call`]): its first attempt run in place, later ones —
//! retries after a backoff, hedges after the hedging delay — in a set made when the first of
//! them goes out; the first committed answer wins, and dropping the call cancels the rest.
//! The rules it follows are in `attempts`' docs.

use std::sync::Arc;
use std::time::Duration;

use bookstore_layers::grpc_timeout;
use bytes::Bytes;
use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use http::Request;
use http::request::Parts;
use http_body_util::Full;
use tokio::time::Instant;
use tonic::body::Body;
use tower::ServiceExt as _;

use crate::outcome::{Attempted, Outcome, classify, grpc_timeout_value};
use crate::pool::{Attempt, Health, InFlight, Member};
use crate::resilience_metrics::MethodCounters;
use crate::upstream_state::{MethodPolicy, Shared};

/// What the timer of a call is set for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    Hedge,
    Retry,
}

/// One resilient call in progress.
pub(crate) struct Call<'a> {
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
    /// The hedging delay: an endpoint outrun by a hedge counts as failing once per this long.
    hedge_window: Duration,
    retries: u32,
}

type AttemptFuture = BoxFuture<'static, (InFlight, Instant, Attempted)>;

/// A timer that is never due, for while nothing is scheduled.
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

impl<'a> Call<'a> {
    /// A call of `policy`'s method, its request `parts` and `message`, started at `started`.
    pub(crate) fn new(
        shared: &'a Shared,
        policy: &'a MethodPolicy,
        parts: Parts,
        message: Bytes,
        started: Instant,
    ) -> Self {
        Self {
            shared,
            policy,
            parts,
            message,
            started,
            deadline: None,
            tried: Vec::new(),
            sent: Vec::new(),
            hedge_window: Duration::ZERO,
            retries: 0,
        }
    }

    /// Runs the call. The first attempt — the only one almost every call makes — runs in
    /// place; later ones, in a set made when the first of them goes out.
    pub(crate) async fn run(mut self, extensions: http::Extensions) -> Attempted {
        let Some(first) = self.shared.pool.pick(&[], Attempt::FirstOrRetry) else {
            return Ok(self.shared.no_endpoint());
        };
        let mut request = Request::from_parts(self.parts.clone(), self.body());
        *request.extensions_mut() = extensions;
        let mut first_in_flight = Some(InFlight::new(first.clone()));
        let first_attempt = first.channel.clone().oneshot(request);
        tokio::pin!(first_attempt);
        let mut later: Option<FuturesUnordered<AttemptFuture>> = None;

        // With one endpoint there is nowhere to hedge to: no timer to arm.
        let hedge_delay = if self.shared.pool.has_alternatives() {
            self.shared.policies.hedge.delay(&self.policy.latency)
        } else {
            None
        };
        self.hedge_window = hedge_delay.unwrap_or_default();
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
                    let later = later.get_or_insert_with(FuturesUnordered::new);
                    let sent = self.may_send_another() && self.start(later, &first, retrying);
                    if !sent && first_in_flight.is_none() && later.is_empty() {
                        return last.unwrap_or_else(|| Ok(self.shared.no_endpoint()));
                    }
                    let delay = self.shared.policies.hedge.delay(&self.policy.latency);
                    if let (true, Some(delay)) = (sent, delay) {
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
                    self.shared.policies.throttle.failed();
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
                .policies
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

    /// Whether attempts, time and the retry budget allow another attempt.
    fn may_send_another(&mut self) -> bool {
        let attempts = self.tried.len().max(1);
        if attempts >= self.shared.policies.retry.max_attempts as usize
            || self
                .deadline()
                .is_some_and(|deadline| Instant::now() >= deadline)
        {
            return false;
        }
        if !self.shared.policies.throttle.allows() {
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
        let wait = self.shared.policies.retry.backoff(self.retries + 1);
        let in_time = self
            .deadline()
            .is_none_or(|deadline| Instant::now() + wait < deadline);
        in_time.then_some(wait)
    }

    /// Attempts sent before the winner (sent at `won_at`) and still running were slower than a
    /// later attempt: their endpoints' records say so (a silent endpoint is ejected this way).
    fn outrun_by(&self, won_at: Instant, first_running: Option<&Arc<Member>>) {
        let outrun = Health::Outrun(self.hedge_window);
        if let Some(first) = first_running {
            self.shared.pool.record(first, outrun);
        }
        for (member, sent_at) in &self.sent {
            if *sent_at < won_at {
                self.shared.pool.record(member, outrun);
            }
        }
    }

    /// Sends a later attempt — a retry, or a hedge while others run — if there is time, an
    /// endpoint for it (for a hedge, one the call has not tried) and, for a hedge, budget.
    /// Returns whether one went out, counting it if so.
    fn start(
        &mut self,
        running: &mut FuturesUnordered<AttemptFuture>,
        first: &Arc<Member>,
        retrying: bool,
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
        let attempt = if retrying {
            Attempt::FirstOrRetry
        } else {
            Attempt::Hedge
        };
        let Some(member) = self.shared.pool.pick(&self.tried, attempt) else {
            return false;
        };
        if retrying {
            self.retries += 1;
            self.counters().retries.inc();
        } else if self.shared.policies.hedges.spend() {
            self.counters().hedges.inc();
        } else {
            self.counters().throttled.inc();
            return false;
        }
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
