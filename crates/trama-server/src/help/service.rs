//! Neighbourly help: needs, offers, suggestions, matches and the people a desk registers. The
//! operations the JSON API and the pages share, so both ask the same questions the same way.
//!
//! Privacy is decided in one place: [`need_view`] shows a need at the access level
//! `trama_core::needs::need_access` grants, and every full read of someone else's need is
//! written to the audit log under that person.

use crate::json::rfc3339;
use crate::service_error::invalid;
use crate::service_error::store_calls;
use crate::service_error::{ServiceError, ServiceResult};
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use trama_core::FieldError;
use trama_core::auth::{Principal, Role};
use trama_core::bounded::BoundedText;
use trama_core::ids::{
    CampaignId, MatchId, NeedId, NotificationId, OfferId, OrganizationId, UserId,
};
use trama_core::matching::Engine;
use trama_core::matching::instance::{Vocabulary, WindowSpec};
use trama_core::matching::lifecycle::{MatchEvent, MatchState, NeedState, Side};
use trama_core::matching::model::{self, Need, Offer, Problem, need_weight};
use trama_core::needs::{
    NeedAccess, NeedForm, NeedParties, OfferForm, PublicArea, acts_for_requester, need_access,
    public_area,
};
use trama_store::{MatchChange, MatchRow, NeedRecord, NeedRow, NewMatch, OfferRow};
use uuid::Uuid;

/// A person a desk registers (assisted mode), as the operator asks.
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

pub(crate) fn day(d: time::Date) -> String {
    trama_core::moment::format_date(d)
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

pub use trama_core::matching::lifecycle::{EVENT_NAMES, parse_event};

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

pub(crate) use crate::accounts::service::audit;

/// The public area and Municipio of a point where a need or an offer is placed, from the
/// areas the territory imported (NIL and Municipi), else the carried table of Milan's
/// Municipi. A point outside the territory is refused (`lat`): it would be nobody's
/// neighbourhood ([`trama_core::needs::in_territory`]).
pub async fn area_of(
    state: &AppState,
    point: &trama_core::geo::Coordinates,
) -> ServiceResult<(PublicArea, Option<String>)> {
    let areas = crate::territory::areas(state).await?;
    if !trama_core::needs::in_territory(point, &areas.0, &areas.1) {
        return Err(ServiceError::InvalidBody(FieldError::new(
            "lat",
            "is outside the territory",
        )));
    }
    Ok(public_area(point, &areas.0, &areas.1))
}

/// Whether a need fits its campaign: of the kinds of help it gathers, in the districts it
/// covers, and (`new`: when it is filed) between its first and last day. The store refuses
/// one closed by hand, and one that does not exist.
async fn fits_campaign(
    state: &AppState,
    cid: trama_core::ids::CampaignId,
    need: &trama_core::needs::NewNeed,
    municipio: Option<&str>,
    new: bool,
) -> ServiceResult<()> {
    // A campaign takes needs between its first and last day, of the kinds of help it
    // gathers, in the districts it covers (the store refuses one closed by hand, and one
    // that does not exist).
    if let Some(c) = state.store.campaign(cid).await? {
        if !c.categories.contains(&need.category) {
            return Err(ServiceError::InvalidBody(FieldError::new(
                "category",
                "is not among the kinds of help the campaign gathers",
            )));
        }
        if !c.areas.is_empty() && !municipio.is_some_and(|m| c.areas.iter().any(|a| a == m)) {
            return Err(ServiceError::InvalidBody(FieldError::new(
                "area",
                "is outside the districts the campaign covers",
            )));
        }
        use trama_core::campaigns::CampaignPhase;
        match crate::campaigns::service::phase(state, &c) {
            _ if !new => {}
            CampaignPhase::Upcoming => {
                return Err(ServiceError::Conflict(FieldError::new(
                    "campaign_id",
                    "the campaign has not started yet",
                )));
            }
            CampaignPhase::Ended if c.state != "closed" => {
                return Err(ServiceError::Conflict(FieldError::new(
                    "campaign_id",
                    "the campaign is over",
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The person (or an operator acting for them) rewrites an open need nobody has taken yet:
/// what, where, when. Whom it is for, who entered it and its campaign stay. Audited.
pub async fn update_need(
    state: &AppState,
    p: &Principal,
    id: NeedId,
    form: &NeedForm,
) -> ServiceResult<NeedRow> {
    let (n, parties, _) = load_need(state, Some(p), id).await?;
    if !acts_for_requester(p, &parties) {
        return Err(ServiceError::Forbidden(
            "only the person, or an operator acting for them, may change this need".into(),
        ));
    }
    let mut need = form.parse(state.now_local().date()).map_err(invalid)?;
    need.on_behalf_of = (n.requester != n.entered_by).then_some(n.requester);
    need.campaign = n.campaign;
    n.state
        .check_edit(i64::from(n.covered))
        .map_err(ServiceError::Conflict)?;
    let (area, municipio) = area_of(state, &need.point).await?;
    if let Some(cid) = need.campaign {
        fits_campaign(state, cid, &need, municipio.as_deref(), false).await?;
    }
    state
        .store
        .update_need(
            id,
            &NeedRecord {
                need,
                requester: n.requester,
                entered_by: n.entered_by,
                organization: n.organization,
                area,
                municipio,
            },
        )
        .await?;
    let on_behalf = (p.user_id != n.requester).then_some(n.requester);
    audit(
        state,
        p,
        "need.update",
        "need",
        &id.to_string(),
        on_behalf,
        None,
    )
    .await?;
    state.store.need(id).await?.ok_or(ServiceError::Internal)
}

/// Posts a need, for oneself or (operators) for a person they follow.
pub async fn create_need(
    state: &AppState,
    p: &Principal,
    form: &NeedForm,
) -> ServiceResult<NeedId> {
    let today = state.now_local().date();
    let need = form.parse(today).map_err(invalid)?;
    let (requester, organization) = match need.on_behalf_of {
        None => (p.user_id, None),
        Some(person) => {
            let assisted = state.store.assisted(person).await?.ok_or_else(|| {
                ServiceError::InvalidReference(FieldError::new(
                    "on_behalf_of",
                    "no person registered by an operator with this id",
                ))
            })?;
            if !p.operates_for(assisted.organization) {
                return Err(ServiceError::Forbidden(
                    "you do not operate for the organisation that follows this person".into(),
                ));
            }
            (person, Some(assisted.organization))
        }
    };
    let (area, municipio) = area_of(state, &need.point).await?;
    if let Some(cid) = need.campaign {
        fits_campaign(state, cid, &need, municipio.as_deref(), true).await?;
    }
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
        return Err(ServiceError::Conflict(FieldError::new(
            "need",
            format!("one person may have at most {max} requests open at once"),
        )));
    }
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
) -> ServiceResult<(NeedRow, NeedParties, NeedAccess)> {
    let n = state
        .store
        .need(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("need", &id.to_string()))?;
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
) -> ServiceResult<()> {
    if access == NeedAccess::Full
        && let Some(p) = viewer
        && p.user_id != n.requester
    {
        let person = n.requester.to_string();
        let detail = Some(format!("need {}", n.id));
        audit(state, p, "need.read", "person", &person, None, detail).await?;
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
pub(crate) enum Points {
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
pub(crate) const COARSE_MARGIN_KM: f64 = trama_core::geo::COARSE_CELL_DIAGONAL_KM;

/// Engine views of stored needs and offers, with their category/language/skill vocabulary.
pub(crate) struct Compiled {
    pub(crate) problem: Problem,
}

pub(crate) fn compile(
    vocab: &mut Vocabulary,
    needs: &[(&NeedRow, Vec<u32>)],
    offers: &[&OfferRow],
    now: OffsetDateTime,
    points: Points,
) -> ServiceResult<Compiled> {
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
                .map_err(|_| ServiceError::Internal)?,
            skills: vocab
                .skills("skills", &o.skills)
                .map_err(|_| ServiceError::Internal)?,
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
                .map_err(|_| ServiceError::Internal)?,
            skills: vocab
                .skills("skills", &n.skills)
                .map_err(|_| ServiceError::Internal)?,
            people: n.people.saturating_sub(n.covered).max(1),
            previous_offers: previous.clone(),
        });
    }
    Ok(Compiled { problem })
}

/// Counts one suggestion list asked for by `p`: people may ask `matching.suggestions_per_hour`
/// times an hour; the desk's operators and hub managers, who act for many people and whose
/// every action is audited, are not counted.
pub(crate) fn count_suggestion_query(state: &AppState, p: &Principal) -> ServiceResult<()> {
    if p.has_role(Role::Operator) || p.has_role(Role::HubManager) {
        return Ok(());
    }
    state
        .suggestions_by_person
        .hit(&p.user_id.to_string())
        .map_err(ServiceError::RateLimited)
}

/// The best `k` offers for a need, from the offers stored near it, ranked by the engine (on
/// coarse points: see [`Points`]). Counted against `p`'s hourly allowance.
pub async fn suggestions_for(
    state: &AppState,
    p: &Principal,
    n: &NeedRow,
    k: usize,
) -> ServiceResult<Vec<Suggestion>> {
    // Only a need still waiting for helpers is suggested any (a closed one is no probe).
    if !n.state.is_open() {
        return Err(ServiceError::Conflict(FieldError::new(
            "state",
            "suggestions are for open needs",
        )));
    }
    count_suggestion_query(state, p)?;
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
    let skip = |o: &OfferRow| taken.contains(&o.id) || o.owner == n.requester;
    Ok(super::suggest_index::suggest(state, n, &previous, &skip, k)
        .await?
        .into_iter()
        .map(|(o, cand, penalty)| Suggestion {
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
) -> ServiceResult<Vec<NeedSuggestion>> {
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
    let c = compile(&mut vocab, &pairs, &[o], state.now(), Points::Coarse)?;
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

pub(crate) async fn notify_match(
    state: &AppState,
    m: &MatchRow,
    to: &[UserId],
    it: &str,
    en: &str,
) {
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
pub(crate) async fn requester_side(state: &AppState, need: NeedId) -> ServiceResult<Vec<UserId>> {
    let n = state
        .store
        .need(need)
        .await?
        .ok_or(ServiceError::Internal)?;
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
) -> ServiceResult<MatchRow> {
    let (n, parties, _) = load_need(state, Some(p), need).await?;
    if !acts_for_requester(p, &parties) {
        return Err(ServiceError::Forbidden(
            "only the person, or an operator acting for them, may choose a volunteer".into(),
        ));
    }
    let o = state.store.offer(offer).await?.ok_or_else(|| {
        ServiceError::InvalidReference(FieldError::new("offer_id", "no such offer"))
    })?;
    let fit = fit_of(&n, &o, state.now())?;
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
pub(crate) fn fit_of(n: &NeedRow, o: &OfferRow, now: OffsetDateTime) -> ServiceResult<(f64, u8)> {
    let mut vocab = Vocabulary::default();
    let c = compile(&mut vocab, &[(n, vec![])], &[o], now, Points::Coarse)?;
    let (need, offer) = (&c.problem.needs[0], &c.problem.offers[0]);
    let mut offer = offer.clone();
    offer.capacity = offer.capacity.max(1); // room is checked atomically when the match is made
    match model::feasibility(need, &offer) {
        Ok(d) => {
            let pen = model::edge_penalty(need, 0, d) + model::load_penalty(&offer, 0);
            Ok((d, model::score_from_penalty(pen)))
        }
        Err(why) => Err(ServiceError::Conflict(FieldError::new(
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
) -> ServiceResult<MatchRow> {
    let o = state.store.offer(offer).await?.ok_or_else(|| {
        ServiceError::InvalidReference(FieldError::new("offer_id", "no such offer"))
    })?;
    if o.owner != p.user_id {
        return Err(ServiceError::Forbidden("this offer is not yours".into()));
    }
    let (n, _, _) = load_need(state, Some(p), need).await?;
    if n.requester == p.user_id {
        return Err(ServiceError::Conflict(FieldError::new(
            "need",
            "you cannot answer your own need",
        )));
    }
    let fit = fit_of(&n, &o, state.now())?;
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
pub async fn side_in(state: &AppState, p: &Principal, m: &MatchRow) -> ServiceResult<Option<Side>> {
    if m.volunteer == p.user_id {
        return Ok(Some(Side::Volunteer));
    }
    let n = state
        .store
        .need(m.need)
        .await?
        .ok_or(ServiceError::Internal)?;
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
) -> ServiceResult<MatchRow> {
    let m = state
        .store
        .match_row(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("match", &id.to_string()))?;
    let side = side_in(state, p, &m)
        .await?
        .ok_or_else(|| ServiceError::Forbidden("you are not a party to this match".into()))?;
    let ev = parse_event(event, side).map_err(invalid)?;
    if let Err(e) = m.state.apply(ev, m.recurring) {
        return Err(ServiceError::Conflict(FieldError::new(
            "event",
            e.to_string(),
        )));
    }
    trama_core::matching::lifecycle::check_timing(ev, m.next_at, state.now())
        .map_err(|e| ServiceError::Conflict(FieldError::new("event", e.to_string())))?;
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
            return Err(ServiceError::Conflict(FieldError::new(
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
            return Err(ServiceError::Conflict(FieldError::new(
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
    // What she was told about this match is acted on: it leaves her notifications.
    crate::accounts::service::mark_subject_read(state, p.user_id, "match", &id.to_string()).await?;
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

/// Where a notification about `subject` leads: the request a match is about, the request or
/// the offer itself; one's help page for anything else.
pub async fn notification_target(
    state: &AppState,
    p: &Principal,
    id: NotificationId,
) -> ServiceResult<String> {
    let n = state
        .store
        .notification(p.user_id, id)
        .await?
        .ok_or_else(|| ServiceError::not_found("notification", &id.to_string()))?;
    crate::accounts::service::mark_notifications_read(state, p.user_id, Some(id)).await?;
    let target = match n.subject_type.as_str() {
        "match" => match MatchId::parse("subject_id", &n.subject_id) {
            Ok(m) => state
                .store
                .match_row(m)
                .await?
                .map(|m| format!("/aiuto/richieste/{}", m.need)),
            Err(_) => None,
        },
        "need" => Some(format!("/aiuto/richieste/{}", n.subject_id)),
        // A consent: the person confirms it in their budget; a case manager opens the file;
        // the desk that recorded it, its own page.
        "person" if n.subject_id == p.user_id.to_string() => Some("/io/budget".into()),
        "person" if trama_core::budget::access::keeps_caseload(p) => {
            Some(format!("/sportello/budget/persone/{}", n.subject_id))
        }
        "person" => Some("/sportello".into()),
        "offer" => Some(format!("/aiuto/offerte/{}", n.subject_id)),
        _ => None,
    };
    Ok(target.unwrap_or_else(|| "/aiuto".into()))
}

// ---------------------------------------------------------------------------------------------
// JSON handlers

pub async fn change_need_state(
    state: &AppState,
    p: &Principal,
    id: NeedId,
    to: NeedState,
) -> ServiceResult<NeedRow> {
    let (n, parties, _) = load_need(state, Some(p), id).await?;
    if !acts_for_requester(p, &parties) {
        return Err(ServiceError::Forbidden(
            "only the person, or an operator acting for them, may change this need".into(),
        ));
    }
    let event = match to {
        NeedState::Cancelled => trama_core::matching::lifecycle::NeedEvent::Cancel,
        _ => trama_core::matching::lifecycle::NeedEvent::Reopen,
    };
    let next = n
        .state
        .by_requester(event, i64::from(n.covered))
        .map_err(ServiceError::Conflict)?;
    if !state.store.set_need_state(id, n.state, next).await? {
        return Err(ServiceError::Conflict(FieldError::new(
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
    state.store.need(id).await?.ok_or(ServiceError::Internal)
}

/// The owner pauses, resumes or withdraws their offer (core's rule,
/// [`OfferState::apply`]). Audited.
pub async fn change_offer_state(
    state: &AppState,
    p: &Principal,
    id: OfferId,
    action: trama_core::matching::lifecycle::OfferAction,
) -> ServiceResult<OfferRow> {
    use trama_core::matching::lifecycle::OfferState;
    let o = state
        .store
        .offer(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("offer", &id.to_string()))?;
    // Someone else's offer does not exist for them.
    if o.owner != p.user_id {
        return Err(ServiceError::not_found("offer", &id.to_string()));
    }
    let now: OfferState = o.state.parse().map_err(|_| ServiceError::Internal)?;
    let next = now
        .apply(action, o.active)
        .map_err(ServiceError::Conflict)?;
    if !state.store.set_offer_state(id, now, next).await? {
        return Err(ServiceError::Conflict(FieldError::new(
            "state",
            "the offer changed meanwhile",
        )));
    }
    audit(
        state,
        p,
        &format!("offer.{}", action.as_str()),
        "offer",
        &id.to_string(),
        None,
        None,
    )
    .await?;
    state.store.offer(id).await?.ok_or(ServiceError::Internal)
}

/// Many offers at once, each `(owner, form)` (help moved from another system, the benches):
/// each form checked as one offer's is and placed in its area; not limited per person nor
/// audited one by one (the caller is the territory's own command line, not a request).
pub async fn load_offers(
    state: &AppState,
    offers: &[(UserId, OfferForm)],
) -> ServiceResult<Vec<OfferId>> {
    let mut rows = Vec::with_capacity(offers.len());
    for (i, (owner, form)) in offers.iter().enumerate() {
        let offer = form.parse().map_err(|e| {
            invalid(FieldError::new(
                format!("offers[{i}].{}", e.field),
                e.reason,
            ))
        })?;
        let (area, _) = area_of(state, &offer.point).await?;
        rows.push((*owner, offer, area));
    }
    Ok(state.store.create_offers(&rows).await?)
}

/// Many needs at once, each `(requester, form)`, as [`load_offers`].
pub async fn load_needs(
    state: &AppState,
    needs: &[(UserId, NeedForm)],
) -> ServiceResult<Vec<NeedId>> {
    let today = state.now_local().date();
    let mut rows = Vec::with_capacity(needs.len());
    for (i, (requester, form)) in needs.iter().enumerate() {
        let need = form
            .parse(today)
            .map_err(|e| invalid(FieldError::new(format!("needs[{i}].{}", e.field), e.reason)))?;
        let (area, municipio) = area_of(state, &need.point).await?;
        rows.push(NeedRecord {
            need,
            requester: *requester,
            entered_by: *requester,
            organization: None,
            area,
            municipio,
        });
    }
    Ok(state.store.create_needs(&rows).await?)
}

/// The owner rewrites their offer: what, where, when and how much. Its organisation stays (an
/// offer changes hands by withdrawing it and making another). Refused once withdrawn, and
/// with fewer places than the people counting on it.
pub async fn update_offer(
    state: &AppState,
    p: &Principal,
    id: OfferId,
    form: &OfferForm,
) -> ServiceResult<OfferRow> {
    use trama_core::matching::lifecycle::OfferState;
    let o = state
        .store
        .offer(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("offer", &id.to_string()))?;
    // Someone else's offer does not exist for them.
    if o.owner != p.user_id {
        return Err(ServiceError::not_found("offer", &id.to_string()));
    }
    let mut offer = form.parse().map_err(invalid)?;
    offer.organization = o.organization;
    let now: OfferState = o.state.parse().map_err(|_| ServiceError::Internal)?;
    now.check_edit(offer.capacity, o.active)
        .map_err(ServiceError::Conflict)?;
    let (area, _) = area_of(state, &offer.point).await?;
    state.store.update_offer(id, &offer, &area).await?;
    audit(
        state,
        p,
        "offer.update",
        "offer",
        &id.to_string(),
        None,
        None,
    )
    .await?;
    state.store.offer(id).await?.ok_or(ServiceError::Internal)
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

/// Open needs counted by public area, for anyone to read. An area is named only when at least
/// [`trama_store::AREA_MIN_COUNT_FOR_MARKER`] needs are open there, so that no count points at
/// one person; the rest are counted together in one row of kind `other` ("Altre zone"), last.
pub async fn needs_by_area(
    state: &AppState,
    campaign: Option<CampaignId>,
) -> ServiceResult<Vec<AreaCountView>> {
    let mut named = Vec::new();
    let mut other = AreaCountView {
        kind: "other".into(),
        code: "other".into(),
        name: "Altre zone".into(),
        open: 0,
        urgent: 0,
        center: None,
    };
    for a in state.store.open_needs_by_area(campaign).await? {
        if a.open >= trama_store::AREA_MIN_COUNT_FOR_MARKER {
            named.push(AreaCountView {
                kind: a.kind,
                code: a.code,
                name: a.name,
                open: a.open,
                urgent: a.urgent,
                center: a.center.map(|(x, y)| [x, y]),
            });
        } else {
            other.open += a.open;
            other.urgent += a.urgent;
        }
    }
    if other.open > 0 {
        named.push(other);
    }
    Ok(named)
}

pub async fn create_offer(
    state: &AppState,
    p: &Principal,
    form: &OfferForm,
) -> ServiceResult<OfferId> {
    let offer = form.parse().map_err(invalid)?;
    if let Some(org) = offer.organization
        && !p.operates_for(org)
    {
        return Err(ServiceError::Forbidden(
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
        return Err(ServiceError::Conflict(FieldError::new(
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
) -> ServiceResult<UserId> {
    let orgs = p.operator_organizations();
    let org = match r.organization_id.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => OrganizationId::parse("organization_id", s).map_err(invalid)?,
        None => match orgs.as_slice() {
            [one] => *one,
            [] => {
                return Err(ServiceError::Forbidden(
                    "only operators register people".into(),
                ));
            }
            _ => {
                return Err(invalid(FieldError::new(
                    "organization_id",
                    "you work for several organisations: say which",
                )));
            }
        },
    };
    if !p.operates_for(org) {
        return Err(ServiceError::Forbidden(
            "you do not operate for this organisation".into(),
        ));
    }
    let name = BoundedText::line("display_name", &r.display_name, 120).map_err(invalid)?;
    let name = name.as_str();
    let consent = trama_core::budget::consent::ConsentReference::parse(&r.consent_reference)
        .map_err(invalid)?;
    let consent = consent.as_str();
    let phone =
        trama_core::bounded::phone("phone", r.phone.as_deref().unwrap_or("")).map_err(invalid)?;
    let phone = phone.as_deref();
    let locale = trama_core::bounded::locale("locale", r.locale.as_deref()).map_err(invalid)?;
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

pub(crate) fn person_view(a: &trama_store::AssistedPerson) -> PersonView {
    PersonView {
        id: a.user.as_uuid(),
        display_name: a.display_name.clone(),
        organization_id: a.organization.as_uuid(),
        consent_reference: a.consent_reference.clone(),
        phone: a.phone.clone(),
        registered_at: rfc3339(a.created_at),
    }
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

pub(crate) async fn activity(state: &AppState, person: UserId) -> ServiceResult<Vec<ActivityView>> {
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

store_calls! {
    /// Builds (or brings up to date) the in-memory index of the offers that can be suggested;
    /// how many it holds.
    pub fn warm_offer_index() -> usize;
}

store_calls! {
    /// One's own offers.
    pub fn offers_of(owner: UserId) -> Vec<OfferRow>;
    /// A need's matches; each is shown only to its sides (`side_in`).
    pub fn matches_of_need(need: NeedId) -> Vec<MatchRow>;
    /// An offer, by id.
    pub fn offer(id: OfferId) -> Option<OfferRow>;
    /// The people the desk's organisations registered (assisted mode).
    pub fn assisted_people(
        organizations: &[trama_core::ids::OrganizationId],
    ) -> Vec<trama_store::AssistedPerson>;
    /// Needs by a filter (one's own, a desk's): the caller decides the access each is shown at
    /// (`need_view`) and audits full reads (`audit_full_read`).
    pub fn needs(filter: &trama_store::NeedFilter) -> Vec<NeedRow>;
    /// One's matches (only the live ones if `live_only`).
    pub fn matches_of_person(person: UserId, live_only: bool) -> Vec<MatchRow>;
    pub fn need_parties(need: &trama_store::NeedRow) -> NeedParties;
    pub fn match_row(id: trama_core::ids::MatchId) -> Option<trama_store::MatchRow>;
    pub fn assisted(user: trama_core::ids::UserId) -> Option<trama_store::AssistedPerson>;
}
