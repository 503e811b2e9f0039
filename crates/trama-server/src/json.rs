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

/// The `{id}` of a route's path read as its id type: one that is not an id is 400
/// `invalid_parameter` naming the segment, before the handler runs. For routes with one path
/// segment to fill.
#[derive(Debug)]
pub struct PathId<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for PathId<T>
where
    T: trama_core::ids::Id,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let [(name, s)] = segments(parts).await?.try_into().map_err(|_| {
            tracing::error!(path = %parts.uri.path(), "PathId on a route without one segment");
            ApiError::Internal
        })?;
        T::parse_id(&name, &s)
            .map(PathId)
            .map_err(ApiError::InvalidParameter)
    }
}

/// The path's segments by name, in the route's order.
async fn segments(
    parts: &mut axum::http::request::Parts,
) -> Result<Vec<(String, String)>, ApiError> {
    <axum::extract::Path<Vec<(String, String)>> as axum::extract::FromRequestParts<()>>::from_request_parts(parts, &())
        .await
        .map(|p| p.0)
        .map_err(|e| ApiError::InvalidParameter(FieldError::new("id", e.body_text())))
}

/// The two ids of a route's path (`/people/{id}/budget/consent/{case_manager}`), each read as
/// its type and named by its segment when it is not an id.
#[derive(Debug)]
pub struct PathIds<A, B>(pub A, pub B);

impl<A, B, S> axum::extract::FromRequestParts<S> for PathIds<A, B>
where
    A: trama_core::ids::Id,
    B: trama_core::ids::Id,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let segments = segments(parts).await?;
        let [(a_name, a), (b_name, b)] = segments.as_slice() else {
            tracing::error!(path = %parts.uri.path(), "PathIds on a route without two segments");
            return Err(ApiError::Internal);
        };
        Ok(PathIds(
            A::parse_id(a_name, a).map_err(ApiError::InvalidParameter)?,
            B::parse_id(b_name, b).map_err(ApiError::InvalidParameter)?,
        ))
    }
}

/// A route that takes no query parameters: any is 400 `invalid_parameter` naming it (a typo
/// in a filter is told, not silently ignored).
#[derive(Debug)]
pub struct NoQuery;

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for NoQuery {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let first = parts
            .uri
            .query()
            .and_then(|q| form_urlencoded::parse(q.as_bytes()).next());
        match first {
            None => Ok(NoQuery),
            Some((k, _)) => Err(ApiError::InvalidParameter(FieldError::new(
                k.as_ref(),
                "this route takes no query parameters",
            ))),
        }
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
