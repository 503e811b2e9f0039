//! The contribution register's operations: flows and credits, recording a flow (attributed,
//! no free text), one's contributions and statement.

use crate::service_error::store_calls;
use crate::service_error::{ServiceError, ServiceResult};
use crate::state::AppState;
use serde::Serialize;
use time::OffsetDateTime;
use trama_core::FieldError;
use trama_core::auth::{Principal, Role};
use trama_core::ids::OrganizationId;
use trama_ledger::accounting::{Credits, FlowRow, credits_of, flows};
use trama_ledger::event::{Action, EconomicEvent};
use trama_ledger::statement::Statement;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProofView {
    pub index: u64,
    pub size: u64,
    /// base64
    pub leaf_hash: String,
    /// base64
    pub root: String,
    /// base64 hashes, leaf to root (RFC 6962 audit path)
    pub proof: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProofView {
    pub from: u64,
    pub to: u64,
    pub root_from: String,
    pub root_to: String,
    pub proof: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub index: u64,
    /// The event as JSON-LD (the stored canonical bytes, parsed).
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntriesPage {
    #[serde(rename = "@context")]
    pub context: String,
    pub from: u64,
    pub size: u64,
    pub entries: Vec<EntryView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlowView {
    pub scope: String,
    pub resource: String,
    pub unit: String,
    pub period: String,
    pub inflow: f64,
    pub outflow: f64,
    pub transferred: f64,
    pub activity: f64,
    pub balance: f64,
    pub events: u64,
}

impl From<&FlowRow> for FlowView {
    fn from(r: &FlowRow) -> Self {
        Self {
            scope: r.scope.clone(),
            resource: r.resource.clone(),
            unit: r.unit.name().to_string(),
            period: r.period.clone(),
            inflow: r.inflow,
            outflow: r.outflow,
            transferred: r.transferred,
            activity: r.activity,
            balance: r.balance(),
            events: r.events,
        }
    }
}

/// Flows computed from the whole log: per territory, resource kind, unit and month.
pub async fn compute_flows(state: &AppState) -> ServiceResult<Vec<FlowRow>> {
    let events = state.register.all_events().await?;
    Ok(flows(events.iter()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TerritoryCredits {
    pub territory: String,
    pub hours: f64,
    pub people_giving: u64,
    pub people_receiving: u64,
    pub work_events: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppendedView {
    pub indexes: Vec<u64>,
    /// The events as appended.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<EconomicEvent>,
}

pub(crate) fn may_record_flows(p: &Principal) -> ServiceResult<()> {
    if p.has_role(Role::TerritoryAdmin)
        || p.has_role(Role::Operator)
        || p.has_role(Role::OrganizationAdmin)
    {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "recording flows needs the operator, organisation admin or territory admin role".into(),
        ))
    }
}

pub use trama_core::flows::{FlowRequest, RESOURCE_KINDS};

/// Builds the event of a recorded flow ([`trama_core::flows::flow_event`]), a bad field being
/// the client's mistake.
pub fn flow_event(
    req: &FlowRequest,
    territory: &str,
    now: OffsetDateTime,
) -> ServiceResult<EconomicEvent> {
    trama_core::flows::flow_event(req, territory, now).map_err(ServiceError::InvalidBody)
}

pub use trama_core::flows::parse_flows_csv;

/// A flow names organisations as its provider and receiver: each must exist (422), and the
/// recorder must act for it (403), unless the recorder is the territory admin, who keeps the
/// register. Nobody records in another organisation's name. `field` names the place of a
/// fault (the event's index, "provider" or "receiver").
pub async fn check_attribution(
    state: &AppState,
    p: &Principal,
    events: &[EconomicEvent],
    field: impl Fn(usize, &str) -> String,
) -> ServiceResult<()> {
    for (i, ev) in events.iter().enumerate() {
        for (side, iri) in [("provider", &ev.provider), ("receiver", &ev.receiver)] {
            let Some(id) = iri.strip_prefix("urn:trama:organization:") else {
                continue;
            };
            let org = OrganizationId::parse("organization", id).map_err(|_| {
                ServiceError::InvalidBody(FieldError::new(
                    field(i, side),
                    "must be an organisation id",
                ))
            })?;
            if !state.store.organization_exists(org).await? {
                return Err(ServiceError::InvalidReference(FieldError::new(
                    field(i, side),
                    "no such organisation in the directory",
                )));
            }
            if !p.has_role(Role::TerritoryAdmin) && !p.operates_for(org) {
                return Err(ServiceError::Forbidden(format!(
                    "{}: you do not act for this organisation; a flow is recorded by the organisations it names",
                    field(i, side)
                )));
            }
        }
    }
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyContribution {
    pub index: u64,
    pub action: String,
    pub resource: Option<String>,
    pub hours: f64,
    pub at: String,
    pub area: Option<String>,
    /// given or received
    pub direction: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyContributions {
    /// How you appear in the public register (null until your first contribution).
    pub pseudonym: Option<String>,
    pub hours_given: f64,
    pub hours_received: f64,
    pub balance: f64,
    pub entries: Vec<MyContribution>,
}

/// A person's contributions read from the register.
pub async fn contributions_of(state: &AppState, p: &Principal) -> ServiceResult<MyContributions> {
    let iri = format!("urn:trama:person:{}", p.user_id);
    let Some(pseudonym) = state.register.existing_pseudonym(&iri).await? else {
        return Ok(MyContributions {
            pseudonym: None,
            hours_given: 0.0,
            hours_received: 0.0,
            balance: 0.0,
            entries: Vec::new(),
        });
    };
    let events = state.register.events_of(&pseudonym).await?;
    let c: Credits = credits_of(&pseudonym, events.iter().map(|(_, e)| e));
    let entries = events
        .iter()
        .filter(|(_, e)| e.action == Action::Work)
        .rev()
        .map(|(i, e)| MyContribution {
            index: *i,
            action: e.action.name().to_string(),
            resource: e.resource_conforms_to.clone(),
            hours: e.effort_hours(),
            at: e.has_point_in_time.clone(),
            area: e
                .at_location
                .as_ref()
                .map(|a| a.trim_start_matches("urn:trama:area:").to_string()),
            direction: if e.provider == pseudonym {
                "given"
            } else {
                "received"
            }
            .to_string(),
        })
        .collect();
    Ok(MyContributions {
        pseudonym: Some(pseudonym),
        hours_given: c.hours_given,
        hours_received: c.hours_received,
        balance: c.balance(),
        entries,
    })
}

/// The statement of a person, for download.
pub async fn statement_of(state: &AppState, p: &Principal) -> ServiceResult<Statement> {
    let iri = format!("urn:trama:person:{}", p.user_id);
    let agent = state
        .register
        .existing_pseudonym(&iri)
        .await?
        .ok_or_else(|| ServiceError::NotFound("you have no entries in the register yet".into()))?;
    Ok(state.register.statement(&agent).await?)
}

/// Everything the node's own database holds of the log, for an offline check (`trama
/// verify`): the size, the stored hashes, every entry and every checkpoint note.
pub struct LogContents {
    pub size: u64,
    pub hashes: Vec<trama_ledger::Hash>,
    pub entries: Vec<String>,
    pub checkpoints: Vec<String>,
}

pub async fn log_contents(state: &AppState) -> ServiceResult<LogContents> {
    let (size, hashes) = state.store.register_load_hashes().await?;
    let entries = state.store.register_entries(0, size).await?;
    let checkpoints = state
        .store
        .register_checkpoints()
        .await?
        .into_iter()
        .map(|c| c.note)
        .collect();
    Ok(LogContents {
        size,
        hashes,
        entries,
        checkpoints,
    })
}

/// Which database holds the log (`sqlite`, `postgres`), for the benchmark's report.
pub fn backend_name(state: &AppState) -> &'static str {
    state.store.backend().name()
}

store_calls! {
    pub fn register_checkpoints() -> Vec<trama_store::CheckpointRow>;
    pub fn register_forget_agent(agent: &str) -> bool;
    /// Which of these event ids the log already holds (the demo appends each event once).
    pub fn known_ids(ids: &[String]) -> Vec<String> = register_known_ids;
    /// What the log takes on disk: (bytes of the database's register tables, if it says).
    pub fn disk_bytes() -> i64 = register_disk_bytes;
    /// The logical content of the log: (entry text and lookup columns, stored hashes), in bytes.
    pub fn text_bytes() -> (i64, i64) = register_text_bytes;
}
