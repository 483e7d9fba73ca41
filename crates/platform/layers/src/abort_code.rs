//! The status codes an injected abort may use (`--fault-abort-code`), by their names in the
//! gRPC spec: read in any case, listed when a name is wrong, and written back in the start-up
//! warning the same way.

use tonic::Code;

/// The status codes an abort may use, by their names in the gRPC spec (every code but `OK`).
const ABORT_CODES: [(&str, Code); 16] = [
    ("CANCELLED", Code::Cancelled),
    ("UNKNOWN", Code::Unknown),
    ("INVALID_ARGUMENT", Code::InvalidArgument),
    ("DEADLINE_EXCEEDED", Code::DeadlineExceeded),
    ("NOT_FOUND", Code::NotFound),
    ("ALREADY_EXISTS", Code::AlreadyExists),
    ("PERMISSION_DENIED", Code::PermissionDenied),
    ("RESOURCE_EXHAUSTED", Code::ResourceExhausted),
    ("FAILED_PRECONDITION", Code::FailedPrecondition),
    ("ABORTED", Code::Aborted),
    ("OUT_OF_RANGE", Code::OutOfRange),
    ("UNIMPLEMENTED", Code::Unimplemented),
    ("INTERNAL", Code::Internal),
    ("UNAVAILABLE", Code::Unavailable),
    ("DATA_LOSS", Code::DataLoss),
    ("UNAUTHENTICATED", Code::Unauthenticated),
];

/// Reads an abort's status code from its name in the gRPC spec (`UNAVAILABLE`), in any case,
/// with or without underscores (`unavailable`, `ResourceExhausted`); the error lists the names.
pub fn parse_abort_code(text: &str) -> Result<Code, String> {
    let wanted: String = text
        .trim()
        .chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let names = || ABORT_CODES.iter().map(|(name, _)| *name);
    ABORT_CODES
        .iter()
        .find(|(name, _)| name.replace('_', "") == wanted)
        .map(|(_, code)| *code)
        .ok_or_else(|| {
            let why = if wanted == "OK" {
                "an aborted call needs an error code, not OK"
            } else {
                "not a gRPC status code"
            };
            format!(
                "{why}: use one of {}",
                names().collect::<Vec<_>>().join(", ")
            )
        })
}

/// The name of `code` in the gRPC spec, as the flag takes it.
pub(crate) fn abort_code_name(code: Code) -> &'static str {
    ABORT_CODES
        .iter()
        .find(|(_, known)| *known == code)
        .map_or("OK", |(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abort_codes_are_read_by_name_in_any_case() {
        assert_eq!(parse_abort_code("UNAVAILABLE"), Ok(Code::Unavailable));
        assert_eq!(parse_abort_code("unavailable"), Ok(Code::Unavailable));
        assert_eq!(
            parse_abort_code("resource_exhausted"),
            Ok(Code::ResourceExhausted)
        );
        assert_eq!(
            parse_abort_code("DeadlineExceeded"),
            Ok(Code::DeadlineExceeded)
        );
        let error = parse_abort_code("BROKEN").unwrap_err();
        assert!(
            error.starts_with("not a gRPC status code: use one of CANCELLED, UNKNOWN,")
                && error.contains("UNAVAILABLE"),
            "{error}"
        );
        let error = parse_abort_code("ok").unwrap_err();
        assert!(
            error.starts_with("an aborted call needs an error code, not OK"),
            "{error}"
        );
        for (name, code) in ABORT_CODES {
            assert_eq!(abort_code_name(code), name);
        }
    }
}
