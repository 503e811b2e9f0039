//! The one place where errors become HTTP responses.
//!
//! Policy: every API error is `{"error": {"code": "...", "message": "...", "field": "..."}}`.
//! `code` is stable (clients branch on it; the table is in docs/API.md), `message` is for people
//! and names the field at fault, `field` is present when one field is at fault. Client mistakes
//! are 4xx; a 5xx means a fault of ours, is logged with its whole chain of causes, and tells the
//! client nothing about internals.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use trama_core::{CoreError, FieldError};
use trama_store::StoreError;

use crate::service_error::ServiceError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// A query or path parameter that does not parse or is out of range.
    #[error("{0}")]
    InvalidParameter(FieldError),
    /// A body that parses but breaks a rule.
    #[error("{0}")]
    InvalidBody(FieldError),
    /// A body that is not JSON at all.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("expected Content-Type: {0}")]
    UnsupportedMediaType(&'static str),
    #[error("the request body is larger than this server accepts")]
    PayloadTooLarge,
    #[error("the address (path and query) is longer than this server accepts")]
    UriTooLong,
    #[error("sign in first")]
    Unauthenticated,
    #[error("wrong e-mail or password")]
    BadCredentials,
    /// The right password for an account whose address is not confirmed yet.
    #[error("confirm your e-mail address first: follow the link we sent you")]
    Unverified,
    #[error("{0}")]
    Forbidden(String),
    #[error("the form or request is missing its CSRF token, or it does not match")]
    CsrfFailed,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(FieldError),
    /// A reference to something that does not exist, inside a body.
    #[error("{0}")]
    InvalidReference(FieldError),
    #[error("too many attempts; try again in {0} seconds")]
    RateLimited(u64),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("the server could not complete the request")]
    Internal,
    #[error("the database is not reachable")]
    Unavailable,
}

/// The error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What went wrong, for people, naming the field at fault.
    pub message: String,
    /// The field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidParameter(_) | ApiError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            ApiError::InvalidBody(_) | ApiError::InvalidReference(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UriTooLong => StatusCode::URI_TOO_LONG,
            ApiError::Unauthenticated | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::CsrfFailed | ApiError::Unverified => {
                StatusCode::FORBIDDEN
            }
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable code (the table in docs/API.md).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidParameter(_) => "invalid_parameter",
            ApiError::InvalidBody(_) => "invalid_body",
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UriTooLong => "uri_too_long",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::BadCredentials => "bad_credentials",
            ApiError::Unverified => "unverified",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::CsrfFailed => "csrf_failed",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::InvalidReference(_) => "invalid_reference",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Internal => "internal",
            ApiError::Unavailable => "unavailable",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::InvalidParameter(f)
            | ApiError::InvalidBody(f)
            | ApiError::Conflict(f)
            | ApiError::InvalidReference(f) => Some(&f.field),
            _ => None,
        }
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        ApiError::NotFound(format!("no {what} with id {id}"))
    }

    pub fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope {
            error: ErrorBody {
                code: self.code(),
                message: self.to_string(),
                field: self.field().map(str::to_string),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status(), Json(self.envelope())).into_response();
        if let ApiError::RateLimited(secs) = self
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

/// A parameter, a domain or a store error reads as the service's error does (one mapping).
macro_rules! through_service_error {
    ($($t:ty),*) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                ServiceError::from(e).into()
            }
        }
    )*};
}
through_service_error!(FieldError, CoreError, StoreError);

/// A service's failure, as HTTP: each variant is the `ApiError` of the same name.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::InvalidParameter(f) => ApiError::InvalidParameter(f),
            ServiceError::InvalidBody(f) => ApiError::InvalidBody(f),
            ServiceError::Unauthenticated => ApiError::Unauthenticated,
            ServiceError::BadCredentials => ApiError::BadCredentials,
            ServiceError::Unverified => ApiError::Unverified,
            ServiceError::Forbidden(m) => ApiError::Forbidden(m),
            ServiceError::NotFound(m) => ApiError::NotFound(m),
            ServiceError::Conflict(f) => ApiError::Conflict(f),
            ServiceError::InvalidReference(f) => ApiError::InvalidReference(f),
            ServiceError::RateLimited(s) => ApiError::RateLimited(s),
            ServiceError::Internal => ApiError::Internal,
            ServiceError::Unavailable => ApiError::Unavailable,
        }
    }
}

/// Logs an error with every cause in its chain.
pub fn log_chain(e: &dyn std::error::Error) {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    tracing::error!(error = %msg, "request failed");
}

impl From<crate::register::log::RegisterError> for ApiError {
    fn from(e: crate::register::log::RegisterError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => {
                // serde's message names the path: "services[0].name: missing field `name`".
                let text = e.body_text();
                let detail = text.trim_start_matches(
                    "Failed to deserialize the JSON body into the target type: ",
                );
                // At the top level serde names no path: "missing field `amount` at line 1
                // column 9" names the field in its words.
                let field = detail
                    .split(':')
                    .next()
                    .filter(|p| !p.contains(' '))
                    .or_else(|| {
                        (detail.starts_with("missing field")
                            || detail.starts_with("duplicate field"))
                        .then(|| named_field(detail))
                        .flatten()
                    })
                    .unwrap_or("body")
                    .to_string();
                // The envelope names the field once: "a: unknown field", not "a: a: ...".
                let reason = detail
                    .strip_prefix(&format!("{field}: "))
                    .unwrap_or(detail)
                    .to_string();
                ApiError::InvalidBody(FieldError::new(field, reason))
            }
            JsonRejection::JsonSyntaxError(e) => ApiError::MalformedJson(
                e.body_text()
                    .trim_start_matches("Failed to parse the request body as JSON: ")
                    .to_string(),
            ),
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::UnsupportedMediaType("application/json")
            }
            JsonRejection::BytesRejection(e) => {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::MalformedJson(e.body_text())
                }
            }
            other => ApiError::MalformedJson(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        rejection(StatusCode::BAD_REQUEST, &r.body_text()).unwrap_or(ApiError::InvalidParameter(
            FieldError::new("query", r.body_text()),
        ))
    }
}

/// The field a serde message names (`unknown field `k`, expected ...`, `missing field `x``).
fn named_field(text: &str) -> Option<&str> {
    let rest = &text[text.find("field `")? + "field `".len()..];
    let name = &rest[..rest.find('`')?];
    (!name.is_empty() && name.len() <= 64).then_some(name)
}

/// The error a plain-text rejection of the framework stands for (an extractor that failed
/// before the handler ran: a query string that does not fit, a bad path, a body of the wrong
/// type), so that `/api` and `/hsds` answer every client mistake with the envelope. `None`
/// for statuses with no code of ours; those are left as they are.
pub fn rejection(status: StatusCode, text: &str) -> Option<ApiError> {
    let text = text.trim();
    Some(match status {
        StatusCode::BAD_REQUEST => {
            if let Some(detail) = text.strip_prefix("Failed to deserialize query string:") {
                let detail = detail.trim();
                let field = named_field(detail).unwrap_or("query");
                ApiError::InvalidParameter(FieldError::new(field, format!("query: {detail}")))
            } else if let Some(detail) = text.strip_prefix("Invalid URL:") {
                ApiError::InvalidParameter(FieldError::new("path", detail.trim().to_string()))
            } else if text.starts_with("Failed to parse the request body") {
                ApiError::MalformedJson(text.to_string())
            } else {
                let message = if text.is_empty() {
                    "the request is not one this server understands"
                } else {
                    text
                };
                ApiError::InvalidParameter(FieldError::new("request", message.to_string()))
            }
        }
        StatusCode::UNAUTHORIZED => ApiError::Unauthenticated,
        StatusCode::FORBIDDEN => ApiError::Forbidden(if text.is_empty() {
            "not allowed".into()
        } else {
            text.to_string()
        }),
        StatusCode::NOT_FOUND => ApiError::NotFound(if text.is_empty() {
            "not found".into()
        } else {
            text.to_string()
        }),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::URI_TOO_LONG => ApiError::UriTooLong,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType("application/json"),
        StatusCode::UNPROCESSABLE_ENTITY => {
            let detail = text
                .trim_start_matches("Failed to deserialize the JSON body into the target type:")
                .trim();
            let field = named_field(detail).unwrap_or("body");
            ApiError::InvalidBody(FieldError::new(field, detail.to_string()))
        }
        StatusCode::SERVICE_UNAVAILABLE => ApiError::Unavailable,
        StatusCode::INTERNAL_SERVER_ERROR => ApiError::Internal,
        _ => return None,
    })
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::InvalidParameter(FieldError::new("path", r.body_text()))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_mistakes_are_4xx_and_codes_are_unique() {
        let f = || FieldError::new("x", "y");
        let client = [
            ApiError::InvalidParameter(f()),
            ApiError::InvalidBody(f()),
            ApiError::MalformedJson("m".into()),
            ApiError::UnsupportedMediaType("application/json"),
            ApiError::PayloadTooLarge,
            ApiError::UriTooLong,
            ApiError::Unauthenticated,
            ApiError::BadCredentials,
            ApiError::Unverified,
            ApiError::Forbidden("f".into()),
            ApiError::CsrfFailed,
            ApiError::NotFound("n".into()),
            ApiError::Conflict(f()),
            ApiError::InvalidReference(f()),
            ApiError::RateLimited(3),
            ApiError::MethodNotAllowed,
        ];
        let server = [ApiError::Internal, ApiError::Unavailable];
        for e in &client {
            assert!(e.status().is_client_error(), "{e:?}");
        }
        for e in &server {
            assert!(e.status().is_server_error(), "{e:?}");
        }
        let mut codes: Vec<&str> = client.iter().chain(&server).map(|e| e.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), client.len() + server.len(), "codes are unique");
        let e = rejection(
            StatusCode::BAD_REQUEST,
            "Failed to deserialize query string: unknown field `kk`, expected `scope`",
        )
        .unwrap();
        assert_eq!((e.code(), e.field()), ("invalid_parameter", Some("kk")));
        let e = rejection(
            StatusCode::BAD_REQUEST,
            "Failed to deserialize query string: invalid digit found in string",
        )
        .unwrap();
        assert_eq!(e.field(), Some("query"));
        assert_eq!(
            rejection(StatusCode::URI_TOO_LONG, "").unwrap().code(),
            "uri_too_long"
        );
        assert!(rejection(StatusCode::IM_A_TEAPOT, "").is_none());
        assert_eq!(
            ApiError::InvalidParameter(f())
                .envelope()
                .error
                .field
                .as_deref(),
            Some("x")
        );
    }
}
