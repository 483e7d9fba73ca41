//! What loadgen calls: the gRPC targets through the generated clients on one tonic `Channel`
//! per connection, and HTTP targets through a bare hyper HTTP/1.1 connection (no pool, no
//! redirects, no decompression: the least client work per request, since the client shares the
//! machine with the server under test).
//!
//! gRPC targets speak plaintext, TLS or mutual TLS ([`TargetSpec::with_tls`], with the
//! platform's `ClientTls`); HTTP targets speak plain HTTP/1.1, as the web apps serve it.

use std::fmt;
use std::time::Duration;

use bookstore_platform::tls::ClientTls;
use bookstore_proto::legacy;
use bookstore_proto::legacy::recommendations_client::RecommendationsClient;
use bookstore_proto::recommendations::v1;
use bookstore_proto::recommendations::v1::recommendations_service_client::RecommendationsServiceClient;
use bytes::Bytes;
use http::Uri;
use http::header::HOST;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tonic::Code;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::error::Error;

/// Longest a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How one request went, when it did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Failure {
    /// A gRPC status other than OK (tonic reports transport failures as `UNAVAILABLE`).
    Grpc(Code),
    /// An HTTP status other than 2xx.
    Http(u16),
    /// The HTTP connection failed (refused, reset, closed mid-response, bad response).
    HttpTransport,
    /// No answer within `--timeout`.
    Timeout,
    /// A health check answered, but not `SERVING`.
    NotServing,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Grpc(code) => write!(f, "grpc {}", grpc_code_name(*code)),
            Self::Http(status) => write!(f, "http {status}"),
            Self::HttpTransport => f.write_str("http transport error"),
            Self::Timeout => f.write_str("timeout"),
            Self::NotServing => f.write_str("health not SERVING"),
        }
    }
}

/// The canonical name of a status code, as the gRPC specification writes it.
pub fn grpc_code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// What to call, resolved from the command line.
#[derive(Clone, Debug)]
pub struct TargetSpec {
    name: String,
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    RecommendLegacy {
        endpoint: Endpoint,
        request: legacy::RecommendationRequest,
    },
    RecommendV1 {
        endpoint: Endpoint,
        request: v1::RecommendRequest,
    },
    Health {
        endpoint: Endpoint,
        request: HealthCheckRequest,
    },
    Http(HttpTarget),
}

/// An HTTP GET target: where to connect and what to send.
#[derive(Clone, Debug)]
struct HttpTarget {
    /// `host:port` to connect to.
    authority: String,
    /// The `Host` header.
    host: http::HeaderValue,
    /// Path and query.
    path: Uri,
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
            }),
        })
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

    /// Opens one connection (eagerly: a test never starts against an unreachable server) and
    /// returns a caller on it.
    pub async fn connect(&self) -> Result<Caller, Error> {
        let connected = match &self.kind {
            Kind::RecommendLegacy { endpoint, request } => Caller::Legacy {
                client: RecommendationsClient::new(connect_channel(endpoint).await?),
                request: *request,
            },
            Kind::RecommendV1 { endpoint, request } => Caller::V1 {
                client: RecommendationsServiceClient::new(connect_channel(endpoint).await?),
                request: *request,
            },
            Kind::Health { endpoint, request } => Caller::Health {
                client: HealthClient::new(connect_channel(endpoint).await?),
                request: request.clone(),
            },
            Kind::Http(target) => Caller::Http(HttpCaller {
                sender: Some(target.connect().await?),
                target: target.clone(),
                reconnects: 0,
            }),
        };
        Ok(connected)
    }
}

impl TargetSpec {
    /// The same gRPC target over TLS with `tls` (mutual TLS if it holds a client certificate).
    /// HTTP targets are refused: the web apps serve plain HTTP.
    pub fn with_tls(mut self, tls: &ClientTls) -> Result<Self, Error> {
        let endpoint = match &mut self.kind {
            Kind::RecommendLegacy { endpoint, .. }
            | Kind::RecommendV1 { endpoint, .. }
            | Kind::Health { endpoint, .. } => endpoint,
            Kind::Http(_) => {
                return Err(Error::Invalid(
                    "--ca, --cert and --key apply to gRPC targets; the web apps serve plain HTTP"
                        .into(),
                ));
            }
        };
        let uri = endpoint.uri().clone();
        let host = uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let authority = uri.authority().map_or("", |authority| authority.as_str());
        let address_error = |error: tonic::transport::Error| Error::Address {
            address: authority.to_owned(),
            reason: error_chain(&error),
        };
        *endpoint = Endpoint::from_shared(format!("https://{authority}"))
            .map_err(address_error)?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .tls_config(tls.config(host))
            .map_err(address_error)?;
        Ok(self)
    }
}

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

async fn connect_channel(endpoint: &Endpoint) -> Result<Channel, Error> {
    endpoint.connect().await.map_err(|error| Error::Connect {
        endpoint: endpoint.uri().to_string(),
        reason: error_chain(&error),
    })
}

/// An error and its causes on one line (transport errors hide the useful part in `source`).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl HttpTarget {
    async fn connect(&self) -> Result<SendRequest<Empty<Bytes>>, Error> {
        let failed = |reason: String| Error::Connect {
            endpoint: self.authority.clone(),
            reason,
        };
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.authority))
            .await
            .map_err(|_| failed("timed out".into()))?
            .map_err(|e| failed(e.to_string()))?;
        stream
            .set_nodelay(true)
            .map_err(|e| failed(e.to_string()))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| failed(error_chain(&e)))?;
        // The connection's I/O runs as its own task; it ends when the sender is dropped or the
        // server closes the connection (a failure the next request notices).
        tokio::spawn(connection);
        Ok(sender)
    }
}

/// One connection's handle for sending requests. gRPC callers are cloned once per concurrent
/// stream (clones share the connection); an HTTP/1.1 caller is used by one stream only.
#[derive(Debug)]
pub enum Caller {
    /// Legacy Recommend.
    Legacy {
        /// Generated client.
        client: RecommendationsClient<Channel>,
        /// The request sent every time.
        request: legacy::RecommendationRequest,
    },
    /// v1 Recommend.
    V1 {
        /// Generated client.
        client: RecommendationsServiceClient<Channel>,
        /// The request sent every time.
        request: v1::RecommendRequest,
    },
    /// Health Check.
    Health {
        /// Generated client.
        client: HealthClient<Channel>,
        /// The request sent every time.
        request: HealthCheckRequest,
    },
    /// HTTP GET.
    Http(HttpCaller),
}

/// An HTTP/1.1 keep-alive connection that reconnects when the server closes it.
#[derive(Debug)]
pub struct HttpCaller {
    target: HttpTarget,
    sender: Option<SendRequest<Empty<Bytes>>>,
    reconnects: u64,
}

impl Caller {
    /// Another caller on the same connection (gRPC only: HTTP/1.1 connections are not shared).
    pub fn share(&self) -> Option<Self> {
        match self {
            Self::Legacy { client, request } => Some(Self::Legacy {
                client: client.clone(),
                request: *request,
            }),
            Self::V1 { client, request } => Some(Self::V1 {
                client: client.clone(),
                request: *request,
            }),
            Self::Health { client, request } => Some(Self::Health {
                client: client.clone(),
                request: request.clone(),
            }),
            Self::Http(_) => None,
        }
    }

    /// Sends one request and waits for the whole response.
    pub async fn call(&mut self) -> Result<(), Failure> {
        match self {
            Self::Legacy { client, request } => client
                .recommend(*request)
                .await
                .map(drop)
                .map_err(|status| Failure::Grpc(status.code())),
            Self::V1 { client, request } => client
                .recommend(*request)
                .await
                .map(drop)
                .map_err(|status| Failure::Grpc(status.code())),
            Self::Health { client, request } => {
                let response = client
                    .check(request.clone())
                    .await
                    .map_err(|status| Failure::Grpc(status.code()))?;
                if response.get_ref().status() == ServingStatus::Serving {
                    Ok(())
                } else {
                    Err(Failure::NotServing)
                }
            }
            Self::Http(http) => http.get().await,
        }
    }

    /// Notes that the last call was abandoned (timed out): an HTTP/1.1 connection in the middle
    /// of a response cannot be reused, so the next call opens a new one.
    pub fn abandon(&mut self) {
        if let Self::Http(http) = self {
            http.sender = None;
        }
    }

    /// How many times the connection was reopened.
    pub fn reconnects(&self) -> u64 {
        match self {
            Self::Http(http) => http.reconnects,
            _ => 0,
        }
    }
}

impl HttpCaller {
    async fn get(&mut self) -> Result<(), Failure> {
        let request = http::Request::get(self.target.path.clone())
            .header(HOST, self.target.host.clone())
            .body(Empty::new())
            .expect("a GET with a valid URI and Host header is a valid request");
        let sender = self.ready_sender().await?;
        let response = match sender.send_request(request).await {
            Ok(response) => response,
            Err(_) => {
                self.sender = None;
                return Err(Failure::HttpTransport);
            }
        };
        let status = response.status();
        // The body must be read to the end before the connection can carry the next request;
        // frames are dropped as they come, nothing is buffered.
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            if frame.is_err() {
                self.sender = None;
                return Err(Failure::HttpTransport);
            }
        }
        if status.is_success() {
            Ok(())
        } else {
            Err(Failure::Http(status.as_u16()))
        }
    }

    /// The connection, reopened if the server closed it (keep-alive timeouts, `Connection:
    /// close`, a restart).
    async fn ready_sender(&mut self) -> Result<&mut SendRequest<Empty<Bytes>>, Failure> {
        let usable = match &mut self.sender {
            Some(sender) => sender.ready().await.is_ok(),
            None => false,
        };
        if !usable {
            self.reconnects += 1;
            let sender = self
                .target
                .connect()
                .await
                .map_err(|_| Failure::HttpTransport)?;
            self.sender = Some(sender);
        }
        Ok(self.sender.as_mut().expect("set above"))
    }
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
    fn names_failures_as_the_specs_do() {
        assert_eq!(Failure::Grpc(Code::NotFound).to_string(), "grpc NOT_FOUND");
        assert_eq!(Failure::Http(503).to_string(), "http 503");
        assert_eq!(Failure::Timeout.to_string(), "timeout");
    }
}
