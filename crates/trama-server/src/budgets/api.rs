//! Care budgets over JSON (`/api/funders`, `/api/programmes`, `/api/budget/...`): handlers and
//! request bodies over [`super::service`].

use super::service::{
    DelegationRequest, FunderRequest, ProgrammeRequest, create_funder, create_programme, delegate,
    may_read_budget, may_write_plan, undelegate,
};
use super::service::{
    create_plan, dashboard, fund_plan, grant, plans, programme_beneficiaries, propose,
};
use crate::budgets::service::AllocationView;
use crate::budgets::service::BeneficiaryView;
use crate::budgets::service::BookingView;
use crate::budgets::service::ConsentView;
use crate::budgets::service::DashboardView;
use crate::budgets::service::DelegationView;
use crate::budgets::service::DeskConsent;
use crate::budgets::service::ExclusionRequest;
use crate::budgets::service::FundingRequestBody;
use crate::budgets::service::FundingView;
use crate::budgets::service::PersonBudgetView;
use crate::budgets::service::PlanView;
use crate::budgets::service::ProviderBookingView;
use crate::budgets::service::book;
use crate::budgets::service::budget_of;
use crate::budgets::service::cancel;
use crate::budgets::service::deliver;
use crate::budgets::service::follow;
use crate::budgets::service::forbidden;
use crate::budgets::service::give_consent;
use crate::budgets::service::optional_id;
use crate::budgets::service::provider_bookings;
use crate::budgets::service::purpose_of;
use crate::budgets::service::read_budget;
use crate::budgets::service::report_period;
use crate::budgets::service::revoke;
use crate::budgets::service::visible_funders;
use crate::budgets::service::within_days;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::json::Body;
use crate::json::{PathId, PathIds};
use crate::policy::{Admitted, Policy, Routes, Scope, Who};
use crate::policy::{OwnWriter, Writer};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use trama_core::auth::Role;
use trama_core::budget::access::BudgetView;
use trama_core::budget::booking::IdempotencyKey;
use trama_core::budget::booking::{self, BookingForm, GrantForm};
use trama_core::budget::consent::ConsentReference;
use trama_core::ids::{BookingId, FunderId, OrganizationId, ProgrammeId, UserId};
use trama_core::money::Cents;
use utoipa::ToSchema;

/// Routes under `/api`.
pub fn routes() -> Routes {
    use crate::policy::{DESK, EDITORS, GRANTORS, PROVIDERS, TERRITORY_ADMIN};
    let caseload = Policy::new(
        Who::SignedIn,
        Scope::Caseload,
        "the person; their case manager with consent; auditors read-only (else 404)",
    )
    .audited();
    let own = Policy::new(Who::SignedIn, Scope::Own, "the person themself");
    let territory = Policy::new(
        Who::Roles(TERRITORY_ADMIN),
        Scope::Territory,
        "the territory admin",
    );
    let funder_staff = Policy::new(
        Who::Roles(EDITORS),
        Scope::Funder,
        "the funder's own staff (the territory admin for a funder with no organisation)",
    );
    let funder_view = Policy::new(
        Who::SignedIn,
        Scope::Funder,
        "funders' admins (theirs), the territory admin and auditors (all); aggregates",
    );
    Routes::api()
        .post("/funders", create_funder_api, territory)
        .post("/programmes", create_programme_api, territory)
        .post(
            "/people/{id}/budget/consent",
            follow_api,
            Policy::new(Who::Roles(DESK), Scope::Organisation, "case managers and operators of the organisation the consent is given to; the person is told"),
        )
        .delete(
            "/people/{id}/budget/consent/{case_manager}",
            revoke_api,
            Policy::new(Who::SignedIn, Scope::Own, "the person or the case manager"),
        )
        .post(
            "/people/{id}/allocations",
            grant_api,
            Policy::new(Who::Roles(GRANTORS), Scope::Funder, "the funder's staff; case managers of a delegated organisation who follow the person with consent"),
        )
        .post("/me/budget/consents", give_consent_api, own)
        .get("/me/budget/consents", my_consents_api, own)
        .post("/programmes/{id}/delegations", delegate_api, funder_staff)
        .get(
            "/programmes/{id}/delegations",
            delegations_api,
            Policy::new(
                Who::Roles(&[Role::OrganizationAdmin, Role::TerritoryAdmin, Role::Auditor]),
                Scope::Funder,
                "the funder's own staff; auditors",
            ),
        )
        .delete("/programmes/{id}/delegations/{organization}", undelegate_api, funder_staff)
        .get("/people/{id}/budget", person_budget_api, caseload)
        .post("/people/{id}/budget/funding", funding_api, caseload)
        .post("/people/{id}/plans", create_plan_api, caseload)
        .get("/people/{id}/plans", plans_api, caseload)
        .post("/people/{id}/plans/{plan}/funding", plan_funding_api, caseload)
        .get("/me/budget", my_budget_api, own)
        .post(
            "/budget/bookings",
            book_api,
            Policy::new(Who::SignedIn, Scope::Caseload, "the person; their case manager with consent"),
        )
        .get("/budget/dashboard", dashboard_api, funder_view)
        .get(
            "/budget/provider-bookings",
            provider_bookings_api,
            Policy::new(Who::Roles(PROVIDERS), Scope::Organisation, "providers' admins and operators: their own bookings, nothing of the budget"),
        )
        .get("/funders/{id}/statement.csv", funder_statement_api, funder_view)
        .get(
            "/programmes/{id}/beneficiaries",
            programme_beneficiaries_api,
            Policy::new(Who::SignedIn, Scope::Funder, "the funder's own admins where the rules allow; auditors").audited(),
        )
        .post(
            "/budget/bookings/{id}/delivery",
            deliver_api,
            Policy::new(Who::SignedIn, Scope::Organisation, "the admins and operators of the booking's provider (else 404)"),
        )
        .post(
            "/budget/bookings/{id}/cancel",
            cancel_api,
            Policy::new(Who::SignedIn, Scope::Caseload, "the person; their case manager with consent"),
        )
}

/// The `Idempotency-Key` header, required on every call that moves money.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> ApiResult<IdempotencyKey> {
    let k = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    IdempotencyKey::parse("Idempotency-Key", k).map_err(ApiError::InvalidParameter)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedView {
    pub id: String,
}

/// Records a funder (territory admin).
#[utoipa::path(post, path = "/api/funders", tag = "budgets", request_body = FunderRequest, responses((status = 201, body = CreatedView), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn create_funder_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    Body(req): Body<FunderRequest>,
) -> ApiResult<(StatusCode, Json<CreatedView>)> {
    let id = create_funder(&state, p, &req).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedView { id: id.to_string() }),
    ))
}

/// Records a programme with its rules (territory admin).
#[utoipa::path(post, path = "/api/programmes", tag = "budgets", request_body = ProgrammeRequest, responses((status = 201, body = CreatedView), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn create_programme_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    Body(req): Body<ProgrammeRequest>,
) -> ApiResult<(StatusCode, Json<CreatedView>)> {
    let id = create_programme(&state, p, &req).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedView { id: id.to_string() }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// The protocol number of the form the person signed.
    pub consent_reference: String,
    /// The case manager who is to follow the person (default: the caller, a case manager).
    pub case_manager_id: Option<String>,
    /// The organisation the consent is given to (default: the case manager's).
    pub organization_id: Option<String>,
    /// What the consent is for: `care_budget` (the default and, for now, the only purpose).
    pub purpose: Option<String>,
}

/// Records at a desk the consent a person signed, to be followed by a case manager of an
/// organisation: its case managers and operators record it. The person is told; for someone
/// who can sign in it waits for them to confirm it (`pending`), for someone who cannot it
/// counts at once.
#[utoipa::path(post, path = "/api/people/{id}/budget/consent", tag = "budgets", params(("id" = String, Path)), request_body = ConsentRequest, responses((status = 200, body = ConsentView), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn follow_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    id: Result<PathId<UserId>, ApiError>,
    req: Result<Body<ConsentRequest>, ApiError>,
) -> ApiResult<Json<ConsentView>> {
    if !trama_core::budget::consent::records_consents_at_desks(p) {
        return Err(
            forbidden("only case managers and operators record a consent at a desk").into(),
        );
    }
    let PathId(person) = id?;
    let Body(req) = req?;
    let desk = DeskConsent {
        case_manager: optional_id(
            "case_manager_id",
            req.case_manager_id.as_deref(),
            UserId::parse,
        )?,
        organization: optional_id(
            "organization_id",
            req.organization_id.as_deref(),
            OrganizationId::parse,
        )?,
        purpose: purpose_of(req.purpose.as_deref())?,
        reference: ConsentReference::parse(&req.consent_reference)
            .map_err(ApiError::InvalidBody)?,
    };
    Ok(Json(follow(&state, p, person, &desk).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GiveConsentRequest {
    /// The case manager the person lets follow them.
    pub case_manager_id: String,
    /// The organisation the consent is given to (default: the case manager's).
    pub organization_id: Option<String>,
    /// `care_budget` (the default).
    pub purpose: Option<String>,
}

/// The person gives (or confirms) their consent online.
#[utoipa::path(post, path = "/api/me/budget/consents", tag = "budgets", request_body = GiveConsentRequest, responses((status = 200, body = ConsentView), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn give_consent_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    Body(req): Body<GiveConsentRequest>,
) -> ApiResult<Json<ConsentView>> {
    let cm =
        UserId::parse("case_manager_id", &req.case_manager_id).map_err(ApiError::InvalidBody)?;
    let org = optional_id(
        "organization_id",
        req.organization_id.as_deref(),
        OrganizationId::parse,
    )?;
    let purpose = purpose_of(req.purpose.as_deref())?;
    Ok(Json(
        give_consent(&state, p, cm, org, purpose).await?.into(),
    ))
}

/// The consents about me: in force, and those waiting for me to confirm them.
#[utoipa::path(get, path = "/api/me/budget/consents", tag = "budgets", responses((status = 200, body = Vec<ConsentView>), (status = 401, body = ErrorEnvelope)))]
pub async fn my_consents_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
) -> ApiResult<Json<Vec<ConsentView>>> {
    let p = admitted.principal();
    Ok(Json(
        super::service::consents_of(&state, p.user_id)
            .await?
            .into_iter()
            .map(ConsentView::from)
            .collect(),
    ))
}

/// The person (or the case manager) ends a consent: the case manager loses access at once.
#[utoipa::path(delete, path = "/api/people/{id}/budget/consent/{case_manager}", tag = "budgets", params(("id" = String, Path), ("case_manager" = String, Path)), responses((status = 204), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathIds(person, cm): PathIds<UserId, UserId>,
) -> ApiResult<StatusCode> {
    revoke(&state, p, person, cm).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The funder delegates the right to grant from one of its programmes to an organisation.
#[utoipa::path(post, path = "/api/programmes/{id}/delegations", tag = "budgets", params(("id" = String, Path)), request_body = DelegationRequest, responses((status = 204), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn delegate_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(programme): PathId<ProgrammeId>,
    req: Result<Body<DelegationRequest>, ApiError>,
) -> ApiResult<StatusCode> {
    // Only the funder's staff learn what is wrong with a delegation they send.
    super::service::funder_staff_of(&state, p, programme).await?;
    let Body(req) = req?;
    delegate(&state, p, programme, &req).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The funder ends a delegation.
#[utoipa::path(delete, path = "/api/programmes/{id}/delegations/{organization}", tag = "budgets", params(("id" = String, Path), ("organization" = String, Path)), responses((status = 204), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn undelegate_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathIds(programme, org): PathIds<ProgrammeId, OrganizationId>,
) -> ApiResult<StatusCode> {
    undelegate(&state, p, programme, org).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The delegations of a programme in force: the funder's staff and auditors.
#[utoipa::path(get, path = "/api/programmes/{id}/delegations", tag = "budgets", params(("id" = String, Path)), responses((status = 200, body = Vec<DelegationView>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delegations_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
    PathId(programme): PathId<ProgrammeId>,
) -> ApiResult<Json<Vec<DelegationView>>> {
    let p = admitted.principal();
    Ok(Json(
        super::service::programme_delegations(&state, p, programme)
            .await?
            .into_iter()
            .map(|d| DelegationView {
                organization_id: d.organization.to_string(),
                decision_reference: d.decision_ref,
                granted_by: d.granted_by.to_string(),
                created_at: d
                    .created_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
            })
            .collect(),
    ))
}

/// Records an allocation granted to a person: the funder's own staff, or a case manager of
/// an organisation the funder delegated the programme to who follows the person with consent;
/// within what the programme gives one person and its months of validity. Audited under the
/// person with the decision that grants it. Needs an `Idempotency-Key`: a retry answers what
/// the first call made and moves nothing.
#[utoipa::path(post, path = "/api/people/{id}/allocations", tag = "budgets", params(("id" = String, Path), ("Idempotency-Key" = String, Header)), request_body = GrantForm, responses((status = 201, body = AllocationView), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn grant_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    id: Result<PathId<UserId>, ApiError>,
    form: Result<Body<GrantForm>, ApiError>,
) -> ApiResult<(StatusCode, Json<AllocationView>)> {
    let p = admitted.for_write(&headers)?;
    let PathId(person) = id?;
    let key = idempotency_key(&headers)?;
    let Body(form) = form?;
    let request = format!("grant {person} {}", form.fingerprint());
    let a = grant(&state, p, person, &form, &request, &key).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// My budget: every allocation, what is left, what was spent on what.
#[utoipa::path(get, path = "/api/me/budget", tag = "budgets", responses((status = 200, body = PersonBudgetView), (status = 401, body = ErrorEnvelope)))]
pub async fn my_budget_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
) -> ApiResult<Json<PersonBudgetView>> {
    let p = admitted.principal();
    Ok(Json(budget_of(&state, p.user_id, BudgetView::Full).await?))
}

/// A person's budget, for their case manager (with consent) and auditors. Audited.
#[utoipa::path(get, path = "/api/people/{id}/budget", tag = "budgets", params(("id" = String, Path)), responses((status = 200, body = PersonBudgetView), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn person_budget_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
    PathId(person): PathId<UserId>,
) -> ApiResult<Json<PersonBudgetView>> {
    let p = admitted.principal();
    read_budget(&state, p, person)
        .await
        .map(|(v, _)| Json(v))
        .map_err(ApiError::from)
}

/// Books a service from an allocation: holds the amount. Needs an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/budget/bookings", tag = "budgets", request_body = BookingForm, params(("Idempotency-Key" = String, Header)), responses((status = 201, body = BookingView), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn book_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    form: Result<Body<BookingForm>, ApiError>,
) -> ApiResult<(StatusCode, Json<BookingView>)> {
    let p = admitted.for_write(&headers)?;
    let key = idempotency_key(&headers)?;
    let Body(form) = form?;
    let req = form.parse().map_err(ApiError::InvalidBody)?;
    let b = book(&state, p, &req, &req.fingerprint(), &key).await?;
    Ok((StatusCode::CREATED, Json(b)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryRequest {
    /// Cents delivered, at most what the booking still holds.
    pub amount: i64,
}

/// The provider marks a booking delivered: the hold becomes a spend. Needs an
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/api/budget/bookings/{id}/delivery", tag = "budgets", params(("id" = String, Path), ("Idempotency-Key" = String, Header)), request_body = DeliveryRequest, responses((status = 200, body = BookingView), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn deliver_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    id: Result<PathId<BookingId>, ApiError>,
    req: Result<Body<DeliveryRequest>, ApiError>,
) -> ApiResult<Json<BookingView>> {
    let p = admitted.for_write(&headers)?;
    // Who may bill comes before what was sent: a stranger learns nothing from a body.
    let PathId(booking) = id?;
    let right = super::service::deliverable(&state, p, booking).await?;
    let key = idempotency_key(&headers)?;
    let Body(req) = req?;
    deliver(&state, p, right, Cents(req.amount), &key)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

/// Cancels a booking: what it still holds goes back to the allocation. The person, their
/// case manager with consent. Needs an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/budget/bookings/{id}/cancel", tag = "budgets", params(("id" = String, Path), ("Idempotency-Key" = String, Header)), responses((status = 200, body = BookingView), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn cancel_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    id: Result<PathId<BookingId>, ApiError>,
) -> ApiResult<Json<BookingView>> {
    let p = admitted.for_write(&headers)?;
    let PathId(booking) = id?;
    let right = super::service::cancellable(&state, p, booking).await?;
    let key = idempotency_key(&headers)?;
    cancel(&state, p, right, &key)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

/// Proposes how to fund a plan from the person's allocations: the least cost to the person
/// under each programme's rules, line by line, with the reasons (docs/BUDGETS.md). Reads the
/// person's budget, so the same access as reading it applies, and it is audited.
#[utoipa::path(post, path = "/api/people/{id}/budget/funding", tag = "budgets", params(("id" = String, Path)), request_body = FundingRequestBody, responses((status = 200, body = FundingView), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn funding_api(
    State(state): State<AppState>,
    OwnWriter(ref p): OwnWriter,
    PathId(person): PathId<UserId>,
    req: Result<Body<FundingRequestBody>, ApiError>,
) -> ApiResult<Json<FundingView>> {
    // A proposal moves nothing: whoever may read the budget asks for it, auditors included.
    let facts = super::service::readable_budget(&state, p, person).await?;
    let Body(req) = req?;
    let lines = booking::parse_plan_lines(&req.lines).map_err(ApiError::InvalidBody)?;
    propose(&state, p, &facts, person, lines, req.isee, &req.excluded)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    pub within_days: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Expenditure control: spending by funder, programme, area, category and month over a
/// period (`from`/`to`, YYYY-MM; every month when absent), and alerts: the same need paid by
/// two programmes, money expiring unused within `within_days` (default 30), bookings beyond
/// the person's plan, deliveries billed beyond what was booked. Aggregates only: no person is
/// named.
#[utoipa::path(get, path = "/api/budget/dashboard", tag = "budgets", params(("within_days" = Option<i64>, Query), ("from" = Option<String>, Query), ("to" = Option<String>, Query)), responses((status = 200, body = DashboardView), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn dashboard_api(
    State(state): State<AppState>,
    admitted: Admitted,
    axum::extract::Query(q): axum::extract::Query<DashboardQuery>,
) -> ApiResult<Json<DashboardView>> {
    let p = admitted.principal();
    let days = within_days(q.within_days.as_deref())?;
    let (from, to) = report_period(q.from.as_deref(), q.to.as_deref())?;
    dashboard(&state, p, from, to, days)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

/// A funder's statement as CSV: one row per programme, area, category and month over a period
/// (`from`/`to`; every month when absent), with the bookings counted and the euros held and
/// spent. Aggregates only.
#[utoipa::path(get, path = "/api/funders/{id}/statement.csv", tag = "budgets", params(("id" = String, Path), ("from" = Option<String>, Query), ("to" = Option<String>, Query)), responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn funder_statement_api(
    State(state): State<AppState>,
    admitted: Admitted,
    PathId(funder): PathId<FunderId>,
    axum::extract::Query(q): axum::extract::Query<DashboardQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let p = admitted.principal();
    let (from, to) = report_period(q.from.as_deref(), q.to.as_deref())?;
    let visible = visible_funders(&state, p).await.unwrap_or_default();
    let Some(f) = visible.into_iter().find(|f| f.id == funder) else {
        return Err(ApiError::not_found("funder", &funder.to_string()));
    };
    let names: std::collections::HashMap<ProgrammeId, String> = super::service::programmes(&state)
        .await?
        .into_iter()
        .map(|pr| (pr.id, pr.name))
        .collect();
    let totals = super::service::budget_totals(&state, &[funder], from, to).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| {
        tracing::error!(error = %e, "csv");
        ApiError::Internal
    };
    // Names and categories are typed by people: every cell goes through the one helper that
    // keeps a spreadsheet from reading them as formulas.
    use trama_core::spreadsheet::write_record;
    write_record(
        &mut w,
        [
            "funder",
            "programme",
            "area",
            "category",
            "month",
            "bookings",
            "held_eur",
            "spent_eur",
        ],
    )
    .map_err(io)?;
    for t in totals {
        write_record(
            &mut w,
            [
                f.name.clone(),
                names.get(&t.programme).cloned().unwrap_or_default(),
                t.area.unwrap_or_default(),
                t.category,
                t.month.to_string(),
                t.bookings.to_string(),
                t.held.to_string(),
                t.spent.to_string(),
            ],
        )
        .map_err(io)?;
    }
    let bytes = w.into_inner().map_err(|_| ApiError::Internal)?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"statement.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Records a personal plan (budget di salute): the person, or their case manager with
/// consent. The newest plan is the current one.
#[utoipa::path(post, path = "/api/people/{id}/plans", tag = "budgets", params(("id" = String, Path)), request_body = Object, responses((status = 201, body = PlanView), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_plan_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(person): PathId<UserId>,
    plan: Result<Body<trama_core::budget::plan::Plan>, ApiError>,
) -> ApiResult<(StatusCode, Json<PlanView>)> {
    // Who may write comes before what was written: a stranger learns nothing from the body.
    may_write_plan(&state, p, person).await?;
    let Body(plan) = plan?;
    let row = create_plan(&state, p, person, plan).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// A person's plans, newest (current) first; whoever may read the person's budget. Audited.
#[utoipa::path(get, path = "/api/people/{id}/plans", tag = "budgets", params(("id" = String, Path)), responses((status = 200, body = [PlanView]), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn plans_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
    PathId(person): PathId<UserId>,
) -> ApiResult<Json<Vec<PlanView>>> {
    let p = admitted.principal();
    plans(&state, p, person)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanFundingRequest {
    pub isee: Option<i64>,
    #[serde(default)]
    pub excluded: Vec<ExclusionRequest>,
}

/// Funds a stored plan: the engine's proposal for its services, month by month.
#[utoipa::path(post, path = "/api/people/{id}/plans/{plan}/funding", tag = "budgets", params(("id" = String, Path), ("plan" = String, Path)), request_body = PlanFundingRequest, responses((status = 200, body = FundingView), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn plan_funding_api(
    State(state): State<AppState>,
    OwnWriter(ref p): OwnWriter,
    PathIds(person, plan): PathIds<UserId, trama_core::ids::PlanId>,
    req: Result<Body<PlanFundingRequest>, ApiError>,
) -> ApiResult<Json<FundingView>> {
    may_read_budget(&state, p, person).await?;
    let Body(req) = req?;
    fund_plan(&state, p, person, plan, req.isee, &req.excluded)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

/// The bookings the organisations one administers or operates for are to deliver.
#[utoipa::path(get, path = "/api/budget/provider-bookings", tag = "budgets", responses((status = 200, body = [ProviderBookingView]), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn provider_bookings_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
) -> ApiResult<Json<Vec<ProviderBookingView>>> {
    let p = admitted.principal();
    provider_bookings(&state, p)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

/// A programme's beneficiaries by name, with their allocation's balances: only where the
/// programme's rules allow reports on individuals (`individual_reports`), for the funder's own
/// admins (never the territory admin acting as such), and for auditors. Every person listed
/// sees the read among who looked at their file.
#[utoipa::path(get, path = "/api/programmes/{id}/beneficiaries", tag = "budgets", params(("id" = String, Path)), responses((status = 200, body = [BeneficiaryView]), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn programme_beneficiaries_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
    PathId(programme): PathId<ProgrammeId>,
) -> ApiResult<Json<Vec<BeneficiaryView>>> {
    let p = admitted.principal();
    programme_beneficiaries(&state, p, programme)
        .await
        .map(Json)
        .map_err(ApiError::from)
}
