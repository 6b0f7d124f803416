//! What every HTTP route shares: one error shape ([`HttpError`]) and one way to read a
//! request body within its size and time limits ([`Body`], [`RawBody`]). A leaf, so the
//! server's own routes, Slack's and `/events` answer a bad request the same way.
//!
//! Every error a client sees is `{"error": {"code", "message"}}` with a fixed code and a
//! message that describes the request, never our internals; the whole cause chain goes to
//! the log. A body over the limit is the same 413 on every route, whether it announced its
//! length or not.

use std::borrow::Cow;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ErrorChain;

/// An error response: a status, a fixed code and a message for the client, and (for the
/// log only) its cause.
#[derive(Debug)]
pub struct HttpError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    cause: Option<Box<dyn std::error::Error + Send + Sync>>,
    headers: Vec<(HeaderName, HeaderValue)>,
    extra: Option<(&'static str, serde_json::Value)>,
}

impl HttpError {
    /// An error with `status`, the machine-readable `code` and the client's `message`.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            cause: None,
            headers: Vec::new(),
            extra: None,
        }
    }

    /// The same, with `cause` for the log (never shown to the client).
    #[must_use]
    pub fn because(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.cause = Some(Box::new(cause));
        self
    }

    /// The same, with a response header (`Retry-After`, `WWW-Authenticate`).
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The same, with one more field beside `error` in the body (so that nothing is lost:
    /// an answer that could not be spoken still goes back as text).
    #[must_use]
    pub fn field(mut self, key: &'static str, value: serde_json::Value) -> Self {
        self.extra = Some((key, value));
        self
    }

    /// A body larger than `limit` bytes: the one 413 of every route.
    #[must_use]
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
    }

    /// A body that did not arrive within `within`.
    #[must_use]
    pub fn body_slow(within: Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the request body did not arrive within {} ms",
                within.as_millis()
            ),
        )
    }

    /// A failure of ours: the client learns nothing more than that.
    #[must_use]
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side",
        )
    }

    /// The status the client gets.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The code the client gets.
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Why a body could not be read, `limit` being the route's size limit.
    #[must_use]
    pub fn from_rejection(rejection: BytesRejection, limit: usize) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::too_large(limit).because(rejection)
        } else {
            Self::new(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                "could not read the request body",
            )
            .because(rejection)
        }
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = self.status.as_u16();
        // What the client was told, and (for the log only) the whole cause chain behind it.
        let cause = self
            .cause
            .as_deref()
            .map_or_else(|| "-".to_owned(), |c| ErrorChain(c).to_string());
        let message = &*self.message;
        if self.status.is_server_error() {
            tracing::warn!(status, code = self.code, message, cause, "request failed");
        } else {
            tracing::info!(status, code = self.code, message, cause, "request rejected");
        }
        let mut body = serde_json::json!({
            "error": { "code": self.code, "message": self.message }
        });
        if let Some((key, value)) = self.extra {
            body[key] = value;
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// A request body's size limit and how long it may take to arrive. The server puts one in
/// every request's extensions; [`Body`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    pub bytes: usize,
    pub within: Duration,
}

/// The request body, within the limits in the request's [`BodyLimit`] (it may be empty:
/// Slack checks an empty body's signature like any other).
#[derive(Debug)]
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = req.extensions().get::<BodyLimit>().copied();
        let read = Bytes::from_request(req, state);
        // A client that stops sending mid-body is told so, in time for the answer.
        let read = match limit {
            Some(BodyLimit { within, .. }) => tokio::time::timeout(within, read)
                .await
                .map_err(|_| HttpError::body_slow(within))?,
            None => read.await,
        };
        let limit = limit.map_or(0, |l| l.bytes);
        read.map(Body)
            .map_err(|rejection| HttpError::from_rejection(rejection, limit))
    }
}

/// A non-empty request body within its limits, as raw bytes (what signatures cover).
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Body(bytes) = Body::from_request(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(HttpError::new(
                StatusCode::BAD_REQUEST,
                "empty_body",
                "the request body is empty",
            ));
        }
        Ok(RawBody(bytes))
    }
}
