//! What happens deep inside a call that the layers observing it from outside need to know: a
//! panic's message (caught by `CatchPanicLayer`, reported by the error log) and a client that
//! went away while sending its request (seen in the request body, recorded by the error log and
//! the metrics as `CANCELLED`).
//!
//! Both happen on the very stack that polls the call: the handler reads its request body and
//! panics inside the poll of the response future (or of the response body, for streams), which
//! the observers run. So an observer *listens* for the span of each `call` or `poll` it makes
//! into the layers inside ([`listen`]), and whoever sees an event tells the listener
//! ([`panic_caught`], [`client_gone`]) through a thread-local slot that exists only for that
//! span. Nothing is allocated for a call where nothing happens — all but a few — unlike a
//! shared per-call slot in the request's extensions. Listeners nest: an inner listener passes
//! what it heard on to the outer one.
//!
//! The listener hears whatever happens on its span, so the attribution holds as long as a call's
//! poll polls only that call. Two things break it: an event raised on another task (a handler
//! that spawns a task to read its request stream) is not heard, and the call is reported by its
//! status alone; and a handler that polls *other calls'* request streams or futures inside its
//! own poll (say, one task serving several streams of a chat room) makes their events its own.
//! Neither happens in this workspace's services.

use std::cell::{Cell, RefCell};

/// What a listener heard during its span.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Heard {
    /// The message of a panic caught inside.
    pub(crate) panic: Option<String>,
    /// The client went away (reset the stream, dropped the connection) mid-request.
    pub(crate) client_gone: bool,
}

/// Bits of [`STATE`]: whether someone listens, and what has been reported to it.
const LISTENING: u8 = 1;
const CLIENT_GONE: u8 = 2;
const PANICKED: u8 = 4;

thread_local! {
    /// The innermost listener's state: a few bits, since every call is listened to (several
    /// times) and almost none has anything to report.
    static STATE: Cell<u8> = const { Cell::new(0) };
    /// The message of a panic reported to a listener that has not taken it yet.
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f` (one `call` or `poll` of the layers inside) and returns, with its result, what was
/// reported while it ran.
pub(crate) fn listen<T>(f: impl FnOnce() -> T) -> (T, Heard) {
    /// Puts the outer listener's state back if `f` unwinds, with what was heard until then.
    struct Restore(u8);

    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0;
            let heard = if outer & LISTENING != 0 {
                STATE.get()
            } else {
                0
            };
            STATE.set(outer | heard);
        }
    }

    let outer = STATE.replace(LISTENING);
    let restore = Restore(outer);
    let result = f();
    std::mem::forget(restore);
    let heard = STATE.get();
    let outer_listens = outer & LISTENING != 0;
    // An outer listener hears it all too.
    STATE.set(if outer_listens { outer | heard } else { outer });
    let panic = if heard & PANICKED == 0 {
        None
    } else if outer_listens {
        PANIC.with_borrow(Clone::clone)
    } else {
        PANIC.take()
    };
    let client_gone = heard & CLIENT_GONE != 0;
    (result, Heard { panic, client_gone })
}

/// Reports a caught panic's message to the listener, if there is one. `message` is only
/// called if someone listens.
pub(crate) fn panic_caught(message: impl FnOnce() -> String) {
    let state = STATE.get();
    if state & LISTENING != 0 {
        PANIC.set(Some(message()));
        STATE.set(state | PANICKED);
    }
}

/// Reports that the client went away mid-request to the listener, if there is one.
pub(crate) fn client_gone() {
    let state = STATE.get();
    if state & LISTENING != 0 {
        STATE.set(state | CLIENT_GONE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_hears_only_what_happens_while_it_listens() {
        // Nobody listening: nothing is kept for a later listener.
        panic_caught(|| "unheard".to_owned());
        client_gone();
        assert_eq!(listen(|| ()).1, Heard::default());

        let ((), heard) = listen(|| panic_caught(|| "boom".to_owned()));
        assert_eq!(heard.panic.as_deref(), Some("boom"));
        assert!(!heard.client_gone);
        let ((), heard) = listen(client_gone);
        assert_eq!((heard.panic, heard.client_gone), (None, true));
        assert_eq!(listen(|| ()).1, Heard::default(), "events are heard once");
    }

    #[test]
    fn listeners_nest_pass_events_outwards_and_survive_an_unwinding_call() {
        let (inner, outer) = listen(|| {
            let ((), inner) = listen(|| {
                panic_caught(|| "inner".to_owned());
                client_gone();
            });
            inner
        });
        assert_eq!(inner.panic.as_deref(), Some("inner"));
        assert!(inner.client_gone);
        assert_eq!(outer, inner, "the outer listener hears it too");

        let unwound = std::panic::catch_unwind(|| listen(|| panic!("through")));
        assert!(unwound.is_err());
        assert_eq!(STATE.get(), 0, "the listener was torn down");
    }
}
