//! Needs, offers, matches, assisted mode, hubs and campaigns: the service layer the JSON API
//! (`/api/...`, here) and the web pages share, so both ask the same questions the same way.
//!
//! Privacy is decided in one place: [`need_view`] shows a need at the access level
//! `trama_core::needs::need_access` grants, and every full read of someone else's need is
//! written to the audit log under that person.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

use trama_core::FieldError;
use trama_core::auth::{Principal, Role};
use trama_core::ids::{CampaignId, MatchId, NeedId, OfferId, OrganizationId, UserId};
use trama_core::matching::instance::{Vocabulary, WindowSpec};
use trama_core::matching::lifecycle::{MatchEvent, MatchState, NeedState, Side};
use trama_core::matching::model::{self, Need, Offer, Problem, need_weight};
use trama_core::matching::{AssignOptions, Engine, OfferIndex};
use trama_core::needs::{
    NeedAccess, NeedForm, NeedParties, OfferForm, PublicArea, acts_for_requester, need_access,
    public_area,
};
use trama_store::{
    AuditEntry, MatchChange, MatchRow, NeedFilter, NeedRecord, NeedRow, NewMatch, OfferRow,
};

use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::policy::Admitted;
use crate::policy::{Policy, Routes, Scope, Who};
use crate::state::AppState;

pub fn routes() -> Routes {
    use crate::policy::{self, OPERATORS, PUBLIC, TERRITORY_ADMIN};
    let signed_in = |scope, note| Policy::new(Who::SignedIn, scope, note);
    let parties = signed_in(
        Scope::Parties,
        "the person and whoever acts for them; public facts for others",
    );
    let own = signed_in(Scope::Own, "one's own");
    let operators = |note| Policy::new(Who::Roles(OPERATORS), Scope::Organisation, note);
    let territory = |note| Policy::new(Who::Roles(TERRITORY_ADMIN), Scope::Territory, note);
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
        .post("/needs/{id}/cancel", cancel_need_api, parties)
        .post("/needs/{id}/reopen", reopen_need_api, parties)
        .post("/offers", create_offer_api, signed_in(Scope::Own, "one's own offer; for an organisation one works for"))
        .get("/offers", list_offers_api, own)
        .get("/offers/{id}", get_offer_api, Policy::new(Who::Anyone, Scope::Parties, "public facts; all of it to its owner"))
        .get("/offers/{id}/suggestions", offer_suggestions_api, signed_in(Scope::Own, "the offer's owner"))
        .get("/matches", list_matches_api, own)
        .get("/matches/{id}", get_match_api, signed_in(Scope::Parties, "its two sides; auditors"))
        .post("/matches/{id}/events", match_event_api, signed_in(Scope::Parties, "its two sides"))
        .post("/people", register_person_api, operators("operators of the organisation that registers the person"))
        .get("/people", list_people_api, operators("the people one's organisations follow"))
        .get("/people/{id}/activity", person_activity_api, operators("the operators of the organisation that follows the person").audited())
        .get("/me/activity", my_activity_api, own)
        .get("/notifications", notifications_api, own)
        .post("/notifications/read", notifications_read_api, own)
        .post("/campaigns", create_campaign_api, territory("the territory admin"))
        .get("/campaigns", list_campaigns_api, PUBLIC)
        .get("/campaigns/{id}", get_campaign_api, PUBLIC)
        .post("/campaigns/{id}/dispatch", dispatch_campaign_api, territory("the territory admin"))
        .post("/matching/batch", batch_api, territory("the territory admin"))
        .get("/hubs", list_hubs_api, PUBLIC)
        .put(
            "/hubs/{id}",
            put_hub_api,
            Policy::new(Who::Roles(policy::HUB_MANAGERS), Scope::Organisation, "the hub managers and admins of its organisation; the territory admin"),
        )
        .post(
            "/hubs/{id}/rooms",
            add_room_api,
            Policy::new(Who::Roles(policy::HUB_MANAGERS), Scope::Organisation, "the hub managers and admins of its organisation; the territory admin"),
        )
        .get("/rooms/{id}/slots", room_slots_api, PUBLIC)
        .post("/rooms/{id}/bookings", book_room_api, signed_in(Scope::Own, "anyone signed in, for themself"))
        .get("/shared-services", shared_services_api, operators("the open needs one's organisations follow"))
}

type JsonBody<T> = Result<Json<T>, JsonRejection>;

fn body<T>(b: JsonBody<T>) -> ApiResult<T> {
    Ok(b.map_err(ApiError::from)?.0)
}

fn invalid(e: FieldError) -> ApiError {
    ApiError::InvalidBody(e)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("formattable")
}

// ---------------------------------------------------------------------------------------------
// Views

#[derive(Debug, Clone, Serialize)]
pub struct CategoryRef {
    pub id: Uuid,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
}

/// A need as one viewer may see it. Fields beyond category, area and time appear only at the
/// access level that allows them.
#[derive(Debug, Clone, Serialize)]
pub struct NeedView {
    pub id: Uuid,
    /// public, party or full: what this view includes.
    pub access: NeedAccess,
    pub category: CategoryRef,
    pub area: PublicArea,
    pub windows: Vec<WindowSpec>,
    pub recurring: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    pub duration_minutes: u16,
    pub state: String,
    // Party and full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub people: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covered: Option<u8>,
    // Full only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester: Option<PersonRef>,
    /// Entered by an operator for the person (assisted mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assisted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PersonRef {
    pub id: Uuid,
    pub name: String,
}

fn day(d: time::Date) -> String {
    d.format(time::macros::format_description!("[year]-[month]-[day]"))
        .expect("formattable")
}

/// The view of a need at a given access level.
pub fn need_view(n: &NeedRow, access: NeedAccess) -> NeedView {
    let party = access >= NeedAccess::Party;
    let full = access == NeedAccess::Full;
    NeedView {
        id: n.id.as_uuid(),
        access,
        category: CategoryRef {
            id: n.category.as_uuid(),
            name: n.category_name.clone(),
            name_en: n.category_name_en.clone(),
        },
        area: n.area.clone(),
        windows: n.windows.iter().map(WindowSpec::of).collect(),
        recurring: n.recurring,
        date: n.date.map(day),
        until: n.until.map(day),
        duration_minutes: n.duration_minutes,
        state: n.state.as_str().into(),
        description: party.then(|| n.description.clone()),
        urgency: party.then(|| n.urgency.as_str().into()),
        languages: party.then(|| n.languages.clone()),
        skills: party.then(|| n.skills.clone()),
        people: party.then_some(n.people),
        covered: party.then_some(n.covered),
        address: full.then(|| n.address.clone()),
        lat: full.then(|| n.point.lat()),
        lon: full.then(|| n.point.lon()),
        requester: full.then(|| PersonRef {
            id: n.requester.as_uuid(),
            name: n.requester_name.clone(),
        }),
        assisted: full.then_some(n.entered_by != n.requester),
        campaign_id: if full {
            n.campaign.map(|c| c.as_uuid())
        } else {
            None
        },
        created_at: full.then(|| rfc3339(n.created_at)),
    }
}

/// An offer. The home point stays with its owner; others see the area.
#[derive(Debug, Clone, Serialize)]
pub struct OfferView {
    pub id: Uuid,
    pub volunteer: PersonRef,
    pub categories: Vec<Uuid>,
    /// The organisation the offer is made for, when it is one's (organisations are public).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    pub area_name: String,
    pub radius_km: f64,
    pub availability: Vec<WindowSpec>,
    pub languages: Vec<String>,
    pub skills: Vec<String>,
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours_per_week: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<u16>,
}

pub fn offer_view(o: &OfferRow, owner: bool) -> OfferView {
    OfferView {
        id: o.id.as_uuid(),
        volunteer: PersonRef {
            id: o.owner.as_uuid(),
            name: o.owner_name.clone(),
        },
        categories: o.categories.iter().map(|c| c.as_uuid()).collect(),
        organization_id: o.organization.map(|g| g.as_uuid()),
        area_name: o.area_name.clone(),
        radius_km: o.radius_km,
        availability: o.availability.iter().map(WindowSpec::of).collect(),
        languages: o.languages.clone(),
        skills: o.skills.clone(),
        state: o.state.clone(),
        description: Some(o.description.clone()),
        lat: owner.then(|| o.point.lat()),
        lon: owner.then(|| o.point.lon()),
        hours_per_week: owner.then_some(o.hours_per_week),
        capacity: owner.then_some(o.capacity),
        active: owner.then_some(o.active),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MatchView {
    pub id: Uuid,
    pub need_id: Uuid,
    pub offer_id: Uuid,
    pub state: String,
    pub volunteer: PersonRef,
    pub category_id: Uuid,
    pub area_name: String,
    pub score: u8,
    pub distance_km: f64,
    pub origin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_at: Option<String>,
    pub occurrences: u32,
    pub minutes_confirmed: u32,
    pub recurring: bool,
    /// The side the viewer acts for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub your_side: Option<Side>,
    /// The events the viewer may send now.
    pub allowed_events: Vec<String>,
}

/// Every event a side might send, with its name in the API.
pub const EVENT_NAMES: [&str; 7] = [
    "accept", "decline", "schedule", "done", "cancel", "no_show", "expire",
];

pub fn parse_event(name: &str, side: Side) -> Result<MatchEvent, FieldError> {
    Ok(match name {
        "accept" => MatchEvent::Accept(side),
        "decline" => MatchEvent::Decline(side),
        "schedule" => MatchEvent::Schedule,
        "done" => MatchEvent::Done(side),
        "cancel" => MatchEvent::Cancel(side),
        "no_show" => MatchEvent::NoShow(side),
        other => {
            return Err(FieldError::new(
                "event",
                format!("'{other}' is not one of accept, decline, schedule, done, cancel, no_show"),
            ));
        }
    })
}

pub fn match_view(m: &MatchRow, side: Option<Side>) -> MatchView {
    let allowed = side
        .map(|s| {
            EVENT_NAMES
                .iter()
                .filter(|e| **e != "expire")
                .filter(|e| {
                    parse_event(e, s)
                        .ok()
                        .is_some_and(|ev| m.state.apply(ev, m.recurring).is_ok())
                })
                .map(|e| e.to_string())
                .collect()
        })
        .unwrap_or_default();
    MatchView {
        id: m.id.as_uuid(),
        need_id: m.need.as_uuid(),
        offer_id: m.offer.as_uuid(),
        state: m.state.as_str().into(),
        volunteer: PersonRef {
            id: m.volunteer.as_uuid(),
            name: m.volunteer_name.clone(),
        },
        category_id: m.category.as_uuid(),
        area_name: m.area_name.clone(),
        score: m.score,
        distance_km: (m.distance_km * 2.0).round() / 2.0,
        origin: m.origin.clone(),
        next_at: m.next_at.map(rfc3339),
        occurrences: m.occurrences,
        minutes_confirmed: m.minutes_confirmed,
        recurring: m.recurring,
        your_side: side,
        allowed_events: allowed,
    }
}

// ---------------------------------------------------------------------------------------------
// The service layer, shared with the web pages.

async fn audit(
    state: &AppState,
    actor: &Principal,
    action: &str,
    subject_type: &str,
    subject_id: &str,
    on_behalf_of: Option<UserId>,
    detail: Option<String>,
) -> ApiResult<()> {
    state
        .store
        .audit(&AuditEntry {
            at: OffsetDateTime::now_utc(),
            actor_id: Some(actor.user_id),
            action: action.into(),
            subject_type: subject_type.into(),
            subject_id: Some(subject_id.into()),
            detail,
            on_behalf_of,
        })
        .await?;
    Ok(())
}

/// The public area and Municipio of a point, from the areas the territory imported (NIL and
/// Municipi), else the carried table of Milan's Municipi.
pub async fn area_of(
    state: &AppState,
    point: &trama_core::geo::Coordinates,
) -> ApiResult<(PublicArea, Option<String>)> {
    let nils = state.store.areas("nil").await?;
    let mut municipi = state.store.areas("municipio").await?;
    if municipi.is_empty() {
        municipi = trama_core::areas::milano_municipi();
    }
    Ok(public_area(point, &nils, &municipi))
}

/// Posts a need, for oneself or (operators) for a person they follow.
pub async fn create_need(state: &AppState, p: &Principal, form: &NeedForm) -> ApiResult<NeedId> {
    let today = state.now_local().date();
    let need = form.parse(today).map_err(invalid)?;
    let (requester, organization) = match need.on_behalf_of {
        None => (p.user_id, None),
        Some(person) => {
            let assisted = state.store.assisted(person).await?.ok_or_else(|| {
                ApiError::InvalidReference(FieldError::new(
                    "on_behalf_of",
                    "no person registered by an operator with this id",
                ))
            })?;
            if !p.operates_for(assisted.organization) {
                return Err(ApiError::Forbidden(
                    "you do not operate for the organisation that follows this person".into(),
                ));
            }
            (person, Some(assisted.organization))
        }
    };
    let max = state.config.matching.max_open_needs_per_person;
    let mut live = 0;
    for st in [NeedState::Open, NeedState::Matched] {
        live += state
            .store
            .needs(&trama_store::NeedFilter {
                requester: Some(requester),
                state: Some(st),
                limit: max as i64 + 1,
                ..Default::default()
            })
            .await?
            .len();
    }
    if live >= max {
        return Err(ApiError::Conflict(FieldError::new(
            "need",
            format!("one person may have at most {max} requests open at once"),
        )));
    }
    let (area, municipio) = area_of(state, &need.point).await?;
    // Needs of people who post for themselves go to the operators of their Municipio, when the
    // territory has said which organisation that is (setting `route.municipio.<code>`).
    let organization = match (organization, &municipio) {
        (Some(o), _) => Some(o),
        (None, Some(code)) => state
            .store
            .setting(&format!("route.municipio.{code}"))
            .await?
            .and_then(|s| s.parse().ok())
            .map(OrganizationId),
        _ => None,
    };
    let id = state
        .store
        .create_need(&NeedRecord {
            need: need.clone(),
            requester,
            entered_by: p.user_id,
            organization,
            area,
            municipio,
        })
        .await?;
    audit(
        state,
        p,
        "need.create",
        "need",
        &id.to_string(),
        (requester != p.user_id).then_some(requester),
        None,
    )
    .await?;
    Ok(id)
}

/// Loads a need with who is involved and what this viewer may see; full reads of someone
/// else's need are audited.
pub async fn load_need(
    state: &AppState,
    viewer: Option<&Principal>,
    id: NeedId,
) -> ApiResult<(NeedRow, NeedParties, NeedAccess)> {
    let n = state
        .store
        .need(id)
        .await?
        .ok_or_else(|| ApiError::not_found("need", &id.to_string()))?;
    let parties = state.store.need_parties(&n).await?;
    let access = need_access(viewer, &parties);
    audit_full_read(state, viewer, &n, access).await?;
    Ok((n, parties, access))
}

/// A full read of someone else's need (address, name, description) goes to the audit log
/// under the person, who sees it in their activity: one place for the need's page and the
/// desk's list.
pub async fn audit_full_read(
    state: &AppState,
    viewer: Option<&Principal>,
    n: &NeedRow,
    access: NeedAccess,
) -> ApiResult<()> {
    if access == NeedAccess::Full
        && let Some(p) = viewer
        && p.user_id != n.requester
    {
        state
            .store
            .audit(&AuditEntry {
                at: OffsetDateTime::now_utc(),
                actor_id: Some(p.user_id),
                action: "need.read".into(),
                subject_type: "person".into(),
                subject_id: Some(n.requester.to_string()),
                detail: Some(format!("need {}", n.id)),
                on_behalf_of: None,
            })
            .await?;
    }
    Ok(())
}

/// A suggested volunteer for a need.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub offer_id: Uuid,
    pub volunteer: PersonRef,
    pub area_name: String,
    pub distance_km: f64,
    pub score: u8,
    pub languages: Vec<String>,
    pub skills: Vec<String>,
}

/// Which points the engine sees. Before both sides accept, everything that reaches the other
/// party (suggestions, whether an offer fits, the distance shown) is computed from the coarse
/// cells of both points, so that probing with one's own offers or needs learns nothing finer
/// than the public area (docs/SECURITY.md, "Places"). Operators' batch assignment, which
/// nobody outside the desk sees, uses the exact points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Points {
    Exact,
    Coarse,
}

impl Points {
    fn of(self, c: &trama_core::geo::Coordinates) -> trama_core::geo::Coordinates {
        match self {
            Points::Exact => *c,
            Points::Coarse => c.coarse(),
        }
    }

    /// An offer's reach. Between cell centres a distance can be off by up to one cell's
    /// diagonal, so coarse reach is widened by it: no need within the volunteer's radius is
    /// ever missed, and some up to ~1.6 km beyond it are suggested (the volunteer decides).
    fn radius(self, km: f64) -> f64 {
        match self {
            Points::Exact => km,
            Points::Coarse => km + COARSE_MARGIN_KM,
        }
    }
}

/// How much farther than a radius to look for candidates when points are coarse.
const COARSE_MARGIN_KM: f64 = trama_core::geo::COARSE_CELL_DIAGONAL_KM;

/// Engine views of stored needs and offers, with their category/language/skill vocabulary.
struct Compiled {
    problem: Problem,
}

fn compile(
    vocab: &mut Vocabulary,
    needs: &[(&NeedRow, Vec<u32>)],
    offers: &[&OfferRow],
    now: OffsetDateTime,
    points: Points,
) -> ApiResult<Compiled> {
    let mut problem = Problem::default();
    for o in offers {
        problem.offers.push(Offer {
            point: points.of(&o.point),
            radius_km: points.radius(o.radius_km),
            categories: o
                .categories
                .iter()
                .map(|c| vocab.category(&c.to_string()))
                .collect(),
            availability: o.availability.clone(),
            hours_per_week: o.hours_per_week,
            capacity: o.capacity.saturating_sub(o.active),
            load: o.active,
            languages: vocab
                .languages("languages", &o.languages)
                .map_err(|_| ApiError::Internal)?,
            skills: vocab
                .skills("skills", &o.skills)
                .map_err(|_| ApiError::Internal)?,
        });
    }
    for (n, previous) in needs {
        problem.needs.push(Need {
            point: points.of(&n.point),
            category: vocab.category(&n.category.to_string()),
            windows: n.windows.clone(),
            duration_min: n.duration_minutes,
            weight: need_weight(n.urgency, n.waiting_days(now)),
            languages: vocab
                .languages("languages", &n.languages)
                .map_err(|_| ApiError::Internal)?,
            skills: vocab
                .skills("skills", &n.skills)
                .map_err(|_| ApiError::Internal)?,
            people: n.people.saturating_sub(n.covered).max(1),
            previous_offers: previous.clone(),
        });
    }
    Ok(Compiled { problem })
}

/// The largest radius an offer may have (the API refuses more): how far to look for offers.
const MAX_OFFER_RADIUS_KM: f64 = 100.0;

/// Counts one suggestion list asked for by `p`: people may ask `matching.suggestions_per_hour`
/// times an hour; the desk's operators and hub managers, who act for many people and whose
/// every action is audited, are not counted.
fn count_suggestion_query(state: &AppState, p: &Principal) -> ApiResult<()> {
    if p.has_role(Role::Operator) || p.has_role(Role::HubManager) {
        return Ok(());
    }
    state
        .suggestions_by_person
        .hit(&p.user_id.to_string())
        .map_err(ApiError::RateLimited)
}

/// The best `k` offers for a need, from the offers stored near it, ranked by the engine (on
/// coarse points: see [`Points`]). Counted against `p`'s hourly allowance.
pub async fn suggestions_for(
    state: &AppState,
    p: &Principal,
    n: &NeedRow,
    k: usize,
) -> ApiResult<Vec<Suggestion>> {
    count_suggestion_query(state, p)?;
    let reach = state
        .store
        .max_offer_radius()
        .await?
        .min(MAX_OFFER_RADIUS_KM);
    let offers = state
        .store
        .offers_near(
            n.category,
            &n.point
                .coarse()
                .bounding_box(reach + 2.0 * COARSE_MARGIN_KM),
        )
        .await?;
    let previous = state.store.previous_offers_of(n.requester).await?;
    // Volunteers already in a live match with this need are not suggested again.
    let taken: Vec<OfferId> = state
        .store
        .matches_of_need(n.id)
        .await?
        .into_iter()
        .filter(|m| m.live)
        .map(|m| m.offer)
        .collect();
    let offers: Vec<&OfferRow> = offers
        .iter()
        .filter(|o| !taken.contains(&o.id) && o.owner != n.requester)
        .collect();
    let prev_idx: Vec<u32> = offers
        .iter()
        .enumerate()
        .filter(|(_, o)| previous.contains(&o.id))
        .map(|(i, _)| i as u32)
        .collect();
    let mut vocab = Vocabulary::default();
    let c = compile(
        &mut vocab,
        &[(n, prev_idx)],
        &offers,
        OffsetDateTime::now_utc(),
        Points::Coarse,
    )?;
    let index = OfferIndex::build(&c.problem.offers);
    Ok(index
        .suggest(&c.problem, &c.problem.needs[0], k)
        .into_iter()
        .map(|(cand, penalty)| {
            let o = offers[cand.offer as usize];
            Suggestion {
                offer_id: o.id.as_uuid(),
                volunteer: PersonRef {
                    id: o.owner.as_uuid(),
                    name: o.owner_name.clone(),
                },
                area_name: o.area_name.clone(),
                distance_km: (cand.distance_km * 2.0).round() / 2.0,
                score: model::score_from_penalty(penalty),
                languages: o.languages.clone(),
                skills: o.skills.clone(),
            }
        })
        .collect())
}

/// A need suggested to an offer: public facts only, and the fit.
#[derive(Debug, Clone, Serialize)]
pub struct NeedSuggestion {
    pub need: NeedView,
    pub distance_km: f64,
    pub score: u8,
}

/// The needs an offer could answer, best first (on coarse points: see [`Points`]). Counted
/// against `p`'s hourly allowance.
pub async fn suggestions_for_offer(
    state: &AppState,
    p: &Principal,
    o: &OfferRow,
    k: usize,
) -> ApiResult<Vec<NeedSuggestion>> {
    count_suggestion_query(state, p)?;
    let needs = state
        .store
        .open_needs_near(
            &o.categories,
            &o.point
                .coarse()
                .bounding_box(o.radius_km + 2.0 * COARSE_MARGIN_KM),
        )
        .await?;
    let needs: Vec<&NeedRow> = needs.iter().filter(|n| n.requester != o.owner).collect();
    let mut vocab = Vocabulary::default();
    let pairs: Vec<(&NeedRow, Vec<u32>)> = needs.iter().map(|n| (*n, vec![])).collect();
    let c = compile(
        &mut vocab,
        &pairs,
        &[o],
        OffsetDateTime::now_utc(),
        Points::Coarse,
    )?;
    let engine = Engine::new(c.problem);
    Ok(engine
        .suggest_needs(0, k)
        .into_iter()
        .map(|(n, cand)| NeedSuggestion {
            need: need_view(needs[n as usize], NeedAccess::Public),
            distance_km: (cand.distance_km * 2.0).round() / 2.0,
            score: model::score_from_penalty(cand.edge_penalty),
        })
        .collect())
}

async fn notify_match(state: &AppState, m: &MatchRow, to: &[UserId], it: &str, en: &str) {
    for u in to {
        if let Err(e) = state
            .store
            .notify(*u, "match", "match", &m.id.to_string(), it, en, true)
            .await
        {
            tracing::warn!(error = %e, "could not store a notification");
        }
    }
}

/// Who should hear about a match from the requester's side: the person, and whoever entered
/// the need for them.
async fn requester_side(state: &AppState, need: NeedId) -> ApiResult<Vec<UserId>> {
    let n = state.store.need(need).await?.ok_or(ApiError::Internal)?;
    let mut v = vec![n.requester];
    if n.entered_by != n.requester {
        v.push(n.entered_by);
    }
    Ok(v)
}

/// The requester's side chooses a volunteer among the suggestions.
pub async fn propose(
    state: &AppState,
    p: &Principal,
    need: NeedId,
    offer: OfferId,
) -> ApiResult<MatchRow> {
    let (n, parties, _) = load_need(state, Some(p), need).await?;
    if !acts_for_requester(p, &parties) {
        return Err(ApiError::Forbidden(
            "only the person, or an operator acting for them, may choose a volunteer".into(),
        ));
    }
    let o =
        state.store.offer(offer).await?.ok_or_else(|| {
            ApiError::InvalidReference(FieldError::new("offer_id", "no such offer"))
        })?;
    let fit = fit_of(&n, &o)?;
    let on_behalf = (p.user_id != n.requester).then_some(n.requester);
    let m = state
        .store
        .create_match(&NewMatch {
            need,
            offer,
            state: MatchState::AcceptedByRequester,
            score: fit.1,
            distance_km: fit.0,
            origin: "requester".into(),
            actor: Some(p.user_id),
            on_behalf_of: on_behalf,
            waiting_limit: None,
        })
        .await?;
    audit(
        state,
        p,
        "match.propose",
        "match",
        &m.id.to_string(),
        on_behalf,
        None,
    )
    .await?;
    notify_match(
        state,
        &m,
        &[m.volunteer],
        "Qualcuno ti chiede aiuto: apri l'abbinamento per accettare.",
        "Someone asks for your help: open the match to accept.",
    )
    .await;
    Ok(m)
}

/// Whether an offer fits a need, by the engine's rules: (distance, score), or why not.
fn fit_of(n: &NeedRow, o: &OfferRow) -> ApiResult<(f64, u8)> {
    let mut vocab = Vocabulary::default();
    let c = compile(
        &mut vocab,
        &[(n, vec![])],
        &[o],
        OffsetDateTime::now_utc(),
        Points::Coarse,
    )?;
    let (need, offer) = (&c.problem.needs[0], &c.problem.offers[0]);
    let mut offer = offer.clone();
    offer.capacity = offer.capacity.max(1); // room is checked atomically when the match is made
    match model::feasibility(need, &offer) {
        Ok(d) => {
            let pen = model::edge_penalty(need, 0, d) + model::load_penalty(&offer, 0);
            Ok((d, model::score_from_penalty(pen)))
        }
        Err(why) => Err(ApiError::Conflict(FieldError::new(
            "offer_id",
            format!(
                "this offer does not fit the need ({})",
                serde_json::to_value(why)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            ),
        ))),
    }
}

/// A volunteer takes a need with one of their offers. Two volunteers taking the last place at
/// once: one wins, the other gets 409.
pub async fn accept_need(
    state: &AppState,
    p: &Principal,
    need: NeedId,
    offer: OfferId,
) -> ApiResult<MatchRow> {
    let o =
        state.store.offer(offer).await?.ok_or_else(|| {
            ApiError::InvalidReference(FieldError::new("offer_id", "no such offer"))
        })?;
    if o.owner != p.user_id {
        return Err(ApiError::Forbidden("this offer is not yours".into()));
    }
    let (n, _, _) = load_need(state, Some(p), need).await?;
    if n.requester == p.user_id {
        return Err(ApiError::Conflict(FieldError::new(
            "need",
            "you cannot answer your own need",
        )));
    }
    let fit = fit_of(&n, &o)?;
    let m = state
        .store
        .create_match(&NewMatch {
            need,
            offer,
            state: MatchState::AcceptedByVolunteer,
            score: fit.1,
            distance_km: fit.0,
            origin: "volunteer".into(),
            actor: Some(p.user_id),
            on_behalf_of: None,
            waiting_limit: Some(state.config.matching.max_pending_accepts_per_person as u32),
        })
        .await?;
    audit(
        state,
        p,
        "match.accept",
        "match",
        &m.id.to_string(),
        None,
        None,
    )
    .await?;
    let to = requester_side(state, need).await?;
    notify_match(
        state,
        &m,
        &to,
        "Un volontario si è offerto per la tua richiesta: conferma per dargli l'indirizzo.",
        "A volunteer offered to help with your request: confirm to give them the address.",
    )
    .await;
    Ok(m)
}

/// Which side of a match the viewer acts for.
pub async fn side_in(state: &AppState, p: &Principal, m: &MatchRow) -> ApiResult<Option<Side>> {
    if m.volunteer == p.user_id {
        return Ok(Some(Side::Volunteer));
    }
    let n = state.store.need(m.need).await?.ok_or(ApiError::Internal)?;
    let parties = state.store.need_parties(&n).await?;
    Ok(acts_for_requester(p, &parties).then_some(Side::Requester))
}

/// Applies an event to a match for the viewer's side.
pub async fn match_event(
    state: &AppState,
    p: &Principal,
    id: MatchId,
    event: &str,
    next_at: Option<OffsetDateTime>,
    minutes: Option<u32>,
    note: Option<String>,
) -> ApiResult<MatchRow> {
    let m = state
        .store
        .match_row(id)
        .await?
        .ok_or_else(|| ApiError::not_found("match", &id.to_string()))?;
    let side = side_in(state, p, &m)
        .await?
        .ok_or_else(|| ApiError::Forbidden("you are not a party to this match".into()))?;
    let ev = parse_event(event, side).map_err(invalid)?;
    if let Err(e) = m.state.apply(ev, m.recurring) {
        return Err(ApiError::Conflict(FieldError::new("event", e.to_string())));
    }
    // A volunteer who accepts a proposal (a batch's) takes the request as one taken directly
    // would: the same cap on requests waiting for the person, the same two answers per request.
    if ev == MatchEvent::Accept(Side::Volunteer) && m.state == MatchState::Proposed {
        let mine = state.store.matches_of_person(p.user_id, false).await?;
        let waiting = mine
            .iter()
            .filter(|x| {
                x.volunteer == p.user_id && x.live && x.state == MatchState::AcceptedByVolunteer
            })
            .count();
        let max = state.config.matching.max_pending_accepts_per_person;
        if waiting >= max {
            return Err(ApiError::Conflict(FieldError::new(
                "event",
                format!(
                    "you have taken {waiting} requests that wait for the person's answer; accept another once one is confirmed or declined"
                ),
            )));
        }
        let answered = mine
            .iter()
            .filter(|x| x.volunteer == p.user_id && x.need == m.need && x.id != m.id)
            .count();
        if answered >= 2 {
            return Err(ApiError::Conflict(FieldError::new(
                "event",
                "you have already answered this request twice",
            )));
        }
    }
    let on_behalf = (side == Side::Requester && p.user_id != m.requester).then_some(m.requester);
    let out = state
        .store
        .apply_match_event(
            id,
            &MatchChange {
                event: ev,
                actor: p.user_id,
                on_behalf_of: on_behalf,
                next_at,
                minutes,
                note,
                scope: state.config.territory_name.clone(),
            },
        )
        .await?;
    audit(
        state,
        p,
        &format!("match.{event}"),
        "match",
        &id.to_string(),
        on_behalf,
        Some(format!("{} -> {}", out.before, out.after)),
    )
    .await?;
    let others = match side {
        Side::Volunteer => requester_side(state, m.need).await?,
        Side::Requester => vec![m.volunteer],
    };
    let (it, en) = match out.after {
        MatchState::Accepted => (
            "L'abbinamento è confermato da entrambi.",
            "The match is agreed by both sides.",
        ),
        MatchState::Scheduled => ("È stata fissata una data.", "A date has been set."),
        MatchState::Confirmed => (
            "L'aiuto è stato confermato: grazie!",
            "The help was confirmed: thank you!",
        ),
        MatchState::DoneByRequester | MatchState::DoneByVolunteer => (
            "L'altra parte dice che l'aiuto è stato dato: confermi?",
            "The other side says the help was given: do you confirm?",
        ),
        MatchState::Declined | MatchState::Cancelled | MatchState::NoShow | MatchState::Expired => {
            (
                "L'abbinamento si è chiuso; la richiesta torna aperta.",
                "The match ended; the request is open again.",
            )
        }
        _ => ("L'abbinamento è cambiato.", "The match changed."),
    };
    notify_match(state, &out.row, &others, it, en).await;
    Ok(out.row)
}

/// What a batch run did.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    pub needs: usize,
    pub need_units: u64,
    pub offers: usize,
    pub covered_units: u64,
    pub covered_weight: u64,
    pub uncovered_units: u64,
    /// Covered units by urgency.
    pub covered_by_urgency: HashMap<String, u64>,
    pub uncovered_by_urgency: HashMap<String, u64>,
    /// Greedy's covered units on the same candidates, for comparison.
    pub greedy_covered_units: u64,
    pub matches_created: usize,
    /// Assignments that could not be made because someone acted first.
    pub conflicts: usize,
    pub dry_run: bool,
}

/// Runs the optimal batch assignment over the open needs (of a campaign, or all) and proposes
/// the matches it finds.
pub async fn run_batch(
    state: &AppState,
    p: &Principal,
    campaign: Option<CampaignId>,
    dry_run: bool,
) -> ApiResult<BatchReport> {
    if !p.has_role(Role::TerritoryAdmin) {
        return Err(ApiError::Forbidden(
            "only the territory admin runs the batch assignment".into(),
        ));
    }
    let needs = state
        .store
        .needs(&NeedFilter {
            state: Some(NeedState::Open),
            campaign,
            limit: 1_000_000,
            ..Default::default()
        })
        .await?;
    let needs: Vec<NeedRow> = needs.into_iter().filter(|n| n.covered < n.people).collect();
    let offers = state.store.offers_with_room().await?;
    let offer_refs: Vec<&OfferRow> = offers.iter().collect();
    let pairs: Vec<(&NeedRow, Vec<u32>)> = needs.iter().map(|n| (n, vec![])).collect();
    let mut vocab = Vocabulary::default();
    let c = compile(
        &mut vocab,
        &pairs,
        &offer_refs,
        OffsetDateTime::now_utc(),
        Points::Exact,
    )?;
    let (optimal, greedy) = tokio::task::spawn_blocking(move || {
        let engine = Engine::new(c.problem);
        let graph = engine.candidate_graph(AssignOptions::default());
        let opt = trama_core::matching::assign::optimal_on(&engine.problem, &graph);
        let gr = trama_core::matching::assign::greedy_on(&engine.problem, &graph);
        (opt, gr)
    })
    .await
    .map_err(|_| ApiError::Internal)?;
    let mut covered_by: HashMap<String, u64> = HashMap::new();
    let mut per_need = vec![0u64; needs.len()];
    for a in &optimal.assignments {
        per_need[a.need as usize] += 1;
        *covered_by
            .entry(needs[a.need as usize].urgency.as_str().into())
            .or_default() += 1;
    }
    let mut uncovered_by: HashMap<String, u64> = HashMap::new();
    for (i, n) in needs.iter().enumerate() {
        let missing =
            (n.people - n.covered) as u64 - per_need[i].min((n.people - n.covered) as u64);
        if missing > 0 {
            *uncovered_by.entry(n.urgency.as_str().into()).or_default() += missing;
        }
    }
    let mut created = 0;
    let mut conflicts = 0;
    if !dry_run {
        for a in &optimal.assignments {
            let n = &needs[a.need as usize];
            let o = &offers[a.offer as usize];
            match state
                .store
                .create_match(&NewMatch {
                    need: n.id,
                    offer: o.id,
                    state: MatchState::Proposed,
                    score: a.score,
                    distance_km: trama_core::geo::public_distance_km(&n.point, &o.point),
                    origin: "batch".into(),
                    actor: Some(p.user_id),
                    on_behalf_of: None,
                    waiting_limit: None,
                })
                .await
            {
                Ok(m) => {
                    created += 1;
                    notify_match(
                        state,
                        &m,
                        &[m.volunteer],
                        "Ti proponiamo una richiesta di aiuto vicino a te.",
                        "We propose a request for help near you.",
                    )
                    .await;
                }
                Err(trama_store::StoreError::Conflict { .. }) => conflicts += 1,
                Err(e) => return Err(e.into()),
            }
        }
        audit(
            state,
            p,
            "matching.batch",
            "campaign",
            &campaign
                .map(|c| c.to_string())
                .unwrap_or_else(|| "*".into()),
            None,
            Some(format!("{created} matches proposed")),
        )
        .await?;
    }
    let need_units: u64 = needs.iter().map(|n| (n.people - n.covered) as u64).sum();
    Ok(BatchReport {
        needs: needs.len(),
        need_units,
        offers: offers.len(),
        covered_units: optimal.objective.covered_units,
        covered_weight: optimal.objective.covered_weight,
        uncovered_units: need_units - optimal.objective.covered_units,
        covered_by_urgency: covered_by,
        uncovered_by_urgency: uncovered_by,
        greedy_covered_units: greedy.objective.covered_units,
        matches_created: created,
        conflicts,
        dry_run,
    })
}

// ---------------------------------------------------------------------------------------------
// JSON handlers

#[derive(Debug, Serialize)]
pub struct Created {
    pub id: Uuid,
}

#[utoipa::path(post, path = "/api/needs", tag = "needs", request_body = serde_json::Value, description = "Posts a need (NeedForm, see docs/API.md). Operators pass on_behalf_of for a person they follow.", responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_need_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    b: JsonBody<NeedForm>,
) -> ApiResult<(StatusCode, Json<NeedView>)> {
    let p = admitted.for_write(&headers)?;
    let form = body(b)?;
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
    let scope = q.scope.as_deref().unwrap_or(if viewer.principal.is_some() {
        "mine"
    } else {
        "open"
    });
    let mut filter = NeedFilter {
        campaign,
        area_code: q.area.clone(),
        limit: 500,
        ..Default::default()
    };
    match scope {
        "open" => filter.state = Some(NeedState::Open),
        "mine" => filter.requester = Some(viewer.require()?.user_id),
        "desk" => filter.organizations = Some(viewer.require()?.operator_organizations()),
        other => {
            return Err(ApiError::InvalidParameter(FieldError::new(
                "scope",
                format!("'{other}' is not mine, desk or open"),
            )));
        }
    }
    let rows = state.store.needs(&filter).await?;
    let mut out = Vec::with_capacity(rows.len());
    for n in &rows {
        let parties = state.store.need_parties(n).await?;
        let access = need_access(viewer.principal.as_ref(), &parties);
        audit_full_read(&state, viewer.principal.as_ref(), n, access).await?;
        out.push(need_view(n, access));
    }
    Ok(Json(out))
}

fn need_id(s: &str) -> ApiResult<NeedId> {
    Ok(NeedId::parse("id", s)?)
}

#[utoipa::path(get, path = "/api/needs/{id}", tag = "needs", params(("id" = String, Path)), description = "A need at the viewer's access level (public, party, full).", responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_need_api(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> ApiResult<Json<NeedView>> {
    let (n, _, access) = load_need(&state, viewer.principal.as_ref(), need_id(&id)?).await?;
    Ok(Json(need_view(&n, access)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KQuery {
    pub k: Option<usize>,
}

#[utoipa::path(get, path = "/api/needs/{id}/suggestions", tag = "needs", params(("id" = String, Path), ("k" = Option<usize>, Query)), responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn need_suggestions_api(
    State(state): State<AppState>,
    admitted: Admitted,
    Path(id): Path<String>,
    Query(q): Query<KQuery>,
) -> ApiResult<Json<Vec<Suggestion>>> {
    let p = admitted.principal();
    let (n, parties, _) = load_need(&state, Some(p), need_id(&id)?).await?;
    if !acts_for_requester(p, &parties) {
        return Err(ApiError::Forbidden(
            "suggestions are for the person and the operators acting for them".into(),
        ));
    }
    let k = q.k.unwrap_or(5);
    if k == 0 || k > 50 {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "k",
            "must be between 1 and 50",
        )));
    }
    Ok(Json(suggestions_for(&state, p, &n, k).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferChoice {
    pub offer_id: String,
}

#[utoipa::path(post, path = "/api/needs/{id}/propose", tag = "needs", params(("id" = String, Path)), request_body = serde_json::Value, responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn propose_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    Path(id): Path<String>,
    b: JsonBody<OfferChoice>,
) -> ApiResult<(StatusCode, Json<MatchView>)> {
    let p = admitted.for_write(&headers)?;
    let c = body(b)?;
    let offer = OfferId::parse("offer_id", &c.offer_id).map_err(invalid)?;
    let m = propose(&state, p, need_id(&id)?, offer).await?;
    Ok((
        StatusCode::CREATED,
        Json(match_view(&m, Some(Side::Requester))),
    ))
}

#[utoipa::path(post, path = "/api/needs/{id}/accept", tag = "needs", params(("id" = String, Path)), request_body = serde_json::Value, responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn accept_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    Path(id): Path<String>,
    b: JsonBody<OfferChoice>,
) -> ApiResult<(StatusCode, Json<MatchView>)> {
    let p = admitted.for_write(&headers)?;
    let c = body(b)?;
    let offer = OfferId::parse("offer_id", &c.offer_id).map_err(invalid)?;
    let m = accept_need(&state, p, need_id(&id)?, offer).await?;
    Ok((
        StatusCode::CREATED,
        Json(match_view(&m, Some(Side::Volunteer))),
    ))
}

pub async fn change_need_state(
    state: &AppState,
    p: &Principal,
    id: NeedId,
    to: NeedState,
) -> ApiResult<NeedRow> {
    let (n, parties, _) = load_need(state, Some(p), id).await?;
    if !acts_for_requester(p, &parties) {
        return Err(ApiError::Forbidden(
            "only the person, or an operator acting for them, may change this need".into(),
        ));
    }
    let event = match to {
        NeedState::Cancelled => trama_core::matching::lifecycle::NeedEvent::Cancel,
        _ => trama_core::matching::lifecycle::NeedEvent::Reopen,
    };
    let next = n
        .state
        .apply(event)
        .map_err(|e| ApiError::Conflict(FieldError::new("state", e.to_string())))?;
    if to == NeedState::Cancelled && n.covered > 0 {
        return Err(ApiError::Conflict(FieldError::new(
            "state",
            "cancel its live matches first",
        )));
    }
    if !state.store.set_need_state(id, n.state, next).await? {
        return Err(ApiError::Conflict(FieldError::new(
            "state",
            "the need changed meanwhile",
        )));
    }
    let on_behalf = (p.user_id != n.requester).then_some(n.requester);
    audit(
        state,
        p,
        &format!(
            "need.{}",
            if to == NeedState::Cancelled {
                "cancel"
            } else {
                "reopen"
            }
        ),
        "need",
        &id.to_string(),
        on_behalf,
        None,
    )
    .await?;
    state.store.need(id).await?.ok_or(ApiError::Internal)
}

#[utoipa::path(post, path = "/api/needs/{id}/cancel", tag = "needs", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn cancel_need_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<NeedView>> {
    let p = admitted.for_write(&headers)?;
    let n = change_need_state(&state, p, need_id(&id)?, NeedState::Cancelled).await?;
    Ok(Json(need_view(&n, NeedAccess::Full)))
}

#[utoipa::path(post, path = "/api/needs/{id}/reopen", tag = "needs", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn reopen_need_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<NeedView>> {
    let p = admitted.for_write(&headers)?;
    let n = change_need_state(&state, p, need_id(&id)?, NeedState::Open).await?;
    Ok(Json(need_view(&n, NeedAccess::Full)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaQuery {
    pub campaign_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AreaCountView {
    pub kind: String,
    pub code: String,
    pub name: String,
    pub open: i64,
    pub urgent: i64,
    /// Where to draw the area's marker: a rounded mean, only for areas with several needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub center: Option<[f64; 2]>,
}

pub async fn needs_by_area(
    state: &AppState,
    campaign: Option<CampaignId>,
) -> ApiResult<Vec<AreaCountView>> {
    Ok(state
        .store
        .open_needs_by_area(campaign)
        .await?
        .into_iter()
        .map(|a| AreaCountView {
            kind: a.kind,
            code: a.code,
            name: a.name,
            open: a.open,
            urgent: a.urgent,
            center: a.center.map(|(x, y)| [x, y]),
        })
        .collect())
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

pub async fn create_offer(state: &AppState, p: &Principal, form: &OfferForm) -> ApiResult<OfferId> {
    let offer = form.parse().map_err(invalid)?;
    if let Some(org) = offer.organization
        && !p.operates_for(org)
    {
        return Err(ApiError::Forbidden(
            "you do not work for this organisation".into(),
        ));
    }
    let held = state
        .store
        .offers_of(p.user_id)
        .await?
        .iter()
        .filter(|o| o.state != "withdrawn")
        .count();
    let max = state.config.matching.max_offers_per_person;
    if held >= max {
        return Err(ApiError::Conflict(FieldError::new(
            "offer",
            format!("one person may hold at most {max} offers: withdraw one first"),
        )));
    }
    let (area, _) = area_of(state, &offer.point).await?;
    let id = state.store.create_offer(p.user_id, &offer, &area).await?;
    audit(
        state,
        p,
        "offer.create",
        "offer",
        &id.to_string(),
        None,
        None,
    )
    .await?;
    Ok(id)
}

#[utoipa::path(post, path = "/api/offers", tag = "needs", request_body = serde_json::Value, responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_offer_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    b: JsonBody<OfferForm>,
) -> ApiResult<(StatusCode, Json<OfferView>)> {
    let p = admitted.for_write(&headers)?;
    let form = body(b)?;
    let id = create_offer(&state, p, &form).await?;
    let o = state.store.offer(id).await?.ok_or(ApiError::Internal)?;
    Ok((StatusCode::CREATED, Json(offer_view(&o, true))))
}

#[utoipa::path(get, path = "/api/offers", tag = "needs", responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope)))]
pub async fn list_offers_api(
    State(state): State<AppState>,
    admitted: Admitted,
) -> ApiResult<Json<Vec<OfferView>>> {
    let p = admitted.principal();
    Ok(Json(
        state
            .store
            .offers_of(p.user_id)
            .await?
            .iter()
            .map(|o| offer_view(o, true))
            .collect(),
    ))
}

fn offer_id(s: &str) -> ApiResult<OfferId> {
    Ok(OfferId::parse("id", s)?)
}

#[utoipa::path(get, path = "/api/offers/{id}", tag = "needs", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_offer_api(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> ApiResult<Json<OfferView>> {
    let o = state
        .store
        .offer(offer_id(&id)?)
        .await?
        .ok_or_else(|| ApiError::not_found("offer", &id))?;
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
    Path(id): Path<String>,
    Query(q): Query<KQuery>,
) -> ApiResult<Json<Vec<NeedSuggestion>>> {
    let p = admitted.principal();
    let o = state
        .store
        .offer(offer_id(&id)?)
        .await?
        .ok_or_else(|| ApiError::not_found("offer", &id))?;
    if o.owner != p.user_id {
        return Err(ApiError::Forbidden("this offer is not yours".into()));
    }
    let k = q.k.unwrap_or(10);
    if k == 0 || k > 50 {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "k",
            "must be between 1 and 50",
        )));
    }
    Ok(Json(suggestions_for_offer(&state, p, &o, k).await?))
}

#[utoipa::path(get, path = "/api/matches", tag = "needs", responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope)))]
pub async fn list_matches_api(
    State(state): State<AppState>,
    admitted: Admitted,
) -> ApiResult<Json<Vec<MatchView>>> {
    let p = admitted.principal();
    let rows = state.store.matches_of_person(p.user_id, false).await?;
    let mut out = Vec::new();
    for m in &rows {
        out.push(match_view(m, side_in(&state, p, m).await?));
    }
    Ok(Json(out))
}

fn match_id(s: &str) -> ApiResult<MatchId> {
    Ok(MatchId::parse("id", s)?)
}

#[utoipa::path(get, path = "/api/matches/{id}", tag = "needs", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_match_api(
    State(state): State<AppState>,
    admitted: Admitted,
    Path(id): Path<String>,
) -> ApiResult<Json<MatchView>> {
    let p = admitted.principal();
    let m = state
        .store
        .match_row(match_id(&id)?)
        .await?
        .ok_or_else(|| ApiError::not_found("match", &id))?;
    let side = side_in(&state, p, &m).await?;
    if side.is_none() && !p.has_role(Role::Auditor) {
        return Err(ApiError::not_found("match", &id));
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

pub fn parse_rfc3339(field: &str, s: &str) -> Result<OffsetDateTime, FieldError> {
    OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).map_err(|_| {
        FieldError::new(
            field,
            format!("'{s}' is not a date and time like 2026-12-01T09:30:00+01:00"),
        )
    })
}

#[utoipa::path(post, path = "/api/matches/{id}/events", tag = "needs", params(("id" = String, Path)), request_body = serde_json::Value, description = "accept, decline, schedule (next_at), done (minutes), cancel, no_show.", responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn match_event_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    Path(id): Path<String>,
    b: JsonBody<EventRequest>,
) -> ApiResult<Json<MatchView>> {
    let p = admitted.for_write(&headers)?;
    let r = body(b)?;
    let next_at = r
        .next_at
        .as_deref()
        .map(|s| parse_rfc3339("next_at", s))
        .transpose()
        .map_err(invalid)?;
    if let Some(n) = &r.note
        && n.chars().count() > 500
    {
        return Err(invalid(FieldError::new("note", "at most 500 characters")));
    }
    let m = match_event(
        &state,
        p,
        match_id(&id)?,
        &r.event,
        next_at,
        r.minutes,
        r.note,
    )
    .await?;
    let side = side_in(&state, p, &m).await?;
    Ok(Json(match_view(&m, side)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonRequest {
    pub display_name: String,
    /// Where the signed consent is filed.
    pub consent_reference: String,
    pub phone: Option<String>,
    /// The organisation that follows the person (default: the operator's only one).
    pub organization_id: Option<String>,
    pub locale: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PersonView {
    pub id: Uuid,
    pub display_name: String,
    pub organization_id: Uuid,
    pub consent_reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub registered_at: String,
}

/// An operator registers a person who has no e-mail or phone (assisted mode).
pub async fn register_person(
    state: &AppState,
    p: &Principal,
    r: &PersonRequest,
) -> ApiResult<UserId> {
    let orgs = p.operator_organizations();
    let org = match r.organization_id.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => OrganizationId::parse("organization_id", s).map_err(invalid)?,
        None => match orgs.as_slice() {
            [one] => *one,
            [] => return Err(ApiError::Forbidden("only operators register people".into())),
            _ => {
                return Err(invalid(FieldError::new(
                    "organization_id",
                    "you work for several organisations: say which",
                )));
            }
        },
    };
    if !p.operates_for(org) {
        return Err(ApiError::Forbidden(
            "you do not operate for this organisation".into(),
        ));
    }
    let name = r.display_name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(invalid(FieldError::new(
            "display_name",
            "must be 1 to 120 characters",
        )));
    }
    let consent = r.consent_reference.trim();
    if consent.is_empty() || consent.chars().count() > 200 {
        return Err(invalid(FieldError::new(
            "consent_reference",
            "say where the signed consent is filed (1 to 200 characters)",
        )));
    }
    let phone = r.phone.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(ph) = phone
        && (ph.len() > 30
            || !ph
                .chars()
                .all(|c| c.is_ascii_digit() || " +-/().".contains(c)))
    {
        return Err(invalid(FieldError::new("phone", "is not a phone number")));
    }
    let locale = match r.locale.as_deref().unwrap_or("it") {
        l @ ("it" | "en") => l,
        other => {
            return Err(invalid(FieldError::new(
                "locale",
                format!("'{other}' is not it or en"),
            )));
        }
    };
    let id = state
        .store
        .register_assisted(name, locale, p.user_id, org, consent, phone)
        .await?;
    audit(
        state,
        p,
        "person.register",
        "person",
        &id.to_string(),
        Some(id),
        Some(format!("consent {consent}")),
    )
    .await?;
    Ok(id)
}

fn person_view(a: &trama_store::AssistedPerson) -> PersonView {
    PersonView {
        id: a.user.as_uuid(),
        display_name: a.display_name.clone(),
        organization_id: a.organization.as_uuid(),
        consent_reference: a.consent_reference.clone(),
        phone: a.phone.clone(),
        registered_at: rfc3339(a.created_at),
    }
}

#[utoipa::path(post, path = "/api/people", tag = "assisted", request_body = serde_json::Value, description = "An operator registers a person with no e-mail or phone, with the consent reference.", responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn register_person_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    b: JsonBody<PersonRequest>,
) -> ApiResult<(StatusCode, Json<PersonView>)> {
    let p = admitted.for_write(&headers)?;
    let r = body(b)?;
    let id = register_person(&state, p, &r).await?;
    let a = state.store.assisted(id).await?.ok_or(ApiError::Internal)?;
    Ok((StatusCode::CREATED, Json(person_view(&a))))
}

#[utoipa::path(get, path = "/api/people", tag = "assisted", responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list_people_api(
    State(state): State<AppState>,
    admitted: Admitted,
) -> ApiResult<Json<Vec<PersonView>>> {
    let p = admitted.principal();
    let orgs = p.operator_organizations();
    if orgs.is_empty() {
        return Err(ApiError::Forbidden("only operators follow people".into()));
    }
    Ok(Json(
        state
            .store
            .assisted_people(&orgs)
            .await?
            .iter()
            .map(person_view)
            .collect(),
    ))
}

#[derive(Debug, Serialize)]
pub struct ActivityView {
    pub at: String,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<String>,
    /// True when the actor acted for the person (assisted mode).
    pub on_behalf: bool,
    pub detail: Option<String>,
}

async fn activity(state: &AppState, person: UserId) -> ApiResult<Vec<ActivityView>> {
    Ok(state
        .store
        .audit_about_person(person, 200)
        .await?
        .into_iter()
        .map(|e| ActivityView {
            at: rfc3339(e.at),
            actor_id: e.actor_id.map(|a| a.as_uuid()),
            action: e.action,
            subject_type: e.subject_type,
            subject_id: e.subject_id,
            on_behalf: e.on_behalf_of == Some(person),
            detail: e.detail,
        })
        .collect())
}

/// What others did for me or read of my file.
#[utoipa::path(get, path = "/api/me/activity", tag = "assisted", description = "What others did for me or read of my file.", responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope)))]
pub async fn my_activity_api(
    State(state): State<AppState>,
    admitted: Admitted,
) -> ApiResult<Json<Vec<ActivityView>>> {
    let p = admitted.principal();
    Ok(Json(activity(&state, p.user_id).await?))
}

/// The same list for a person an operator follows, to show them at the desk.
#[utoipa::path(get, path = "/api/people/{id}/activity", tag = "assisted", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn person_activity_api(
    State(state): State<AppState>,
    admitted: Admitted,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ActivityView>>> {
    let p = admitted.principal();
    let person = UserId::parse("id", &id)?;
    let a = state
        .store
        .assisted(person)
        .await?
        .ok_or_else(|| ApiError::not_found("person", &id))?;
    // Not found, as for anyone not registered at a desk: who was is not for others to learn.
    if !p.operates_for(a.organization) {
        return Err(ApiError::not_found("person", &id));
    }
    Ok(Json(activity(&state, person).await?))
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
    admitted: Admitted,
) -> ApiResult<Json<Vec<NotificationView>>> {
    let p = admitted.principal();
    let locale = state
        .store
        .user(p.user_id)
        .await?
        .map(|u| u.locale)
        .unwrap_or_else(|| "it".into());
    Ok(Json(
        state
            .store
            .notifications(p.user_id, 100)
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
    admitted: Admitted,
    headers: HeaderMap,
    b: JsonBody<ReadRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    let p = admitted.for_write(&headers)?;
    let r = body(b)?;
    let id =
        r.id.as_deref()
            .map(|s| trama_core::ids::NotificationId::parse("id", s))
            .transpose()
            .map_err(invalid)?;
    let n = state.store.mark_notifications_read(p.user_id, id).await?;
    Ok(Json(serde_json::json!({ "marked": n })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    pub name: String,
    /// heatwave, flu_season, other
    pub kind: String,
    #[serde(default)]
    pub description: String,
    /// The kinds of help its intake form offers (term ids or codes).
    pub categories: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct CampaignView {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub description: String,
    pub categories: Vec<Uuid>,
    pub state: String,
    pub starts_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<trama_store::CampaignCounts>,
}

fn campaign_view(
    c: &trama_store::CampaignRow,
    counts: Option<trama_store::CampaignCounts>,
) -> CampaignView {
    CampaignView {
        id: c.id.as_uuid(),
        name: c.name.clone(),
        kind: c.kind.clone(),
        description: c.description.clone(),
        categories: c.categories.iter().map(|t| t.as_uuid()).collect(),
        state: c.state.clone(),
        starts_at: rfc3339(c.starts_at),
        counts,
    }
}

pub async fn create_campaign(
    state: &AppState,
    p: &Principal,
    r: &CampaignRequest,
) -> ApiResult<CampaignId> {
    if !p.has_role(Role::TerritoryAdmin) {
        return Err(ApiError::Forbidden(
            "only the territory admin opens campaigns".into(),
        ));
    }
    let name = r.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid(FieldError::new(
            "name",
            "must be 1 to 200 characters",
        )));
    }
    if !["heatwave", "flu_season", "other"].contains(&r.kind.as_str()) {
        return Err(invalid(FieldError::new(
            "kind",
            "must be heatwave, flu_season or other",
        )));
    }
    if r.categories.is_empty() {
        return Err(invalid(FieldError::new(
            "categories",
            "choose at least one kind of help",
        )));
    }
    let mut categories = Vec::new();
    for (i, c) in r.categories.iter().enumerate() {
        categories.push(
            trama_core::needs::parse_category(&format!("categories[{i}]"), c).map_err(invalid)?,
        );
    }
    let id = state
        .store
        .create_campaign(&trama_store::NewCampaign {
            name: name.into(),
            kind: r.kind.clone(),
            description: r.description.trim().into(),
            categories,
            created_by: p.user_id,
            ends_at: None,
        })
        .await?;
    audit(
        state,
        p,
        "campaign.create",
        "campaign",
        &id.to_string(),
        None,
        None,
    )
    .await?;
    Ok(id)
}

#[utoipa::path(post, path = "/api/campaigns", tag = "campaigns", request_body = serde_json::Value, responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_campaign_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    b: JsonBody<CampaignRequest>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    let p = admitted.for_write(&headers)?;
    let r = body(b)?;
    let id = create_campaign(&state, p, &r).await?;
    let c = state.store.campaign(id).await?.ok_or(ApiError::Internal)?;
    Ok((StatusCode::CREATED, Json(campaign_view(&c, None))))
}

#[utoipa::path(get, path = "/api/campaigns", tag = "campaigns", responses((status = 200, body = serde_json::Value)))]
pub async fn list_campaigns_api(
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<CampaignView>>> {
    Ok(Json(
        state
            .store
            .campaigns()
            .await?
            .iter()
            .map(|c| campaign_view(c, None))
            .collect(),
    ))
}

/// A campaign with its live count (public: counts only).
#[utoipa::path(get, path = "/api/campaigns/{id}", tag = "campaigns", params(("id" = String, Path)), responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_campaign_api(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    let cid = CampaignId::parse("id", &id)?;
    let c = state
        .store
        .campaign(cid)
        .await?
        .ok_or_else(|| ApiError::not_found("campaign", &id))?;
    let counts = state.store.campaign_counts(cid).await?;
    Ok(Json(campaign_view(&c, Some(counts))))
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
    admitted: Admitted,
    headers: HeaderMap,
    Path(id): Path<String>,
    b: JsonBody<BatchRequest>,
) -> ApiResult<Json<BatchReport>> {
    let p = admitted.for_write(&headers)?;
    let r = body(b)?;
    let cid = CampaignId::parse("id", &id)?;
    state
        .store
        .campaign(cid)
        .await?
        .ok_or_else(|| ApiError::not_found("campaign", &id))?;
    Ok(Json(run_batch(&state, p, Some(cid), r.dry_run).await?))
}

#[utoipa::path(post, path = "/api/matching/batch", tag = "campaigns", request_body = serde_json::Value, responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn batch_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    b: JsonBody<BatchRequest>,
) -> ApiResult<Json<BatchReport>> {
    let p = admitted.for_write(&headers)?;
    let r = body(b)?;
    Ok(Json(run_batch(&state, p, None, r.dry_run).await?))
}

#[derive(Debug, Serialize)]
pub struct HubView {
    pub location_id: Uuid,
    pub name: String,
    pub organization: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    pub functions: Vec<String>,
    pub capacity: u32,
    pub opening_hours: Vec<WindowSpec>,
    pub help_desk: String,
    pub rooms: Vec<RoomView>,
}

#[derive(Debug, Serialize)]
pub struct RoomView {
    pub id: Uuid,
    pub name: String,
    pub capacity: u32,
    pub slot_minutes: u16,
}

pub fn hub_view(h: &trama_store::HubRow) -> HubView {
    HubView {
        location_id: h.location.as_uuid(),
        name: h.name.clone(),
        organization: h.organization_name.clone(),
        address: h.address.clone(),
        lat: h.point.map(|p| p.lat()),
        lon: h.point.map(|p| p.lon()),
        functions: h.functions.clone(),
        capacity: h.capacity,
        opening_hours: h.opening_hours.iter().map(WindowSpec::of).collect(),
        help_desk: h.help_desk.clone(),
        rooms: h
            .rooms
            .iter()
            .map(|r| RoomView {
                id: r.id.as_uuid(),
                name: r.name.clone(),
                capacity: r.capacity,
                slot_minutes: r.slot_minutes,
            })
            .collect(),
    }
}

/// Community hubs (public: they are public places).
#[utoipa::path(get, path = "/api/hubs", tag = "hubs", responses((status = 200, body = serde_json::Value)))]
pub async fn list_hubs_api(State(state): State<AppState>) -> ApiResult<Json<Vec<HubView>>> {
    Ok(Json(
        state.store.hubs(None).await?.iter().map(hub_view).collect(),
    ))
}

fn location_id(s: &str) -> ApiResult<trama_core::ids::LocationId> {
    Ok(trama_core::ids::LocationId::parse("id", s)?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubRequest {
    /// cultural_centre, library, bar, coworking, parish, social_centre
    pub functions: Vec<String>,
    pub capacity: u32,
    pub opening_hours: Vec<WindowSpec>,
    pub help_desk: String,
}

async fn hub_location_org(
    state: &AppState,
    id: trama_core::ids::LocationId,
) -> ApiResult<OrganizationId> {
    let org = state
        .store
        .location_organization(id)
        .await?
        .ok_or_else(|| ApiError::not_found("location", &id.to_string()))?;
    org.ok_or_else(|| {
        ApiError::Conflict(FieldError::new(
            "id",
            "a hub's place must belong to an organisation",
        ))
    })
}

/// A hub manager sets what a place of their organisation offers as a hub (it becomes a hub).
#[utoipa::path(put, path = "/api/hubs/{id}", tag = "hubs", params(("id" = String, Path)), request_body = serde_json::Value, responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn put_hub_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    Path(id): Path<String>,
    b: JsonBody<HubRequest>,
) -> ApiResult<Json<HubView>> {
    let p = admitted.for_write(&headers)?;
    let r = body(b)?;
    let loc = location_id(&id)?;
    let org = hub_location_org(&state, loc).await?;
    if !p.can_manage_hubs_of(org) {
        return Err(ApiError::Forbidden(
            "only the hub managers of this organisation manage its hubs".into(),
        ));
    }
    let functions =
        trama_core::hubs::parse_functions("functions", &r.functions).map_err(invalid)?;
    if r.capacity == 0 || r.capacity > 100_000 {
        return Err(invalid(FieldError::new(
            "capacity",
            "must be between 1 and 100000",
        )));
    }
    let mut hours = Vec::new();
    for (i, w) in r.opening_hours.iter().enumerate() {
        hours.extend(w.parse(&format!("opening_hours[{i}]")).map_err(invalid)?);
    }
    let help_desk = r.help_desk.trim();
    if help_desk.chars().count() > 1000 {
        return Err(invalid(FieldError::new(
            "help_desk",
            "at most 1000 characters",
        )));
    }
    state
        .store
        .put_hub(&trama_store::HubRecord {
            location: loc,
            functions,
            capacity: r.capacity,
            opening_hours: hours,
            help_desk: help_desk.into(),
        })
        .await?;
    audit(&state, p, "hub.put", "location", &id, None, None).await?;
    let h = state.store.hub(loc).await?.ok_or(ApiError::Internal)?;
    Ok(Json(hub_view(&h)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomRequest {
    pub name: String,
    pub capacity: u32,
    /// Bookings are made in slots of this many minutes (15–480).
    pub slot_minutes: u16,
}

#[utoipa::path(post, path = "/api/hubs/{id}/rooms", tag = "hubs", params(("id" = String, Path)), request_body = serde_json::Value, responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn add_room_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    Path(id): Path<String>,
    b: JsonBody<RoomRequest>,
) -> ApiResult<(StatusCode, Json<RoomView>)> {
    let p = admitted.for_write(&headers)?;
    let r = body(b)?;
    let loc = location_id(&id)?;
    let h = state
        .store
        .hub(loc)
        .await?
        .ok_or_else(|| ApiError::not_found("hub", &id))?;
    if !p.can_manage_hubs_of(h.organization) {
        return Err(ApiError::Forbidden(
            "only the hub managers of this organisation manage its rooms".into(),
        ));
    }
    let name = r.name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(invalid(FieldError::new(
            "name",
            "must be 1 to 120 characters",
        )));
    }
    if !(15..=480).contains(&r.slot_minutes) {
        return Err(invalid(FieldError::new(
            "slot_minutes",
            "must be between 15 and 480",
        )));
    }
    let rid = state
        .store
        .add_room(loc, name, r.capacity, r.slot_minutes)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(RoomView {
            id: rid.as_uuid(),
            name: name.into(),
            capacity: r.capacity,
            slot_minutes: r.slot_minutes,
        }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateQuery {
    /// YYYY-MM-DD
    pub date: String,
}

#[derive(Debug, Serialize)]
pub struct SlotView {
    /// Local time of the territory.
    pub start: String,
    pub end: String,
    pub free: bool,
}

async fn room_and_hub(
    state: &AppState,
    id: &str,
) -> ApiResult<(trama_store::RoomRow, trama_store::HubRow)> {
    let rid = trama_core::ids::RoomId::parse("id", id)?;
    let room = state
        .store
        .room(rid)
        .await?
        .ok_or_else(|| ApiError::not_found("room", id))?;
    let hub = state
        .store
        .hub(room.location)
        .await?
        .ok_or(ApiError::Internal)?;
    Ok((room, hub))
}

fn local_to_utc(state: &AppState, t: time::PrimitiveDateTime) -> OffsetDateTime {
    t.assume_offset(state.time_zone.offset_at(t.assume_utc()))
}

/// The slots of a room on a day, within the hub's opening hours, and which are free.
#[utoipa::path(get, path = "/api/rooms/{id}/slots", tag = "hubs", params(("id" = String, Path), ("date" = String, Query)), responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn room_slots_api(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DateQuery>,
) -> ApiResult<Json<Vec<SlotView>>> {
    Ok(Json(room_slots(&state, &id, &q.date).await?.2))
}

/// A room, its hub and its slots on a day (`YYYY-MM-DD`, local time), each free or taken.
pub async fn room_slots(
    state: &AppState,
    id: &str,
    date: &str,
) -> ApiResult<(trama_store::RoomRow, trama_store::HubRow, Vec<SlotView>)> {
    let (room, hub) = room_and_hub(state, id).await?;
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(date.trim(), &fmt).map_err(|_| {
        ApiError::InvalidParameter(FieldError::new("date", "is not a date like 2026-12-01"))
    })?;
    let slots = trama_core::hubs::slots_on(&hub.opening_hours, room.slot_minutes, day);
    let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
        return Ok((room, hub, vec![]));
    };
    let booked = state
        .store
        .bookings(
            room.id,
            local_to_utc(state, first.start),
            local_to_utc(state, last.end),
        )
        .await?;
    let hm = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let views = slots
        .iter()
        .map(|s| SlotView {
            start: s.start.format(&hm).expect("formattable"),
            end: s.end.format(&hm).expect("formattable"),
            free: !booked
                .iter()
                .any(|b| b.start == local_to_utc(state, s.start)),
        })
        .collect();
    Ok((room, hub, views))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingRequest {
    /// The slot's start, local time: YYYY-MM-DDTHH:MM.
    pub start: String,
    pub purpose: String,
}

/// Books one slot of a room (signed in). A slot taken meanwhile is 409.
#[utoipa::path(post, path = "/api/rooms/{id}/bookings", tag = "hubs", params(("id" = String, Path)), request_body = serde_json::Value, responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn book_room_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    Path(id): Path<String>,
    b: JsonBody<BookingRequest>,
) -> ApiResult<(StatusCode, Json<SlotView>)> {
    let p = admitted.for_write(&headers)?;
    let r = body(b)?;
    Ok((
        StatusCode::CREATED,
        Json(book_room(&state, p, &id, &r).await?),
    ))
}

/// Books one slot of a room for `p`. A slot taken meanwhile is a conflict.
pub async fn book_room(
    state: &AppState,
    p: &Principal,
    id: &str,
    r: &BookingRequest,
) -> ApiResult<SlotView> {
    let (room, hub) = room_and_hub(state, id).await?;
    let hm = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let start = time::PrimitiveDateTime::parse(r.start.trim(), &hm).map_err(|_| {
        invalid(FieldError::new(
            "start",
            "is not a time like 2026-12-01T09:00",
        ))
    })?;
    let slot = trama_core::hubs::slot_at(&hub.opening_hours, room.slot_minutes, start).ok_or_else(
        || {
            invalid(FieldError::new(
                "start",
                "is not the start of a slot within the hub's opening hours",
            ))
        },
    )?;
    if local_to_utc(state, slot.start) < OffsetDateTime::now_utc() {
        return Err(invalid(FieldError::new("start", "is in the past")));
    }
    let purpose = r.purpose.trim();
    if purpose.is_empty() || purpose.chars().count() > 200 {
        return Err(invalid(FieldError::new(
            "purpose",
            "say what the room is for (1 to 200 characters)",
        )));
    }
    state
        .store
        .book_slot(
            room.id,
            local_to_utc(state, slot.start),
            local_to_utc(state, slot.end),
            p.user_id,
            purpose,
        )
        .await?;
    audit(
        state,
        p,
        "room.book",
        "room",
        id,
        None,
        Some(r.start.clone()),
    )
    .await?;
    Ok(SlotView {
        start: slot.start.format(&hm).expect("formattable"),
        end: slot.end.format(&hm).expect("formattable"),
        free: false,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedQuery {
    /// The hourly rate of the shared visit, in euro (default 22.00).
    pub hourly_rate: Option<f64>,
    /// Extra per member after the first, percent (default 25).
    pub extra_percent: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct SharedGroupView {
    pub needs: Vec<NeedView>,
    pub windows: Vec<WindowSpec>,
    pub duration_minutes: u16,
    /// The cost of one shared visit and each member's share, in euro cents.
    pub total_cents: i64,
    pub shares_cents: Vec<i64>,
    /// What the members would pay for separate visits, together.
    pub separate_cents: i64,
}

/// Shared services among the open needs an operator follows: same kind, within 300 m of each
/// other, with a common time; the visit's cost split among the members.
#[utoipa::path(get, path = "/api/shared-services", tag = "needs", params(("hourly_rate" = Option<f64>, Query), ("extra_percent" = Option<u32>, Query)), responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn shared_services_api(
    State(state): State<AppState>,
    admitted: Admitted,
    Query(q): Query<SharedQuery>,
) -> ApiResult<Json<Vec<SharedGroupView>>> {
    let p = admitted.principal();
    Ok(Json(
        shared_services(&state, p, q.hourly_rate, q.extra_percent).await?,
    ))
}

/// The shared services the operator's open needs allow (see [`shared_services_api`]).
pub async fn shared_services(
    state: &AppState,
    p: &Principal,
    hourly_rate: Option<f64>,
    extra_percent: Option<u32>,
) -> ApiResult<Vec<SharedGroupView>> {
    use trama_core::matching::shared::{SharingRules, propose_groups, shared_cost, split_cost};
    use trama_core::money::Cents;
    let orgs = p.operator_organizations();
    if orgs.is_empty() {
        return Err(ApiError::Forbidden(
            "shared services are proposed to operators".into(),
        ));
    }
    let rate = Cents::from_decimal("hourly_rate", hourly_rate.unwrap_or(22.0))?;
    if rate.0 <= 0 {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "hourly_rate",
            "must be above 0",
        )));
    }
    let extra = extra_percent.unwrap_or(25).min(100);
    let rows = state
        .store
        .needs(&NeedFilter {
            organizations: Some(orgs),
            state: Some(NeedState::Open),
            limit: 2000,
            ..Default::default()
        })
        .await?;
    let pairs: Vec<(&NeedRow, Vec<u32>)> = rows.iter().map(|n| (n, vec![])).collect();
    let mut vocab = Vocabulary::default();
    let c = compile(
        &mut vocab,
        &pairs,
        &[],
        OffsetDateTime::now_utc(),
        Points::Exact,
    )?;
    let groups = propose_groups(&c.problem.needs, SharingRules::default());
    Ok(groups
        .iter()
        .map(|g| {
            let total = shared_cost(rate, g.duration_min, g.members.len(), extra);
            let shares = split_cost(total, &vec![1; g.members.len()]);
            let separate: i64 = g
                .members
                .iter()
                .map(|&m| shared_cost(rate, rows[m as usize].duration_minutes, 1, 0).0)
                .sum();
            SharedGroupView {
                needs: g
                    .members
                    .iter()
                    .map(|&m| need_view(&rows[m as usize], NeedAccess::Full))
                    .collect(),
                windows: g.windows.iter().map(WindowSpec::of).collect(),
                duration_minutes: g.duration_min,
                total_cents: total.0,
                shares_cents: shares.iter().map(|s| s.0).collect(),
                separate_cents: separate,
            }
        })
        .collect())
}
