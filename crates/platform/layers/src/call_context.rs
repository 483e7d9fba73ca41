//! What the layers of one call learn about it and share: the message of a panic caught inside
//! ([`CatchPanicLayer`](crate::CatchPanicLayer) catches it, the error log reports it) and a client
//! that went away while sending its request (the request body notices, the error log and the
//! metrics record the call as `CANCELLED`, whatever tonic then answers to nobody).
//!
//! [`CallContextLayer`], the outermost layer of the [`ServerStack`](crate::ServerStack), puts a
//! fresh [`CallContext`] into each request's extensions. Every layer inside that needs it takes a
//! clone when the call starts and keeps it beside the call — in its response future, or in the
//! request or response body it wraps — so a fact reaches the observers whichever task or thread
//! raises it (a handler that reads its request stream on a task of its own included). A layer
//! used without the context layer outside it (in a test, say) finds no context and records
//! nothing.
//!
//! Typed per-call state rather than a side channel: one small allocation per call, shared by
//! reference counting, and nothing that depends on which poll of which task runs where.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use http::Request;
use tower::{Layer, Service};

/// The facts of one call, shared by its layers. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallContext(Arc<Facts>);

#[derive(Debug, Default)]
struct Facts {
    /// The client went away (reset the stream, dropped the connection) mid-request.
    client_gone: AtomicBool,
    /// The message of the first panic caught inside.
    panic: OnceLock<String>,
}

impl CallContext {
    /// The context of `request`, if a [`CallContextLayer`] outside gave it one.
    pub(crate) fn of<B>(request: &Request<B>) -> Option<Self> {
        request.extensions().get::<Self>().cloned()
    }

    /// Records a caught panic's message (the first one, if a call panics more than once);
    /// `message` is only called when there is none yet.
    pub(crate) fn record_panic(&self, message: impl FnOnce() -> String) {
        self.0.panic.get_or_init(message);
    }

    /// The message of the panic caught inside the call, if it panicked.
    pub(crate) fn panic_message(&self) -> Option<&str> {
        self.0.panic.get().map(String::as_str)
    }

    /// Records that the client went away while sending its request.
    pub(crate) fn record_client_gone(&self) {
        self.0.client_gone.store(true, Ordering::Relaxed);
    }

    /// Whether the client went away while sending its request.
    pub(crate) fn client_gone(&self) -> bool {
        self.0.client_gone.load(Ordering::Relaxed)
    }
}

/// Gives every call a fresh [`CallContext`], in its request's extensions.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallContextLayer;

impl<S> Layer<S> for CallContextLayer {
    type Service = WithCallContext<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WithCallContext { inner }
    }
}

/// The service made by [`CallContextLayer`].
#[derive(Clone, Debug)]
pub struct WithCallContext<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for WithCallContext<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        request.extensions_mut().insert(CallContext::default());
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_facts_and_the_first_panic_is_kept() {
        let context = CallContext::default();
        let seen_by_observer = context.clone();
        assert!(!seen_by_observer.client_gone());
        assert_eq!(seen_by_observer.panic_message(), None);

        context.record_panic(|| "first".to_owned());
        context.record_panic(|| unreachable!("a second panic's message is never built"));
        context.record_client_gone();
        assert_eq!(seen_by_observer.panic_message(), Some("first"));
        assert!(seen_by_observer.client_gone());
    }

    #[test]
    fn the_layer_gives_each_request_its_own_context() {
        let mut service = CallContextLayer.layer(tower::service_fn(|request: Request<()>| {
            std::future::ready(Ok::<_, std::convert::Infallible>(CallContext::of(&request)))
        }));
        let first = futures_util::FutureExt::now_or_never(service.call(Request::new(())))
            .unwrap()
            .unwrap()
            .expect("the request carries a context");
        let second = futures_util::FutureExt::now_or_never(service.call(Request::new(())))
            .unwrap()
            .unwrap()
            .expect("the request carries a context");
        first.record_client_gone();
        assert!(!second.client_gone(), "calls do not share a context");
        assert_eq!(CallContext::of(&Request::new(())).map(|_| ()), None);
    }
}
