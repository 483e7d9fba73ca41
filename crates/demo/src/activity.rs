//! What the streaming handlers are doing right now, counted from the server's side.
//!
//! Flow control and cancellation are invisible to a handler's code: a lazily produced stream is
//! simply not polled while the client is not reading, and is dropped when the client goes away.
//! These counters make both observable — how many items each stream has produced, and how many
//! streams are still open — so the integration tests can assert that a producer is parked and
//! that a cancelled call's work stops, and an embedder can watch the same.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Shared counters of streaming work; cheap to clone, every clone sees the same numbers.
#[derive(Clone, Debug, Default)]
pub struct StreamActivity {
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    countdown_numbers: AtomicU64,
    bidirectional_replies: AtomicU64,
    open_streams: AtomicU64,
}

impl StreamActivity {
    /// Countdown numbers produced so far, across every call.
    pub fn countdown_numbers(&self) -> u64 {
        self.counters.countdown_numbers.load(Ordering::SeqCst)
    }

    /// Bidirectional replies produced so far, across every call.
    pub fn bidirectional_replies(&self) -> u64 {
        self.counters.bidirectional_replies.load(Ordering::SeqCst)
    }

    /// Streaming calls (Countdown, Sum, Bidirectional) whose server side is still alive: a call
    /// leaves this count when it finishes or, if the client cancels, when its stream is dropped.
    pub fn open_streams(&self) -> u64 {
        self.counters.open_streams.load(Ordering::SeqCst)
    }

    pub(crate) fn countdown_number_produced(&self) {
        self.counters
            .countdown_numbers
            .fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn bidirectional_reply_produced(&self) {
        self.counters
            .bidirectional_replies
            .fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a streaming call as open until the returned guard is dropped.
    pub(crate) fn open_stream(&self) -> OpenStream {
        self.counters.open_streams.fetch_add(1, Ordering::SeqCst);
        OpenStream {
            activity: self.clone(),
        }
    }
}

/// One open streaming call; dropping it (the call finished, or was cancelled) closes it.
#[derive(Debug)]
pub(crate) struct OpenStream {
    activity: StreamActivity,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.activity
            .counters
            .open_streams
            .fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_is_open_while_its_guard_lives_and_clones_share_counts() {
        let activity = StreamActivity::default();
        let observer = activity.clone();
        let first = activity.open_stream();
        let second = activity.open_stream();
        activity.countdown_number_produced();
        activity.bidirectional_reply_produced();
        activity.bidirectional_reply_produced();
        assert_eq!(observer.open_streams(), 2);
        drop(first);
        assert_eq!(observer.open_streams(), 1);
        drop(second);
        assert_eq!(observer.open_streams(), 0);
        assert_eq!(
            (
                observer.countdown_numbers(),
                observer.bidirectional_replies()
            ),
            (1, 2)
        );
    }
}
