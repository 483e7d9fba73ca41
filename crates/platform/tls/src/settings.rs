//! TLS settings as clap arguments: [`TlsSettings`] for servers (plaintext, TLS, or mutual TLS
//! with an optional allow-list) and [`UpstreamTlsSettings`] for clients.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bookstore_config::parse_positive_duration;
use clap::Args;

use super::{ClientTls, ServerTls, ServerTlsPaths, TlsError};

/// How often a server checks its TLS files for a replacement by default.
const DEFAULT_RELOAD_INTERVAL: Duration = Duration::from_secs(10);

/// How a gRPC server secures its port.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    /// Certificate chain (PEM) to serve TLS with; the port is plaintext without it.
    #[arg(long, env = "TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// Private key (PEM) of --tls-cert.
    #[arg(long, env = "TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// CA certificate (PEM) that client certificates must chain to: turns on mutual TLS.
    #[arg(long, env = "TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,

    /// Client identities (names in their certificates) allowed to call, comma-separated;
    /// any client with a valid certificate when not given. Needs --tls-client-ca.
    #[arg(
        long,
        env = "ALLOWED_CLIENTS",
        value_delimiter = ',',
        requires = "tls_client_ca"
    )]
    pub allowed_clients: Vec<String>,

    /// How often the TLS files are checked for a replacement (SIGHUP checks at once); more
    /// than zero.
    #[arg(long, env = "TLS_RELOAD_INTERVAL", default_value = "10s", value_parser = parse_positive_duration)]
    pub tls_reload_interval: Duration,
}

impl Default for TlsSettings {
    fn default() -> Self {
        Self {
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            allowed_clients: Vec::new(),
            tls_reload_interval: DEFAULT_RELOAD_INTERVAL,
        }
    }
}

impl TlsSettings {
    /// Mutual TLS from a directory written by `bookstore certs`: `<service>.pem`/`.key`, clients
    /// verified against `ca.pem`, only `allowed` clients admitted (everyone when empty).
    pub fn mutual_from_dir(dir: &std::path::Path, service: &str, allowed: &[&str]) -> Self {
        Self {
            tls_cert: Some(dir.join(format!("{service}.pem"))),
            tls_key: Some(dir.join(format!("{service}.key"))),
            tls_client_ca: Some(dir.join("ca.pem")),
            allowed_clients: allowed.iter().map(|name| (*name).to_owned()).collect(),
            ..Self::default()
        }
    }

    /// The server's TLS configuration, or `None` for plaintext.
    pub fn load(&self) -> Result<Option<Arc<ServerTls>>, TlsError> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let paths = ServerTlsPaths {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: self.tls_client_ca.clone(),
        };
        ServerTls::load(paths).map(|tls| Some(Arc::new(tls)))
    }

    /// The allow-list, or `None` to admit every client.
    pub fn allow_list(&self) -> Option<Vec<String>> {
        (!self.allowed_clients.is_empty()).then(|| self.allowed_clients.clone())
    }
}

/// How a client secures its calls to an upstream service.
#[derive(Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct UpstreamTlsSettings {
    /// CA certificate (PEM) that signs the upstream's certificate: turns on TLS to the upstream.
    #[arg(long, env = "UPSTREAM_CA")]
    pub upstream_ca: Option<PathBuf>,

    /// Client certificate (PEM) to present to the upstream (mutual TLS).
    #[arg(
        long,
        env = "UPSTREAM_CERT",
        requires = "upstream_ca",
        requires = "upstream_key"
    )]
    pub upstream_cert: Option<PathBuf>,

    /// Private key (PEM) of --upstream-cert.
    #[arg(long, env = "UPSTREAM_KEY", requires = "upstream_cert")]
    pub upstream_key: Option<PathBuf>,

    /// Name to verify the upstream's certificate against (default: the upstream host).
    #[arg(long, env = "UPSTREAM_SERVER_NAME", requires = "upstream_ca")]
    pub upstream_server_name: Option<String>,
}

impl UpstreamTlsSettings {
    /// Mutual TLS from a directory written by `bookstore certs`, presenting `client`'s
    /// certificate and verifying the upstream as `server` (the service's name, which its
    /// certificate carries whatever address it is dialled at).
    pub fn mutual_from_dir(dir: &std::path::Path, client: &str, server: &str) -> Self {
        Self {
            upstream_ca: Some(dir.join("ca.pem")),
            upstream_cert: Some(dir.join(format!("{client}.pem"))),
            upstream_key: Some(dir.join(format!("{client}.key"))),
            upstream_server_name: Some(server.to_owned()),
        }
    }

    /// The client's TLS material, or `None` for plaintext.
    pub fn load(&self) -> Result<Option<ClientTls>, TlsError> {
        let Some(ca) = &self.upstream_ca else {
            return Ok(None);
        };
        ClientTls::load(
            ca,
            self.upstream_cert.as_deref(),
            self.upstream_key.as_deref(),
            self.upstream_server_name.as_deref(),
        )
        .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        server: TlsSettings,
        #[command(flatten)]
        client: UpstreamTlsSettings,
    }

    #[test]
    fn defaults_are_plaintext_and_match_the_flags() {
        let cli = Cli::try_parse_from(["test"]).unwrap();
        assert_eq!(cli.server, TlsSettings::default());
        assert_eq!(cli.client, UpstreamTlsSettings::default());
        assert!(cli.server.load().unwrap().is_none());
        assert!(cli.client.load().unwrap().is_none());
    }

    #[test]
    fn the_reload_interval_is_a_duration_above_zero() {
        let cli = Cli::try_parse_from(["test", "--tls-reload-interval", "1m 30s"]).unwrap();
        assert_eq!(cli.server.tls_reload_interval, Duration::from_secs(90));
        // Zero would make the reload timer panic: refused at start, in the duration flags' words.
        for zero in ["0s", "0ms", "0"] {
            let error = Cli::try_parse_from(["test", "--tls-reload-interval", zero])
                .err()
                .unwrap()
                .to_string();
            assert!(
                error.contains(&format!(
                    "invalid value '{zero}' for '--tls-reload-interval <TLS_RELOAD_INTERVAL>': \
                     must be more than zero, such as 250ms, 2s or 1m"
                )),
                "{zero}: {error}"
            );
        }
        let error = Cli::try_parse_from(["test", "--tls-reload-interval", "soon"])
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("not a duration: use a number with a unit, such as 250ms, 2s or 1m"),
            "{error}"
        );
    }

    #[test]
    fn half_configurations_are_refused() {
        assert!(Cli::try_parse_from(["test", "--tls-cert", "a.pem"]).is_err());
        assert!(
            Cli::try_parse_from([
                "test",
                "--allowed-clients",
                "x",
                "--tls-cert",
                "a",
                "--tls-key",
                "b"
            ])
            .is_err()
        );
        assert!(Cli::try_parse_from(["test", "--upstream-cert", "c.pem"]).is_err());
        let cli = Cli::try_parse_from([
            "test",
            "--tls-cert",
            "a",
            "--tls-key",
            "b",
            "--tls-client-ca",
            "c",
            "--allowed-clients",
            "m,n",
        ])
        .unwrap();
        assert_eq!(
            cli.server.allow_list(),
            Some(vec!["m".to_owned(), "n".to_owned()])
        );
    }
}
