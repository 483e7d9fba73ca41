//! Calling a web app (the marketplace, the nCr gateway) from the command line: one HTTP/1.1
//! GET on a connection of its own, over hyper, all of it — connecting, the answer, its body —
//! within the command's deadline, the body capped so a runaway answer cannot fill memory.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HOST, USER_AGENT};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::cli::error::unreachable;
use crate::cli::{CliError, Target};

/// The largest answer read: far above the largest nCr the gateway computes (C(100000, 50000)
/// has 30,101 digits, written twice).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// An HTTP answer.
#[derive(Debug)]
pub(crate) struct Answer {
    /// Its status.
    pub(crate) status: StatusCode,
    /// Its body.
    pub(crate) body: Bytes,
}

/// `GET path` from `target`, answered within `timeout`.
pub(crate) async fn get(
    target: &Target,
    path: &str,
    timeout: Duration,
) -> Result<Answer, CliError> {
    tokio::time::timeout(timeout, get_now(target, path))
        .await
        .unwrap_or_else(|_| {
            Err(CliError::Timeout {
                service: target.service,
                address: target.to_string(),
                timeout,
            })
        })
}

async fn get_now(target: &Target, path: &str) -> Result<Answer, CliError> {
    let address = target.to_string();
    let failed = |error: &(dyn std::error::Error + 'static)| {
        unreachable(target.service, address.clone(), error)
    };
    let host = target.host.trim_start_matches('[').trim_end_matches(']');
    let stream = TcpStream::connect((host, target.port))
        .await
        .map_err(|error| failed(&error))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| failed(&error))?;
    // The connection's I/O, driven beside the request; it ends with the answer.
    let connection = tokio::spawn(connection);
    let request = Request::get(path)
        .header(HOST, &address)
        .header(USER_AGENT, concat!("bookstore/", env!("CARGO_PKG_VERSION")))
        .body(Empty::<Bytes>::new())
        .map_err(|error| CliError::BadAnswer {
            service: target.service,
            reason: format!("cannot ask for {path}: {error}"),
        })?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|error| failed(&error))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|error| CliError::BadAnswer {
            service: target.service,
            reason: format!("its body could not be read: {error}"),
        })?
        .to_bytes();
    drop(sender);
    connection.abort();
    Ok(Answer { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nothing_listening_is_said_plainly() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let target = Target {
            service: "ncr-gateway",
            host: "127.0.0.1".into(),
            port,
        };
        let error = get(&target, "/healthz", Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("cannot reach ncr-gateway at 127.0.0.1:{port} — is `bookstore up` running?")
        );
    }
}
