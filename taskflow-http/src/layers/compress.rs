//! Compression of large list responses (gzip or brotli, as the client's `Accept-Encoding`
//! asks), with tower-http's `Compression` around the adapter's service, so both adapters
//! compress alike.
//!
//! Only responses an endpoint marks [`Compressible`] (pages of tasks) and larger than
//! [`MIN_SIZE`] are compressed: below about one packet there is nothing to gain, and single
//! tasks keep their strong version `ETag`, which `If-Match` compares strongly. A compressed
//! response's `ETag` is made weak (as nginx does): its bytes are not those the tag was computed
//! over, and `If-None-Match` compares weakly, so revalidation keeps working.

use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, ETAG, HeaderValue};
use http::{HeaderMap, Request, Response};
use http_body_util::Either;
use tower_http::compression::predicate::{Predicate, SizeAbove};
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
        Compression { inner }
    }
}

/// The service of [`CompressionLayer`].
#[derive(Debug, Clone)]
pub struct Compression<S> {
    inner: S,
}

/// The body of a response of [`Compression`]: the inner service's as it was, or compressed.
///
/// The compressed body is boxed: tower-http's body holds every encoder's state inline
/// (kilobytes, brotli's above all), and a response is moved through every layer and into the
/// connection, so inline it would cost each response, compressed or not, copies of that size.
pub type CompressedBody<B> = Either<B, Pin<Box<CompressionBody<B>>>>;

impl<S, ReqB, ResB> Service<Request<ReqB>> for Compression<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Future: Send + 'static,
    ResB: http_body::Body + Send + 'static,
{
    type Response = Response<CompressedBody<ResB>>;
    type Error = S::Error;
    type Future = futures_util::future::BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        let accept = request.headers().get(ACCEPT_ENCODING).cloned();
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            let worth_it = Marked.should_compress(&response)
                && SizeAbove::new(MIN_SIZE).should_compress(&response);
            Ok(if worth_it {
                compress(response, accept).await
            } else {
                response.map(Either::Left)
            })
        })
    }
}

/// `response`, which is worth compressing, compressed by tower-http as the client's
/// `Accept-Encoding` (`accept`) asks: it negotiates the coding and sets the headers
/// (`Vary: Accept-Encoding` even when the client takes no coding), or leaves the body alone;
/// a compressed response's `ETag` made weak.
async fn compress<B>(
    response: Response<B>,
    accept: Option<HeaderValue>,
) -> Response<CompressedBody<B>>
where
    B: http_body::Body + Send + 'static,
{
    // tower-http negotiates on a request and compresses its service's response: a service that
    // answers with the response already made.
    let mut answer = Some(response);
    let mut compressor =
        tower_http::compression::Compression::new(tower::service_fn(move |_: Request<()>| {
            std::future::ready(answer.take().ok_or("the response was already taken"))
        }))
        .quality(CompressionLevel::Fastest);
    let mut request = Request::new(());
    if let Some(accept) = accept {
        request.headers_mut().insert(ACCEPT_ENCODING, accept);
    }
    let Ok(compressed) = compressor.call(request).await else {
        unreachable!("called once, with the response in hand")
    };
    let mut compressed = compressed.map(|body| Either::Right(Box::pin(body)));
    weaken_etag(compressed.headers_mut());
    compressed
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
