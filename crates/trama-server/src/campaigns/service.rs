//! Emergency campaigns and batch assignment: proposing matches for many open needs at once.

use crate::help::service::Points;
use crate::help::service::audit;
use crate::help::service::compile;
use crate::help::service::notify_match;
use crate::service_error::invalid;
use crate::service_error::store_calls;
use crate::service_error::{ServiceError, ServiceResult};
use crate::state::AppState;
use serde::Serialize;
use std::collections::HashMap;
use trama_core::FieldError;
use trama_core::auth::{Principal, Role};
use trama_core::bounded::BoundedText;
use trama_core::campaigns::CampaignPhase;
use trama_core::ids::CampaignId;
use trama_core::matching::instance::Vocabulary;
use trama_core::matching::lifecycle::{MatchState, NeedState};
use trama_core::matching::{AssignOptions, Engine};
use trama_core::moment::format_date;
use trama_store::{NeedFilter, NeedRow, NewMatch, OfferRow};
use uuid::Uuid;

pub use trama_core::campaigns::CampaignRequest;

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

/// Campaigns are the territory's: only its admin opens, dispatches and closes them.
pub fn territory_only(p: &Principal, what: &str) -> ServiceResult<()> {
    if p.has_role(Role::TerritoryAdmin) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!(
            "only the territory admin {what}"
        )))
    }
}

/// Runs the optimal batch assignment over the open needs (of a campaign, or all) and proposes
/// the matches it finds.
pub async fn run_batch(
    state: &AppState,
    p: &Principal,
    campaign: Option<CampaignId>,
    dry_run: bool,
) -> ServiceResult<BatchReport> {
    territory_only(p, "runs the batch assignment")?;
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
    let c = compile(&mut vocab, &pairs, &offer_refs, state.now(), Points::Exact)?;
    let (optimal, greedy) = tokio::task::spawn_blocking(move || {
        let engine = Engine::new(c.problem);
        let graph = engine.candidate_graph(AssignOptions::default());
        let opt = trama_core::matching::assign::optimal_on(&engine.problem, &graph);
        let gr = trama_core::matching::assign::greedy_on(&engine.problem, &graph);
        (opt, gr)
    })
    .await
    .map_err(|_| ServiceError::Internal)?;
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

#[derive(Debug, Serialize)]
pub struct CampaignView {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub description: String,
    pub categories: Vec<Uuid>,
    /// `open`, or `closed` by the territory.
    pub state: String,
    /// `upcoming`, `running` or `ended` today (its days and whether it was closed).
    pub phase: &'static str,
    /// Its first day, `2026-12-01`.
    pub starts_on: String,
    /// Its last day, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_on: Option<String>,
    /// The districts (Municipio codes) it covers; empty for the whole territory.
    pub areas: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<trama_store::CampaignCounts>,
}

/// Where the campaign stands today, in the territory's time zone.
pub fn phase(state: &AppState, c: &trama_store::CampaignRow) -> CampaignPhase {
    CampaignPhase::on(
        state.now_local().date(),
        c.starts_on,
        c.ends_on,
        c.state == "closed",
    )
}

pub(crate) fn campaign_view(
    state: &AppState,
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
        phase: phase(state, c).as_str(),
        starts_on: format_date(c.starts_on),
        ends_on: c.ends_on.map(format_date),
        areas: c.areas.clone(),
        counts,
    }
}

/// The districts a campaign may name: the territory's Municipi, as points are placed in them
/// (`territory::areas`: cached, Milan's when none were imported).
pub async fn districts(state: &AppState) -> ServiceResult<Vec<trama_core::areas::Area>> {
    Ok(crate::territory::areas(state).await?.1.clone())
}

pub async fn create_campaign(
    state: &AppState,
    p: &Principal,
    r: &CampaignRequest,
) -> ServiceResult<CampaignId> {
    territory_only(p, "opens campaigns")?;
    let asked = r.parse(state.now_local().date()).map_err(invalid)?;
    let known = districts(state).await?;
    for (i, code) in asked.areas.iter().enumerate() {
        if !known.iter().any(|a| &a.code == code) {
            return Err(ServiceError::InvalidReference(FieldError::new(
                format!("areas[{i}]"),
                format!("no Municipio with code {code}"),
            )));
        }
    }
    let mut categories = Vec::new();
    for (i, (term, c)) in asked.categories.into_iter().enumerate() {
        let field = format!("categories[{i}]");
        // A code of the right shape is not a kind of help until the taxonomy has it.
        if state.store.get_term(term).await?.is_none() {
            return Err(ServiceError::InvalidReference(FieldError::new(
                field,
                format!("no kind of help '{c}'"),
            )));
        }
        categories.push(term);
    }
    let id = state
        .store
        .create_campaign(&trama_store::NewCampaign {
            name: asked.name.into_string(),
            kind: asked.kind.to_string(),
            description: asked
                .description
                .map(BoundedText::into_string)
                .unwrap_or_default(),
            categories,
            created_by: p.user_id,
            starts_on: asked.starts_on,
            ends_on: asked.ends_on,
            areas: asked.areas,
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

/// Closes a campaign by hand (the territory admin): its intake form stops taking needs; the
/// needs it gathered go on. Closing one already closed is refused.
pub async fn close_campaign(state: &AppState, p: &Principal, id: CampaignId) -> ServiceResult<()> {
    territory_only(p, "closes campaigns")?;
    if state.store.campaign(id).await?.is_none() {
        return Err(ServiceError::not_found("campaign", &id.to_string()));
    }
    if !state.store.close_campaign(id).await? {
        return Err(ServiceError::Conflict(FieldError::new(
            "state",
            "the campaign is already closed",
        )));
    }
    audit(
        state,
        p,
        "campaign.close",
        "campaign",
        &id.to_string(),
        None,
        None,
    )
    .await?;
    Ok(())
}

/// The hubs a campaign's people can turn to: those in the districts it covers (every hub,
/// for a campaign over the whole territory).
pub async fn campaign_hubs(
    state: &AppState,
    c: &trama_store::CampaignRow,
) -> ServiceResult<Vec<trama_store::HubRow>> {
    let hubs = state.store.hubs(None).await?;
    if c.areas.is_empty() {
        return Ok(hubs);
    }
    let areas = crate::territory::areas(state).await?;
    let mut out = Vec::new();
    for h in hubs {
        let Some(point) = h.point else { continue };
        let (_, municipio) = trama_core::needs::public_area(&point, &areas.0, &areas.1);
        if municipio.is_some_and(|m| c.areas.contains(&m)) {
            out.push(h);
        }
    }
    Ok(out)
}

store_calls! {
    /// A campaign's live counts (public).
    pub fn counts(id: CampaignId) -> trama_store::CampaignCounts = campaign_counts;
    /// A campaign, by id (public).
    pub fn campaign(id: CampaignId) -> Option<trama_store::CampaignRow>;
    pub fn campaigns() -> Vec<trama_store::CampaignRow>;
    pub fn campaign_counts(id: trama_core::ids::CampaignId) -> trama_store::CampaignCounts;
}
