//! Only gRPC on a gRPC port: a request whose `content-type` is not `application/grpc` — alone,
//! or followed by a `+` subtype (`+proto`, `+json`, ...) or `;` parameters — is answered
//! `415 Unsupported Media Type`, as the gRPC over HTTP/2 protocol says a server should. The
//! point is a plain HTTP client: every gRPC answer, failures included, comes as `200 OK`, which
//! such a client would take for success.
//!
//! So the refusal is plain HTTP: an `accept: application/grpc` header (RFC 9110 §15.5.16 names
//! `Accept` as the response header that says which media types would have been accepted), a
//! one-line text body, and no `grpc-status`, which would make it look like a gRPC answer.
//!
//! The rule is grpc-go's (`grpcutil.ContentSubtype`), except that the media type is compared
//! without regard to case, as HTTP says it is (RFC 9110 §8.3.1). Every call passes here, so the
//! check is one header lookup and a comparison of its first bytes, and an accepted request goes
//! through untouched: its response is only wrapped, without an allocation.

use std::task::{Context, Poll};

use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;

use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderValue, Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

/// The media type every gRPC request carries, perhaps with a suffix.
const GRPC: &[u8] = b"application/grpc";

/// The body of a refusal: what the server expected.
const REFUSAL: &str = "this is a gRPC server: requests must have content-type application/grpc \
                       (or application/grpc+proto, ...)\n";

/// Whether `content_type` names gRPC: `application/grpc`, then nothing, a `+` subtype or `;`
/// parameters.
pub fn is_grpc(content_type: Option<&HeaderValue>) -> bool {
    let Some(content_type) = content_type.map(HeaderValue::as_bytes) else {
        return false;
    };
    content_type
        .get(..GRPC.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(GRPC))
        && matches!(content_type.get(GRPC.len()), None | Some(b'+' | b';'))
}

/// Answers requests that are not gRPC with 415.
#[derive(Clone, Copy, Debug, Default)]
pub struct GrpcContentTypeLayer;

impl<S> Layer<S> for GrpcContentTypeLayer {
    type Service = GrpcContentType<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcContentType { inner }
    }
}

/// The service made by [`GrpcContentTypeLayer`].
#[derive(Clone, Debug)]
pub struct GrpcContentType<S> {
    inner: S,
}

pin_project! {
    /// A response body: the service's, or the refusal's text. Its own type rather than
    /// `http_body_util::Either`, which boxes every error and costs a conversion per frame.
    #[project = MaybeRefusedProj]
    pub enum MaybeRefused<B> {
        /// The service's body, untouched.
        Served {
            #[pin]
            body: B,
        },
        /// The refusal's text, until it is sent.
        Refused { text: Option<Bytes> },
    }
}

impl<B> http_body::Body for MaybeRefused<B>
where
    B: http_body::Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, B::Error>>> {
        match self.project() {
            MaybeRefusedProj::Served { body } => body.poll_frame(cx),
            MaybeRefusedProj::Refused { text } => {
                Poll::Ready(text.take().map(|text| Ok(http_body::Frame::data(text))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Served { body } => body.is_end_stream(),
            Self::Refused { text } => text.is_none(),
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self {
            Self::Served { body } => body.size_hint(),
            Self::Refused { text } => {
                http_body::SizeHint::with_exact(text.as_ref().map_or(0, |text| text.len() as u64))
            }
        }
    }
}

/// An accepted call's response, its body wrapped.
impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for GrpcContentType<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<MaybeRefused<ResBody>>;
    type Error = S::Error;
    type Future = ContentTypeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if is_grpc(request.headers().get(CONTENT_TYPE)) {
            ContentTypeFuture::Accepted {
                call: self.inner.call(request),
            }
        } else {
            ContentTypeFuture::Refused
        }
    }
}

pin_project! {
    /// The response future of [`GrpcContentType`]: the call's, or the refusal, made when
    /// polled (so the future is no larger than the call's). Its own type rather than
    /// `futures_util`'s `Either` and `MapOk`, whose function pointer the compiler cannot inline
    /// on a path every call takes.
    #[project = ContentTypeProj]
    pub enum ContentTypeFuture<F> {
        /// A gRPC request, being served.
        Accepted {
            #[pin]
            call: F,
        },
        /// Not gRPC: answered with 415.
        Refused,
    }
}

impl<F, B, E> Future for ContentTypeFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<MaybeRefused<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ContentTypeProj::Accepted { call } => call
                .poll(cx)
                .map_ok(|response| response.map(|body| MaybeRefused::Served { body })),
            ContentTypeProj::Refused => Poll::Ready(Ok(refusal())),
        }
    }
}

fn refusal<B>() -> Response<MaybeRefused<B>> {
    let mut response = Response::new(MaybeRefused::Refused {
        text: Some(Bytes::from_static(REFUSAL.as_bytes())),
    });
    *response.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(ACCEPT, HeaderValue::from_static("application/grpc"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_application_grpc_and_its_subtypes_are_grpc() {
        let grpc = |value: &'static str| is_grpc(Some(&HeaderValue::from_static(value)));
        for accepted in [
            "application/grpc",
            "application/grpc+proto",
            "application/grpc+json",
            "application/grpc;charset=utf-8",
            "Application/gRPC+proto",
        ] {
            assert!(grpc(accepted), "{accepted}");
        }
        for refused in [
            "text/plain",
            "application/json",
            "application/grpc-web",
            "application/grpc-web+proto",
            "application/grpcx",
            "application/grp",
            "",
            " application/grpc",
        ] {
            assert!(!grpc(refused), "{refused}");
        }
        assert!(!is_grpc(None));
    }

    #[test]
    fn the_refusal_is_plain_http_not_grpc() {
        let response = refusal::<()>();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(response.headers()[ACCEPT], "application/grpc");
        assert!(response.headers().get("grpc-status").is_none());
    }
}
