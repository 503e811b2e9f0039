//! Emergency campaigns and batch assignment: proposing matches for many open needs at once.

use crate::help::service::Points;
use crate::help::service::audit;
use crate::help::service::compile;
use crate::help::service::notify_match;
use crate::json::rfc3339;
use crate::service_error::invalid;
use crate::service_error::store_calls;
use crate::service_error::{ServiceError, ServiceResult};
use crate::state::AppState;
use serde::Serialize;
use std::collections::HashMap;
use trama_core::FieldError;
use trama_core::auth::{Principal, Role};
use trama_core::bounded::BoundedText;
use trama_core::ids::CampaignId;
use trama_core::matching::instance::Vocabulary;
use trama_core::matching::lifecycle::{MatchState, NeedState};
use trama_core::matching::{AssignOptions, Engine};
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

/// Runs the optimal batch assignment over the open needs (of a campaign, or all) and proposes
/// the matches it finds.
pub async fn run_batch(
    state: &AppState,
    p: &Principal,
    campaign: Option<CampaignId>,
    dry_run: bool,
) -> ServiceResult<BatchReport> {
    if !p.has_role(Role::TerritoryAdmin) {
        return Err(ServiceError::Forbidden(
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
    pub state: String,
    pub starts_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<trama_store::CampaignCounts>,
}

pub(crate) fn campaign_view(
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
) -> ServiceResult<CampaignId> {
    if !p.has_role(Role::TerritoryAdmin) {
        return Err(ServiceError::Forbidden(
            "only the territory admin opens campaigns".into(),
        ));
    }
    let asked = r.parse().map_err(invalid)?;
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

store_calls! {
    /// A campaign's live counts (public).
    pub fn counts(id: CampaignId) -> trama_store::CampaignCounts = campaign_counts;
    /// A campaign, by id (public).
    pub fn campaign(id: CampaignId) -> Option<trama_store::CampaignRow>;
    pub fn campaigns() -> Vec<trama_store::CampaignRow>;
    pub fn campaign_counts(id: trama_core::ids::CampaignId) -> trama_store::CampaignCounts;
}
