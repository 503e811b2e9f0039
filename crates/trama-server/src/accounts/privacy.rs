//! Your data: export (`GET /api/me/export`) and erasure (`DELETE /api/me`).

use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::json::rfc3339;
use crate::policy::{Admitted, Policy, Routes, Scope, Who};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use trama_core::auth::Principal;
use trama_core::needs::NeedAccess;
use trama_store::{AuditEntry, ErasureReport};
use utoipa::ToSchema;

pub fn routes() -> Routes {
    let own = Policy::new(Who::SignedIn, Scope::Own, "the person themself");
    Routes::api()
        .get("/me/export", export_api, own)
        .delete("/me", erase_api, own)
}

pub(crate) fn to_json<T: Serialize>(v: T) -> ApiResult<Value> {
    serde_json::to_value(v).map_err(|_| ApiError::Internal)
}

pub(crate) fn audit_json(e: &AuditEntry) -> Value {
    json!({
        "at": rfc3339(e.at),
        "actor_id": e.actor_id.map(|a| a.to_string()),
        "action": e.action,
        "subject": format!("{}:{}", e.subject_type, e.subject_id.clone().unwrap_or_default()),
        "detail": e.detail,
    })
}

/// Everything Trama holds about `p`, as one document.
pub async fn export(state: &AppState, p: &Principal) -> ApiResult<Value> {
    let me = state
        .store
        .user(p.user_id)
        .await?
        .ok_or(ApiError::Internal)?;
    let tokens: Vec<Value> = state
        .store
        .api_tokens(p.user_id)
        .await?
        .into_iter()
        .map(|t| json!({"name": t.name, "created_at": rfc3339(t.created_at), "revoked": t.revoked}))
        .collect();
    let mut needs = Vec::new();
    for n in state
        .store
        .needs(&trama_store::NeedFilter {
            requester: Some(p.user_id),
            limit: 10_000,
            ..Default::default()
        })
        .await?
    {
        needs.push(to_json(crate::help::service::need_view(
            &n,
            NeedAccess::Full,
        ))?);
    }
    let offers: Vec<Value> = state
        .store
        .offers_of(p.user_id)
        .await?
        .iter()
        .map(|o| to_json(crate::help::service::offer_view(o, true)))
        .collect::<Result<_, _>>()?;
    let mut matches = Vec::new();
    for m in state.store.matches_of_person(p.user_id, false).await? {
        let side = crate::help::service::side_in(state, p, &m).await?;
        matches.push(to_json(crate::help::service::match_view(&m, side))?);
    }
    let notifications: Vec<Value> = state
        .store
        .notifications(p.user_id, 10_000)
        .await?
        .into_iter()
        .map(|n| json!({"at": rfc3339(n.at), "kind": n.kind, "it": n.text_it, "en": n.text_en, "read": n.read}))
        .collect();
    let about_me: Vec<Value> = state
        .store
        .audit_about_person(p.user_id, 10_000)
        .await?
        .iter()
        .map(audit_json)
        .collect();
    let budget = match crate::budgets::service::read_budget(state, p, p.user_id)
        .await
        .map_err(ApiError::from)
    {
        Ok((b, _)) => to_json(b)?,
        Err(ApiError::NotFound(_)) => Value::Null,
        Err(e) => return Err(e),
    };
    let plans: Vec<Value> = state
        .store
        .plans_of(p.user_id)
        .await?
        .into_iter()
        .map(|pl| to_json(crate::budgets::service::PlanView::from(pl)))
        .collect::<Result<_, _>>()?;
    let consents: Vec<Value> = state
        .store
        .consents_of(p.user_id)
        .await?
        .into_iter()
        .map(|c| to_json(crate::budgets::service::ConsentView::from(c)))
        .collect::<Result<_, _>>()?;
    let contributions = to_json(crate::register::service::contributions_of(state, p).await?)?;
    let assisted = state.store.assisted(p.user_id).await?.map(|a| {
        json!({"organization_id": a.organization.to_string(), "consent_reference": a.consent_reference, "phone": a.phone})
    });
    Ok(json!({
        "exported_at": rfc3339(state.now()),
        "about": "Everything Trama holds about you (GDPR Art. 15 and 20). Entries of the public register appear under your pseudonyms; nobody else can link them to you.",
        "account": {
            "id": me.id.to_string(),
            "email": me.email,
            "display_name": me.display_name,
            "locale": me.locale,
            "created_at": rfc3339(me.created_at),
            "roles": p.grants.iter().map(|g| json!({"role": g.role.as_str(), "organization_id": g.organization_id.map(|o| o.to_string())})).collect::<Vec<_>>(),
            "api_tokens": tokens,
        },
        "registered_at_a_desk": assisted,
        "needs": needs,
        "offers": offers,
        "matches": matches,
        "notifications": notifications,
        "who_looked_at_my_data": about_me,
        "care_budget": budget,
        "plans": plans,
        "consents": consents,
        "contributions": contributions,
    }))
}

/// Everything Trama holds about me, as JSON (also the download on `/io/dati`).
#[utoipa::path(get, path = "/api/me/export", tag = "accounts", responses((status = 200, body = Object), (status = 401, body = ErrorEnvelope)))]
pub async fn export_api(
    State(state): State<AppState>,
    admitted: Admitted,
) -> ApiResult<Json<Value>> {
    let p = admitted.principal();
    let doc = export(&state, p).await?;
    audit(&state, p, "privacy.export").await?;
    Ok(Json(doc))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// The account's password, to confirm.
    pub password: String,
}

/// What an erasure did, and what it kept and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureView {
    #[schema(value_type = Object)]
    pub erased: ErasureReport,
    /// What was kept, and why.
    pub kept: Vec<String>,
}

pub(crate) async fn audit(state: &AppState, p: &Principal, action: &str) -> ApiResult<()> {
    state
        .store
        .audit(&AuditEntry {
            at: state.now(),
            actor_id: Some(p.user_id),
            action: action.into(),
            subject_type: "person".into(),
            subject_id: Some(p.user_id.to_string()),
            detail: None,
            on_behalf_of: None,
        })
        .await?;
    Ok(())
}

/// Erases `p` after checking their password (the API and the page).
pub async fn erase(state: &AppState, p: &Principal, password: &str) -> ApiResult<ErasureView> {
    let me = state
        .store
        .user(p.user_id)
        .await?
        .ok_or(ApiError::Internal)?;
    if !crate::auth::verify_password(me.password_hash.clone(), password.to_string()).await {
        return Err(ApiError::BadCredentials);
    }
    let iri = format!("urn:trama:person:{}", p.user_id);
    let agents: Vec<String> = crate::register::log::Purpose::ALL
        .iter()
        .map(|purpose| purpose.agent(&iri))
        .collect();
    // Money held for services not yet delivered goes back to the allocations first: nobody
    // is to deliver to an erased person.
    for b in state.store.budget_bookings_of(p.user_id).await? {
        if b.state == "held" {
            state.store.cancel_booking(b.id, None).await?;
        }
    }
    let erased = state.store.erase_person(p.user_id, &agents).await?;
    audit(state, p, "privacy.erase").await?;
    let years = state.config.retention.accounting_years;
    let mut kept = vec![format!(
        "The register's entries about you stay, under pseudonyms nobody can link to you any more ({} links forgotten).",
        erased.register_links_forgotten
    )];
    if erased.allocations_kept + erased.bookings_kept > 0 {
        kept.push(format!(
            "{} allocations and {} bookings of your care budget stay for {years} years, as the accounting records of public money the law requires, under your erased account: amounts, months, categories and providers, with no name or e-mail.",
            erased.allocations_kept, erased.bookings_kept
        ));
    }
    kept.push(format!(
        "Who read your data (the audit trail) stays for {} days, so that every access stays accountable; then it is deleted.",
        state.config.retention.audit_days
    ));
    kept.push(
        "Hours of help you gave or received stay in the volunteers' records as an erased person, without your name."
            .into(),
    );
    Ok(ErasureView { erased, kept })
}

/// Erases my account and personal data (GDPR Art. 17). The register's pseudonymous entries
/// stay, unlinkable; the accounting records of public money stay, reduced. Needs my password.
#[utoipa::path(delete, path = "/api/me", tag = "accounts", request_body = EraseRequest, responses((status = 200, body = ErasureView), (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn erase_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    req: Result<Json<EraseRequest>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<ErasureView>)> {
    let p = admitted.for_write(&headers)?;
    let req = req.map_err(ApiError::from)?.0;
    Ok((StatusCode::OK, Json(erase(&state, p, &req.password).await?)))
}
