//! What the cases assert with: a [`Failure`] that says what went wrong, and the checks every
//! case shares (statuses, zero payloads, the requests' common parts).

use bookstore_proto::grpc_testing::{BoolValue, EchoStatus, Payload};
use tonic::{Code, Status};

/// Why a case failed, in words.
#[derive(Debug)]
pub struct Failure(String);

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Status> for Failure {
    fn from(status: Status) -> Self {
        Self(format!(
            "the call failed: {:?} {:?}",
            status.code(),
            status.message()
        ))
    }
}

/// Fails with `message()` unless `holds`.
pub(super) fn ensure(holds: bool, message: impl FnOnce() -> String) -> Result<(), Failure> {
    if holds {
        Ok(())
    } else {
        Err(Failure(message()))
    }
}

/// The status a call that must fail with `code` ended with.
pub(super) fn expect_status<T>(
    result: Result<T, Status>,
    code: Code,
    what: &str,
) -> Result<Status, Failure> {
    match result {
        Ok(_) => Err(Failure(format!("{what}: succeeded, expected {code:?}"))),
        Err(status) if status.code() == code => Ok(status),
        Err(status) => Err(Failure(format!(
            "{what}: ended with {:?} {:?}, expected {code:?}",
            status.code(),
            status.message()
        ))),
    }
}

/// Checks a payload is `size` zero bytes.
pub(super) fn ensure_zeros(
    payload: Option<&Payload>,
    size: usize,
    what: &str,
) -> Result<(), Failure> {
    let body = payload.map_or(&[][..], |payload| &payload.body[..]);
    ensure(body.len() == size, || {
        format!("{what}: payload of {} bytes, expected {size}", body.len())
    })?;
    ensure(body.iter().all(|&byte| byte == 0), || {
        format!("{what}: payload is not all zeros")
    })
}

pub(super) fn yes() -> Option<BoolValue> {
    Some(BoolValue { value: true })
}

pub(super) fn no() -> Option<BoolValue> {
    Some(BoolValue { value: false })
}

/// The request that asks the server to end the call with code 2 (UNKNOWN) and `message`.
pub(super) fn echo_status_request(message: &str) -> EchoStatus {
    EchoStatus {
        code: Code::Unknown as i32,
        message: message.to_owned(),
    }
}
