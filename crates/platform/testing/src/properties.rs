//! What the property tests (proptest) of every crate share: how many cases a run tries, and
//! HTTP/1.1 requests written byte by byte, for request lines and headers no client library
//! would send.
//!
//! `cargo test` runs each property a modest number of times (its CI default); `bench/fuzz.sh`
//! sets `PROPTEST_CASES` for a longer run, and [`property_cases`] makes every property honour
//! it, whatever its default. [`arbitrary_header`] is the headers a property sends to show that
//! arbitrary headers change nothing.

use std::io::{self, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};

use proptest::prelude::*;

use crate::waiting::WAIT;

/// How many cases a property tries: `PROPTEST_CASES` when set (the long run), else `ci_default`.
pub fn property_cases(ci_default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.trim().parse().ok())
        .unwrap_or(ci_default)
}

/// A runtime for the servers a property calls: proptest runs its cases on the test's thread,
/// which blocks on this runtime for async calls while the servers run on its workers.
pub fn property_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Header names a server must interpret to frame or route a request (hop-by-hop headers,
/// `Host`, `Content-Length`, ...): sent with arbitrary values they change the answer by design,
/// so properties about arbitrary headers leave them out.
pub const FRAMING_HEADERS: [&str; 10] = [
    "connection",
    "content-length",
    "expect",
    "host",
    "http2-settings",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
];

/// Header names every web app's stack reads (tracing, request ids, content negotiation, ...),
/// which [`arbitrary_header`] picks from as well as from any token.
pub const READ_HEADERS: [&str; 12] = [
    "x-request-id",
    "traceparent",
    "tracestate",
    "baggage",
    "accept",
    "accept-encoding",
    "content-type",
    "cookie",
    "user-agent",
    "x-forwarded-for",
    "upgrade",
    "range",
];

/// A header `(name, value)`: a name from [`READ_HEADERS`], from `also_read` (those an app
/// reads besides) or any token — never one of the [`FRAMING_HEADERS`] — and any value HTTP
/// allows (visible ASCII, spaces, tabs, and bytes above 0x7F).
pub fn arbitrary_header(
    also_read: &[&'static str],
) -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> + use<> {
    let known =
        prop::sample::select([READ_HEADERS.as_slice(), also_read].concat()).prop_map(str::to_owned);
    let name = prop_oneof![known, "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,24}"]
        .prop_filter("a framing header", |name| {
            !FRAMING_HEADERS.contains(&name.to_ascii_lowercase().as_str())
        });
    let value_byte = prop_oneof![Just(b'\t'), 0x20..=0x7eu8, 0x80..=0xffu8];
    (name, prop::collection::vec(value_byte, 0..64))
        .prop_map(|(name, value)| (name.into_bytes(), value))
}

/// Whether a server reads `target` as the target of a request line at all: UTF-8 made of
/// visible ASCII and characters above it (as hyper's parser reads a request line), and a URI.
/// Any other target is a malformed request: 400.
pub fn is_readable_target(target: &[u8]) -> bool {
    std::str::from_utf8(target).is_ok()
        && target
            .iter()
            .all(|byte| matches!(byte, b'!'..=b'~' | 0x80..))
        && http::Uri::try_from(target).is_ok()
}

/// Percent-encodes every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`).
pub fn percent_encoded(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Decodes `%XX` escapes as servers do: a `%` not followed by two hex digits stands for itself.
pub fn percent_decoded(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let (mut decoded, mut i) = (Vec::with_capacity(bytes.len()), 0);
    while i < bytes.len() {
        let escaped = match bytes[i..] {
            [b'%', high, low, ..] => char::from(high)
                .to_digit(16)
                .zip(char::from(low).to_digit(16))
                .and_then(|(high, low)| u8::try_from(high * 16 + low).ok()),
            _ => None,
        };
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    decoded
}

/// An HTTP response as it came off the wire.
#[derive(Clone, Debug)]
pub struct RawResponse {
    /// The status code of the status line.
    pub status: u16,
    /// The status line and the headers.
    pub head: String,
    /// Everything after the headers, as sent (possibly chunked).
    pub body: Vec<u8>,
}

/// `GET <target> HTTP/1.1` with `headers` (name, value) written as given, then `Host` and
/// `Connection: close`: the bytes of a request whose target and headers may be anything.
pub fn raw_get(target: &[u8], headers: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(target);
    request.extend_from_slice(b" HTTP/1.1\r\nHost: localhost\r\n");
    for (name, value) in headers {
        request.extend_from_slice(name);
        request.extend_from_slice(b": ");
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"Connection: close\r\n\r\n");
    request
}

/// Sends `request` on a new connection to `addr` and reads the response until the server
/// closes the connection (the request should say `Connection: close`). Blocking: call it from
/// the test's thread, not from inside the runtime serving `addr`. An error means the server
/// answered nothing a client could read (dropped the connection, or took longer than
/// [`WAIT`]).
pub fn raw_http(addr: SocketAddr, request: &[u8]) -> io::Result<RawResponse> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(WAIT))?;
    stream.set_write_timeout(Some(WAIT))?;
    stream.write_all(request)?;
    let mut received = Vec::new();
    stream.read_to_end(&mut received)?;
    let invalid = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{what}: {:?}",
                String::from_utf8_lossy(&received[..received.len().min(200)])
            ),
        )
    };
    let end = received
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or_else(|| invalid("no complete response head"))?;
    let head = String::from_utf8_lossy(&received[..end]).into_owned();
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("no HTTP/1.1 status line"))?;
    Ok(RawResponse {
        status,
        head,
        body: received[end + 4..].to_vec(),
    })
}
