//! A server's TLS configuration, rebuilt from its files when they change.
//!
//! The files are compared by content, not modification time: Kubernetes updates mounted
//! Secrets by swapping a symlink, and a same-second rewrite must not be missed. A replacement
//! that does not load (a corrupt PEM, a key that does not match the certificate, a half-written
//! file) is refused and the configuration in use stays; the next change is tried again.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use super::{TlsError, provider};

/// Where a server's TLS files are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTlsPaths {
    /// The certificate chain (PEM), leaf first.
    pub cert: PathBuf,
    /// The private key (PEM).
    pub key: PathBuf,
    /// The CA clients' certificates must chain to (PEM); `None`: no client certificate asked.
    pub client_ca: Option<PathBuf>,
}

/// The three files' contents, to notice a change.
#[derive(Clone, PartialEq, Eq)]
struct Contents {
    cert: Vec<u8>,
    key: Vec<u8>,
    client_ca: Option<Vec<u8>>,
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

impl Contents {
    fn read(paths: &ServerTlsPaths) -> Result<Self, TlsError> {
        Ok(Self {
            cert: read(&paths.cert)?,
            key: read(&paths.key)?,
            client_ca: paths.client_ca.as_deref().map(read).transpose()?,
        })
    }
}

fn pem_error(path: &Path, what: &'static str, reason: impl ToString) -> TlsError {
    TlsError::Pem {
        path: path.to_owned(),
        what,
        reason: reason.to_string(),
    }
}

fn certificates(pem: &[u8], path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| pem_error(path, "certificate", error))?;
    if certificates.is_empty() {
        return Err(pem_error(path, "certificate", "no CERTIFICATE block found"));
    }
    Ok(certificates)
}

fn build(paths: &ServerTlsPaths, contents: &Contents) -> Result<ServerConfig, TlsError> {
    let chain = certificates(&contents.cert, &paths.cert)?;
    let key = PrivateKeyDer::from_pem_slice(&contents.key)
        .map_err(|error| pem_error(&paths.key, "private key", error))?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::Config(error.to_string()))?;
    let builder = match (&paths.client_ca, &contents.client_ca) {
        (Some(path), Some(pem)) => {
            let mut roots = rustls::RootCertStore::empty();
            for certificate in certificates(pem, path)? {
                roots
                    .add(certificate)
                    .map_err(|error| pem_error(path, "CA certificate", error))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(roots.into(), provider())
                .build()
                .map_err(|error| TlsError::Config(error.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|error| TlsError::Config(error.to_string()))?;
    // gRPC is HTTP/2 only; clients such as tonic's insist on negotiating it.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// A server's current TLS configuration and where it came from.
pub struct ServerTls {
    paths: ServerTlsPaths,
    loaded: Mutex<Contents>,
    current: RwLock<Arc<ServerConfig>>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Loads the files; fails if they do not make a valid configuration.
    pub fn load(paths: ServerTlsPaths) -> Result<Self, TlsError> {
        let contents = Contents::read(&paths)?;
        let config = build(&paths, &contents)?;
        Ok(Self {
            paths,
            loaded: Mutex::new(contents),
            current: RwLock::new(Arc::new(config)),
        })
    }

    /// The configuration new connections use.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Re-reads the files and, if they changed and load, uses them for new connections.
    /// Returns whether the configuration was replaced; on error the current one stays.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let contents = Contents::read(&self.paths)?;
        let mut loaded = self
            .loaded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *loaded == contents {
            return Ok(false);
        }
        let config = build(&self.paths, &contents)?;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(config);
        *loaded = contents;
        Ok(true)
    }
}
