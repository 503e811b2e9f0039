//! The contribution register's operations: flows and credits, recording a flow (attributed,
//! no free text), one's contributions and statement.

use crate::service_error::store_calls;
use crate::service_error::{ServiceError, ServiceResult};
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use trama_core::FieldError;
use trama_core::auth::{Principal, Role};
use trama_core::ids::OrganizationId;
use trama_ledger::LedgerError;
use trama_ledger::accounting::{Credits, FlowRow, credits_of, flows};
use trama_ledger::event::{
    Action, EconomicEvent, Measure, Unit, format_point_in_time, parse_point_in_time,
};
use trama_ledger::statement::Statement;
use utoipa::ToSchema;
use uuid::Uuid;

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

/// A flow of commons recorded by an operator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowRequest {
    /// A ValueFlows action: produce, consume, transfer, use...
    pub action: String,
    /// The resource kind, e.g. `energy`, `food`, `waste-sorted`, `water`, `mobility`, or an IRI.
    pub resource: String,
    pub quantity: f64,
    /// hour, kilogram, kilowattHour, litre, euro, one, kilometre
    pub unit: String,
    /// The organisation that provides (default: the territory).
    pub provider_organization: Option<String>,
    /// The organisation that receives (default: the territory).
    pub receiver_organization: Option<String>,
    /// RFC 3339 (default: now).
    pub at: Option<String>,
    /// Refused when not empty: the public register carries no free text.
    pub note: Option<String>,
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

/// The kinds of commons a flow may name: the register is public and permanent, so a resource
/// is a word from this list or a term of the seeded taxonomies (`urn:trama:taxonomy:H1`),
/// never free text (in an IRI's clothes or not).
pub const RESOURCE_KINDS: [&str; 16] = [
    "energy",
    "food",
    "water",
    "waste",
    "waste-sorted",
    "waste-organic",
    "mobility",
    "clothes",
    "books",
    "toys",
    "tools",
    "furniture",
    "electronics",
    "medicines",
    "space",
    "time",
];

pub(crate) fn resource_iri(r: &str) -> ServiceResult<String> {
    let r = r.trim();
    let refuse = || {
        ServiceError::InvalidBody(FieldError::new(
            "resource",
            format!(
                "one of {} (or urn:trama:resource: and one of them), or a term of the taxonomies (urn:trama:taxonomy:CODE)",
                RESOURCE_KINDS.join(", ")
            ),
        ))
    };
    if r.is_empty() {
        return Err(ServiceError::InvalidBody(FieldError::new(
            "resource",
            "is required",
        )));
    }
    let kind = r
        .strip_prefix("urn:trama:resource:")
        .unwrap_or(r)
        .to_lowercase();
    if RESOURCE_KINDS.contains(&kind.as_str()) {
        return Ok(format!("urn:trama:resource:{kind}"));
    }
    if let Some(code) = r.strip_prefix("urn:trama:taxonomy:")
        && trama_core::taxonomy::is_seeded_code(code)
    {
        return Ok(r.to_string());
    }
    Err(refuse())
}

pub(crate) fn org_iri(field: &str, v: Option<&str>, territory: &str) -> ServiceResult<String> {
    match v {
        None | Some("") => Ok(territory.to_string()),
        Some(s) => Uuid::parse_str(s)
            .map(|u| format!("urn:trama:organization:{u}"))
            .map_err(|_| {
                ServiceError::InvalidBody(FieldError::new(field, "must be an organisation id"))
            }),
    }
}

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

/// Builds the event of a recorded flow.
/// `now` bounds `at` (nothing recorded in the future) and is the time of a flow given none.
pub fn flow_event(
    req: &FlowRequest,
    territory: &str,
    now: OffsetDateTime,
) -> ServiceResult<EconomicEvent> {
    let action = Action::parse(req.action.trim()).ok_or_else(|| {
        ServiceError::InvalidBody(FieldError::new(
            "action",
            format!("'{}' is not a ValueFlows action", req.action),
        ))
    })?;
    let unit = Unit::parse(req.unit.trim()).ok_or_else(|| {
        ServiceError::InvalidBody(FieldError::new(
            "unit",
            "one of hour, kilogram, kilowattHour, litre, euro, one, kilometre",
        ))
    })?;
    let measure = Measure::new(req.quantity, unit).map_err(|e| match e {
        LedgerError::Invalid { reason, .. } => {
            ServiceError::InvalidBody(FieldError::new("quantity", reason))
        }
        _ => ServiceError::InvalidBody(FieldError::new("quantity", e.to_string())),
    })?;
    // The register is public and nothing in it can be erased: it carries no free text, where
    // a careless word could name a person for ever (a screen for names and addresses is a
    // net with holes: an independent tester got phones, e-mails and addresses through one).
    if req.note.as_deref().is_some_and(|n| !n.trim().is_empty()) {
        return Err(ServiceError::InvalidBody(FieldError::new(
            "note",
            "the register is public and nothing in it can be erased, so it carries no free text: say what flowed with action, resource, quantity and the organisations",
        )));
    }
    if req.quantity.is_nan() || req.quantity <= 0.0 {
        return Err(ServiceError::InvalidBody(FieldError::new(
            "quantity",
            "a flow moves more than nothing: must be above zero",
        )));
    }
    let at = match req.at.as_deref() {
        Some(s) => parse_point_in_time(s).map_err(|_| {
            ServiceError::InvalidBody(FieldError::new("at", "must be an RFC 3339 date-time"))
        })?,
        None => now,
    };
    // The register records what happened: not before 2000, not in the future (five minutes
    // of clocks' disagreement allowed).
    let earliest = time::macros::datetime!(2000-01-01 0:00 UTC);
    if at < earliest || at > now + time::Duration::minutes(5) {
        return Err(ServiceError::InvalidBody(FieldError::new(
            "at",
            "must be a moment that has passed, from the year 2000 on",
        )));
    }
    let (resource_quantity, effort_quantity) = if action == Action::Work {
        if unit != Unit::Hour {
            return Err(ServiceError::InvalidBody(FieldError::new(
                "unit",
                "work is measured in hours",
            )));
        }
        (None, Some(measure))
    } else {
        (Some(measure), None)
    };
    Ok(EconomicEvent {
        id: format!("urn:uuid:{}", Uuid::now_v7()),
        action,
        provider: org_iri(
            "provider_organization",
            req.provider_organization.as_deref(),
            territory,
        )?,
        receiver: org_iri(
            "receiver_organization",
            req.receiver_organization.as_deref(),
            territory,
        )?,
        resource_conforms_to: Some(resource_iri(&req.resource)?),
        resource_quantity,
        effort_quantity,
        has_point_in_time: format_point_in_time(at),
        in_scope_of: territory.to_string(),
        at_location: None,
        note: None,
    })
}

/// Reads a CSV of flows (`action,resource,quantity,unit,provider_organization,
/// receiver_organization,at,note`, with that header). All or nothing: the first bad line is
/// named and nothing is appended.
pub fn parse_flows_csv(
    data: &[u8],
    territory: &str,
    now: OffsetDateTime,
) -> Result<Vec<EconomicEvent>, FieldError> {
    // A file saved by a spreadsheet may start with a byte-order mark.
    let data = data.strip_prefix("\u{feff}".as_bytes()).unwrap_or(data);
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(data);
    let headers = rdr
        .headers()
        .map_err(|e| FieldError::new("line 1", e.to_string()))?
        .clone();
    let want = ["action", "resource", "quantity", "unit"];
    for w in want {
        if !headers.iter().any(|h| h == w) {
            return Err(FieldError::new(
                "line 1",
                format!("the header lacks the column '{w}'"),
            ));
        }
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| FieldError::new(format!("line {line}"), e.to_string()))?;
        let get = |name: &str| {
            col(name)
                .and_then(|c| rec.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let quantity = get("quantity")
            .unwrap_or("")
            .replace(',', ".")
            .parse::<f64>()
            .map_err(|_| FieldError::new(format!("line {line}"), "quantity: not a number"))?;
        let req = FlowRequest {
            action: get("action").unwrap_or("").to_string(),
            resource: get("resource").unwrap_or("").to_string(),
            quantity,
            unit: get("unit").unwrap_or("").to_string(),
            provider_organization: get("provider_organization").map(str::to_string),
            receiver_organization: get("receiver_organization").map(str::to_string),
            at: get("at").map(str::to_string),
            note: get("note").map(str::to_string),
        };
        let ev = flow_event(&req, territory, now).map_err(|e| match e {
            ServiceError::InvalidBody(f) => {
                FieldError::new(format!("line {line}"), format!("{}: {}", f.field, f.reason))
            }
            other => FieldError::new(format!("line {line}"), other.to_string()),
        })?;
        out.push(ev);
    }
    if out.is_empty() {
        return Err(FieldError::new("file", "no rows after the header"));
    }
    Ok(out)
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
