//! Compression of large list responses (gzip or brotli, as the client's `Accept-Encoding`
//! asks), with tower-http's `Compression` around the adapter's service, so both adapters
//! compress alike.
//!
//! Only responses an endpoint marks [`Compressible`] (pages of tasks) and larger than
//! [`MIN_SIZE`] are compressed: below about one packet there is nothing to gain, and single
//! tasks keep their strong version `ETag`, which `If-Match` compares strongly. A compressed
//! response's `ETag` is made weak (as nginx does): its bytes are not those the tag was computed
//! over, and `If-None-Match` compares weakly, so revalidation keeps working.

use std::task::{Context, Poll};

use http::header::{CONTENT_ENCODING, ETAG, HeaderValue};
use http::{HeaderMap, Request, Response};
use tower_http::compression::predicate::{And, Predicate, SizeAbove};
use tower_http::compression::{CompressionBody, CompressionLevel};
use tower_service::Service;

pub use crate::endpoints::Compressible;

/// Smallest body compressed, in bytes.
pub const MIN_SIZE: u16 = 1024;

/// Whether a response is marked [`Compressible`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Marked;

impl Predicate for Marked {
    fn should_compress<B>(&self, response: &Response<B>) -> bool
    where
        B: http_body::Body,
    {
        response.extensions().get::<Compressible>().is_some()
    }
}

/// Compresses what [`Compressible`] marks, above [`MIN_SIZE`], at the fastest level, and makes
/// the `ETag` of a compressed response weak.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompressionLayer;

impl CompressionLayer {
    /// The layer.
    pub const fn new() -> Self {
        Self
    }
}

impl<S> tower_layer::Layer<S> for CompressionLayer {
    type Service = Compression<S>;

    fn layer(&self, inner: S) -> Self::Service {
        // The fastest level: JSON pages still shrink several times, for a fraction of the CPU
        // of the default levels (brotli's default would cost more than the whole request).
        let compressed = tower_http::compression::Compression::new(inner)
            .quality(CompressionLevel::Fastest)
            .compress_when(SizeAbove::new(MIN_SIZE).and(Marked));
        Compression { inner: compressed }
    }
}

/// The service of [`CompressionLayer`].
#[derive(Clone)]
pub struct Compression<S> {
    inner: tower_http::compression::Compression<S, And<SizeAbove, Marked>>,
}

impl<S> std::fmt::Debug for Compression<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compression").finish_non_exhaustive()
    }
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for Compression<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Future: Send + 'static,
    ResB: http_body::Body + Send + 'static,
{
    type Response = Response<CompressionBody<ResB>>;
    type Error = S::Error;
    type Future = futures_util::future::BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        let future = self.inner.call(request);
        Box::pin(async move {
            let mut response = future.await?;
            weaken_etag(response.headers_mut());
            Ok(response)
        })
    }
}

/// Turns a strong `ETag` weak on a response sent with a content coding.
pub fn weaken_etag(headers: &mut HeaderMap) {
    if !headers.contains_key(CONTENT_ENCODING) {
        return;
    }
    let weak = headers
        .get(ETAG)
        .and_then(|tag| tag.to_str().ok())
        .filter(|tag| tag.starts_with('"'))
        .and_then(|tag| HeaderValue::from_str(&format!("W/{tag}")).ok());
    if let Some(weak) = weak {
        headers.insert(ETAG, weak);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_coded_responses_get_a_weak_tag() {
        let mut plain = HeaderMap::new();
        plain.insert(ETAG, HeaderValue::from_static("\"abc\""));
        weaken_etag(&mut plain);
        assert_eq!(plain[ETAG], "\"abc\"");
        let mut coded = plain.clone();
        coded.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        weaken_etag(&mut coded);
        assert_eq!(coded[ETAG], "W/\"abc\"");
        weaken_etag(&mut coded);
        assert_eq!(coded[ETAG], "W/\"abc\"", "already weak stays as it is");
    }
}
