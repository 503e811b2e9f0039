//! Care budgets: funders, programmes, allocations, consent, plans and bookings paid from a
//! person's budget. The operations the JSON API and the pages share.

use crate::service_error::invalid_field;
use crate::service_error::store_calls;
use crate::service_error::{ServiceError, ServiceResult};
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use trama_core::FieldError;
use trama_core::auth::{Principal, Role};
use trama_core::bounded::BoundedText;
use trama_core::budget::access::{self, BudgetAction, BudgetView};
use trama_core::budget::booking::IdempotencyKey;
use trama_core::budget::booking::{self, GrantForm, NewBooking, PlanLineForm};
use trama_core::budget::consent::{self, Channel, ConsentState, Purpose};
use trama_core::budget::programme::YearMonth;
use trama_core::budget::programme::{FunderKind, ProgrammeRules};
use trama_core::ids::ServiceId;
use trama_core::ids::optional;
use trama_core::ids::{AllocationId, BookingId, FunderId, OrganizationId, ProgrammeId, UserId};
use trama_core::money::Cents;
use trama_store::{
    AllocationRow, BudgetBookingRow, ConsentRecord, ConsentRow, Idempotency, NewBudgetBooking,
};
use utoipa::ToSchema;

/// An amount of money in a body: a well-formed body with nothing (or less) to move is a 422
/// naming `amount`, never a 400.
pub(crate) fn positive_amount(cents: i64) -> ServiceResult<()> {
    trama_core::budget::book::amount("amount", cents).map_err(ServiceError::InvalidBody)?;
    Ok(())
}

pub(crate) fn forbidden(what: &str) -> ServiceError {
    ServiceError::Forbidden(what.into())
}

pub(crate) async fn audit(
    state: &AppState,
    actor: &Principal,
    action: &str,
    person: UserId,
    detail: Option<String>,
) -> ServiceResult<()> {
    let id = person.to_string();
    crate::accounts::service::audit(state, actor, action, "person", &id, None, detail).await
}

/// Where a consent stands after a call.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    pub case_manager_id: String,
    pub case_manager: String,
    pub organization_id: Option<String>,
    pub purpose: String,
    /// online (given by the person) or desk (recorded from the signed form).
    pub channel: String,
    pub reference: String,
    /// active, or pending: recorded at a desk after the person withdrew it, it opens nothing
    /// until the person confirms it.
    pub state: String,
    pub given_at: String,
}

impl From<ConsentRow> for ConsentView {
    fn from(c: ConsentRow) -> Self {
        Self {
            case_manager_id: c.case_manager.to_string(),
            case_manager: c.case_manager_name,
            organization_id: c.organization.map(|o| o.to_string()),
            purpose: c.purpose,
            channel: c.channel,
            reference: c.reference,
            state: c.state.as_str().into(),
            given_at: c
                .granted_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        }
    }
}

pub(crate) fn purpose_of(v: Option<&str>) -> ServiceResult<Purpose> {
    match v.map(str::trim) {
        None | Some("") => Ok(Purpose::CareBudget),
        Some(s) => Purpose::parse("purpose", s).map_err(ServiceError::InvalidBody),
    }
}

pub(crate) fn optional_id<T>(
    field: &str,
    v: Option<&str>,
    parse: impl Fn(&str, &str) -> Result<T, FieldError>,
) -> ServiceResult<Option<T>> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse(field, s).map(Some).map_err(ServiceError::InvalidBody),
    }
}

/// A consent recorded at a desk.
pub struct DeskConsent {
    /// Default: the caller.
    pub case_manager: Option<UserId>,
    /// Default: the case manager's organisation.
    pub organization: Option<OrganizationId>,
    pub purpose: Purpose,
    pub reference: consent::ConsentReference,
}

/// The case manager's principal (roles), when she is not the caller.
pub(crate) async fn principal_of(
    state: &AppState,
    p: &Principal,
    id: UserId,
) -> ServiceResult<Principal> {
    if id == p.user_id {
        return Ok(p.clone());
    }
    crate::accounts::service::principal(state, id)
        .await?
        .ok_or_else(|| {
            ServiceError::InvalidReference(FieldError::new("case_manager_id", "no such person"))
        })
}

/// Records the consent a person signed at a desk (the API and the workspace page). Audited
/// under the person, who is notified.
pub async fn follow(
    state: &AppState,
    p: &Principal,
    person: UserId,
    desk: &DeskConsent,
) -> ServiceResult<ConsentRow> {
    let cm = principal_of(state, p, desk.case_manager.unwrap_or(p.user_id)).await?;
    let Some(org) = consent::case_manager_organization(&cm, desk.organization) else {
        return Err(ServiceError::InvalidReference(FieldError::new(
            "case_manager_id",
            "not a case manager (of this organisation)",
        )));
    };
    if !consent::may_record_at_desk(p, org) {
        return Err(forbidden(
            "only the case managers and operators of the organisation the consent is given to record it",
        ));
    }
    if person == cm.user_id {
        return Err(invalid_field(
            "id",
            "a case manager does not follow herself",
        ));
    }
    if state.store.user(person).await?.is_none() || state.store.is_erased(person).await? {
        return Err(ServiceError::NotFound(format!(
            "no person with id {person}"
        )));
    }
    let can_sign_in = state.store.can_sign_in(person).await?;
    // Someone who cannot sign in acts only through a desk that registered them; anyone else
    // without a way to confirm (an account never completed) cannot be followed at all.
    if !can_sign_in && state.store.assisted(person).await?.is_none() {
        return Err(ServiceError::InvalidReference(FieldError::new(
            "id",
            "this person can neither sign in to confirm a consent nor was registered at a desk",
        )));
    }
    let next = consent::desk_record(can_sign_in);
    state
        .store
        .record_consent(&ConsentRecord {
            person,
            case_manager: cm.user_id,
            organization: org,
            purpose: desk.purpose,
            channel: Channel::Desk,
            reference: desk.reference.clone(),
            recorded_by: p.user_id,
            state: next,
        })
        .await?;
    audit(
        state,
        p,
        if next == ConsentState::Active {
            "budget.consent"
        } else {
            "budget.consent_pending"
        },
        person,
        Some(format!(
            "{} for {} ({})",
            desk.reference.as_str(),
            cm.display_name,
            desk.purpose.as_str()
        )),
    )
    .await?;
    let (it, en) = if next == ConsentState::Active {
        (
            format!(
                "Allo sportello è stato registrato il tuo consenso ({}) perché {} segua il tuo budget di cura. Se non l'hai dato, ritiralo da «Il mio budget».",
                desk.reference.as_str(),
                cm.display_name
            ),
            format!(
                "Your consent (ref. {}) for {} to follow your care budget was recorded at a desk. If you did not give it, withdraw it from \"My budget\".",
                desk.reference.as_str(),
                cm.display_name
            ),
        )
    } else {
        (
            format!(
                "Uno sportello ha registrato il tuo consenso ({}) perché {} segua il tuo budget di cura: vale solo quando lo confermi in «Il mio budget».",
                desk.reference.as_str(),
                cm.display_name
            ),
            format!(
                "A desk recorded your consent (ref. {}) for {} to follow your care budget: it counts only once you confirm it in \"My budget\".",
                desk.reference.as_str(),
                cm.display_name
            ),
        )
    };
    notify_person(state, person, &it, &en).await;
    // Someone who cannot sign in cannot read that notice: the desk that registered them, who
    // know them, is told instead, so a consent recorded elsewhere does not go unseen.
    if !can_sign_in && let Some(a) = state.store.assisted(person).await? {
        let staff = state
            .store
            .staff_of(a.organization, &[Role::Operator, Role::HubManager])
            .await?;
        for u in staff.into_iter().filter(|u| *u != p.user_id) {
            let (it, en) = (
                format!(
                    "È stato registrato il consenso di {} ({}) perché {} ne segua il budget di cura. Se la persona non l'ha dato, avvisate il servizio.",
                    a.display_name,
                    desk.reference.as_str(),
                    cm.display_name
                ),
                format!(
                    "The consent of {} (ref. {}) for {} to follow their care budget was recorded. If the person did not give it, tell the service.",
                    a.display_name,
                    desk.reference.as_str(),
                    cm.display_name
                ),
            );
            if let Err(e) = state
                .store
                .notify(u, "consent", "person", &person.to_string(), &it, &en, true)
                .await
            {
                tracing::warn!(error = %e, "could not store a notification");
            }
        }
    }
    state
        .store
        .consent(person, cm.user_id)
        .await?
        .ok_or(ServiceError::Internal)
}

pub(crate) async fn notify_person(state: &AppState, person: UserId, it: &str, en: &str) {
    if let Err(e) = state
        .store
        .notify(
            person,
            "consent",
            "person",
            &person.to_string(),
            it,
            en,
            true,
        )
        .await
    {
        tracing::warn!(error = %e, "could not store a notification");
    }
}

/// The person gives or confirms a consent (the API and the person's page). Audited.
pub async fn give_consent(
    state: &AppState,
    p: &Principal,
    case_manager: UserId,
    organization: Option<OrganizationId>,
    purpose: Purpose,
) -> ServiceResult<ConsentRow> {
    if case_manager == p.user_id {
        return Err(invalid_field(
            "case_manager_id",
            "one does not follow oneself",
        ));
    }
    let cm = principal_of(state, p, case_manager).await?;
    let Some(org) = consent::case_manager_organization(&cm, organization) else {
        return Err(ServiceError::InvalidReference(FieldError::new(
            "case_manager_id",
            "not a case manager (of this organisation)",
        )));
    };
    let prior = state.store.consent(p.user_id, case_manager).await?;
    // A desk record the person confirms keeps the signed form's reference.
    let reference = match &prior {
        Some(c) if c.state == ConsentState::Pending => {
            consent::ConsentReference::parse(&c.reference).map_err(|_| ServiceError::Internal)?
        }
        _ => consent::ConsentReference::online(),
    };
    state
        .store
        .record_consent(&ConsentRecord {
            person: p.user_id,
            case_manager,
            organization: org,
            purpose,
            channel: Channel::Online,
            reference,
            recorded_by: p.user_id,
            state: ConsentState::Active,
        })
        .await?;
    audit(
        state,
        p,
        "budget.consent",
        p.user_id,
        Some(format!(
            "online for {} ({})",
            cm.display_name,
            purpose.as_str()
        )),
    )
    .await?;
    state
        .store
        .consent(p.user_id, case_manager)
        .await?
        .ok_or(ServiceError::Internal)
}

/// Ends a consent: the person or the case manager (the API and the person's page). A
/// withdrawal by the person stands until the person gives consent again.
pub async fn revoke(
    state: &AppState,
    p: &Principal,
    person: UserId,
    cm: UserId,
) -> ServiceResult<()> {
    if p.user_id != person && p.user_id != cm {
        return Err(forbidden(
            "only the person or the case manager ends a consent",
        ));
    }
    if !state.store.revoke_follow(person, cm, p.user_id).await? {
        return Err(ServiceError::NotFound(
            "no active consent for this case manager".into(),
        ));
    }
    audit(
        state,
        p,
        "budget.consent_revoked",
        person,
        Some(cm.to_string()),
    )
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DelegationView {
    pub organization_id: String,
    pub decision_reference: String,
    pub granted_by: String,
    pub created_at: String,
}

/// The funder's staff for a programme, or 403/422.
pub async fn funder_staff_of(
    state: &AppState,
    p: &Principal,
    programme: ProgrammeId,
) -> ServiceResult<trama_store::GrantTerms> {
    let terms = state
        .store
        .grant_terms(programme)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no programme with id {programme}")))?;
    let authority = consent::GrantAuthority {
        funder_org: terms.funder_org,
        delegated_to: vec![],
    };
    if consent::grant_right(p, &authority, |_| false) != Some(consent::GrantRight::Funder) {
        return Err(forbidden(
            "only the funder's own staff delegate the right to grant from its programmes",
        ));
    }
    Ok(terms)
}

/// The delegations of a programme in force, for whom core lets read them
/// ([`consent::may_read_delegations`]); an unknown programme is not found.
pub async fn programme_delegations(
    state: &AppState,
    p: &Principal,
    programme: ProgrammeId,
) -> ServiceResult<Vec<trama_store::DelegationRow>> {
    let terms = state
        .store
        .grant_terms(programme)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no programme with id {programme}")))?;
    let authority = consent::GrantAuthority {
        funder_org: terms.funder_org,
        delegated_to: vec![],
    };
    if !consent::may_read_delegations(p, &authority) {
        return Err(forbidden(
            "a programme's delegations are read by the funder's own staff and auditors",
        ));
    }
    Ok(state.store.delegations(programme).await?)
}

pub(crate) async fn audit_programme(
    state: &AppState,
    actor: &Principal,
    action: &str,
    programme: ProgrammeId,
    detail: String,
) -> ServiceResult<()> {
    let id = programme.to_string();
    crate::accounts::service::audit(state, actor, action, "programme", &id, None, Some(detail))
        .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllocationView {
    pub id: String,
    pub programme_id: String,
    pub programme: String,
    pub funder: String,
    pub funder_kind: String,
    pub decision_reference: String,
    /// Cents, as every amount here.
    pub granted: i64,
    pub available: i64,
    pub held: i64,
    pub spent: i64,
    pub expires: String,
    pub categories: Vec<String>,
    pub monthly_cap: Option<i64>,
    pub combinable: bool,
    pub area_code: Option<String>,
}

impl From<AllocationRow> for AllocationView {
    fn from(a: AllocationRow) -> Self {
        Self {
            id: a.id.to_string(),
            programme_id: a.programme_id.to_string(),
            programme: a.programme,
            funder: a.funder,
            funder_kind: a.funder_kind.as_str().into(),
            decision_reference: a.decision_ref,
            granted: a.granted.0,
            available: a.available.0,
            held: a.held.0,
            spent: a.spent.0,
            expires: a.expires.to_string(),
            categories: a.rules.categories,
            monthly_cap: a.rules.monthly_cap.map(|c| c.0),
            combinable: a.rules.combinable,
            area_code: a.area_code,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BookingView {
    pub id: String,
    pub allocation_id: String,
    pub provider_id: Option<String>,
    pub category: String,
    pub month: String,
    pub amount: i64,
    pub held: i64,
    pub spent: i64,
    pub state: String,
}

impl From<BudgetBookingRow> for BookingView {
    fn from(b: BudgetBookingRow) -> Self {
        Self {
            id: b.id.to_string(),
            allocation_id: b.allocation_id.to_string(),
            provider_id: b.provider_id,
            category: b.category,
            month: b.month.to_string(),
            amount: b.amount.0,
            held: b.held.0,
            spent: b.spent.0,
            state: b.state,
        }
    }
}

/// The consolidated view of a person's budget.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonBudgetView {
    pub person_id: String,
    /// `full` (the person, their case manager) or `read_only` (auditors).
    pub access: String,
    pub allocations: Vec<AllocationView>,
    pub bookings: Vec<BookingView>,
    /// Sums over the allocations, cents.
    pub granted: i64,
    pub available: i64,
    pub held: i64,
    pub spent: i64,
    /// Resources that are not money: confirmed hours of neighbourly help given and received
    /// (one hour, one time credit), and the volunteers who helped.
    pub hours_given: f64,
    pub hours_received: f64,
    pub volunteers: Vec<VolunteerHelpView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VolunteerHelpView {
    pub volunteer_id: String,
    pub name: String,
    pub hours: f64,
}

pub(crate) fn hours(minutes: i64) -> f64 {
    (minutes as f64 / 60.0 * 100.0).round() / 100.0
}

pub(crate) async fn budget_of(
    state: &AppState,
    person: UserId,
    view: BudgetView,
) -> ServiceResult<PersonBudgetView> {
    let allocations: Vec<AllocationView> = state
        .store
        .allocations_of(person)
        .await?
        .into_iter()
        .map(AllocationView::from)
        .collect();
    let bookings = state
        .store
        .budget_bookings_of(person)
        .await?
        .into_iter()
        .map(BookingView::from)
        .collect();
    let sum = |f: fn(&AllocationView) -> i64| allocations.iter().map(f).sum();
    let help = state.store.help_received(person).await?;
    let given = state.store.minutes_given(person).await?;
    Ok(PersonBudgetView {
        person_id: person.to_string(),
        access: match view {
            BudgetView::ReadOnly => "read_only",
            _ => "full",
        }
        .into(),
        granted: sum(|a| a.granted),
        available: sum(|a| a.available),
        held: sum(|a| a.held),
        spent: sum(|a| a.spent),
        allocations,
        bookings,
        hours_given: hours(given),
        hours_received: hours(help.iter().map(|h| h.minutes).sum()),
        volunteers: help
            .into_iter()
            .map(|h| VolunteerHelpView {
                volunteer_id: h.volunteer.to_string(),
                name: h.name,
                hours: hours(h.minutes),
            })
            .collect(),
    })
}

/// The facts `p`'s access to `person`'s budget is decided on, when `p` may read it at all;
/// not found otherwise, as for a person who does not exist (an auditor reads every budget,
/// never one of nobody).
pub async fn readable_budget(
    state: &AppState,
    p: &Principal,
    person: UserId,
) -> ServiceResult<trama_core::budget::access::BudgetFacts> {
    let facts = state.store.budget_facts(person).await?;
    let view = access::budget_view(p, &facts);
    // The person and a case manager with consent read someone who exists; only a read-only
    // reader (an auditor) may ask for anyone, so only then is the person looked for.
    if view == BudgetView::None
        || (view == BudgetView::ReadOnly && state.store.user(person).await?.is_none())
    {
        return Err(ServiceError::not_found(
            "budget for person",
            &person.to_string(),
        ));
    }
    Ok(facts)
}

/// Reads a person's budget for `p`: their own, or as their case manager with consent or an
/// auditor (audited: the person sees it among who looked at their file). Not found for anyone
/// else, not even whether the person has a budget. With the access facts it was decided on.
pub async fn read_budget(
    state: &AppState,
    p: &Principal,
    person: UserId,
) -> ServiceResult<(PersonBudgetView, trama_core::budget::access::BudgetFacts)> {
    let facts = readable_budget(state, p, person).await?;
    let view = access::budget_view(p, &facts);
    if access::must_audit(p, &facts) {
        audit(state, p, "budget.read", person, None).await?;
    }
    Ok((budget_of(state, person, view).await?, facts))
}

/// Books a service from an allocation for `p` (the person, or their case manager with
/// consent): the API and the case manager's page. `request` is the call as the client made
/// it, to tell a retry (the same key, the same request) from a reuse of the key.
pub async fn book(
    state: &AppState,
    p: &Principal,
    req: &NewBooking,
    request: &str,
    key: &IdempotencyKey,
) -> ServiceResult<BookingView> {
    let unknown =
        || ServiceError::InvalidReference(FieldError::new("allocation_id", "no such allocation"));
    let a = state
        .store
        .allocation(req.allocation)
        .await?
        .ok_or_else(unknown)?;
    let facts = state.store.budget_facts(a.beneficiary_id).await?;
    if !access::may(p, &facts, BudgetAction::Book)
        || state.store.is_erased(a.beneficiary_id).await?
    {
        return Err(unknown());
    }
    booking::may_pay(&a.rules, &a.programme, a.expires, &req.category, req.month)
        .map_err(ServiceError::InvalidBody)?;
    let (service, provider) =
        directory_service(state, "service_id", req.service, req.provider).await?;
    let actor = p.user_id.to_string();
    let b = state
        .store
        .hold_booking(
            &NewBudgetBooking {
                allocation: req.allocation,
                provider_id: provider,
                service_id: service,
                category: req.category.clone(),
                month: req.month,
                amount: req.amount,
            },
            Some(Idempotency {
                actor: &actor,
                key: key.as_str(),
                request,
            }),
        )
        .await?;
    if p.user_id != a.beneficiary_id {
        audit(
            state,
            p,
            "budget.book",
            a.beneficiary_id,
            Some(b.id.to_string()),
        )
        .await?;
    }
    Ok(b.into())
}

/// The right to bill a booking, which only [`deliverable`] makes: a handler asks for it before
/// it reads what was sent, and [`deliver`] takes it, so the check is made once.
#[derive(Debug)]
pub struct Deliverable {
    booking: BookingId,
    by: UserId,
}

/// The right to cancel a booking, which only [`cancellable`] makes (see [`Deliverable`]).
#[derive(Debug)]
pub struct Cancellable {
    booking: BookingId,
    by: UserId,
    person: UserId,
}

/// Whether `p` may bill this booking (an admin or operator of the organisation that
/// delivers it); not found for anyone else, as for a booking that does not exist.
pub async fn deliverable(
    state: &AppState,
    p: &Principal,
    booking: BookingId,
) -> ServiceResult<Deliverable> {
    let id = booking.to_string();
    let b = state
        .store
        .budget_booking(booking)
        .await?
        .ok_or_else(|| ServiceError::not_found("booking", &id))?;
    let provider = b
        .provider_id
        .as_deref()
        .and_then(|s| OrganizationId::parse("provider", s).ok());
    if !provider.is_some_and(|o| access::may_deliver(p, o)) {
        return Err(ServiceError::not_found("booking", &id));
    }
    Ok(Deliverable {
        booking,
        by: p.user_id,
    })
}

/// Whose booking this is, when `p` may cancel it (the person, or their case manager with
/// consent); not found for anyone else, as for a booking that does not exist.
pub async fn cancellable(
    state: &AppState,
    p: &Principal,
    booking: BookingId,
) -> ServiceResult<Cancellable> {
    let id = booking.to_string();
    let person = state
        .store
        .budget_booking_beneficiary(booking)
        .await?
        .ok_or_else(|| ServiceError::not_found("booking", &id))?;
    let facts = state.store.budget_facts(person).await?;
    if !access::may(p, &facts, BudgetAction::Book) {
        return Err(ServiceError::not_found("booking", &id));
    }
    Ok(Cancellable {
        booking,
        by: p.user_id,
        person,
    })
}

/// Marks `amount` of a booking delivered, for its provider's admins and operators (the API
/// and the provider's page). A bill beyond what the booking holds is refused (409), nothing
/// moves, and the bill is kept as a billing exception on the funder's dashboard.
pub async fn deliver(
    state: &AppState,
    p: &Principal,
    right: Deliverable,
    amount: Cents,
    key: &IdempotencyKey,
) -> ServiceResult<BookingView> {
    if right.by != p.user_id {
        return Err(ServiceError::Internal);
    }
    let booking = right.booking;
    positive_amount(amount.0)?;
    let actor = p.user_id.to_string();
    let request = format!("deliver {booking} {amount}");
    let res = state
        .store
        .deliver_booking(
            booking,
            amount,
            Some(Idempotency {
                actor: &actor,
                key: key.as_str(),
                request: &request,
            }),
        )
        .await;
    match res {
        Ok(b) => Ok(b.into()),
        Err(trama_store::StoreError::Conflict { field, reason }) if field == "amount" => {
            match state
                .store
                .record_billing_exception(booking, amount, p.user_id)
                .await?
            {
                Some(held) => Err(ServiceError::Conflict(FieldError::new(
                    "amount",
                    format!(
                        "the booking holds {held}, {amount} billed: nothing was paid; the bill beyond the booking is recorded for the funder's control"
                    ),
                ))),
                None => Err(ServiceError::Conflict(FieldError::new(field, reason))),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Cancels a booking for `p` (the person, or their case manager with consent): the API and
/// the case manager's page.
pub async fn cancel(
    state: &AppState,
    p: &Principal,
    right: Cancellable,
    key: &IdempotencyKey,
) -> ServiceResult<BookingView> {
    if right.by != p.user_id {
        return Err(ServiceError::Internal);
    }
    let (booking, person) = (right.booking, right.person);
    let id = booking.to_string();
    let actor = p.user_id.to_string();
    let request = format!("cancel {booking}");
    let b = state
        .store
        .cancel_booking(
            booking,
            Some(Idempotency {
                actor: &actor,
                key: key.as_str(),
                request: &request,
            }),
        )
        .await?;
    if p.user_id != person {
        audit(state, p, "budget.cancel", person, Some(id)).await?;
    }
    Ok(b.into())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundingRequestBody {
    pub lines: Vec<PlanLineForm>,
    /// The person's ISEE in cents, if declared (otherwise the last co-payment band applies).
    pub isee: Option<i64>,
    /// The case manager's overrides: allocations not to use for a line.
    #[serde(default)]
    pub excluded: Vec<ExclusionRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExclusionRequest {
    pub line: usize,
    pub allocation_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareView {
    pub allocation_id: String,
    pub programme: String,
    pub month: String,
    pub covered: i64,
    pub programme_pays: i64,
    pub copay: i64,
    /// Basis points (2000 = 20 %).
    pub copay_rate: u16,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotUsedView {
    pub allocation_id: String,
    pub programme: String,
    /// category_not_covered, outside_validity, no_saving, excluded, not_combinable_with,
    /// exhausted, monthly_cap_reached, others_cheaper
    pub reason: String,
    /// For `not_combinable_with`: the allocation that pays instead.
    pub with_allocation_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineFundingView {
    pub line: usize,
    pub category: String,
    pub cost: i64,
    pub shares: Vec<ShareView>,
    pub self_pay: i64,
    pub out_of_pocket: i64,
    pub not_used: Vec<NotUsedView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FundingView {
    pub total_cost: i64,
    pub public_pays: i64,
    pub copay: i64,
    pub self_pay: i64,
    pub out_of_pocket: i64,
    pub lines: Vec<LineFundingView>,
}

/// Runs the funding engine on plan lines against the person's allocations (their balances and
/// what each already paid per month), audits it, and explains the answer.
pub async fn propose(
    state: &AppState,
    p: &Principal,
    facts: &trama_core::budget::access::BudgetFacts,
    person: UserId,
    lines: Vec<trama_core::budget::funding::PlanLine>,
    isee: Option<i64>,
    excluded_req: &[ExclusionRequest],
) -> ServiceResult<FundingView> {
    use trama_core::budget::funding::{self, NotUsed, Source};
    let isee = funding::parse_isee("isee", isee).map_err(ServiceError::InvalidBody)?;
    let categories: Vec<String> = lines.iter().map(|l| l.category.clone()).collect();
    let allocations = state.store.allocations_of(person).await?;
    let bookings = state.store.budget_bookings_of(person).await?;
    let sources: Vec<Source> = allocations
        .iter()
        .map(|a| {
            let mut used: std::collections::BTreeMap<YearMonth, i64> = Default::default();
            for b in bookings.iter().filter(|b| b.allocation_id == a.id) {
                *used.entry(b.month).or_default() += b.held.0 + b.spent.0;
            }
            Source {
                rules: a.rules.clone(),
                available: a.available,
                used_in_month: used.into_iter().map(|(m, c)| (m, Cents(c))).collect(),
                expires: a.expires,
            }
        })
        .collect();
    let mut excluded = Vec::new();
    for (k, e) in excluded_req.iter().enumerate() {
        let a = AllocationId::parse(&format!("excluded[{k}].allocation_id"), &e.allocation_id)
            .map_err(ServiceError::InvalidBody)?;
        let s = allocations.iter().position(|x| x.id == a).ok_or_else(|| {
            ServiceError::InvalidReference(FieldError::new(
                format!("excluded[{k}].allocation_id"),
                "not one of the person's allocations",
            ))
        })?;
        excluded.push((e.line, s));
    }
    let f = funding::fund(&funding::FundingRequest {
        lines,
        sources,
        isee,
        excluded,
    })
    .map_err(ServiceError::InvalidBody)?;
    if access::must_audit(p, facts) {
        audit(state, p, "budget.funding", person, None).await?;
    }
    let name = |s: usize| {
        (
            allocations[s].id.to_string(),
            allocations[s].programme.clone(),
        )
    };
    let lines = f
        .lines
        .iter()
        .map(|l| LineFundingView {
            line: l.line,
            category: categories[l.line].clone(),
            cost: l.cost.0,
            self_pay: l.self_pay.0,
            out_of_pocket: l.out_of_pocket.0,
            shares: l
                .shares
                .iter()
                .map(|s| ShareView {
                    allocation_id: name(s.source).0,
                    programme: name(s.source).1,
                    month: s.month.to_string(),
                    covered: s.covered.0,
                    programme_pays: s.programme_pays.0,
                    copay: s.copay.0,
                    copay_rate: s.copay_rate.get(),
                })
                .collect(),
            not_used: l
                .not_used
                .iter()
                .map(|(s, why)| {
                    let (reason, with) = match why {
                        NotUsed::CategoryNotCovered => ("category_not_covered", None),
                        NotUsed::OutsideValidity => ("outside_validity", None),
                        NotUsed::NoSaving => ("no_saving", None),
                        NotUsed::Excluded => ("excluded", None),
                        NotUsed::NotCombinableWith(o) => ("not_combinable_with", Some(name(*o).0)),
                        NotUsed::Exhausted => ("exhausted", None),
                        NotUsed::MonthlyCapReached => ("monthly_cap_reached", None),
                        NotUsed::OthersCheaper => ("others_cheaper", None),
                    };
                    NotUsedView {
                        allocation_id: name(*s).0,
                        programme: name(*s).1,
                        reason: reason.into(),
                        with_allocation_id: with,
                    }
                })
                .collect(),
        })
        .collect();
    Ok(FundingView {
        total_cost: f.total_cost.0,
        public_pays: f.public_pays.0,
        copay: f.copay.0,
        self_pay: f.self_pay.0,
        out_of_pocket: f.out_of_pocket().0,
        lines,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FunderView {
    pub id: String,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeView {
    pub id: String,
    pub funder_id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotalView {
    pub funder_id: String,
    pub programme_id: String,
    /// The Municipio the allocations were decided in (none when not recorded).
    pub area_code: Option<String>,
    pub category: String,
    pub month: String,
    pub held: i64,
    pub spent: i64,
    pub bookings: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaTotalView {
    pub area_code: Option<String>,
    /// The area's name, when the territory knows it.
    pub area_name: Option<String>,
    pub held: i64,
    pub spent: i64,
    pub bookings: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DoubleFundingView {
    pub category: String,
    pub month: String,
    pub programme_ids: Vec<String>,
    /// The bookings involved (the person is not named).
    pub booking_ids: Vec<String>,
    pub amount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BeyondPlanView {
    pub category: String,
    pub month: String,
    pub planned: i64,
    pub booked: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiringView {
    pub allocation_id: String,
    pub programme_id: String,
    pub available: i64,
    pub expires: String,
}

/// A delivery billed beyond what was booked: refused, nothing paid, kept for control.
#[derive(Debug, Serialize, ToSchema)]
pub struct BilledBeyondView {
    pub booking_id: String,
    pub programme_id: String,
    pub provider_id: Option<String>,
    pub category: String,
    pub month: String,
    /// What the booking held when the bill came.
    pub held: i64,
    pub billed: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardView {
    /// The period, months `from..=to`.
    pub from: String,
    pub to: String,
    pub funders: Vec<FunderView>,
    pub programmes: Vec<ProgrammeView>,
    /// Spending by funder, programme, area, category and month (cents).
    pub totals: Vec<TotalView>,
    /// Spending by area (Municipio).
    pub by_area: Vec<AreaTotalView>,
    pub held: i64,
    pub spent: i64,
    pub double_funding: Vec<DoubleFundingView>,
    pub expiring_unused: Vec<ExpiringView>,
    /// Services booked beyond what the person's current plan foresees (no person named).
    pub beyond_plan: Vec<BeyondPlanView>,
    /// Deliveries billed beyond what was booked (refused; kept for control).
    pub billed_beyond: Vec<BilledBeyondView>,
    /// The window of `expiring_unused`, days.
    pub within_days: i64,
}

/// The funders `p` may see the reports of: all for the territory admin and auditors, else
/// those whose organisation `p` administers.
pub async fn visible_funders(
    state: &AppState,
    p: &Principal,
) -> ServiceResult<Vec<trama_store::FunderRow>> {
    let all = state.store.funders().await?;
    let mine: Vec<_> = all
        .into_iter()
        .filter(|f| access::may_see_funder(p, f.organization_id))
        .collect();
    if mine.is_empty() && !access::reads_dashboard_without_funder(p) {
        return Err(forbidden(
            "the spending dashboard is for funders, the territory admin and auditors",
        ));
    }
    Ok(mine)
}

/// The period of a report: `from` and `to` as YYYY-MM, each optional (all months when
/// absent).
pub fn report_period(
    from: Option<&str>,
    to: Option<&str>,
) -> ServiceResult<(YearMonth, YearMonth)> {
    trama_core::budget::programme::YearMonth::period(("from", from), ("to", to))
        .map_err(ServiceError::InvalidParameter)
}

/// The dashboard for `p` (the API and the funder's page).
pub async fn dashboard(
    state: &AppState,
    p: &Principal,
    from: YearMonth,
    to: YearMonth,
    within_days: i64,
) -> ServiceResult<DashboardView> {
    let funders = visible_funders(state, p).await?;
    let ids: Vec<FunderId> = funders.iter().map(|f| f.id).collect();
    let programmes: Vec<_> = state
        .store
        .programmes()
        .await?
        .into_iter()
        .filter(|pr| ids.contains(&pr.funder_id))
        .collect();
    let today = state.now().date();
    let d = state
        .store
        .budget_dashboard(&ids, from, to, today, within_days)
        .await?;
    let names: std::collections::HashMap<String, String> = state
        .store
        .areas("municipio")
        .await?
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect();
    let total = d.total();
    Ok(DashboardView {
        from: from.to_string(),
        to: to.to_string(),
        held: total.held.0,
        spent: total.spent.0,
        by_area: d
            .sum_by(|t| t.area.clone())
            .into_iter()
            .map(|(area, s)| AreaTotalView {
                area_name: area.as_ref().and_then(|a| names.get(a).cloned()),
                area_code: area,
                held: s.held.0,
                spent: s.spent.0,
                bookings: s.bookings,
            })
            .collect(),
        totals: d
            .totals
            .into_iter()
            .map(|t| TotalView {
                funder_id: t.funder.to_string(),
                programme_id: t.programme.to_string(),
                area_code: t.area,
                category: t.category,
                month: t.month.to_string(),
                held: t.held.0,
                spent: t.spent.0,
                bookings: t.bookings,
            })
            .collect(),
        double_funding: d
            .double_funding
            .into_iter()
            .map(|d| DoubleFundingView {
                category: d.category,
                month: d.month.to_string(),
                programme_ids: d.programmes.iter().map(|x| x.to_string()).collect(),
                booking_ids: d.bookings.iter().map(|x| x.to_string()).collect(),
                amount: d.amount.0,
            })
            .collect(),
        expiring_unused: d
            .expiring_unused
            .into_iter()
            .map(|e| ExpiringView {
                allocation_id: e.allocation.to_string(),
                programme_id: e.programme.to_string(),
                available: e.available.0,
                expires: e.expires.to_string(),
            })
            .collect(),
        beyond_plan: d
            .beyond_plan
            .into_iter()
            .map(|b| BeyondPlanView {
                category: b.category,
                month: b.month.to_string(),
                planned: b.planned.0,
                booked: b.booked.0,
            })
            .collect(),
        billed_beyond: d
            .billed_beyond
            .into_iter()
            .map(|b| BilledBeyondView {
                booking_id: b.booking.to_string(),
                programme_id: b.programme.to_string(),
                provider_id: b.provider,
                category: b.category,
                month: b.month.to_string(),
                held: b.held.0,
                billed: b.billed.0,
            })
            .collect(),
        funders: funders
            .into_iter()
            .map(|f| FunderView {
                id: f.id.to_string(),
                name: f.name,
                kind: f.kind.as_str().into(),
            })
            .collect(),
        programmes: programmes
            .into_iter()
            .map(|pr| ProgrammeView {
                id: pr.id.to_string(),
                funder_id: pr.funder_id.to_string(),
                name: pr.name,
            })
            .collect(),
        within_days,
    })
}

/// Parses `within_days` (0 to 3650, default 30).
/// The dashboard's expiry window (core's rule), a bad one being the caller's mistake.
pub fn within_days(v: Option<&str>) -> ServiceResult<i64> {
    trama_core::budget::control::expiry_window("within_days", v)
        .map_err(ServiceError::InvalidParameter)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    pub id: String,
    pub person_id: String,
    pub created_by: String,
    /// The plan: goals, items (category, description, service_id, provider_organization_id,
    /// unit_cost, per_month, from, to), review_on, agreement (parties, reference, signed_on).
    #[schema(value_type = Object)]
    pub plan: serde_json::Value,
}

impl From<trama_store::PlanRow> for PlanView {
    fn from(r: trama_store::PlanRow) -> Self {
        Self {
            id: r.id,
            person_id: r.person_id.to_string(),
            created_by: r.created_by.to_string(),
            plan: serde_json::to_value(&r.plan).unwrap_or_default(),
        }
    }
}

/// A service of the directory named by a plan or a booking, and its provider: the service
/// must exist (422 `invalid_reference` otherwise) and is provided by its own organisation,
/// which is taken as the provider when none is named and must be the one named otherwise.
pub(crate) async fn directory_service(
    state: &AppState,
    field: &str,
    service: Option<ServiceId>,
    provider: Option<OrganizationId>,
) -> ServiceResult<(Option<String>, Option<String>)> {
    let provider_field = field.replace("service_id", "provider_organization_id");
    // Money held for a provider nobody knows could never be delivered nor released by it.
    let known_field = provider_field.clone();
    let known = |org: Option<OrganizationId>| {
        let field = known_field.clone();
        async move {
            match org {
                Some(o) if !state.store.organization_exists(o).await? => {
                    Err(ServiceError::InvalidReference(FieldError::new(
                        field,
                        "no such organisation in the directory",
                    )))
                }
                _ => Ok(org.map(|o| o.to_string())),
            }
        }
    };
    let Some(id) = service else {
        return Ok((None, known(provider).await?));
    };
    let found = state.store.get_service(id).await?.ok_or_else(|| {
        ServiceError::InvalidReference(FieldError::new(field, "no such service in the directory"))
    })?;
    let owner = found.service.organization_id.map(OrganizationId::from);
    match (provider, owner) {
        (Some(named), Some(owner)) if named != owner => {
            Err(ServiceError::InvalidBody(FieldError::new(
                provider_field,
                "the service is provided by another organisation",
            )))
        }
        (named, owner) => Ok((Some(id.to_string()), known(owner.or(named)).await?)),
    }
}

/// A booking as its provider sees it: what to deliver and for whom, by name; nothing of the
/// person's budget, funders, ISEE or plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderBookingView {
    pub id: String,
    pub organization_id: String,
    pub person_name: String,
    pub category: String,
    pub month: String,
    pub amount: i64,
    pub held: i64,
    pub spent: i64,
    pub state: String,
}

/// The bookings the organisations `p` administers or operates for are to deliver (the API
/// and the provider's page).
pub async fn provider_bookings(
    state: &AppState,
    p: &Principal,
) -> ServiceResult<Vec<ProviderBookingView>> {
    let orgs: Vec<OrganizationId> = p
        .grants
        .iter()
        .filter_map(|g| g.organization_id)
        .filter(|o| access::may_deliver(p, *o))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if orgs.is_empty() {
        return Err(forbidden(
            "only the admins and operators of a provider see its bookings",
        ));
    }
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for o in orgs {
        for r in state.store.provider_bookings(o).await? {
            // The provider reads a name beside a kind of care: the person sees who did.
            if seen.insert(r.person) {
                audit(
                    state,
                    p,
                    "budget.provider_read",
                    r.person,
                    Some(o.to_string()),
                )
                .await?;
            }
            out.push(ProviderBookingView {
                id: r.booking.id.to_string(),
                organization_id: o.to_string(),
                person_name: r.person_name,
                category: r.booking.category,
                month: r.booking.month.to_string(),
                amount: r.booking.amount.0,
                held: r.booking.held.0,
                spent: r.booking.spent.0,
                state: r.booking.state,
            });
        }
    }
    Ok(out)
}

/// One beneficiary of a programme, in a report on individuals.
#[derive(Debug, Serialize, ToSchema)]
pub struct BeneficiaryView {
    pub person_id: String,
    pub name: String,
    pub allocation_id: String,
    pub decision_reference: String,
    pub area_code: Option<String>,
    pub granted: i64,
    pub available: i64,
    pub held: i64,
    pub spent: i64,
    pub expires: String,
}

/// Records an allocation granted to a person: the funder's own staff, or a case manager of
/// an organisation the funder delegated the programme to who follows the person with consent;
/// within what the programme gives one person and its months of validity. Audited under the
/// person with the decision that grants it. `request` and `key` make a retry answer what the
/// first call made, moving nothing.
pub async fn grant(
    state: &AppState,
    p: &Principal,
    person: UserId,
    form: &GrantForm,
    request: &str,
    key: &IdempotencyKey,
) -> ServiceResult<AllocationView> {
    if !consent::may_ask_to_grant(p) {
        return Err(forbidden(
            "only a funder's staff, or case managers it delegated, grant allocations",
        ));
    }
    let actor = p.user_id.to_string();
    let idem = trama_store::Idempotency {
        actor: &actor,
        key: key.as_str(),
        request,
    };
    // The same call again (a retry): what it made the first time, and no money moves.
    if let Some(earlier) = state.store.granted_with_key(idem).await? {
        return Ok(earlier.into());
    }
    let req = form.parse().map_err(ServiceError::InvalidBody)?;
    let (programme, expires) = (req.programme, req.expires);
    let terms = state.store.grant_terms(programme).await?.ok_or_else(|| {
        ServiceError::InvalidReference(FieldError::new("programme_id", "no such programme"))
    })?;
    if state.store.is_erased(person).await? {
        return Err(ServiceError::InvalidReference(FieldError::new(
            "id",
            "this person's account was erased",
        )));
    }
    let facts = state.store.budget_facts(person).await?;
    let authority = consent::GrantAuthority {
        funder_org: terms.funder_org,
        delegated_to: terms.delegated_to.clone(),
    };
    let Some(right) =
        consent::grant_right(p, &authority, |org| access::follows_for(p, &facts, org))
    else {
        return Err(forbidden(
            "granting from this programme is its funder's decision: its own staff, or the case managers of an organisation it delegated, for people they follow with consent",
        ));
    };
    let already = state.store.granted_from(programme, person).await?;
    consent::check_grant(
        req.amount,
        already,
        terms.per_beneficiary,
        expires,
        terms.rules.valid_from,
        terms.rules.valid_to,
    )
    .map_err(ServiceError::InvalidBody)?;
    let area = match req.area_code.as_deref() {
        None => None,
        Some(code) => {
            let known = state.store.areas("municipio").await?;
            if !known.iter().any(|a| a.code == code) {
                return Err(ServiceError::InvalidReference(FieldError::new(
                    "area_code",
                    format!("no Municipio with code {code:?}"),
                )));
            }
            Some(code.to_string())
        }
    };
    let a = state
        .store
        .grant_allocation(
            &trama_store::NewAllocation {
                programme,
                beneficiary: person,
                decision_ref: &req.decision_reference,
                amount: req.amount,
                expires,
                area_code: area.as_deref(),
            },
            Some(idem),
        )
        .await?;
    let by = match right {
        consent::GrantRight::Funder => "funder".to_string(),
        consent::GrantRight::Delegated(org) => format!("delegated to {org}"),
    };
    audit(
        state,
        p,
        "budget.grant",
        person,
        Some(format!(
            "{} {} cents from {} ({}), decision {}",
            a.id, req.amount, programme, by, req.decision_reference
        )),
    )
    .await?;
    Ok(a.into())
}

/// The Municipi a grant's spending may be counted in (those the territory imported).
pub async fn grant_areas(state: &AppState) -> ServiceResult<Vec<trama_core::areas::Area>> {
    Ok(state.store.areas("municipio").await?)
}

/// A programme `p` may grant `person` an allocation from, with what is left of what it gives
/// one person.
pub struct Grantable {
    pub programme: ProgrammeId,
    pub name: String,
    pub left: Cents,
    pub valid_from: YearMonth,
    pub valid_to: YearMonth,
}

/// The programmes `p` may grant `person` from (core's `consent::grant_right`), with money
/// left for them. For the person's file: nothing is read about the person but the facts the
/// right needs.
pub async fn grantable(
    state: &AppState,
    p: &Principal,
    person: UserId,
) -> ServiceResult<Vec<Grantable>> {
    if !consent::may_ask_to_grant(p) {
        return Ok(vec![]);
    }
    let facts = state.store.budget_facts(person).await?;
    let mut out = Vec::new();
    for pr in state.store.programmes().await? {
        let Some(terms) = state.store.grant_terms(pr.id).await? else {
            continue;
        };
        let authority = consent::GrantAuthority {
            funder_org: terms.funder_org,
            delegated_to: terms.delegated_to.clone(),
        };
        if consent::grant_right(p, &authority, |org| access::follows_for(p, &facts, org)).is_none()
        {
            continue;
        }
        let already = state.store.granted_from(pr.id, person).await?;
        let left = Cents((terms.per_beneficiary.0 - already.0).max(0));
        if left.0 > 0 {
            out.push(Grantable {
                programme: pr.id,
                name: pr.name.clone(),
                left,
                valid_from: terms.rules.valid_from,
                valid_to: terms.rules.valid_to,
            });
        }
    }
    Ok(out)
}

/// Records a personal plan (budget di salute): the person, or their case manager with
/// consent. The newest plan is the current one; the services it names must be in the
/// directory.
/// Whether `p` may write `person`'s plan (the person, or their case manager with consent),
/// asked before the plan is even read.
pub async fn may_write_plan(state: &AppState, p: &Principal, person: UserId) -> ServiceResult<()> {
    let facts = state.store.budget_facts(person).await?;
    if !access::may(p, &facts, BudgetAction::Book) {
        return Err(forbidden(
            "only the person or their case manager (with consent) writes the plan",
        ));
    }
    Ok(())
}

/// Whether `p` may read `person`'s budget (otherwise: not found, as if there were none),
/// asked before a request about it is even read.
pub async fn may_read_budget(state: &AppState, p: &Principal, person: UserId) -> ServiceResult<()> {
    readable_budget(state, p, person).await.map(|_| ())
}

pub async fn create_plan(
    state: &AppState,
    p: &Principal,
    person: UserId,
    mut plan: trama_core::budget::plan::Plan,
) -> ServiceResult<PlanView> {
    let facts = state.store.budget_facts(person).await?;
    if !access::may(p, &facts, BudgetAction::Book) {
        return Err(forbidden(
            "only the person or their case manager (with consent) writes the plan",
        ));
    }
    plan.validate().map_err(ServiceError::InvalidBody)?;
    for (i, item) in plan.items.iter_mut().enumerate() {
        let field = format!("items[{i}].service_id");
        let provider_field = format!("items[{i}].provider_organization_id");
        let (service, provider) = directory_service(
            state,
            &field,
            optional(&field, item.service_id.as_deref(), ServiceId::parse)
                .map_err(ServiceError::InvalidBody)?,
            optional(
                &provider_field,
                item.provider_organization_id.as_deref(),
                OrganizationId::parse,
            )
            .map_err(ServiceError::InvalidBody)?,
        )
        .await?;
        item.service_id = service;
        item.provider_organization_id = provider;
    }
    let row = state.store.create_plan(person, p.user_id, &plan).await?;
    if access::must_audit(p, &facts) {
        audit(state, p, "budget.plan", person, Some(row.id.clone())).await?;
    }
    Ok(row.into())
}

/// A person's plans, newest (current) first; whoever may read the person's budget. Audited.
pub async fn plans(
    state: &AppState,
    p: &Principal,
    person: UserId,
) -> ServiceResult<Vec<PlanView>> {
    let facts = readable_budget(state, p, person).await?;
    if access::must_audit(p, &facts) {
        audit(state, p, "budget.read", person, Some("plans".into())).await?;
    }
    Ok(state
        .store
        .plans_of(person)
        .await?
        .into_iter()
        .map(PlanView::from)
        .collect())
}

/// Funds a stored plan: the engine's proposal for its services, month by month, for whoever
/// may read the person's budget (audited as a proposal).
pub async fn fund_plan(
    state: &AppState,
    p: &Principal,
    person: UserId,
    plan: trama_core::ids::PlanId,
    isee: Option<i64>,
    excluded: &[ExclusionRequest],
) -> ServiceResult<FundingView> {
    let facts = readable_budget(state, p, person).await?;
    let plan = state
        .store
        .plans_of(person)
        .await?
        .into_iter()
        .find(|r| r.id == plan.to_string())
        .ok_or_else(|| ServiceError::not_found("plan", &plan.to_string()))?;
    propose(
        state,
        p,
        &facts,
        person,
        plan.plan.funding_lines(),
        isee,
        excluded,
    )
    .await
}

/// A programme's beneficiaries by name, with their allocation's balances: only where the
/// programme's rules allow reports on individuals, for the funder's own admins and auditors.
/// Every person listed sees the read among who looked at their file.
pub async fn programme_beneficiaries(
    state: &AppState,
    p: &Principal,
    programme: ProgrammeId,
) -> ServiceResult<Vec<BeneficiaryView>> {
    let pr = state
        .store
        .programmes()
        .await?
        .into_iter()
        .find(|x| x.id == programme)
        .ok_or_else(|| ServiceError::not_found("programme", &programme.to_string()))?;
    let funder = state
        .store
        .funders()
        .await?
        .into_iter()
        .find(|f| f.id == pr.funder_id)
        .ok_or_else(|| ServiceError::not_found("programme", &programme.to_string()))?;
    if !access::may_see_funder(p, funder.organization_id) {
        return Err(ServiceError::not_found("programme", &programme.to_string()));
    }
    if !access::may_read_individuals(p, funder.organization_id, pr.rules.individual_reports) {
        return Err(forbidden(
            "the programme's rules do not allow reports on individuals: its dashboard gives totals",
        ));
    }
    let rows = state.store.programme_allocations(programme).await?;
    let mut out = Vec::with_capacity(rows.len());
    for (a, name) in rows {
        if a.beneficiary_id != p.user_id {
            audit(
                state,
                p,
                "budget.read",
                a.beneficiary_id,
                Some(format!("programme report {programme}")),
            )
            .await?;
        }
        out.push(BeneficiaryView {
            person_id: a.beneficiary_id.to_string(),
            name,
            allocation_id: a.id.to_string(),
            decision_reference: a.decision_ref,
            area_code: a.area_code,
            granted: a.granted.0,
            available: a.available.0,
            held: a.held.0,
            spent: a.spent.0,
            expires: a.expires.to_string(),
        });
    }
    Ok(out)
}

/// A person's current plan, for a page that has already read the person's budget through
/// [`read_budget`] (which checked and audited the access).
pub async fn current_plan(
    state: &AppState,
    facts: &trama_core::budget::access::BudgetFacts,
) -> ServiceResult<Option<trama_store::PlanRow>> {
    Ok(state
        .store
        .plans_of(facts.beneficiary)
        .await?
        .into_iter()
        .next())
}

/// The name of a person whose budget the caller has read through [`read_budget`].
pub async fn person_name(
    state: &AppState,
    facts: &trama_core::budget::access::BudgetFacts,
) -> ServiceResult<String> {
    Ok(state
        .store
        .user(facts.beneficiary)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default())
}

/// The name of whoever acted on a person's file, for the person's "who looked" list.
pub async fn actor_name(state: &AppState, actor: UserId) -> ServiceResult<Option<String>> {
    Ok(state.store.user(actor).await?.map(|u| u.display_name))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunderRequest {
    pub name: String,
    /// national, regional, municipal, health_authority, corporate_welfare, community_fund,
    /// family_self
    pub kind: String,
    /// The organisation whose admins act for the funder and see its reports.
    pub organization_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeRequest {
    pub funder_id: String,
    /// The programme's rules (docs/BUDGETS.md): name, funder_kind, categories, valid_from,
    /// valid_to (YYYY-MM), monthly_cap (cents), copay_bands, combinable, individual_reports.
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
    /// What one beneficiary is granted, in cents.
    pub amount_per_beneficiary: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegationRequest {
    /// The organisation whose case managers may grant from the programme.
    pub organization_id: String,
    /// The funder's decision that delegates (delibera, protocol number).
    pub decision_reference: String,
}

/// Records a funder (territory admin).
pub async fn create_funder(
    state: &AppState,
    p: &Principal,
    req: &FunderRequest,
) -> ServiceResult<FunderId> {
    if !access::may_manage_funder(p, None) {
        return Err(forbidden("only the territory admin records funders"));
    }
    let name = BoundedText::line("name", &req.name, 200).map_err(ServiceError::InvalidBody)?;
    let name = name.as_str();
    let kind = FunderKind::parse("kind", &req.kind).map_err(ServiceError::InvalidBody)?;
    let org = match req.organization_id.as_deref() {
        Some(o) => {
            Some(OrganizationId::parse("organization_id", o).map_err(ServiceError::InvalidBody)?)
        }
        None => None,
    };
    Ok(state.store.create_funder(name, kind, org).await?)
}

/// Records a programme of a funder with its rules (territory admin).
pub async fn create_programme(
    state: &AppState,
    p: &Principal,
    req: &ProgrammeRequest,
) -> ServiceResult<ProgrammeId> {
    if !access::may_manage_funder(p, None) {
        return Err(forbidden("only the territory admin records programmes"));
    }
    let funder = FunderId::parse("funder_id", &req.funder_id).map_err(ServiceError::InvalidBody)?;
    let rules: ProgrammeRules = serde_json::from_value(req.rules.clone())
        .map_err(|e| invalid_field("rules", e.to_string()))?;
    rules
        .validate()
        .map_err(|e| invalid_field(&format!("rules.{}", e.field), e.reason))?;
    trama_core::budget::book::amount("amount_per_beneficiary", req.amount_per_beneficiary)
        .map_err(ServiceError::InvalidBody)?;
    Ok(state
        .store
        .create_programme(funder, &rules, Cents(req.amount_per_beneficiary))
        .await?)
}

/// Records a programme from the web form (territory admin): the rules in plain fields,
/// parsed by core (`ProgrammeForm`); the funder's kind is the funder's own.
pub async fn create_programme_from_form(
    state: &AppState,
    p: &Principal,
    funder: &str,
    form: &trama_core::budget::programme::ProgrammeForm,
) -> ServiceResult<ProgrammeId> {
    if !access::may_manage_funder(p, None) {
        return Err(forbidden("only the territory admin records programmes"));
    }
    let funder = FunderId::parse("funder_id", funder).map_err(ServiceError::InvalidBody)?;
    let kind = state
        .store
        .funders()
        .await?
        .into_iter()
        .find(|f| f.id == funder)
        .map(|f| f.kind)
        .ok_or_else(|| {
            ServiceError::InvalidReference(FieldError::new("funder_id", "no such funder"))
        })?;
    let (rules, amount) = form.parse(kind).map_err(ServiceError::InvalidBody)?;
    let id = state.store.create_programme(funder, &rules, amount).await?;
    audit_programme(state, p, "programme.create", id, rules.name.clone()).await?;
    Ok(id)
}

/// The funder's staff delegate a programme to an organisation: its case managers may then
/// grant from it, for people they follow with consent. Audited.
pub async fn delegate(
    state: &AppState,
    p: &Principal,
    programme: ProgrammeId,
    req: &DelegationRequest,
) -> ServiceResult<()> {
    funder_staff_of(state, p, programme).await?;
    let org = OrganizationId::parse("organization_id", &req.organization_id)
        .map_err(ServiceError::InvalidBody)?;
    let decision = consent::decision_reference("decision_reference", &req.decision_reference)
        .map_err(ServiceError::InvalidBody)?;
    state
        .store
        .delegate_programme(programme, org, &decision, p.user_id)
        .await?;
    audit_programme(
        state,
        p,
        "programme.delegate",
        programme,
        format!("{org} {}", req.decision_reference.trim()),
    )
    .await
}

/// The funder's staff end a delegation. Audited.
pub async fn undelegate(
    state: &AppState,
    p: &Principal,
    programme: ProgrammeId,
    org: OrganizationId,
) -> ServiceResult<()> {
    funder_staff_of(state, p, programme).await?;
    if !state.store.revoke_delegation(programme, org).await? {
        return Err(ServiceError::NotFound(
            "no delegation in force to this organisation".into(),
        ));
    }
    audit_programme(state, p, "programme.undelegate", programme, org.to_string()).await
}

store_calls! {
    /// The consent between a person and a case manager, if any: for the person's own page.
    pub fn consent_between(person: UserId, case_manager: UserId) -> Option<ConsentRow> = consent;
    /// The people a case manager follows with an active consent: (id, name, consent reference).
    pub fn caseload(case_manager: UserId) -> Vec<(UserId, String, String)>;
    /// The case managers who follow a person (active or waiting for the person's confirmation).
    pub fn consents_of(person: UserId) -> Vec<ConsentRow>;
    pub fn delegations(programme: trama_core::ids::ProgrammeId) -> Vec<trama_store::DelegationRow>;
    pub fn programmes() -> Vec<trama_store::ProgrammeRow>;
    pub fn budget_totals(
        funders: &[FunderId],
        from: YearMonth,
        to: YearMonth,
    ) -> Vec<trama_core::budget::control::TotalRow>;
    pub fn budget_facts(person: trama_core::ids::UserId) -> trama_core::budget::access::BudgetFacts;
    /// Whether the double-entry book balances: (transactions whose postings do not sum to zero,
    /// allocations whose balances differ from their postings); (0, 0) when it does.
    pub fn book_problems() -> (i64, i64) = budget_book_problems;
    /// Every booking's facts (funder, programme, person, category, month, held, spent), for the
    /// pure control rules; the benchmark checks the database's dashboard against them.
    pub fn spend_facts() -> Vec<trama_core::budget::control::SpendFact>;
}
