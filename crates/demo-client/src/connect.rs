//! Connecting to the demo server: `host:port` or a URL, plaintext or TLS, within the call's
//! connect timeout.

use std::time::Duration;

use bookstore_tls::ClientTls;
use tonic::transport::{Channel, Endpoint};

use crate::error::ClientError;

pub(crate) async fn connect(
    server: &str,
    tls: Option<ClientTls>,
    connect_timeout: Duration,
) -> Result<Channel, ClientError> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = match server.split_once("://") {
        Some((_, rest)) => format!("{scheme}://{rest}"),
        None => format!("{scheme}://{server}"),
    };
    let invalid = || ClientError::InvalidServer {
        server: server.to_owned(),
    };
    let mut endpoint = Endpoint::from_shared(url.clone())
        .map_err(|_| invalid())?
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true);
    if let Some(tls) = tls {
        let host = endpoint.uri().host().unwrap_or_default().to_owned();
        endpoint = tls.secure(endpoint, &host).map_err(|_| invalid())?;
    }
    endpoint
        .connect()
        .await
        .map_err(|source| ClientError::Connect {
            server: url,
            source,
        })
}
