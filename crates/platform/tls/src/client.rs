//! What a client trusts and presents: the CA that signs servers' certificates and, for mutual
//! TLS, its own certificate and key. Read once, when the client is configured, so a bad path
//! fails at start-up rather than on the first call.

use std::path::Path;

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use super::TlsError;

/// A client's TLS material, as PEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientTls {
    ca_pem: Vec<u8>,
    identity: Option<(Vec<u8>, Vec<u8>)>,
    server_name: Option<String>,
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

impl ClientTls {
    /// Trusts servers signed by the CA in `ca`; presents `cert`/`key` if both are given;
    /// verifies the server as `server_name` (default: the host dialled).
    pub fn load(
        ca: &Path,
        cert: Option<&Path>,
        key: Option<&Path>,
        server_name: Option<&str>,
    ) -> Result<Self, TlsError> {
        let identity = match (cert, key) {
            (Some(cert), Some(key)) => Some((read(cert)?, read(key)?)),
            (None, None) => None,
            _ => return Err(TlsError::PartialIdentity),
        };
        Ok(Self {
            ca_pem: read(ca)?,
            identity,
            server_name: server_name.map(str::to_owned),
        })
    }

    /// The same material from PEM already in memory.
    pub fn from_pem(ca_pem: impl Into<Vec<u8>>, identity: Option<(Vec<u8>, Vec<u8>)>) -> Self {
        Self {
            ca_pem: ca_pem.into(),
            identity,
            server_name: None,
        }
    }

    /// Verifies the server as `name` instead of the host dialled.
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// `endpoint` over TLS with this material, verifying the server as `host` (an IPv6 literal
    /// may keep its brackets) unless a name was set: what every client here dials with.
    pub fn secure(
        &self,
        endpoint: Endpoint,
        host: &str,
    ) -> Result<Endpoint, tonic::transport::Error> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        endpoint.tls_config(self.config(host))
    }

    /// tonic's client configuration, verifying the server as `host` unless a name was set.
    pub fn config(&self, host: &str) -> ClientTlsConfig {
        let config = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca_pem))
            .domain_name(self.server_name.as_deref().unwrap_or(host));
        match &self.identity {
            Some((cert, key)) => config.identity(Identity::from_pem(cert, key)),
            None => config,
        }
    }
}
