//! Overload shedding: a server with as many calls in progress as its limit
//! (`--max-concurrent-calls`) refuses the next one at once with `RESOURCE_EXHAUSTED`, saying
//! why, instead of queueing it behind the others. Queueing without bound is how an overloaded
//! server fails everyone: every call waits longer, callers time out and retry, and the work it
//! does finish is for callers that already gave up. Refusing at once keeps the latency of the
//! calls it admits, and tells the caller to try again shortly, or another replica (the
//! platform's clients treat a shed call as retryable elsewhere).
//!
//! The refusal is trailers-only (the status in the response headers, as
//! `tonic::Status::into_http` makes it): no handler runs, no timer is set, nothing is read.
//! Shed calls are counted as `grpc_server_shed_calls_total{grpc_service,grpc_method}`, besides
//! `grpc_server_handled_total{grpc_code="ResourceExhausted"}` (which also counts oversized
//! messages), and the server warns that it sheds at most every ten seconds (`call_limit`).
//!
//! Health checks and reflection are never shed and never counted against the limit: probes
//! must keep getting their answer from an overloaded server, or the orchestrator would restart
//! a replica that is only busy, and move its load onto the others.
//!
//! An admitted call holds its place until its response body ends (or is dropped): a streaming
//! call counts for as long as it streams, as its handler is working for that long.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tonic::Status;
use tower::{Layer, Service};

use crate::call_limit::{Admitted, CallLimit};
use crate::method_counters::{MethodCounters, is_health_or_reflection};
use crate::methods::MethodTable;
use crate::metrics::Metrics;

/// The labels of `grpc_server_shed_calls_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ShedLabels {
    grpc_service: String,
    grpc_method: String,
}

/// Refuses calls beyond a limit of calls in progress with `RESOURCE_EXHAUSTED`.
#[derive(Clone, Debug)]
pub struct LoadShedLayer {
    shared: Arc<Shared>,
}

/// What every connection's shedder shares: the limit, the message, the counters.
#[derive(Debug)]
struct Shared {
    limit: Arc<CallLimit>,
    message: String,
    shed: MethodCounters<Counter>,
}

impl LoadShedLayer {
    /// Admits up to `limit` calls in progress to the methods of `methods` (and any other
    /// path); counts the ones it sheds in `metrics`.
    pub fn new(limit: usize, metrics: &Metrics, methods: &MethodTable) -> Self {
        let family = Family::<ShedLabels, Counter>::default();
        metrics.register(
            "grpc_server_shed_calls",
            "Calls refused with RESOURCE_EXHAUSTED because the server had as many calls in \
             progress as its limit (--max-concurrent-calls)",
            family.clone(),
        );
        let shed = MethodCounters::new(methods, |info| {
            family
                .get_or_create(&ShedLabels {
                    grpc_service: info.service.to_string(),
                    grpc_method: info.method.to_string(),
                })
                .clone()
        });
        let limit = CallLimit::new(limit);
        let message = overload_message(limit.limit());
        Self {
            shared: Arc::new(Shared {
                limit,
                message,
                shed,
            }),
        }
    }
}

/// How the message of a shed call begins (the error log reports those at DEBUG).
pub(crate) const OVERLOADED: &str = "server overloaded:";

/// What a shed call's caller reads.
fn overload_message(limit: usize) -> String {
    format!(
        "{OVERLOADED} {limit} calls in progress (the limit, --max-concurrent-calls); \
         try again shortly or another replica"
    )
}

impl<S> Layer<S> for LoadShedLayer {
    type Service = LoadShed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LoadShed {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service made by [`LoadShedLayer`].
#[derive(Clone, Debug)]
pub struct LoadShed<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for LoadShed<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<AdmittedBody<ResBody>>;
    type Error = S::Error;
    type Future = LoadShedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let path = request.uri().path();
        let place = if is_health_or_reflection(path) {
            None
        } else {
            match self.shared.limit.try_admit() {
                Some(place) => Some(place),
                None => {
                    self.shared.shed.get(path).inc();
                    let status = Status::resource_exhausted(self.shared.message.clone());
                    return LoadShedFuture::Shed {
                        status: Some(status),
                    };
                }
            }
        };
        LoadShedFuture::Admitted {
            inner: self.inner.call(request),
            place,
        }
    }
}

pin_project! {
    /// The response future of [`LoadShed`].
    #[project = LoadShedProjection]
    pub enum LoadShedFuture<F> {
        /// The call runs, holding its place (none for health and reflection).
        Admitted { #[pin] inner: F, place: Option<Admitted> },
        /// The call was refused with this status.
        Shed { status: Option<Status> },
    }
}

impl<F, B, E> Future for LoadShedFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = Result<Response<AdmittedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            LoadShedProjection::Admitted { inner, place } => {
                let response = std::task::ready!(inner.poll(cx))?;
                let place = place.take();
                Poll::Ready(Ok(response.map(|inner| AdmittedBody { inner, place })))
            }
            LoadShedProjection::Shed { status } => Poll::Ready(Ok(status
                .take()
                .expect("a shed call's future is not polled after it answered")
                .into_http())),
        }
    }
}

pin_project! {
    /// A response body holding its call's place under the limit until it ends.
    pub struct AdmittedBody<B> {
        #[pin]
        inner: B,
        place: Option<Admitted>,
    }
}

/// A body with no place: for a response a layer outside makes up, and for the shed response.
impl<B: Default> Default for AdmittedBody<B> {
    fn default() -> Self {
        Self {
            inner: B::default(),
            place: None,
        }
    }
}

impl<B> Body for AdmittedBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let frame = std::task::ready!(this.inner.poll_frame(cx));
        // The end (or a failure): the call is over, whenever the body itself is dropped.
        if !matches!(frame, Some(Ok(ref frame)) if frame.is_data()) {
            *this.place = None;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http_body_util::{BodyExt as _, Empty};
    use tonic::Code;
    use tower::ServiceExt as _;

    use super::*;

    type TestBody = http_body_util::combinators::UnsyncBoxBody<Bytes, Infallible>;

    fn request(path: &str) -> Request<()> {
        Request::builder().uri(path).body(()).unwrap()
    }

    fn code_of<B>(response: &Response<B>) -> Option<Code> {
        let status = Status::from_header_map(response.headers())?;
        Some(status.code())
    }

    /// A server with a limit of one whose handler answers at once with an empty body.
    fn shedder(
        metrics: &Metrics,
    ) -> LoadShed<
        impl Service<Request<()>, Response = Response<TestBody>, Error = Infallible> + Clone,
    > {
        let handler = tower::service_fn(|_: Request<()>| async {
            Ok::<_, Infallible>(Response::new(Empty::new().boxed_unsync()))
        });
        LoadShedLayer::new(1, metrics, &MethodTable::standard()).layer(handler)
    }

    #[tokio::test]
    async fn a_call_over_the_limit_is_refused_until_the_body_in_progress_ends() {
        let metrics = Metrics::new();
        let service = shedder(&metrics);
        let path = "/Recommendations/Recommend";
        let first = service.clone().oneshot(request(path)).await.unwrap();
        assert_eq!(code_of(&first), None, "admitted");
        let shed = service.clone().oneshot(request(path)).await.unwrap();
        let status = Status::from_header_map(shed.headers()).expect("trailers-only");
        assert_eq!(
            (status.code(), status.message()),
            (Code::ResourceExhausted, overload_message(1).as_str())
        );
        let series = r#"grpc_server_shed_calls_total{grpc_service="Recommendations",grpc_method="Recommend"}"#;
        assert_eq!(metrics.sample(series), 1.0);
        // The first call's body ends: its place is free again.
        first.into_body().collect().await.unwrap();
        let again = service.clone().oneshot(request(path)).await.unwrap();
        assert_eq!(code_of(&again), None);
    }

    #[tokio::test]
    async fn health_and_reflection_are_never_shed() {
        let metrics = Metrics::new();
        let service = shedder(&metrics);
        let _busy = service
            .clone()
            .oneshot(request("/Recommendations/Recommend"))
            .await
            .unwrap();
        for path in [
            "/grpc.health.v1.Health/Check",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        ] {
            let response = service.clone().oneshot(request(path)).await.unwrap();
            assert_eq!(code_of(&response), None, "{path}");
        }
    }

    #[test]
    fn the_message_says_what_happened_and_what_to_do() {
        assert_eq!(
            overload_message(64),
            "server overloaded: 64 calls in progress (the limit, --max-concurrent-calls); \
             try again shortly or another replica"
        );
    }
}
