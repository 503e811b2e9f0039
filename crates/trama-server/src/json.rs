//! What every JSON handler shares: reading a body (its rejection is the envelope) and writing a
//! time.

use axum::Json;
use time::OffsetDateTime;
use trama_core::FieldError;

use crate::error::ApiError;

/// A JSON body read as `T`; one that cannot be is the envelope naming what is wrong (the
/// handler does not run).
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(v) = Json::<T>::from_request(req, state).await?;
        Ok(Body(v))
    }
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
