//! A development certificate authority and per-service certificates, generated with rcgen (no
//! openssl needed): for `bookstore certs`, `bookstore up --tls`, and tests, which make theirs at
//! run time so no private key is ever committed.
//!
//! Each service certificate names the service as its common name and in its subject
//! alternative names, with its Kubernetes DNS names, `localhost` and `127.0.0.1`, and is valid
//! for both server and client authentication: the same certificate lets a service serve and
//! identify itself to the services it calls.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

/// How long generated certificates are valid.
const VALIDITY: Duration = Duration::days(365);

/// A certificate and its private key, as PEM.
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    /// The certificate.
    pub cert_pem: String,
    /// The private key (PKCS#8).
    pub key_pem: String,
}

/// A development certificate authority.
pub struct DevCa {
    issuer: Issuer<'static, KeyPair>,
    certificate: IssuedCertificate,
}

impl std::fmt::Debug for DevCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevCa").finish_non_exhaustive()
    }
}

fn validity(params: &mut CertificateParams) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + VALIDITY;
}

/// The names a service's certificate carries.
pub fn service_names(service: &str) -> Vec<String> {
    let mut names = vec![service.to_owned()];
    for name in [service.to_owned(), format!("{service}-headless")] {
        for suffix in ["default", "default.svc", "default.svc.cluster.local"] {
            names.push(format!("{name}.{suffix}"));
        }
    }
    names.push(format!("{service}-headless"));
    names.extend(["localhost".to_owned(), "127.0.0.1".to_owned()]);
    names
}

impl DevCa {
    /// A new CA called `name`.
    pub fn generate(name: &str) -> Result<Self, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Online Books For You");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        validity(&mut params);
        let key = KeyPair::generate()?;
        let certificate = params.self_signed(&key)?;
        let certificate = IssuedCertificate {
            cert_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        };
        Ok(Self {
            issuer: Issuer::new(params, key),
            certificate,
        })
    }

    /// The CA's own certificate and key.
    pub fn certificate(&self) -> &IssuedCertificate {
        &self.certificate
    }

    /// A certificate for `common_name` carrying `names`, for server and client authentication.
    pub fn issue(
        &self,
        common_name: &str,
        names: Vec<String>,
    ) -> Result<IssuedCertificate, rcgen::Error> {
        let mut params = CertificateParams::new(names)?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        validity(&mut params);
        let key = KeyPair::generate()?;
        let certificate = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCertificate {
            cert_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A certificate for `service` with [`service_names`].
    pub fn issue_service(&self, service: &str) -> Result<IssuedCertificate, rcgen::Error> {
        self.issue(service, service_names(service))
    }
}

/// Why writing certificates failed.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    /// Generating failed.
    #[error("generating certificates failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// A key exists and `force` was not given.
    #[error("{0} already exists; pass --force to replace the existing keys")]
    Exists(PathBuf),
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn write(path: &Path, contents: &str, private: bool) -> Result<(), CertsError> {
    let error = |source| CertsError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    let mut file = options.open(path).map_err(error)?;
    #[cfg(unix)]
    if private {
        // `mode` applies only when the file is created; tighten a pre-existing one too.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(error)?;
    }
    std::io::Write::write_all(&mut file, contents.as_bytes()).map_err(error)
}

/// Writes `ca.pem`, `ca.key` and `<service>.pem`/`<service>.key` for each service into `dir`
/// (created if needed), keys with mode 0600. Refuses to replace existing keys unless `force`.
/// Returns the files written.
pub fn write_bundle(
    dir: &Path,
    services: &[&str],
    force: bool,
) -> Result<Vec<PathBuf>, CertsError> {
    let key_paths: Vec<PathBuf> = std::iter::once("ca")
        .chain(services.iter().copied())
        .map(|name| dir.join(format!("{name}.key")))
        .collect();
    if let Some(existing) = key_paths.iter().find(|path| !force && path.exists()) {
        return Err(CertsError::Exists(existing.clone()));
    }
    std::fs::create_dir_all(dir).map_err(|source| CertsError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let ca = DevCa::generate("Online Books For You development CA")?;
    let mut written = Vec::new();
    let mut emit = |name: &str, certificate: &IssuedCertificate| -> Result<(), CertsError> {
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}.key"));
        write(&cert, &certificate.cert_pem, false)?;
        write(&key, &certificate.key_pem, true)?;
        written.extend([cert, key]);
        Ok(())
    };
    emit("ca", ca.certificate())?;
    for service in services {
        emit(service, &ca.issue_service(service)?)?;
    }
    Ok(written)
}
