//! Your data over JSON: export (`GET /api/me/export`) and erasure (`DELETE /api/me`), over
//! `super::service::{export, erase}`.

use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::policy::Writer;
use crate::policy::{Admitted, Policy, Routes, Scope, Who};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::service::{ErasureView, audit_own, erase, export};

pub fn routes() -> Routes {
    let own = Policy::new(Who::SignedIn, Scope::Own, "the person themself");
    Routes::api()
        .get("/me/export", export_api, own)
        .delete("/me", erase_api, own)
}

/// Everything Trama holds about me, as JSON (also the download on `/io/dati`).
#[utoipa::path(get, path = "/api/me/export", tag = "accounts", responses((status = 200, body = Object), (status = 401, body = ErrorEnvelope)))]
pub async fn export_api(
    State(state): State<AppState>,
    admitted: Admitted,
    _: crate::json::NoQuery,
) -> ApiResult<Json<Value>> {
    let p = admitted.principal();
    let doc = export(&state, p).await?;
    audit_own(&state, p, "privacy.export").await?;
    Ok(Json(doc))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// The account's password, to confirm.
    pub password: String,
}

/// Erases my account and personal data (GDPR Art. 17). The register's pseudonymous entries
/// stay, unlinkable; the accounting records of public money stay, reduced. Needs my password.
#[utoipa::path(delete, path = "/api/me", tag = "accounts", request_body = EraseRequest, responses((status = 200, body = ErasureView), (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn erase_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    req: Result<Json<EraseRequest>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<ErasureView>)> {
    let req = req.map_err(ApiError::from)?.0;
    Ok((StatusCode::OK, Json(erase(&state, p, &req.password).await?)))
}
