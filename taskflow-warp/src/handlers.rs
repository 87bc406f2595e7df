//! What the dispatch needs of warp: the request body read within the limit, the response
//! rendered as axum renders its own, and the safety net that turns any rejection into the
//! problem the axum adapter would answer.

use futures_util::{Stream, StreamExt as _};
use taskflow_core::error::ErrorCode;
use taskflow_http::endpoints::ops;
use taskflow_http::headers::{request_id, set_common_headers};
use taskflow_http::{App, Problem, cors};
use warp::http::header::CONTENT_LENGTH;
use warp::http::{HeaderMap, Method};
use warp::{Buf, Rejection};

/// What every handler answers.
pub(crate) type Response = warp::reply::Response;

/// A request body not read yet: warp's stream of chunks, read within the limit by the
/// handlers that take a body.
pub(crate) trait Body: Stream<Item = Result<Self::Chunk, warp::Error>> + Send {
    /// A chunk of the body.
    type Chunk: Buf + Send;
}

impl<S, B> Body for S
where
    S: Stream<Item = Result<B, warp::Error>> + Send,
    B: Buf + Send,
{
    type Chunk = B;
}

/// The warp response of a rendered one. As axum does for routed responses, `Content-Length`
/// is set from the body and a `HEAD` answer keeps the headers of the `GET` one without its body.
pub(crate) fn render(method: &Method, mut response: warp::http::Response<Vec<u8>>) -> Response {
    let length = response.body().len();
    response
        .headers_mut()
        .entry(CONTENT_LENGTH)
        .or_insert_with(|| length.into());
    if method == Method::HEAD {
        response.body_mut().clear();
    }
    response.map(Into::into)
}

/// Reads the body within the configured limit; over it (declared or streamed), the 413
/// problem. A body that cannot be read is answered as the axum adapter does
/// ([`ops::unreadable_body`]: 408 past the shared server's body read deadline, else 413).
pub(crate) async fn read_body(
    app: &App,
    declared: Option<u64>,
    body: impl Body,
) -> Result<Vec<u8>, Problem> {
    let limit = app.settings().body_limit;
    if declared.is_some_and(|length| length > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return Err(ops::payload_too_large(app));
    }
    let mut body = std::pin::pin!(body);
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|e| ops::unreadable_body(app, &e))?;
        let chunk = chunk.copy_to_bytes(chunk.remaining());
        if bytes.len() + chunk.len() > limit {
            return Err(ops::payload_too_large(app));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The safety net: any rejection that got past the dispatch (none does, as the filter is
/// built) as the problem the axum adapter would answer. The request is gone by then, so the
/// request id is a fresh one (the same in the body and the header), there is no CORS grant,
/// no `Allow` on a 405 and no metric.
pub(crate) fn rejection(app: &App, rejection: &Rejection) -> Response {
    render(&Method::GET, rejection_problem(app, rejection))
}

/// The answer of [`rejection`], before warp takes it.
fn rejection_problem(app: &App, rejection: &Rejection) -> warp::http::Response<Vec<u8>> {
    let problem = problem_of(app, rejection);
    let id = request_id(&HeaderMap::new());
    let mut response = problem.into_response(&id);
    set_common_headers(response.headers_mut(), &id, app.settings().hsts);
    cors::decorate(app, &HeaderMap::new(), response.headers_mut());
    response
}

/// The problem for a warp rejection, warp's built-in ones included.
fn problem_of(app: &App, rejection: &Rejection) -> Problem {
    use warp::reject::{
        InvalidHeader, InvalidQuery, LengthRequired, MethodNotAllowed, MissingHeader,
        PayloadTooLarge, UnsupportedMediaType,
    };
    if rejection.is_not_found() {
        ops::route_not_found()
    } else if rejection.find::<MethodNotAllowed>().is_some() {
        Problem::new(
            ErrorCode::MethodNotAllowed,
            "This method is not allowed here.",
        )
    } else if rejection.find::<PayloadTooLarge>().is_some()
        || rejection.find::<LengthRequired>().is_some()
    {
        ops::payload_too_large(app)
    } else if rejection.find::<UnsupportedMediaType>().is_some() {
        Problem::new(
            ErrorCode::UnsupportedMediaType,
            "The body must be application/json.",
        )
    } else if rejection.find::<InvalidQuery>().is_some() {
        Problem::new(ErrorCode::InvalidQuery, "The query string is invalid.")
    } else if rejection
        .find::<warp::body::BodyDeserializeError>()
        .is_some()
        || rejection.find::<MissingHeader>().is_some()
        || rejection.find::<InvalidHeader>().is_some()
    {
        Problem::new(ErrorCode::InvalidBody, "The request cannot be read.")
    } else {
        Problem::new(ErrorCode::Internal, "An internal error occurred.")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use taskflow_http::Stores;

    use super::*;

    fn app() -> App {
        App::builder(Stores::memory())
            .ephemeral_secret()
            .build()
            .unwrap()
    }

    /// The safety net's answer to `rejection`: status and code, once the checks every answer
    /// passes are done.
    fn answer(rejection: &Rejection) -> (u16, String) {
        let response = rejection_problem(&app(), rejection);
        let headers = response.headers();
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["vary"], "Origin");
        let body: Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(
            body["request_id"],
            headers["x-request-id"].to_str().unwrap()
        );
        assert_eq!(body["status"], response.status().as_u16());
        let code = body["code"].as_str().unwrap().to_owned();
        (response.status().as_u16(), code)
    }

    #[test]
    fn not_found_is_route_not_found() {
        assert_eq!(
            answer(&warp::reject::not_found()),
            (404, "route_not_found".into())
        );
    }

    #[tokio::test]
    async fn warps_own_rejections_become_the_contracts_problems() {
        let post = warp::test::request().method("POST").path("/");
        let wrong_method = post.filter(&warp::get()).await.err().unwrap();
        assert_eq!(answer(&wrong_method), (405, "method_not_allowed".into()));

        let no_length = warp::test::request().method("POST");
        let length_required = no_length
            .filter(&warp::body::content_length_limit(10))
            .await
            .err()
            .unwrap();
        assert_eq!(answer(&length_required), (413, "payload_too_large".into()));

        let big = warp::test::request().method("POST").body("x".repeat(20));
        let too_large = big
            .filter(&warp::body::content_length_limit(10))
            .await
            .err()
            .unwrap();
        assert_eq!(answer(&too_large), (413, "payload_too_large".into()));

        let text = warp::test::request()
            .method("POST")
            .header("content-type", "text/plain")
            .body("{}");
        let media = text
            .filter(&warp::body::json::<Value>())
            .await
            .err()
            .unwrap();
        assert_eq!(answer(&media), (415, "unsupported_media_type".into()));

        let empty = warp::test::request()
            .method("POST")
            .header("content-type", "application/json");
        let missing_body = empty
            .filter(&warp::body::json::<Value>())
            .await
            .err()
            .unwrap();
        assert_eq!(answer(&missing_body), (400, "invalid_body".into()));

        let no_query = warp::test::request().path("/api/v1/tasks");
        let query = no_query.filter(&warp::query::raw()).await.err().unwrap();
        assert_eq!(answer(&query), (400, "invalid_query".into()));
    }
}
