//! Neighbourly help over JSON (`/api/needs`, `/api/offers`, `/api/matches`, `/api/people`):
//! handlers and request bodies over [`super::service`].

use super::service::PersonRequest;
use super::service::propose;
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::help::service::ActivityView;
use crate::help::service::AreaCountView;
use crate::help::service::MatchView;
use crate::help::service::NeedSuggestion;
use crate::help::service::NeedView;
use crate::help::service::OfferView;
use crate::help::service::PersonView;
use crate::help::service::Suggestion;
use crate::help::service::accept_need;
use crate::help::service::activity;
use crate::help::service::audit_full_read;
use crate::help::service::change_need_state;
use crate::help::service::create_need;
use crate::help::service::create_offer;
use crate::help::service::load_need;
use crate::help::service::match_event;
use crate::help::service::match_view;
use crate::help::service::need_view;
use crate::help::service::needs_by_area;
use crate::help::service::offer_view;
use crate::help::service::person_view;
use crate::help::service::register_person;
use crate::help::service::side_in;
use crate::help::service::suggestions_for;
use crate::help::service::suggestions_for_offer;
use crate::json::Body;
use crate::json::PathId;
use crate::json::invalid;
use crate::policy::Admitted;
use crate::policy::Writer;
use crate::policy::{Policy, Routes, Scope, Who};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use trama_core::bounded::{BoundedText, within};
use trama_core::ids::{CampaignId, MatchId, NeedId, OfferId, UserId};
use trama_core::matching::lifecycle::OfferAction;
use trama_core::matching::lifecycle::{NeedState, Side};
use trama_core::moment::parse_rfc3339;
use trama_core::needs::{NeedAccess, NeedForm, OfferForm, acts_for_requester, need_access};
use trama_store::NeedFilter;
use uuid::Uuid;

pub fn routes() -> Routes {
    use crate::policy::{OPERATORS, PUBLIC, TERRITORY_ADMIN};
    let signed_in = |scope, note| Policy::new(Who::SignedIn, scope, note);
    let parties = signed_in(
        Scope::Parties,
        "the person and whoever acts for them (others: 403)",
    );
    let own = signed_in(Scope::Own, "one's own");
    let operators = |note| Policy::new(Who::Roles(OPERATORS), Scope::Organisation, note);
    let _territory = |note| Policy::new(Who::Roles(TERRITORY_ADMIN), Scope::Territory, note);
    Routes::api()
        .post("/needs", create_need_api, signed_in(Scope::Own, "for oneself; operators for the people their organisation follows"))
        .get(
            "/needs",
            list_needs_api,
            Policy::new(
                Who::Anyone,
                Scope::Parties,
                "open needs' public facts; one's own (mine); the desk's (operators, full reads audited)",
            )
            .audited(),
        )
        .get("/needs/areas", needs_by_area_api, PUBLIC)
        .get(
            "/needs/{id}",
            get_need_api,
            Policy::new(Who::Anyone, Scope::Parties, "public facts; full to the parties").audited(),
        )
        .get("/needs/{id}/suggestions", need_suggestions_api, parties)
        .post("/needs/{id}/propose", propose_api, parties)
        .post("/needs/{id}/accept", accept_api, signed_in(Scope::Own, "a volunteer, with an offer of their own"))
        .put("/needs/{id}", update_need_api, parties)
        .post("/needs/{id}/cancel", cancel_need_api, parties)
        .post("/needs/{id}/reopen", reopen_need_api, parties)
        .post("/offers", create_offer_api, signed_in(Scope::Own, "one's own offer; for an organisation one works for"))
        .get("/offers", list_offers_api, own)
        .get("/offers/{id}", get_offer_api, Policy::new(Who::Anyone, Scope::Parties, "public facts; all of it to its owner"))
        .get("/offers/{id}/suggestions", offer_suggestions_api, signed_in(Scope::Own, "the offer's owner"))
        .put("/offers/{id}", update_offer_api, signed_in(Scope::Own, "the offer's owner"))
        .post("/offers/{id}/pause", pause_offer_api, signed_in(Scope::Own, "the offer's owner"))
        .post("/offers/{id}/resume", resume_offer_api, signed_in(Scope::Own, "the offer's owner"))
        .post("/offers/{id}/withdraw", withdraw_offer_api, signed_in(Scope::Own, "the offer's owner; once nobody counts on it"))
        .get("/matches", list_matches_api, own)
        .get("/matches/{id}", get_match_api, signed_in(Scope::Parties, "its two sides; auditors"))
        .post("/matches/{id}/events", match_event_api, signed_in(Scope::Parties, "its two sides"))
        .post("/people", register_person_api, operators("operators of the organisation that registers the person"))
        .get("/people", list_people_api, operators("the people one's organisations follow"))
        .get("/people/{id}/activity", person_activity_api, operators("the operators of the organisation that follows the person").audited())
        .get("/me/activity", my_activity_api, own)
}

#[derive(Debug, Serialize)]
pub struct Created {
    pub id: Uuid,
}

#[utoipa::path(post, path = "/api/needs", tag = "needs", request_body = serde_json::Value, description = "Posts a need (NeedForm, see docs/API.md). Operators pass on_behalf_of for a person they follow.", responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_need_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    Body(form): Body<NeedForm>,
) -> ApiResult<(StatusCode, Json<NeedView>)> {
    let id = create_need(&state, p, &form).await?;
    let (n, _, access) = load_need(&state, Some(p), id).await?;
    Ok((StatusCode::CREATED, Json(need_view(&n, access))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeedListQuery {
    /// mine (default when signed in), desk (operators: the needs of their organisations), open
    /// (everyone: open needs, public view).
    pub scope: Option<String>,
    pub campaign_id: Option<String>,
    pub area: Option<String>,
}

#[utoipa::path(get, path = "/api/needs", tag = "needs", params(("scope" = Option<String>, Query, description = "mine, desk or open"), ("campaign_id" = Option<String>, Query), ("area" = Option<String>, Query)), responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn list_needs_api(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<NeedListQuery>,
) -> ApiResult<Json<Vec<NeedView>>> {
    let campaign = q
        .campaign_id
        .as_deref()
        .map(|s| CampaignId::parse("campaign_id", s))
        .transpose()?;
    let scope = trama_core::needs::NeedScope::parse(
        "scope",
        q.scope.as_deref(),
        viewer.principal.is_some(),
    )?;
    let mut filter = NeedFilter {
        campaign,
        area_code: q.area.clone(),
        limit: 500,
        ..Default::default()
    };
    use trama_core::needs::NeedScope;
    match scope {
        NeedScope::Open => filter.state = Some(NeedState::Open),
        NeedScope::Mine => filter.requester = Some(viewer.require()?.user_id),
        NeedScope::Desk => filter.organizations = Some(viewer.require()?.operator_organizations()),
    }
    let rows = super::service::needs(&state, &filter).await?;
    let mut out = Vec::with_capacity(rows.len());
    for n in &rows {
        let parties = super::service::need_parties(&state, n).await?;
        let access = need_access(viewer.principal.as_ref(), &parties);
        audit_full_read(&state, viewer.principal.as_ref(), n, access).await?;
        out.push(need_view(n, access));
    }
    Ok(Json(out))
}

#[utoipa::path(get, path = "/api/needs/{id}", tag = "needs", params(("id" = String, Path)), description = "A need at the viewer's access level (public, party, full).", responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_need_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    viewer: Viewer,
    PathId(need): PathId<NeedId>,
) -> ApiResult<Json<NeedView>> {
    let (n, _, access) = load_need(&state, viewer.principal.as_ref(), need).await?;
    Ok(Json(need_view(&n, access)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KQuery {
    /// Read as text, so that a wrong one is named `k` (not the whole query).
    pub k: Option<String>,
}

impl KQuery {
    /// How many to list: `default` when not asked, 1 to 50.
    fn k(&self, default: usize) -> Result<usize, ApiError> {
        let k = match self.k.as_deref() {
            None => default,
            Some(s) => trama_core::bounded::number("k", s).map_err(ApiError::InvalidParameter)?,
        };
        within("k", k, 1, 50).map_err(ApiError::InvalidParameter)
    }
}

#[utoipa::path(get, path = "/api/needs/{id}/suggestions", tag = "needs", params(("id" = String, Path), ("k" = Option<usize>, Query)), responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn need_suggestions_api(
    State(state): State<AppState>,
    admitted: Admitted,
    PathId(need): PathId<NeedId>,
    Query(q): Query<KQuery>,
) -> ApiResult<Json<Vec<Suggestion>>> {
    let p = admitted.principal();
    let (n, parties, _) = load_need(&state, Some(p), need).await?;
    if !acts_for_requester(p, &parties) {
        return Err(ApiError::Forbidden(
            "suggestions are for the person and the operators acting for them".into(),
        ));
    }
    let k = q.k(5)?;
    Ok(Json(suggestions_for(&state, p, &n, k).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferChoice {
    pub offer_id: OfferId,
}

#[utoipa::path(post, path = "/api/needs/{id}/propose", tag = "needs", params(("id" = String, Path)), request_body = serde_json::Value, responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn propose_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(need): PathId<NeedId>,
    Body(c): Body<OfferChoice>,
) -> ApiResult<(StatusCode, Json<MatchView>)> {
    let m = propose(&state, p, need, c.offer_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(match_view(&m, Some(Side::Requester))),
    ))
}

#[utoipa::path(post, path = "/api/needs/{id}/accept", tag = "needs", params(("id" = String, Path)), request_body = serde_json::Value, responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn accept_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(need): PathId<NeedId>,
    Body(c): Body<OfferChoice>,
) -> ApiResult<(StatusCode, Json<MatchView>)> {
    let m = accept_need(&state, p, need, c.offer_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(match_view(&m, Some(Side::Volunteer))),
    ))
}

async fn offer_action(
    state: &AppState,
    p: &trama_core::auth::Principal,
    offer: OfferId,
    action: OfferAction,
) -> ApiResult<Json<OfferView>> {
    let o = super::service::change_offer_state(state, p, offer, action).await?;
    Ok(Json(offer_view(&o, true)))
}

/// The owner pauses their offer: kept, suggested to nobody until resumed.
#[utoipa::path(post, path = "/api/offers/{id}/pause", tag = "needs", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn pause_offer_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(offer): PathId<OfferId>,
) -> ApiResult<Json<OfferView>> {
    offer_action(&state, p, offer, OfferAction::Pause).await
}

/// The owner resumes a paused offer.
#[utoipa::path(post, path = "/api/offers/{id}/resume", tag = "needs", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn resume_offer_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(offer): PathId<OfferId>,
) -> ApiResult<Json<OfferView>> {
    offer_action(&state, p, offer, OfferAction::Resume).await
}

/// The owner closes their offer for good, once nobody counts on it (409 otherwise).
#[utoipa::path(post, path = "/api/offers/{id}/withdraw", tag = "needs", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn withdraw_offer_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(offer): PathId<OfferId>,
) -> ApiResult<Json<OfferView>> {
    offer_action(&state, p, offer, OfferAction::Withdraw).await
}

/// The person (or an operator for them) rewrites an open need nobody has taken yet (the same
/// body as posting one; whom it is for and its campaign stay).
#[utoipa::path(put, path = "/api/needs/{id}", tag = "needs", params(("id" = String, Path)), request_body = serde_json::Value, responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update_need_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(need): PathId<NeedId>,
    Body(form): Body<NeedForm>,
) -> ApiResult<Json<NeedView>> {
    let n = super::service::update_need(&state, p, need, &form).await?;
    Ok(Json(need_view(&n, NeedAccess::Full)))
}

#[utoipa::path(post, path = "/api/needs/{id}/cancel", tag = "needs", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn cancel_need_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(need): PathId<NeedId>,
) -> ApiResult<Json<NeedView>> {
    let n = change_need_state(&state, p, need, NeedState::Cancelled).await?;
    Ok(Json(need_view(&n, NeedAccess::Full)))
}

#[utoipa::path(post, path = "/api/needs/{id}/reopen", tag = "needs", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn reopen_need_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(need): PathId<NeedId>,
) -> ApiResult<Json<NeedView>> {
    let n = change_need_state(&state, p, need, NeedState::Open).await?;
    Ok(Json(need_view(&n, NeedAccess::Full)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaQuery {
    pub campaign_id: Option<String>,
}

#[utoipa::path(get, path = "/api/needs/areas", tag = "needs", params(("campaign_id" = Option<String>, Query)), description = "Open needs counted by public area; never points.", responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope)))]
pub async fn needs_by_area_api(
    State(state): State<AppState>,
    Query(q): Query<AreaQuery>,
) -> ApiResult<Json<Vec<AreaCountView>>> {
    let campaign = q
        .campaign_id
        .as_deref()
        .map(|s| CampaignId::parse("campaign_id", s))
        .transpose()?;
    Ok(Json(needs_by_area(&state, campaign).await?))
}

#[utoipa::path(post, path = "/api/offers", tag = "needs", request_body = serde_json::Value, responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_offer_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    Body(form): Body<OfferForm>,
) -> ApiResult<(StatusCode, Json<OfferView>)> {
    let id = create_offer(&state, p, &form).await?;
    let o = super::service::offer(&state, id)
        .await?
        .ok_or(ApiError::Internal)?;
    Ok((StatusCode::CREATED, Json(offer_view(&o, true))))
}

/// The owner rewrites their offer (the same body as creating one; its organisation stays).
#[utoipa::path(put, path = "/api/offers/{id}", tag = "needs", params(("id" = String, Path)), request_body = serde_json::Value, responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update_offer_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(offer): PathId<OfferId>,
    Body(form): Body<OfferForm>,
) -> ApiResult<Json<OfferView>> {
    let o = super::service::update_offer(&state, p, offer, &form).await?;
    Ok(Json(offer_view(&o, true)))
}

#[utoipa::path(get, path = "/api/offers", tag = "needs", responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope)))]
pub async fn list_offers_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
) -> ApiResult<Json<Vec<OfferView>>> {
    let p = admitted.principal();
    Ok(Json(
        super::service::offers_of(&state, p.user_id)
            .await?
            .iter()
            .map(|o| offer_view(o, true))
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/offers/{id}", tag = "needs", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_offer_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    viewer: Viewer,
    PathId(offer_id_): PathId<OfferId>,
) -> ApiResult<Json<OfferView>> {
    let o = super::service::offer(&state, offer_id_)
        .await?
        .ok_or_else(|| ApiError::not_found("offer", &offer_id_.to_string()))?;
    let owner = viewer
        .principal
        .as_ref()
        .is_some_and(|p| p.user_id == o.owner);
    Ok(Json(offer_view(&o, owner)))
}

#[utoipa::path(get, path = "/api/offers/{id}/suggestions", tag = "needs", params(("id" = String, Path), ("k" = Option<usize>, Query)), responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn offer_suggestions_api(
    State(state): State<AppState>,
    admitted: Admitted,
    PathId(offer_id_): PathId<OfferId>,
    Query(q): Query<KQuery>,
) -> ApiResult<Json<Vec<NeedSuggestion>>> {
    let p = admitted.principal();
    let o = super::service::offer(&state, offer_id_)
        .await?
        .ok_or_else(|| ApiError::not_found("offer", &offer_id_.to_string()))?;
    if o.owner != p.user_id {
        return Err(ApiError::Forbidden("this offer is not yours".into()));
    }
    let k = q.k(10)?;
    Ok(Json(suggestions_for_offer(&state, p, &o, k).await?))
}

#[utoipa::path(get, path = "/api/matches", tag = "needs", responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope)))]
pub async fn list_matches_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
) -> ApiResult<Json<Vec<MatchView>>> {
    let p = admitted.principal();
    let rows = super::service::matches_of_person(&state, p.user_id, false).await?;
    let mut out = Vec::new();
    for m in &rows {
        out.push(match_view(m, side_in(&state, p, m).await?));
    }
    Ok(Json(out))
}

#[utoipa::path(get, path = "/api/matches/{id}", tag = "needs", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_match_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
    PathId(match_id_): PathId<MatchId>,
) -> ApiResult<Json<MatchView>> {
    let p = admitted.principal();
    let m = super::service::match_row(&state, match_id_)
        .await?
        .ok_or_else(|| ApiError::not_found("match", &match_id_.to_string()))?;
    let side = side_in(&state, p, &m).await?;
    if !trama_core::matching::lifecycle::may_read_match(p, side) {
        return Err(ApiError::not_found("match", &match_id_.to_string()));
    }
    Ok(Json(match_view(&m, side)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRequest {
    /// accept, decline, schedule, done, cancel, no_show
    pub event: String,
    /// For schedule: RFC 3339.
    pub next_at: Option<String>,
    /// For done: minutes given (default: the need's duration).
    pub minutes: Option<u32>,
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/api/matches/{id}/events", tag = "needs", params(("id" = String, Path)), request_body = serde_json::Value, description = "accept, decline, schedule (next_at), done (minutes), cancel, no_show.", responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn match_event_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(match_id_): PathId<MatchId>,
    Body(r): Body<EventRequest>,
) -> ApiResult<Json<MatchView>> {
    let next_at = r
        .next_at
        .as_deref()
        .map(|s| parse_rfc3339("next_at", s))
        .transpose()
        .map_err(invalid)?;
    if let Some(n) = &r.note {
        BoundedText::optional("note", n, 500).map_err(invalid)?;
    }
    let m = match_event(&state, p, match_id_, &r.event, next_at, r.minutes, r.note).await?;
    let side = side_in(&state, p, &m).await?;
    Ok(Json(match_view(&m, side)))
}

#[utoipa::path(post, path = "/api/people", tag = "assisted", request_body = serde_json::Value, description = "An operator registers a person with no e-mail or phone, with the consent reference.", responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn register_person_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    Body(r): Body<PersonRequest>,
) -> ApiResult<(StatusCode, Json<PersonView>)> {
    let id = register_person(&state, p, &r).await?;
    let a = super::service::assisted(&state, id)
        .await?
        .ok_or(ApiError::Internal)?;
    Ok((StatusCode::CREATED, Json(person_view(&a))))
}

#[utoipa::path(get, path = "/api/people", tag = "assisted", responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list_people_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
) -> ApiResult<Json<Vec<PersonView>>> {
    let p = admitted.principal();
    let orgs = p.operator_organizations();
    if orgs.is_empty() {
        return Err(ApiError::Forbidden("only operators follow people".into()));
    }
    Ok(Json(
        super::service::assisted_people(&state, &orgs)
            .await?
            .iter()
            .map(person_view)
            .collect(),
    ))
}

/// What others did for me or read of my file.
#[utoipa::path(get, path = "/api/me/activity", tag = "assisted", description = "What others did for me or read of my file.", responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope)))]
pub async fn my_activity_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
) -> ApiResult<Json<Vec<ActivityView>>> {
    let p = admitted.principal();
    Ok(Json(activity(&state, p.user_id).await?))
}

/// The same list for a person an operator follows, to show them at the desk.
#[utoipa::path(get, path = "/api/people/{id}/activity", tag = "assisted", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn person_activity_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
    PathId(person): PathId<UserId>,
) -> ApiResult<Json<Vec<ActivityView>>> {
    let p = admitted.principal();
    let a = super::service::assisted(&state, person)
        .await?
        .ok_or_else(|| ApiError::not_found("person", &person.to_string()))?;
    // Not found, as for anyone not registered at a desk: who was is not for others to learn.
    if !p.operates_for(a.organization) {
        return Err(ApiError::not_found("person", &person.to_string()));
    }
    Ok(Json(activity(&state, person).await?))
}
