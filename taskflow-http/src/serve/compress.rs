//! Compression of large list responses (gzip or brotli, as the client's `Accept-Encoding`
//! asks), with tower-http's `Compression` around the adapter's service, so both adapters
//! compress alike.
//!
//! Only responses an endpoint marks [`Compressible`] (pages of tasks) and larger than
//! [`MIN_SIZE`] are compressed: below about one packet there is nothing to gain, and single
//! tasks keep their strong version `ETag`, which `If-Match` compares strongly. A compressed
//! response's `ETag` is made weak (as nginx does): its bytes are not those the tag was computed
//! over, and `If-None-Match` compares weakly, so revalidation keeps working.

use http::header::{CONTENT_ENCODING, ETAG, HeaderValue};
use http::{Extensions, HeaderMap, StatusCode, Version};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{Compression, CompressionLevel};

/// The response extension by which an endpoint asks for compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compressible;

/// Smallest body compressed, in bytes.
pub const MIN_SIZE: u16 = 1024;

/// `service` compressing what [`Compressible`] marks, above [`MIN_SIZE`].
pub(super) fn compressed<S>(service: S) -> Compression<S, impl Predicate + Send + Sync> {
    let marked: fn(StatusCode, Version, &HeaderMap, &Extensions) -> bool =
        |_, _, _, extensions| extensions.get::<Compressible>().is_some();
    // The fastest level: JSON pages still shrink several times, for a fraction of the CPU of
    // the default levels (brotli's default would cost more than the whole request).
    Compression::new(service)
        .quality(CompressionLevel::Fastest)
        .compress_when(SizeAbove::new(MIN_SIZE).and(marked))
}

/// Turns a strong `ETag` weak on a response sent with a content coding.
pub(super) fn weaken_etag(headers: &mut HeaderMap) {
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
