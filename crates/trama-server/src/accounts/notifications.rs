//! One's notifications over JSON (`/api/notifications`).

use crate::error::{ApiResult, ErrorEnvelope};
use crate::json::Body;
use crate::json::invalid;
use crate::json::rfc3339;
use crate::policy::Admitted;
use crate::policy::Writer;
use crate::policy::{Policy, Routes, Scope, Who};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub fn routes() -> Routes {
    use crate::policy::{OPERATORS, TERRITORY_ADMIN};
    let signed_in = |scope, note| Policy::new(Who::SignedIn, scope, note);
    let own = signed_in(Scope::Own, "one's own");
    let _operators = |note| Policy::new(Who::Roles(OPERATORS), Scope::Organisation, note);
    let _territory = |note| Policy::new(Who::Roles(TERRITORY_ADMIN), Scope::Territory, note);
    Routes::api()
        .get("/notifications", notifications_api, own)
        .post("/notifications/read", notifications_read_api, own)
}

#[derive(Debug, Serialize)]
pub struct NotificationView {
    pub id: Uuid,
    pub at: String,
    pub kind: String,
    pub subject_type: String,
    pub subject_id: String,
    pub text: String,
    pub read: bool,
}

#[utoipa::path(get, path = "/api/notifications", tag = "needs", responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope)))]
pub async fn notifications_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
) -> ApiResult<Json<Vec<NotificationView>>> {
    let p = admitted.principal();
    let locale = super::service::user(&state, p.user_id)
        .await?
        .map(|u| u.locale)
        .unwrap_or_else(|| "it".into());
    Ok(Json(
        super::service::my_notifications(&state, p.user_id, 100)
            .await?
            .into_iter()
            .map(|n| NotificationView {
                id: n.id.as_uuid(),
                at: rfc3339(n.at),
                kind: n.kind,
                subject_type: n.subject_type,
                subject_id: n.subject_id,
                text: if locale == "en" { n.text_en } else { n.text_it },
                read: n.read,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// One notification, or all when absent.
    pub id: Option<String>,
}

#[utoipa::path(post, path = "/api/notifications/read", tag = "needs", request_body = serde_json::Value, responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope)))]
pub async fn notifications_read_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    Body(r): Body<ReadRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    let id =
        r.id.as_deref()
            .map(|s| trama_core::ids::NotificationId::parse("id", s))
            .transpose()
            .map_err(invalid)?;
    let n = super::service::mark_notifications_read(&state, p.user_id, id).await?;
    Ok(Json(serde_json::json!({ "marked": n })))
}
