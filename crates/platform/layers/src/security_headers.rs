//! The security headers of every web app response: a Content-Security-Policy that lets a page
//! run no script and load nothing, `X-Content-Type-Options: nosniff`, `Referrer-Policy` and
//! `X-Frame-Options`.
//!
//! On every response, not only HTML: `nosniff` matters most on the others — it is what stops a
//! browser from reading a JSON or plain-text body that quotes its input as a page — and a
//! policy that allows nothing costs a JSON answer nothing. One rule also leaves no route, error
//! or status to forget. A response that already carries one of these headers keeps its own, so
//! a route with other needs can say so where it is.
//!
//! The policy is what the pages need and no more: the pages (the marketplace's templates) are
//! one document with an inline `<style>` block, links to themselves, no script, no image, no
//! form. So `default-src 'none'` with `style-src 'unsafe-inline'` alone: styles cannot run
//! script, and every value on a page is escaped by askama. (A hash of the style block would be
//! tighter, but would tie this policy, which every web app shares, to one template of one app,
//! and a page whose style was edited would quietly lose it.) `frame-ancestors 'none'` and its
//! older spelling `X-Frame-Options: DENY` keep pages out of frames (clickjacking);
//! `base-uri 'none'` keeps an injected `<base>` from moving relative links; `form-action 'self'`
//! keeps any form posting to this site only.
//!
//! Built from tower-http's `SetResponseHeaderLayer`, one per header: its many-headers layer
//! copies its list into every response future, an allocation per request, where these copy a
//! static value each.

use http::HeaderValue;
use http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use tower::Layer;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

/// The Content-Security-Policy of every response.
const POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to every response that does not carry them already.
#[derive(Clone, Copy, Debug, Default)]
pub struct SecurityHeadersLayer;

/// A service inside [`SecurityHeadersLayer`]: one header set by each wrapper.
pub(crate) type SecurityHeaders<S> = SetResponseHeader<
    SetResponseHeader<
        SetResponseHeader<SetResponseHeader<S, HeaderValue>, HeaderValue>,
        HeaderValue,
    >,
    HeaderValue,
>;

impl<S> Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        let set = |name, value| SetResponseHeaderLayer::if_not_present(name, value);
        let inner = set(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)).layer(inner);
        let inner = set(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")).layer(inner);
        let inner = set(REFERRER_POLICY, HeaderValue::from_static("no-referrer")).layer(inner);
        set(X_FRAME_OPTIONS, HeaderValue::from_static("DENY")).layer(inner)
    }
}
