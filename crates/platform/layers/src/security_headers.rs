//! The security headers of every web app response: a Content-Security-Policy that lets a page
//! run no script, carry no inline style and load nothing but its own site's stylesheet and
//! icon, `X-Content-Type-Options: nosniff`, `Referrer-Policy` and `X-Frame-Options`.
//!
//! On every response, not only HTML: `nosniff` matters most on the others — it is what stops a
//! browser from reading a JSON or plain-text body that quotes its input as a page — and a
//! policy that allows nothing costs a JSON answer nothing. One rule also leaves no route, error
//! or status to forget. A response that already carries one of these headers keeps its own, so
//! a route with other needs can say so where it is.
//!
//! The policy is what the pages need and no more. The web apps' pages are documents with inline
//! SVG, links and a form to themselves, a favicon and a stylesheet from their own site, and no
//! script; no page carries inline style — no `<style>` block, no `style` attribute (a cover's
//! colour is drawn in its SVG) — since each app serves its stylesheet from a URL of its own, named
//! by the hash of its content so browsers keep it for good. So `default-src 'none'`, with `img-src
//! 'self'` for the favicon (browsers that apply the policy to it would otherwise refuse it and
//! report an error) and `style-src 'self'` for the stylesheet: no inline style at all, so markup
//! injected into a page could not restyle it either (to hide the page under a forged one, say).
//! `frame-ancestors 'none'` and its older spelling `X-Frame-Options: DENY` keep pages out of frames
//! (clickjacking); `base-uri 'none'` keeps an injected `<base>` from moving relative links;
//! `form-action 'self'` keeps any form posting to this site only. One policy for every web app: an
//! app whose page needed more would say so on its own responses (see above), where it shows, rather
//! than loosen everyone's.
//!
//! Written here rather than built from tower-http's `SetResponseHeaderLayer` (one per header):
//! that would wrap the response future four times and look each header up twice (is it there?
//! then insert), growing the header map on the way; this makes room once and looks each up once.
//! It runs on every page: about 1,200 instructions of each (`bench/callgrind-homepage.sh`,
//! BENCHMARKS.md), most of it the header map growing to take the four headers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

/// The Content-Security-Policy of every response.
const POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Every security header and its value.
const HEADERS: [(HeaderName, HeaderValue); 4] = [
    (CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)),
    (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
];

/// Adds the security headers to every response that does not carry them already.
#[derive(Clone, Copy, Debug, Default)]
pub struct SecurityHeadersLayer;

impl<S> Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SecurityHeaders { inner }
    }
}

/// A service inside [`SecurityHeadersLayer`].
#[derive(Clone, Debug)]
pub struct SecurityHeaders<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SecurityHeaders<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = SecurityHeadersFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        SecurityHeadersFuture {
            inner: self.inner.call(request),
        }
    }
}

pin_project! {
    /// The response future of [`SecurityHeaders`].
    pub struct SecurityHeadersFuture<F> {
        #[pin]
        inner: F,
    }
}

impl<F, B, E> Future for SecurityHeadersFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut response = std::task::ready!(self.project().inner.poll(cx))?;
        add_security_headers(response.headers_mut());
        Poll::Ready(Ok(response))
    }
}

/// Adds each security header `headers` lacks.
fn add_security_headers(headers: &mut HeaderMap) {
    headers.reserve(HEADERS.len());
    for (name, value) in HEADERS {
        headers.entry(name).or_insert(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_what_is_missing_and_keeps_what_a_route_set() {
        let mut headers = HeaderMap::new();
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        add_security_headers(&mut headers);
        assert_eq!(headers[CONTENT_SECURITY_POLICY], POLICY);
        assert_eq!(headers[X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[X_FRAME_OPTIONS], "DENY");
        assert_eq!(
            headers[REFERRER_POLICY], "same-origin",
            "a route's own value is kept"
        );
        assert_eq!(headers.len(), 4);
    }

    #[test]
    fn the_policy_loads_no_script_and_images_and_styles_only_from_the_site() {
        let directives: Vec<&str> = POLICY.split("; ").collect();
        assert_eq!(directives[0], "default-src 'none'");
        assert!(directives.contains(&"img-src 'self'"), "{POLICY}");
        assert!(directives.contains(&"style-src 'self'"), "{POLICY}");
        assert!(
            !POLICY.contains("script-src") && !POLICY.contains('*'),
            "{POLICY}"
        );
        assert!(
            !POLICY.contains("'unsafe-") && !POLICY.contains("data:"),
            "nothing inline, nothing from a data: URL: {POLICY}"
        );
    }
}
