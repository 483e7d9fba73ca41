//! Who is on the other end of a mutual-TLS connection: the names in the client's certificate.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The identity of a connection's peer, attached to every request on it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerIdentity {
    /// The peer's address.
    pub remote_addr: Option<SocketAddr>,
    /// The DNS names and common name of the client certificate (empty without one).
    pub names: Arc<[String]>,
}

impl PeerIdentity {
    /// Whether the peer presented a certificate carrying any of `allowed`.
    pub fn is_any_of(&self, allowed: &[String]) -> bool {
        self.names.iter().any(|name| allowed.contains(name))
    }
}

/// The DNS subject alternative names, then the common name, of a certificate. Parsed once per
/// connection, at the handshake, never per request.
pub fn certificate_names(certificate: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, parsed)) = X509Certificate::from_der(certificate.as_ref()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = parsed
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(dns) => Some((*dns).to_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    names.extend(
        parsed
            .subject()
            .iter_common_name()
            .filter_map(|cn| cn.as_str().ok())
            .map(str::to_owned),
    );
    names.dedup();
    names
}
