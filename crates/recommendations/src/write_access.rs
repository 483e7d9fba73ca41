//! Who may change the catalog. Reading is for every client the server admits; writing needs a
//! database (else the catalog is the built-in, read-only one) and, under mutual TLS, a client
//! certificate naming one of the writer identities (`admin` by default, which `bookstore certs`
//! makes). Without mutual TLS the server cannot tell clients apart, so every client may write,
//! and the service says so once at start.

use bookstore_layers::PeerIdentity;

use crate::error::Error;

/// The identity that may change the catalog unless `--catalog-writers` names others.
pub const DEFAULT_WRITER: &str = "admin";

/// The rule for catalog writes in this process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteAccess {
    /// No database: nobody may write.
    ReadOnly,
    /// No client identities (no mutual TLS): everyone may write.
    Anyone,
    /// Only clients whose certificate names one of these.
    Only(Vec<String>),
}

impl WriteAccess {
    /// The rule for a service with (or without) a database, with (or without) mutual TLS.
    pub fn new(database: bool, mutual_tls: bool, writers: &[String]) -> Self {
        match (database, mutual_tls) {
            (false, _) => Self::ReadOnly,
            (true, false) => Self::Anyone,
            (true, true) => Self::Only(writers.to_vec()),
        }
    }

    /// Whether the client of a request carrying `peer` may write.
    pub fn check(&self, peer: Option<&PeerIdentity>) -> Result<(), Error> {
        match self {
            Self::ReadOnly => Err(Error::ReadOnly),
            Self::Anyone => Ok(()),
            Self::Only(writers) => match peer {
                Some(peer) if peer.is_any_of(writers) => Ok(()),
                _ => Err(Error::WriteForbidden {
                    writers: writers.join(", "),
                    client: peer
                        .and_then(|peer| peer.names.first().cloned())
                        .unwrap_or_else(|| "without a certificate".to_owned()),
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn peer(names: &[&str]) -> PeerIdentity {
        PeerIdentity {
            remote_addr: None,
            names: names
                .iter()
                .map(|n| (*n).to_owned())
                .collect::<Vec<_>>()
                .into(),
        }
    }

    #[test]
    fn writes_need_a_database_and_under_mutual_tls_a_writer() {
        let writers = [DEFAULT_WRITER.to_owned()];
        let read_only = WriteAccess::new(false, true, &writers);
        assert!(matches!(
            read_only.check(Some(&peer(&["admin"]))),
            Err(Error::ReadOnly)
        ));
        assert!(WriteAccess::new(true, false, &writers).check(None).is_ok());
        let only = WriteAccess::new(true, true, &writers);
        assert!(only.check(Some(&peer(&["admin"]))).is_ok());
        let refused = only.check(Some(&peer(&["loadgen"]))).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "only admin may change the catalog; client \"loadgen\" may only read it"
        );
        assert!(only.check(None).is_err());
        assert!(
            only.check(Some(&PeerIdentity {
                remote_addr: None,
                names: Arc::new([])
            }))
            .is_err()
        );
    }
}
