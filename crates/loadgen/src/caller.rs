//! The per-connection callers: a gRPC target through its generated client on one tonic `Channel`
//! per connection, an HTTP target through a bare hyper HTTP/1.1 connection (no pool, no
//! redirects, no decompression: the least client work per request, since the client shares the
//! machine with the server under test).

use bookstore_proto::legacy;
use bookstore_proto::legacy::recommendations_client::RecommendationsClient;
use bookstore_proto::recommendations::v1;
use bookstore_proto::recommendations::v1::recommendations_service_client::RecommendationsServiceClient;
use bytes::Bytes;
use http::header::HOST;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::error::{Error, error_chain};
use crate::failure::Failure;
use crate::target::{CONNECT_TIMEOUT, HttpTarget, Kind, TargetSpec};

/// One connection's handle for sending requests. gRPC callers are cloned once per concurrent
/// stream (clones share the connection); an HTTP/1.1 caller is used by one stream only.
#[derive(Debug)]
pub(crate) enum Caller {
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
pub(crate) struct HttpCaller {
    target: HttpTarget,
    sender: Option<SendRequest<Empty<Bytes>>>,
    reconnects: u64,
}

impl Caller {
    /// Opens one connection to `target` (eagerly: a test never starts against an unreachable
    /// server) and returns a caller on it.
    pub(crate) async fn connect(target: &TargetSpec) -> Result<Self, Error> {
        let connected = match target.kind() {
            Kind::RecommendLegacy { endpoint, request } => Self::Legacy {
                client: RecommendationsClient::new(connect_channel(endpoint).await?),
                request: *request,
            },
            Kind::RecommendV1 { endpoint, request } => Self::V1 {
                client: RecommendationsServiceClient::new(connect_channel(endpoint).await?),
                request: *request,
            },
            Kind::Health { endpoint, request } => Self::Health {
                client: HealthClient::new(connect_channel(endpoint).await?),
                request: request.clone(),
            },
            Kind::Http(target) => Self::Http(HttpCaller {
                sender: Some(connect_http(target).await?),
                target: target.clone(),
                reconnects: 0,
            }),
        };
        Ok(connected)
    }

    /// Another caller on the same connection (gRPC only: HTTP/1.1 connections are not shared).
    pub(crate) fn share(&self) -> Option<Self> {
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
    pub(crate) async fn call(&mut self) -> Result<(), Failure> {
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
    pub(crate) fn abandon(&mut self) {
        if let Self::Http(http) = self {
            http.sender = None;
        }
    }

    /// How many times the connection was reopened.
    pub(crate) fn reconnects(&self) -> u64 {
        match self {
            Self::Http(http) => http.reconnects,
            _ => 0,
        }
    }
}

/// A gRPC channel to `endpoint`, connected now.
async fn connect_channel(endpoint: &Endpoint) -> Result<Channel, Error> {
    endpoint.connect().await.map_err(|error| Error::Connect {
        endpoint: endpoint.uri().to_string(),
        reason: error_chain(&error),
    })
}

/// An HTTP/1.1 connection to `target`, its I/O running as a task of its own.
async fn connect_http(target: &HttpTarget) -> Result<SendRequest<Empty<Bytes>>, Error> {
    let failed = |reason: String| Error::Connect {
        endpoint: target.authority.clone(),
        reason,
    };
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&target.authority))
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

impl HttpCaller {
    /// One GET, its response read to the end.
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
        // frames are dropped as they come, nothing is buffered unless it is to be searched.
        let marker = self.target.degraded_marker.as_deref();
        let mut kept = Vec::new();
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                self.sender = None;
                return Err(Failure::HttpTransport);
            };
            if let (Some(_), Some(data)) = (marker, frame.data_ref()) {
                kept.extend_from_slice(data);
            }
        }
        if !status.is_success() {
            Err(Failure::Http(status.as_u16()))
        } else if marker.is_some_and(|marker| contains(&kept, marker)) {
            Err(Failure::Degraded)
        } else {
            Ok(())
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
            let sender = connect_http(&self.target)
                .await
                .map_err(|_| Failure::HttpTransport)?;
            self.sender = Some(sender);
        }
        Ok(self.sender.as_mut().expect("set above"))
    }
}

/// Whether `needle` (not empty) occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_marker_anywhere_in_the_body() {
        let page = b"<p class=\"notice\">Recommendations are unavailable right now.</p>";
        assert!(contains(page, b"Recommendations are unavailable right now"));
        assert!(contains(page, b"<p"));
        assert!(contains(page, b"now.</p>"));
        assert!(!contains(page, b"three books"));
        assert!(!contains(b"short", b"longer than the body"));
    }
}
