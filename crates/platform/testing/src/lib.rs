//! A harness for testing middleware against a real server: the Rust counterpart of
//! grpc-interceptor's `dummy_client`.
//!
//! [`DummyService`] implements all four RPC shapes and echoes its input, except for inputs a test
//! maps to a [`SpecialCase`] (reply with something else, fail with a status, panic,
//! pause, or hang). [`serve_dummy`] starts it on `127.0.0.1:0` behind any stack of layers and
//! hands back a connected client; [`serve_dummy_on_platform`] does the same behind the
//! platform's full `GrpcServer`, and [`RecordingReporter`] keeps the error reports it makes. Testing a layer takes a few lines:
//!
//! ```no_run
//! # async fn demo() {
//! use bookstore_layers::CatchPanicLayer;
//! use bookstore_testing::{SpecialCases, serve_dummy};
//! use bookstore_proto::testing::v1::DummyRequest;
//!
//! let cases = SpecialCases::new().panic("boom", "kaboom");
//! let mut server = serve_dummy(CatchPanicLayer, cases).await;
//! let status = server.client.execute(DummyRequest { input: "boom".into() }).await.unwrap_err();
//! assert_eq!(status.code(), tonic::Code::Internal);
//! let reply = server.client.execute(DummyRequest { input: "hi".into() }).await.unwrap();
//! assert_eq!(reply.into_inner().output, "hi");
//! server.stop().await;
//! # }
//! ```
//!
//! Beside the harness, what every crate's tests share:
//! - `spawn`: [`spawn`] runs *any* service on free loopback ports and stops it at will
//!   ([`Running`]);
//! - `calls`: requests, raw message bytes, reading a stream, checking a status;
//! - `waiting`: [`eventually`], [`within`], [`WAIT`] — for effects that land a moment after the
//!   client has its answer, and calls that must not hang;
//! - `ports`: ports nothing listens on ([`free_port`], [`free_port_on`]);
//! - `series`: metric series names; `proxy`: a connection a test can cut ([`Proxy`]); `gate`:
//!   a proxy a test closes and opens, as a server that goes away and comes back ([`Gate`]);
//! - `test_database`: a database of its own per test, SQLite or PostgreSQL ([`TestDatabase`]);
//! - `otlp`: an OTLP trace receiver ([`OtlpReceiver`]) that keeps the spans services export;
//! - `properties`: what property tests share: [`property_cases`] (honouring `PROPTEST_CASES`)
//!   and HTTP/1.1 requests written byte by byte ([`raw_http`]), with what servers make of them.
//!
//! The `dummy-server` binary runs the dummy service on the platform as a real process, for
//! tests that send real signals.

mod calls;
mod dummy;
mod gate;
mod harness;
mod otlp;
mod ports;
mod properties;
mod proxy;
mod reporter;
mod series;
mod spawn;
mod test_database;
mod waiting;

pub use calls::{RawCodec, assert_status, channel, collect, raw_unary, req, reqs};
pub use dummy::{DummyService, SpecialCase, SpecialCases};
pub use gate::Gate;
pub use harness::{TestServer, serve_dummy, serve_dummy_on_platform};
pub use otlp::{OtlpReceiver, ReceivedSpan};
pub use ports::{free_port, free_port_on};
pub use properties::{
    FRAMING_HEADERS, READ_HEADERS, RawResponse, arbitrary_header, is_readable_target,
    percent_decoded, percent_encoded, property_cases, property_runtime, raw_get, raw_http,
};
pub use proxy::Proxy;
pub use reporter::RecordingReporter;
pub use series::{DUMMY, series, series_of};
pub use spawn::{Running, spawn, spawn_on};
pub use test_database::{Engine, TestDatabase};
pub use waiting::{WAIT, eventually, sample_settles, within};
