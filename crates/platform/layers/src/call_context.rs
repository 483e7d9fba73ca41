//! What the layers of one call learn about it and share: the message of a panic caught inside
//! ([`CatchPanicLayer`](crate::CatchPanicLayer) catches it, the error log reports it) and a client
//! that went away while sending its request (the request body notices, the error log and the
//! metrics record the call as `CANCELLED`, whatever tonic then answers to nobody).
//!
//! The context lives in the request's extensions: the first layer of a call that needs it (in
//! the server stack, the metrics) puts it there, and every layer inside takes a clone of the same
//! one when the call starts and keeps it beside the call — in its response future, or in the
//! request or response body it wraps. So each layer works alone as well as in the stack, and a
//! fact reaches the observers whichever task or thread of the process raises it.
//!
//! Typed per-call state rather than a side channel: it costs two small allocations per call
//! (the shared facts and the extensions' box for them), ~770 instructions in all
//! (BENCHMARKS.md), and depends on nothing about which poll of which task runs where.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use http::Request;

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
    /// The context of `request`, made and attached to it if no layer outside has done so.
    pub(crate) fn of<B>(request: &mut Request<B>) -> Self {
        request
            .extensions_mut()
            .get_or_insert_default::<Self>()
            .clone()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layers_of_one_call_share_its_facts_and_the_first_panic_is_kept() {
        let mut request = Request::new(());
        let outer = CallContext::of(&mut request);
        let inner = CallContext::of(&mut request);
        assert!(!outer.client_gone());
        assert_eq!(outer.panic_message(), None);

        inner.record_panic(|| "first".to_owned());
        inner.record_panic(|| unreachable!("a second panic's message is never built"));
        inner.record_client_gone();
        assert_eq!(outer.panic_message(), Some("first"));
        assert!(outer.client_gone());
    }

    #[test]
    fn calls_do_not_share_a_context() {
        let first = CallContext::of(&mut Request::new(()));
        let second = CallContext::of(&mut Request::new(()));
        first.record_client_gone();
        assert!(!second.client_gone());
    }
}
