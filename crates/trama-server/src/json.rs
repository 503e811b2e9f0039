//! What every JSON handler shares: reading a body (its rejection is the envelope) and writing a
//! time.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use time::OffsetDateTime;
use trama_core::FieldError;

use crate::error::{ApiError, ApiResult};

/// A JSON body, or why it could not be read (turned into the envelope by [`body`]).
pub type JsonBody<T> = Result<Json<T>, JsonRejection>;

/// The body, or the envelope naming what is wrong with it.
pub fn body<T>(b: JsonBody<T>) -> ApiResult<T> {
    Ok(b.map_err(ApiError::from)?.0)
}

/// A field of the body that does not hold.
pub fn invalid(e: FieldError) -> ApiError {
    ApiError::InvalidBody(e)
}

/// An instant as RFC 3339, the way every JSON answer writes it.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("formattable: years 0..=9999, offsets in whole minutes")
}

/// A field of the body that does not hold, by name and reason.
pub fn invalid_field(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError::InvalidBody(FieldError::new(field, reason))
}
