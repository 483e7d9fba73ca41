//! Payloads as the interop cases describe them: `size` zero bytes of the one supported type.

use bookstore_proto::grpc_testing::{Payload, PayloadType};
use tonic::Status;

/// `size` bytes of zeros, as a `COMPRESSABLE` payload; a negative size is the caller's error.
pub fn zeros(size: i32) -> Result<Payload, Status> {
    let size = usize::try_from(size).map_err(|_| {
        Status::invalid_argument(format!("a payload size must not be negative (got {size})"))
    })?;
    Ok(Payload {
        r#type: PayloadType::Compressable.into(),
        body: vec![0; size],
    })
}

/// Refuses payload types other than `COMPRESSABLE`, the only one the suite defines.
pub fn supported_type(response_type: i32) -> Result<(), Status> {
    if response_type == i32::from(PayloadType::Compressable) {
        Ok(())
    } else {
        Err(Status::invalid_argument(format!(
            "response_type {response_type} is not supported: only COMPRESSABLE (0) is"
        )))
    }
}

/// The size of `payload`'s body (0 when there is none).
pub fn body_len(payload: Option<&Payload>) -> usize {
    payload.map_or(0, |payload| payload.body.len())
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    #[test]
    fn sizes_and_types() {
        assert_eq!(zeros(3).unwrap().body, [0, 0, 0]);
        assert_eq!(zeros(-1).unwrap_err().code(), Code::InvalidArgument);
        assert!(supported_type(0).is_ok());
        assert_eq!(supported_type(7).unwrap_err().code(), Code::InvalidArgument);
        assert_eq!(body_len(None), 0);
    }
}
