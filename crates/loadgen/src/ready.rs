//! `--wait-ready`: how long a freshly started server takes to answer. One request, retried on a
//! short fuse until it succeeds, so the moment of the first success is known to a millisecond.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::caller::Caller;
use crate::error::{Error, error_chain};
use crate::target::TargetSpec;

/// Pause between attempts: short, since start-up times of tens of milliseconds are measured.
const RETRY_EVERY: Duration = Duration::from_millis(2);
/// Longest one attempt (connect + request) may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(500);

/// When the target first answered.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Ready {
    /// Wall-clock time of the first success, microseconds since the Unix epoch (comparable
    /// with a shell's `$EPOCHREALTIME` taken when the server was spawned).
    pub ready_unix_us: u128,
    /// Attempts made, the successful one included.
    pub attempts: u64,
}

/// Retries one request to `target` until it succeeds or `timeout` has passed.
pub fn wait_ready(target: &TargetSpec, timeout: Duration) -> Result<Ready, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Thread)?;
    runtime.block_on(async {
        let deadline = Instant::now() + timeout;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let attempt = async {
                let mut caller = Caller::connect(target).await.map_err(|e| error_chain(&e))?;
                caller.call().await.map_err(|failure| failure.to_string())
            };
            let last = match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt).await {
                Ok(Ok(())) => {
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap_or_default();
                    return Ok(Ready {
                        ready_unix_us: now.as_micros(),
                        attempts,
                    });
                }
                Ok(Err(reason)) => reason,
                Err(_) => format!("no answer within {ATTEMPT_TIMEOUT:?}"),
            };
            if Instant::now() >= deadline {
                return Err(Error::NotReady {
                    endpoint: target.endpoint(),
                    timeout,
                    last,
                });
            }
            tokio::time::sleep(RETRY_EVERY).await;
        }
    })
}
