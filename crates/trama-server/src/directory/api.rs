//! Writing the directory over JSON (`/api/services`); reading it is HSDS (`super::hsds`).

use crate::directory::service::remove_service;
use crate::directory::service::save_service;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::json::Body;
use crate::json::PathId;
use crate::policy::Writer;
use crate::policy::{self, Policy, Routes, Scope, Who};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;
use trama_core::FieldError;
use trama_core::hsds::Service;
use trama_core::ids::ServiceId;
use uuid::Uuid;

/// Gives every entity in a posted HSDS document that lacks an `id` a fresh one, so clients may
/// leave them out when creating.
pub fn routes() -> Routes {
    let editors = Policy::new(
        Who::Roles(policy::EDITORS),
        Scope::Organisation,
        "the admins of the service's organisation; the territory admin",
    );
    Routes::api()
        .post("/services", create_service, editors)
        .put("/services/{id}", update_service, editors)
        .delete("/services/{id}", delete_service, editors)
}

pub fn fill_missing_ids(v: &mut Value) {
    fn walk(v: &mut Value, entity: bool) {
        match v {
            Value::Object(m) => {
                if entity && !m.contains_key("id") {
                    m.insert("id".into(), Value::String(Uuid::now_v7().to_string()));
                }
                for (_, child) in m.iter_mut() {
                    walk(child, true);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, true)),
            _ => {}
        }
    }
    walk(v, true);
}

pub(crate) fn parse_service(mut v: Value) -> ApiResult<Service> {
    fill_missing_ids(&mut v);
    serde_json::from_value::<Service>(v)
        .map_err(|e| ApiError::InvalidBody(FieldError::new("body", e.to_string())))
}

/// Create a service of an organisation you administer (an HSDS service document; ids may be left out).
#[utoipa::path(post, path = "/api/services", tag = "provider", request_body(content = Object, description = "An HSDS 3.0 service"),
    responses((status = 201, description = "The stored service, fully nested"), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_service(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    Body(v): Body<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let s = parse_service(v)?;
    let s = save_service(&state, p, s, None).await?;
    let d = super::service::get_service(&state, ServiceId(s.id))
        .await?
        .ok_or(ApiError::Internal)?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(d.service).expect("serialisable")),
    ))
}

/// Replace a service of an organisation you administer.
#[utoipa::path(put, path = "/api/services/{id}", tag = "provider", params(("id" = String, Path)), request_body(content = Object, description = "An HSDS 3.0 service"),
    responses((status = 200, description = "The stored service, fully nested"), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn update_service(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(sid): PathId<ServiceId>,
    v: Result<Body<Value>, ApiError>,
) -> ApiResult<Json<Value>> {
    let Body(mut v) = v?;
    if let Value::Object(m) = &mut v {
        m.entry("id")
            .or_insert_with(|| Value::String(sid.to_string()));
    }
    let s = parse_service(v)?;
    save_service(&state, p, s, Some(sid)).await?;
    let d = super::service::get_service(&state, sid)
        .await?
        .ok_or(ApiError::Internal)?;
    Ok(Json(serde_json::to_value(d.service).expect("serialisable")))
}

/// Delete a service of an organisation you administer.
#[utoipa::path(delete, path = "/api/services/{id}", tag = "provider", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete_service(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(sid): PathId<ServiceId>,
) -> ApiResult<StatusCode> {
    remove_service(&state, p, sid).await?;
    Ok(StatusCode::NO_CONTENT)
}
