//! Emergency campaigns and batch assignment over JSON (`/api/campaigns`, `/api/matching/batch`).

use super::service::CampaignRequest;
use crate::campaigns::service::BatchReport;
use crate::campaigns::service::CampaignView;
use crate::campaigns::service::campaign_view;
use crate::campaigns::service::create_campaign;
use crate::campaigns::service::run_batch;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::json::Body;
use crate::json::PathId;
use crate::policy::Writer;
use crate::policy::{Policy, Routes, Scope, Who};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use trama_core::ids::CampaignId;

pub fn routes() -> Routes {
    use crate::policy::{OPERATORS, PUBLIC, TERRITORY_ADMIN};
    let signed_in = |scope, note| Policy::new(Who::SignedIn, scope, note);
    let _own = signed_in(Scope::Own, "one's own");
    let _operators = |note| Policy::new(Who::Roles(OPERATORS), Scope::Organisation, note);
    let territory = |note| Policy::new(Who::Roles(TERRITORY_ADMIN), Scope::Territory, note);
    Routes::api()
        .post(
            "/campaigns",
            create_campaign_api,
            territory("the territory admin"),
        )
        .get("/campaigns", list_campaigns_api, PUBLIC)
        .get("/campaigns/{id}", get_campaign_api, PUBLIC)
        .post(
            "/campaigns/{id}/dispatch",
            dispatch_campaign_api,
            territory("the territory admin"),
        )
        .post(
            "/campaigns/{id}/close",
            close_campaign_api,
            territory("the territory admin"),
        )
        .post(
            "/matching/batch",
            batch_api,
            territory("the territory admin"),
        )
}

#[utoipa::path(post, path = "/api/campaigns", tag = "campaigns", request_body = serde_json::Value, responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_campaign_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    Body(r): Body<CampaignRequest>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    let id = create_campaign(&state, p, &r).await?;
    let c = super::service::campaign(&state, id)
        .await?
        .ok_or(ApiError::Internal)?;
    Ok((StatusCode::CREATED, Json(campaign_view(&state, &c, None))))
}

#[utoipa::path(get, path = "/api/campaigns", tag = "campaigns", responses((status = 200, body = serde_json::Value)))]
pub async fn list_campaigns_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
) -> ApiResult<Json<Vec<CampaignView>>> {
    // Each with its live counts (campaigns are few: a handful a year).
    let mut out = Vec::new();
    for c in super::service::campaigns(&state).await? {
        let counts = super::service::campaign_counts(&state, c.id).await?;
        out.push(campaign_view(&state, &c, Some(counts)));
    }
    Ok(Json(out))
}

/// A campaign with its live count (public: counts only).
#[utoipa::path(get, path = "/api/campaigns/{id}", tag = "campaigns", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_campaign_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    PathId(cid): PathId<CampaignId>,
) -> ApiResult<Json<CampaignView>> {
    let c = super::service::campaign(&state, cid)
        .await?
        .ok_or_else(|| ApiError::not_found("campaign", &cid.to_string()))?;
    let counts = super::service::campaign_counts(&state, cid).await?;
    Ok(Json(campaign_view(&state, &c, Some(counts))))
}

/// Closes a campaign: its intake stops; what it gathered goes on.
#[utoipa::path(post, path = "/api/campaigns/{id}/close", tag = "campaigns", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn close_campaign_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(cid): PathId<CampaignId>,
) -> ApiResult<Json<CampaignView>> {
    super::service::close_campaign(&state, p, cid).await?;
    let c = super::service::campaign(&state, cid)
        .await?
        .ok_or(ApiError::Internal)?;
    Ok(Json(campaign_view(&state, &c, None)))
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Compute and report, create nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[utoipa::path(post, path = "/api/campaigns/{id}/dispatch", tag = "campaigns", params(("id" = String, Path)), request_body = serde_json::Value, responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn dispatch_campaign_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(cid): PathId<CampaignId>,
    Body(r): Body<BatchRequest>,
) -> ApiResult<Json<BatchReport>> {
    super::service::campaign(&state, cid)
        .await?
        .ok_or_else(|| ApiError::not_found("campaign", &cid.to_string()))?;
    Ok(Json(run_batch(&state, p, Some(cid), r.dry_run).await?))
}

#[utoipa::path(post, path = "/api/matching/batch", tag = "campaigns", request_body = serde_json::Value, responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn batch_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    Body(r): Body<BatchRequest>,
) -> ApiResult<Json<BatchReport>> {
    Ok(Json(run_batch(&state, p, None, r.dry_run).await?))
}
