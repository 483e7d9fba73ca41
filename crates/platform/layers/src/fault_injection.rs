//! Fault injection, off by default: added latency on a percentage of calls, and a percentage
//! of calls failed with a chosen status — as Envoy's fault filter, Online Boutique's
//! `EXTRA_LATENCY` and the OpenTelemetry demo's failure flags do — so anyone can rehearse a
//! slow or failing replica on a real deployment (`--fault-delay`, `--fault-delay-percent`,
//! `--fault-abort-percent`, `--fault-abort-code`).
//!
//! Off, it costs one branch per call: no random draw, no lookup. On, it is visible: the server
//! warns at start which faults it injects, every fault is counted as
//! `grpc_server_injected_faults_total{grpc_service,grpc_method,fault="delay"|"abort"}`, and an
//! aborted call is reported by the error log like any failure, with the message "fault
//! injected by --fault-abort-percent". Health checks and reflection are never faulted, so
//! probes keep telling the truth about the process.
//!
//! A delayed call waits before its handler runs, inside the server's time limit and grace
//! deadline (see `stack`): it is what a slow handler is, and ends as one would — at the
//! caller's deadline, the server's time limit, or the grace deadline. A call drawn for both
//! faults is delayed, then aborted (as Envoy does).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use pin_project_lite::pin_project;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio::time::Sleep;
use tonic::{Code, Status};
use tower::{Layer, Service};

use crate::abort_code::abort_code_name;
use crate::method_counters::{MethodCounters, is_health_or_reflection};
use crate::methods::MethodTable;
use crate::metrics::Metrics;

/// The message of an aborted call.
pub const ABORT_MESSAGE: &str = "fault injected by --fault-abort-percent";

/// The faults to inject; the default injects none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Faults {
    /// Latency added to `delay_percent` of calls.
    pub delay: Option<Duration>,
    /// The percentage (0 to 100) of calls delayed by `delay`.
    pub delay_percent: u8,
    /// The percentage (0 to 100) of calls failed with `abort_code`.
    pub abort_percent: u8,
    /// The status code of an aborted call.
    pub abort_code: Code,
}

/// No faults (and `UNAVAILABLE`, should an abort percentage be set).
impl Default for Faults {
    fn default() -> Self {
        Self {
            delay: None,
            delay_percent: 0,
            abort_percent: 0,
            abort_code: Code::Unavailable,
        }
    }
}

impl Faults {
    /// Whether any call can be faulted.
    pub fn any(&self) -> bool {
        self.delay_percent() > 0 || self.abort_percent > 0
    }

    /// The percentage of calls delayed: none without a delay.
    fn delay_percent(&self) -> u8 {
        match self.delay {
            Some(delay) if !delay.is_zero() => self.delay_percent.min(100),
            _ => 0,
        }
    }
}

/// How the start-up warning lists the faults: `delay 200ms on 50% of calls, abort with
/// UNAVAILABLE on 10% of calls`.
impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(delay) = self.delay.filter(|_| self.delay_percent() > 0) {
            parts.push(format!(
                "delay {} on {}% of calls",
                humantime::format_duration(delay),
                self.delay_percent()
            ));
        }
        if self.abort_percent > 0 {
            parts.push(format!(
                "abort with {} on {}% of calls",
                abort_code_name(self.abort_code),
                self.abort_percent.min(100)
            ));
        }
        if parts.is_empty() {
            return f.write_str("none");
        }
        f.write_str(&parts.join(", "))
    }
}

/// The labels of `grpc_server_injected_faults_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FaultLabels {
    grpc_service: String,
    grpc_method: String,
    fault: &'static str,
}

/// One method's fault counters.
#[derive(Debug)]
struct FaultCounters {
    delay: Counter,
    abort: Counter,
}

/// Injects [`Faults`] into calls (or, when there are none, passes every call straight on).
#[derive(Clone, Debug)]
pub struct FaultInjectionLayer {
    active: Option<Arc<Active>>,
}

/// The faults of a layer that injects some, and their counters.
#[derive(Debug)]
struct Active {
    faults: Faults,
    delay_percent: u32,
    abort_percent: u32,
    counters: MethodCounters<FaultCounters>,
}

impl FaultInjectionLayer {
    /// Injects `faults` into calls to any method (but health and reflection), counting them
    /// in `metrics` under the methods of `methods`. Registers nothing when there are none.
    pub fn new(faults: Faults, metrics: &Metrics, methods: &MethodTable) -> Self {
        if !faults.any() {
            return Self { active: None };
        }
        let family = Family::<FaultLabels, Counter>::default();
        metrics.register(
            "grpc_server_injected_faults",
            "Faults injected on purpose (--fault-delay, --fault-abort-percent), by method and \
             kind (delay or abort)",
            family.clone(),
        );
        let counters = MethodCounters::new(methods, |info| {
            let counter = |fault| {
                family
                    .get_or_create(&FaultLabels {
                        grpc_service: info.service.to_string(),
                        grpc_method: info.method.to_string(),
                        fault,
                    })
                    .clone()
            };
            FaultCounters {
                delay: counter("delay"),
                abort: counter("abort"),
            }
        });
        Self {
            active: Some(Arc::new(Active {
                faults,
                delay_percent: faults.delay_percent().into(),
                abort_percent: faults.abort_percent.min(100).into(),
                counters,
            })),
        }
    }
}

impl Active {
    /// The faults drawn for one call to `path`: a delay, an abort, both or neither.
    fn draw(&self, path: &str) -> (Option<Duration>, Option<Status>) {
        if is_health_or_reflection(path) {
            return (None, None);
        }
        let counters = self.counters.get(path);
        let delay = self
            .faults
            .delay
            .filter(|_| drawn(self.delay_percent))
            .inspect(|_| {
                counters.delay.inc();
            });
        let abort = drawn(self.abort_percent).then(|| {
            counters.abort.inc();
            Status::new(self.faults.abort_code, ABORT_MESSAGE)
        });
        (delay, abort)
    }
}

/// Whether a call falls in `percent` of calls.
fn drawn(percent: u32) -> bool {
    percent >= 100 || (percent > 0 && rand::random_range(0..100) < percent)
}

impl<S> Layer<S> for FaultInjectionLayer {
    type Service = FaultInjection<S>;

    fn layer(&self, inner: S) -> Self::Service {
        FaultInjection {
            inner,
            active: self.active.clone(),
        }
    }
}

/// The service made by [`FaultInjectionLayer`].
#[derive(Clone, Debug)]
pub struct FaultInjection<S> {
    inner: S,
    active: Option<Arc<Active>>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for FaultInjection<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = FaultFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The one branch a server without faults pays.
        let Some(active) = &self.active else {
            return FaultFuture::Passed {
                inner: self.inner.call(request),
            };
        };
        let (delay, abort) = active.draw(request.uri().path());
        if delay.is_none() && abort.is_none() {
            return FaultFuture::Passed {
                inner: self.inner.call(request),
            };
        }
        FaultFuture::Faulted {
            delay: delay.map(|delay| Box::pin(tokio::time::sleep(delay))),
            // An aborted call never reaches the handler.
            inner: match abort {
                Some(_) => None,
                None => Some(self.inner.call(request)),
            },
            abort,
        }
    }
}

pin_project! {
    /// The response future of [`FaultInjection`].
    #[project = FaultProjection]
    pub enum FaultFuture<F> {
        /// No fault: the handler's own answer.
        Passed { #[pin] inner: F },
        /// A delay first (boxed: most calls have none, and should not carry a timer), then
        /// the abort or the handler's answer.
        Faulted { delay: Option<Pin<Box<Sleep>>>, #[pin] inner: Option<F>, abort: Option<Status> },
    }
}

impl<F, B, E> Future for FaultFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            FaultProjection::Passed { inner } => inner.poll(cx),
            FaultProjection::Faulted {
                delay,
                inner,
                abort,
            } => {
                if let Some(sleep) = delay {
                    std::task::ready!(sleep.as_mut().poll(cx));
                    *delay = None;
                }
                if let Some(status) = abort.take() {
                    return Poll::Ready(Ok(status.into_http()));
                }
                match inner.as_pin_mut() {
                    Some(inner) => inner.poll(cx),
                    None => unreachable!("a call is either aborted or handled"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_by_default_and_a_delay_needs_a_duration() {
        assert!(!Faults::default().any());
        let percent_only = Faults {
            delay_percent: 100,
            ..Faults::default()
        };
        assert!(!percent_only.any(), "a percentage of no delay is no fault");
        let layer =
            FaultInjectionLayer::new(percent_only, &Metrics::new(), &MethodTable::default());
        assert!(layer.active.is_none());
    }

    #[test]
    fn the_warning_lists_what_is_on() {
        let faults = Faults {
            delay: Some(Duration::from_millis(200)),
            delay_percent: 50,
            abort_percent: 10,
            abort_code: Code::Unavailable,
        };
        assert_eq!(
            faults.to_string(),
            "delay 200ms on 50% of calls, abort with UNAVAILABLE on 10% of calls"
        );
        assert_eq!(Faults::default().to_string(), "none");
    }

    #[test]
    fn draws_hit_their_percentage_roughly_and_the_ends_exactly() {
        assert!((0..1000).all(|_| drawn(100)));
        assert!(!(0..1000).any(|_| drawn(0)));
        let hits = (0..10_000).filter(|_| drawn(30)).count();
        // 30% of 10,000 is 3,000 with a standard deviation of about 46: 2,700..3,300 is
        // more than six of them.
        assert!((2_700..3_300).contains(&hits), "{hits}");
    }

    #[test]
    fn health_and_reflection_are_never_faulted() {
        let faults = Faults {
            abort_percent: 100,
            abort_code: Code::Unavailable,
            ..Faults::default()
        };
        let layer = FaultInjectionLayer::new(faults, &Metrics::new(), &MethodTable::standard());
        let active = layer.active.unwrap();
        assert!(active.draw("/grpc.health.v1.Health/Check").1.is_none());
        let (_, abort) = active.draw("/Recommendations/Recommend");
        assert_eq!(abort.map(|status| status.code()), Some(Code::Unavailable));
    }
}
