//! `healthcheck`: the Docker `HEALTHCHECK` of every bookstore image.
//!
//! The images are `FROM scratch` (no shell, no curl), so the health check is this small program,
//! built from this one file with `rustc` and the standard library alone. It asks
//! `GET /healthz` of the service in its own container, over loopback, and exits 0 only on
//! `200 OK`:
//!
//! ```text
//! healthcheck [PORT]
//! ```
//!
//! The port is, in order: the argument; `HEALTHCHECK_PORT`; the port variable the image names in
//! `HEALTHCHECK_PORT_ENV` (`METRICS_PORT` for gRPC services, whose admin port serves `/healthz`,
//! `MARKETPLACE_PORT` or `NCR_GATEWAY_PORT` for the web apps), so that moving the service with
//! its own environment variable moves the check along; and last `HEALTHCHECK_DEFAULT_PORT`, the
//! image's default. The path is `HEALTHCHECK_PATH` if set (the Prometheus image asks
//! `/-/ready`), else `/healthz`. Every step is bounded by a 2 s timeout, well within Docker's own.
//!
//! Kubernetes does not use this: it probes gRPC services with its native gRPC probes on
//! `grpc.health.v1`, and the web apps with `httpGet`.

use std::env;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

/// The bound on connecting, writing and reading.
const TIMEOUT: Duration = Duration::from_secs(2);

/// The largest answer read: `/healthz` says `serving` (or `ok`, from the web apps).
const MAX_RESPONSE_BYTES: u64 = 4096;

fn main() -> ExitCode {
    match check() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("healthcheck: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Which port to ask, from the argument or the environment (see the module docs).
fn port() -> Result<u16, String> {
    let from_env = |name: &str| env::var(name).ok().filter(|value| !value.is_empty());
    let port = env::args()
        .nth(1)
        .or_else(|| from_env("HEALTHCHECK_PORT"))
        .or_else(|| from_env("HEALTHCHECK_PORT_ENV").and_then(|name| from_env(&name)))
        .or_else(|| from_env("HEALTHCHECK_DEFAULT_PORT"))
        .ok_or("no port: pass one, or set HEALTHCHECK_PORT")?;
    port.parse().map_err(|_| format!("not a port: {port:?}"))
}

/// Which path to ask: `HEALTHCHECK_PATH`, else `/healthz`.
fn path() -> Result<String, String> {
    let path = env::var("HEALTHCHECK_PATH")
        .ok()
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "/healthz".to_owned());
    // The path goes into the request line as it is: no spaces or line breaks can be let in.
    if !path.starts_with('/') || path.bytes().any(|byte| byte <= b' ' || byte == 0x7f) {
        return Err(format!("not a request path: {path:?}"));
    }
    Ok(path)
}

/// Asks `GET <path>` on `127.0.0.1:port` and succeeds on `200`.
fn check() -> Result<(), String> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port()?));
    let path = path()?;
    let fail = |error: std::io::Error| format!("{address}: {error}");
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT).map_err(fail)?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(fail)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(fail)?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .map_err(fail)?;
    let mut response = Vec::new();
    stream
        .take(MAX_RESPONSE_BYTES)
        .read_to_end(&mut response)
        .map_err(fail)?;
    let status_line = response
        .split(|&byte| byte == b'\r' || byte == b'\n')
        .next()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        _ => Err(format!("{address}: GET {path} answered {status_line:?}")),
    }
}
