//! What one call's compression looks like on the wire, shared between the code that makes or
//! answers the call and the layer that sees its bytes (`server_layer`, `client_layer`): which
//! messages that arrived were compressed, and which messages to send compressed.
//!
//! It travels in the call's extensions, so each call has its own: the handler (or the client
//! case) reads it from its `tonic::Request`, the layer from the `http::Request`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

/// One call's compression record and plan. Cheap to clone; clones share it.
#[derive(Clone, Debug, Default)]
pub struct CallCompression(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    /// The compressed flag of each message received so far, in order.
    received: Vec<bool>,
    /// Whether each message still to be sent goes compressed, in order; absent means not.
    to_send: VecDeque<bool>,
}

impl CallCompression {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is two plain collections: a panic elsewhere cannot leave them half-changed.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the `index`th message received (from 0) was compressed; `None` if it has not
    /// arrived.
    pub fn received(&self, index: usize) -> Option<bool> {
        self.state().received.get(index).copied()
    }

    /// The compressed flags of every message received so far.
    pub fn received_all(&self) -> Vec<bool> {
        self.state().received.clone()
    }

    /// Says whether the next message sent (after those already planned) goes compressed.
    pub fn plan_next(&self, compressed: bool) {
        self.state().to_send.push_back(compressed);
    }

    pub(crate) fn record_received(&self, compressed: bool) {
        self.state().received.push(compressed);
    }

    pub(crate) fn next_to_send(&self) -> bool {
        self.state().to_send.pop_front().unwrap_or(false)
    }
}
