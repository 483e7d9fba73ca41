//! What the platform's integration tests share: request builders, metric series names, waiting
//! for effects that land just after the client has its answer, a raw-bytes gRPC client and a
//! TCP proxy that can cut a connection.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bookstore_platform::Metrics;
use bookstore_proto::testing::v1::DummyRequest;
use bytes::{Buf, BufMut, Bytes};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic::{Code, Status};

/// The dummy service's full name, as metrics and reflection show it.
pub(crate) const DUMMY: &str = "bookstore.testing.v1.DummyService";

/// The bound on anything a test waits for. Generous: it only matters when a test fails.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// A dummy request.
pub(crate) fn req(input: &str) -> DummyRequest {
    DummyRequest {
        input: input.to_owned(),
    }
}

/// Dummy requests, as a stream for the client- and bidi-streaming calls.
pub(crate) fn reqs(
    inputs: &[&str],
) -> impl tokio_stream::Stream<Item = DummyRequest> + Send + 'static {
    tokio_stream::iter(inputs.iter().map(|input| req(input)).collect::<Vec<_>>())
}

/// Reads a response stream to its end: every output, or the status it failed with.
pub(crate) async fn collect(
    response: Result<
        tonic::Response<tonic::Streaming<bookstore_proto::testing::v1::DummyResponse>>,
        Status,
    >,
) -> Result<Vec<String>, Status> {
    let mut stream = response?.into_inner();
    let mut outputs = Vec::new();
    while let Some(message) = stream.message().await? {
        outputs.push(message.output);
    }
    Ok(outputs)
}

/// A metric series of one dummy method, e.g. `series("grpc_server_started_total", "unary",
/// "Execute", None)`; `code` adds the `grpc_code` label of `*_handled_total`.
pub(crate) fn series(name: &str, grpc_type: &str, method: &str, code: Option<&str>) -> String {
    series_of(name, grpc_type, DUMMY, method, code)
}

/// A metric series of any method.
pub(crate) fn series_of(
    name: &str,
    grpc_type: &str,
    service: &str,
    method: &str,
    code: Option<&str>,
) -> String {
    let code = code
        .map(|code| format!(",grpc_code=\"{code}\""))
        .unwrap_or_default();
    format!(
        "{name}{{grpc_type=\"{grpc_type}\",grpc_service=\"{service}\",grpc_method=\"{method}\"{code}}}"
    )
}

/// Waits (up to [`WAIT`]) until `condition` holds; returns whether it did. Metrics and error
/// reports are recorded when the server lets go of a call, a moment after the client has read
/// its status, so tests wait for the state they then assert exactly.
pub(crate) async fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    condition()
}

/// Waits until the sample reads `expected`, then returns what it reads.
pub(crate) async fn sample_settles(metrics: &Metrics, series: &str, expected: f64) -> f64 {
    eventually(|| metrics.sample(series) == expected).await;
    metrics.sample(series)
}

/// Bounds a future by [`WAIT`], failing the test with `what` if it takes longer.
pub(crate) async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {WAIT:?}"))
}

/// A channel to `addr`, connected now.
pub(crate) async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("a valid URI")
        .connect()
        .await
        .expect("the server is listening")
}

/// Sends `payload` as the single message of a unary call to `path`, bypassing protobuf, and
/// returns the raw reply: for malformed messages and unknown methods.
pub(crate) async fn raw_unary(
    channel: Channel,
    path: &'static str,
    payload: Bytes,
) -> Result<Bytes, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|error| Status::unavailable(error.to_string()))?;
    let response = grpc
        .unary(
            tonic::Request::new(payload),
            http::uri::PathAndQuery::from_static(path),
            RawCodec,
        )
        .await?;
    Ok(response.into_inner())
}

/// A codec that sends and receives message bytes as they are.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// A TCP proxy for one connection to `upstream`; aborting it cuts the connection on both sides
/// at once, as a client that vanishes (crash, network loss) would.
pub(crate) struct Proxy {
    /// Where clients connect.
    pub(crate) addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy to `upstream` on `127.0.0.1:0`.
    pub(crate) async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let task = tokio::spawn(async move {
            let (mut client, _) = listener.accept().await.expect("a client connects");
            let mut server = tokio::net::TcpStream::connect(upstream)
                .await
                .expect("the server is listening");
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        });
        Self { addr, task }
    }

    /// Closes both sockets without any HTTP/2 goodbye.
    pub(crate) fn cut(self) {
        self.task.abort();
    }
}

/// Asserts a status's code and message together, so a failure shows both.
#[track_caller]
pub(crate) fn assert_status(status: &Status, code: Code, message: &str) {
    assert_eq!(
        (status.code(), status.message()),
        (code, message),
        "{status:?}"
    );
}
