//! An [`ErrorReporter`] that keeps every report, for tests: the counterpart of the tutorial's
//! `MockErrorLogger`, which records the exception instead of logging it.
//!
//! A report is made when the server lets go of a call, which can be a moment *after* the client
//! has read the status; [`RecordingReporter::wait_for`] waits for that instead of racing it.

use std::time::Duration;

use tokio::sync::watch;

use bookstore_layers::{ErrorReport, ErrorReporter};

/// Records every [`ErrorReport`] it is given.
#[derive(Debug)]
pub struct RecordingReporter {
    reports: watch::Sender<Vec<ErrorReport>>,
}

impl Default for RecordingReporter {
    fn default() -> Self {
        Self {
            reports: watch::Sender::new(Vec::new()),
        }
    }
}

impl RecordingReporter {
    /// A reporter with no reports yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every report so far, oldest first.
    pub fn reports(&self) -> Vec<ErrorReport> {
        self.reports.borrow().clone()
    }

    /// Waits until at least `count` reports arrived (or `timeout` passed) and returns them all.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ErrorReport> {
        let mut receiver = self.reports.subscribe();
        // Timing out is not an error here: the caller asserts on what arrived.
        let _ = tokio::time::timeout(timeout, receiver.wait_for(|reports| reports.len() >= count))
            .await;
        self.reports()
    }
}

impl ErrorReporter for RecordingReporter {
    fn report(&self, report: &ErrorReport) {
        self.reports
            .send_modify(|reports| reports.push(report.clone()));
    }
}
