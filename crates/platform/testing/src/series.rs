//! The names of metric series, as the Prometheus exposition writes them, for tests to read.

/// The dummy service's full name, as metrics and reflection show it.
pub const DUMMY: &str = "bookstore.testing.v1.DummyService";

/// A metric series of one dummy method, e.g. `series("grpc_server_started_total", "unary",
/// "Execute", None)`; `code` adds the `grpc_code` label of `*_handled_total`.
pub fn series(name: &str, grpc_type: &str, method: &str, code: Option<&str>) -> String {
    series_of(name, grpc_type, DUMMY, method, code)
}

/// A metric series of any method.
pub fn series_of(
    name: &str,
    grpc_type: &str,
    service: &str,
    method: &str,
    code: Option<&str>,
) -> String {
    let code = code
        .map(|code| format!(",grpc_code=\"{code}\""))
        .unwrap_or_default();
    format!(
        "{name}{{grpc_type=\"{grpc_type}\",grpc_service=\"{service}\",grpc_method=\"{method}\"{code}}}"
    )
}
