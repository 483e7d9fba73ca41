//! What loadgen calls, as the command line describes it: a [`TargetSpec`] is a gRPC target (legacy
//! or v1 Recommend, or a health check) with its tonic `Endpoint` and the request it sends, or an
//! HTTP GET target split into where to connect and what to send. Opening connections to it is the
//! callers' (`caller.rs`).
//!
//! gRPC targets speak plaintext, TLS or mutual TLS ([`TargetSpec::with_tls`], with the
//! platform's `ClientTls`); HTTP targets speak plain HTTP/1.1, as the web apps serve it.

use std::time::Duration;

use bookstore_proto::legacy;
use bookstore_proto::recommendations::v1;
use bookstore_tls::ClientTls;
use bytes::Bytes;
use http::Uri;
use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;

use crate::error::{Error, error_chain};

/// Longest a connection attempt may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What to call, resolved from the command line.
#[derive(Clone, Debug)]
pub struct TargetSpec {
    name: String,
    kind: Kind,
}

/// The kinds of target, each with where it is and what it sends.
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    /// The legacy Recommend.
    RecommendLegacy {
        /// Where, and how to connect (plaintext or TLS).
        endpoint: Endpoint,
        /// The request sent every time.
        request: legacy::RecommendationRequest,
    },
    /// The v1 Recommend.
    RecommendV1 {
        /// Where, and how to connect (plaintext or TLS).
        endpoint: Endpoint,
        /// The request sent every time.
        request: v1::RecommendRequest,
    },
    /// The health check.
    Health {
        /// Where, and how to connect (plaintext or TLS).
        endpoint: Endpoint,
        /// The request sent every time.
        request: HealthCheckRequest,
    },
    /// An HTTP GET.
    Http(HttpTarget),
}

/// An HTTP GET target: where to connect and what to send.
#[derive(Clone, Debug)]
pub(crate) struct HttpTarget {
    /// `host:port` to connect to.
    pub(crate) authority: String,
    /// The `Host` header.
    pub(crate) host: http::HeaderValue,
    /// Path and query.
    pub(crate) path: Uri,
    /// Text whose presence in a 2xx body makes the answer a `degraded` failure.
    pub(crate) degraded_marker: Option<Bytes>,
}

impl TargetSpec {
    /// The legacy `Recommendations/Recommend` at `addr`, sending `request`.
    pub fn recommend_legacy(
        addr: &str,
        request: legacy::RecommendationRequest,
    ) -> Result<Self, Error> {
        Ok(Self {
            name: "recommend-legacy".into(),
            kind: Kind::RecommendLegacy {
                endpoint: grpc_endpoint(addr)?,
                request,
            },
        })
    }

    /// The v1 `RecommendationsService/Recommend` at `addr`, sending `request`.
    pub fn recommend_v1(addr: &str, request: v1::RecommendRequest) -> Result<Self, Error> {
        Ok(Self {
            name: "recommend-v1".into(),
            kind: Kind::RecommendV1 {
                endpoint: grpc_endpoint(addr)?,
                request,
            },
        })
    }

    /// `grpc.health.v1.Health/Check` of `service` at `addr`.
    pub fn health(addr: &str, service: &str) -> Result<Self, Error> {
        Ok(Self {
            name: "health".into(),
            kind: Kind::Health {
                endpoint: grpc_endpoint(addr)?,
                request: HealthCheckRequest {
                    service: service.to_owned(),
                },
            },
        })
    }

    /// HTTP GET of `url` (plain `http://` only), reported under `name`.
    pub fn http(name: &str, url: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::Address {
            address: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => return Err(Error::TlsUnsupported),
            _ => return Err(invalid("expected an http:// URL")),
        }
        let host = uri.host().ok_or_else(|| invalid("no host"))?;
        let port = uri.port_u16().unwrap_or(80);
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let authority = if bare.contains(':') {
            format!("[{bare}]:{port}")
        } else {
            format!("{bare}:{port}")
        };
        let host_header = uri.authority().map_or(host, http::uri::Authority::as_str);
        let path = uri
            .path_and_query()
            .map_or("/", http::uri::PathAndQuery::as_str)
            .parse()
            .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
        Ok(Self {
            name: name.to_owned(),
            kind: Kind::Http(HttpTarget {
                authority,
                host: http::HeaderValue::from_str(host_header)
                    .map_err(|e| invalid(&e.to_string()))?,
                path,
                degraded_marker: None,
            }),
        })
    }

    /// The same HTTP target, counting a 2xx answer whose body holds `text` as a `degraded`
    /// failure. gRPC targets and empty text are refused.
    pub fn failing_if_body_contains(mut self, text: &str) -> Result<Self, Error> {
        let Kind::Http(target) = &mut self.kind else {
            return Err(Error::Invalid(
                "--fail-if-body-contains reads HTTP bodies; gRPC targets have none".into(),
            ));
        };
        if text.is_empty() {
            return Err(Error::Invalid(
                "--fail-if-body-contains needs some text: every body contains \"\"".into(),
            ));
        }
        target.degraded_marker = Some(Bytes::copy_from_slice(text.as_bytes()));
        Ok(self)
    }

    /// The target's name (`recommend-legacy`, `homepage`, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it is, for reports.
    pub fn endpoint(&self) -> String {
        match &self.kind {
            Kind::RecommendLegacy { endpoint, .. }
            | Kind::RecommendV1 { endpoint, .. }
            | Kind::Health { endpoint, .. } => endpoint.uri().to_string(),
            Kind::Http(target) => format!("http://{}{}", target.authority, target.path),
        }
    }

    /// Whether this is an HTTP/1.1 target (one request at a time per connection).
    pub fn is_http(&self) -> bool {
        matches!(self.kind, Kind::Http(_))
    }

    /// What kind of target it is, for the callers that connect to it.
    pub(crate) fn kind(&self) -> &Kind {
        &self.kind
    }

    /// The same gRPC target over TLS with `tls` (mutual TLS if it holds a client certificate).
    /// HTTP targets are refused: the web apps serve plain HTTP.
    pub fn with_tls(mut self, tls: &ClientTls) -> Result<Self, Error> {
        let endpoint = match &mut self.kind {
            Kind::RecommendLegacy { endpoint, .. }
            | Kind::RecommendV1 { endpoint, .. }
            | Kind::Health { endpoint, .. } => endpoint,
            Kind::Http(_) => {
                return Err(Error::Invalid(
                    "--upstream-ca, --upstream-cert and --upstream-key apply to gRPC targets; \
                     the web apps serve plain HTTP"
                        .into(),
                ));
            }
        };
        let uri = endpoint.uri().clone();
        let authority = uri.authority().map_or("", |authority| authority.as_str());
        let address_error = |error: tonic::transport::Error| Error::Address {
            address: authority.to_owned(),
            reason: error_chain(&error),
        };
        let secure = Endpoint::from_shared(format!("https://{authority}"))
            .map_err(address_error)?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true);
        *endpoint = tls
            .secure(secure, uri.host().unwrap_or_default())
            .map_err(address_error)?;
        Ok(self)
    }
}

/// A plaintext gRPC endpoint at `addr` (`http://` assumed when no scheme is given).
fn grpc_endpoint(addr: &str) -> Result<Endpoint, Error> {
    let with_scheme = if addr.contains("://") {
        addr.to_owned()
    } else {
        format!("http://{addr}")
    };
    if with_scheme.starts_with("https://") {
        return Err(Error::TlsUnsupported);
    }
    Endpoint::from_shared(with_scheme)
        .map(|endpoint| endpoint.connect_timeout(CONNECT_TIMEOUT).tcp_nodelay(true))
        .map_err(|error| Error::Address {
            address: addr.to_owned(),
            reason: error_chain(&error),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_http_urls_into_connection_and_request() {
        let target = TargetSpec::http("ncr", "http://127.0.0.1:5001/api/ncr/20/10?x=1").unwrap();
        let Kind::Http(http) = &target.kind else {
            panic!("not http")
        };
        assert_eq!(http.authority, "127.0.0.1:5001");
        assert_eq!(http.host, "127.0.0.1:5001");
        assert_eq!(http.path, "/api/ncr/20/10?x=1");
        assert!(target.is_http());

        let bare = TargetSpec::http("http", "http://localhost").unwrap();
        let Kind::Http(http) = &bare.kind else {
            panic!("not http")
        };
        assert_eq!(http.authority, "localhost:80");
        assert_eq!(http.host, "localhost");
        assert_eq!(http.path, "/");

        let v6 = TargetSpec::http("http", "http://[::1]:8080/x").unwrap();
        let Kind::Http(http) = &v6.kind else {
            panic!("not http")
        };
        assert_eq!(http.authority, "[::1]:8080");
    }

    #[test]
    fn refuses_what_it_cannot_speak() {
        assert!(matches!(
            TargetSpec::http("x", "https://example.invalid/"),
            Err(Error::TlsUnsupported)
        ));
        assert!(TargetSpec::http("x", "ftp://example.invalid/").is_err());
        assert!(matches!(
            TargetSpec::health("https://127.0.0.1:1", ""),
            Err(Error::TlsUnsupported)
        ));
    }

    #[test]
    fn accepts_grpc_addresses_without_a_scheme() {
        let target = TargetSpec::health("127.0.0.1:50051", "").unwrap();
        assert_eq!(target.endpoint(), "http://127.0.0.1:50051/");
    }

    #[test]
    fn tls_is_for_grpc_targets_only() {
        let tls = ClientTls::from_pem(Vec::new(), None);
        let refused = TargetSpec::http("homepage", "http://127.0.0.1:5000/")
            .unwrap()
            .with_tls(&tls);
        let Err(Error::Invalid(message)) = refused else {
            panic!("HTTP over TLS accepted: {refused:?}")
        };
        assert!(message.contains("--upstream-ca"), "{message}");
    }
}
