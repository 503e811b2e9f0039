//! The register over HTTP: `/register/...` (public, C2SP tlog-tiles layout plus proofs, entries,
//! flows) and `/api/register/...`, `/api/me/...` (signed in: record flows, my contributions,
//! my statement).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use trama_core::FieldError;
use trama_core::auth::{Principal, Role};
use trama_core::ids::OrganizationId;
use trama_ledger::accounting::{Credits, FlowRow, all_credits, credits_of, flows};
use trama_ledger::event::{
    Action, EconomicEvent, Measure, Unit, format_point_in_time, json_ld_context,
    parse_point_in_time,
};
use trama_ledger::statement::Statement;
use trama_ledger::tiles::Tile;
use trama_ledger::{LedgerError, merkle::Hash};

use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::policy::Admitted;
use crate::policy::Routes;
use crate::register::RegisterError;
use crate::state::AppState;

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::Ledger(LedgerError::Invalid { field, reason }) => {
                ApiError::InvalidBody(FieldError::new(field, reason))
            }
            RegisterError::Ledger(LedgerError::Proof(reason)) => {
                ApiError::InvalidParameter(FieldError::new("size", reason))
            }
            RegisterError::Store(s) => s.into(),
            RegisterError::Unavailable(reason) => {
                tracing::error!(%reason, "register unavailable");
                ApiError::Unavailable
            }
            other => {
                tracing::error!(error = %other, "register error");
                ApiError::Internal
            }
        }
    }
}

/// Public routes, mounted at `/register`.
pub fn public_routes() -> Routes {
    let p = crate::policy::PUBLIC;
    Routes::api()
        .get("/register/checkpoint", checkpoint, p)
        .get("/register/checkpoints", checkpoints, p)
        .get("/register/key", key, p)
        .get("/register/tile/{*path}", tile, p)
        .get("/register/proof/inclusion", inclusion, p)
        .get("/register/proof/consistency", consistency, p)
        .get("/register/entries", entries, p)
        .get("/register/context.jsonld", context, p)
        .get("/register/flows", flows_api, p)
        .get("/register/credits", credits_api, p)
}

/// Signed-in routes, mounted under `/api`.
pub fn api_routes() -> Routes {
    use crate::policy::{FLOW_RECORDERS, Policy, Scope, Who};
    let recorders = Policy::new(
        Who::Roles(FLOW_RECORDERS),
        Scope::Organisation,
        "for the organisations one acts for; the territory admin for any",
    );
    let own = Policy::new(Who::SignedIn, Scope::Own, "one's own contributions");
    Routes::api()
        .post("/register/flows", record_flow_api, recorders)
        .post("/register/flows/import", import_flows_api, recorders)
        .get("/me/contributions", my_contributions_api, own)
        .get("/me/statement", my_statement_api, own)
        .delete("/me/pseudonym", forget_me_api, own)
}

fn text(body: String, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

/// The latest signed checkpoint (C2SP tlog-checkpoint).
#[utoipa::path(get, path = "/register/checkpoint", tag = "register", responses((status = 200, description = "The signed checkpoint, text/plain", content_type = "text/plain")))]
pub async fn checkpoint(State(state): State<AppState>) -> ApiResult<Response> {
    let note = state.register.latest_checkpoint().await?;
    Ok(text(note, "public, max-age=2"))
}

/// Every checkpoint the node signed, oldest first (for checking consistency over time).
#[utoipa::path(get, path = "/register/checkpoints", tag = "register", responses((status = 200, body = [String])))]
pub async fn checkpoints(State(state): State<AppState>) -> ApiResult<Json<Vec<String>>> {
    state.register.latest_checkpoint().await?;
    let rows = state.store.register_checkpoints().await?;
    Ok(Json(rows.into_iter().map(|r| r.note).collect()))
}

/// The node's verifier key as a C2SP note key `name+id+key`.
#[utoipa::path(get, path = "/register/key", tag = "register", responses((status = 200, description = "The verifier key, text/plain", content_type = "text/plain")))]
pub async fn key(State(state): State<AppState>) -> ApiResult<Response> {
    let v = state.register.verifier().await?;
    Ok(text(format!("{}\n", v.encode()), "public, max-age=3600"))
}

/// A tile of hashes `tile/<L>/<N>[.p/<W>]` or an entry bundle `tile/entries/<N>[.p/<W>]`.
#[utoipa::path(get, path = "/register/tile/{path}", tag = "register", params(("path" = String, Path, description = "C2SP tile path after tile/, e.g. 0/x001/234 or entries/000.p/17")), responses((status = 200, description = "Tile bytes", content_type = "application/octet-stream"), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn tile(State(state): State<AppState>, Path(path): Path<String>) -> ApiResult<Response> {
    let t = Tile::parse_path(&format!("tile/{path}"))
        .map_err(|e| ApiError::InvalidParameter(FieldError::new("path", e.to_string())))?;
    // One name per tile: a tile is immutable and cached forever under its canonical path.
    if t.path() != format!("tile/{path}") {
        return Err(ApiError::NotFound(format!(
            "tile/{path} is not a canonical tile path (this tile is {})",
            t.path()
        )));
    }
    match state.register.tile(t).await? {
        Some(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            bytes,
        )
            .into_response()),
        None => Err(ApiError::NotFound(format!(
            "tile/{path} is beyond the latest checkpoint"
        ))),
    }
}

#[derive(Debug, Deserialize)]
pub struct InclusionQuery {
    index: Option<String>,
    size: Option<String>,
}

fn parse_u64(field: &str, v: Option<&str>) -> ApiResult<Option<u64>> {
    v.map(|s| {
        s.parse::<u64>().map_err(|_| {
            ApiError::InvalidParameter(FieldError::new(field, "must be a whole number, 0 or more"))
        })
    })
    .transpose()
}

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

/// The inclusion proof of entry `index` in the tree of `size` (default: the latest checkpoint).
#[utoipa::path(get, path = "/register/proof/inclusion", tag = "register", params(("index" = u64, Query), ("size" = Option<u64>, Query)), responses((status = 200, body = InclusionProofView), (status = 400, body = ErrorEnvelope)))]
pub async fn inclusion(
    State(state): State<AppState>,
    Query(q): Query<InclusionQuery>,
) -> ApiResult<Json<InclusionProofView>> {
    let index = parse_u64("index", q.index.as_deref())?
        .ok_or_else(|| ApiError::InvalidParameter(FieldError::new("index", "is required")))?;
    let (signed, _) = state.register.signed_head().await?;
    let size = parse_u64("size", q.size.as_deref())?.unwrap_or(signed);
    if size > signed || index >= size {
        return Err(ApiError::InvalidParameter(FieldError::new(
            if size > signed { "size" } else { "index" },
            format!("the latest checkpoint has size {signed}; index must be below the size"),
        )));
    }
    let (leaf, proof, root) = state.register.inclusion_proof(index, size).await?;
    Ok(Json(InclusionProofView {
        index,
        size,
        leaf_hash: leaf.to_base64(),
        root: root.to_base64(),
        proof: proof.iter().map(Hash::to_base64).collect(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct ConsistencyQuery {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProofView {
    pub from: u64,
    pub to: u64,
    pub root_from: String,
    pub root_to: String,
    pub proof: Vec<String>,
}

/// The consistency proof between sizes `from` and `to` (default: the latest checkpoint).
#[utoipa::path(get, path = "/register/proof/consistency", tag = "register", params(("from" = u64, Query), ("to" = Option<u64>, Query)), responses((status = 200, body = ConsistencyProofView), (status = 400, body = ErrorEnvelope)))]
pub async fn consistency(
    State(state): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<Json<ConsistencyProofView>> {
    let (signed, _) = state.register.signed_head().await?;
    let from = parse_u64("from", q.from.as_deref())?
        .ok_or_else(|| ApiError::InvalidParameter(FieldError::new("from", "is required")))?;
    let to = parse_u64("to", q.to.as_deref())?.unwrap_or(signed);
    if to > signed || from == 0 || from > to {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "from",
            format!("need 0 < from <= to <= {signed} (the latest checkpoint)"),
        )));
    }
    let (proof, root_from, root_to) = state.register.consistency_proof(from, to).await?;
    Ok(Json(ConsistencyProofView {
        from,
        to,
        root_from: root_from.to_base64(),
        root_to: root_to.to_base64(),
        proof: proof.iter().map(Hash::to_base64).collect(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct EntriesQuery {
    from: Option<String>,
    limit: Option<String>,
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

/// Entries of the log as JSON-LD, from `from` (default 0), at most `limit` (default 100, at
/// most 1000). The exact bytes are in the entry bundles.
#[utoipa::path(get, path = "/register/entries", tag = "register", params(("from" = Option<u64>, Query), ("limit" = Option<u64>, Query)), responses((status = 200, body = EntriesPage), (status = 400, body = ErrorEnvelope)))]
pub async fn entries(
    State(state): State<AppState>,
    Query(q): Query<EntriesQuery>,
) -> ApiResult<Json<EntriesPage>> {
    let from = parse_u64("from", q.from.as_deref())?.unwrap_or(0);
    let limit = parse_u64("limit", q.limit.as_deref())?.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "limit",
            "must be between 1 and 1000",
        )));
    }
    let (size, _) = state.register.signed_head().await?;
    if from > size {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "from",
            format!("is beyond the register's {size} entries"),
        )));
    }
    let to = from.saturating_add(limit).min(size);
    let rows = if from < to {
        state.register.entries(from, to).await?
    } else {
        Vec::new()
    };
    let entries = rows
        .iter()
        .enumerate()
        .map(|(i, e)| EntryView {
            index: from + i as u64,
            event: serde_json::from_str(e).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(Json(EntriesPage {
        context: "/register/context.jsonld".into(),
        from,
        size,
        entries,
    }))
}

/// The JSON-LD context mapping entry fields to ValueFlows IRIs.
#[utoipa::path(get, path = "/register/context.jsonld", tag = "register", responses((status = 200, body = Object, content_type = "application/ld+json")))]
pub async fn context() -> Response {
    (
        [(header::CONTENT_TYPE, "application/ld+json")],
        Json(json_ld_context()),
    )
        .into_response()
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
pub async fn compute_flows(state: &AppState) -> ApiResult<Vec<FlowRow>> {
    let events = state.register.all_events().await?;
    Ok(flows(events.iter()))
}

/// Flow accounting per resource kind and month, from the log.
#[utoipa::path(get, path = "/register/flows", tag = "register", responses((status = 200, body = [FlowView])))]
pub async fn flows_api(State(state): State<AppState>) -> ApiResult<Json<Vec<FlowView>>> {
    let rows = compute_flows(&state).await?;
    Ok(Json(rows.iter().map(FlowView::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TerritoryCredits {
    pub territory: String,
    pub hours: f64,
    pub people_giving: u64,
    pub people_receiving: u64,
    pub work_events: u64,
}

/// Time credits summed over the territory (one hour, one credit).
#[utoipa::path(get, path = "/register/credits", tag = "register", responses((status = 200, body = TerritoryCredits)))]
pub async fn credits_api(State(state): State<AppState>) -> ApiResult<Json<TerritoryCredits>> {
    let events = state.register.all_events().await?;
    let (by, total) = all_credits(events.iter());
    Ok(Json(TerritoryCredits {
        territory: state.register.territory().to_string(),
        hours: total.hours_given,
        people_giving: by.values().filter(|c| c.hours_given > 0.0).count() as u64,
        people_receiving: by.values().filter(|c| c.hours_received > 0.0).count() as u64,
        work_events: total.events,
    }))
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

fn may_record_flows(p: &Principal) -> ApiResult<()> {
    if p.has_role(Role::TerritoryAdmin)
        || p.has_role(Role::Operator)
        || p.has_role(Role::OrganizationAdmin)
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
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

fn resource_iri(r: &str) -> ApiResult<String> {
    let r = r.trim();
    let refuse = || {
        ApiError::InvalidBody(FieldError::new(
            "resource",
            format!(
                "one of {} (or urn:trama:resource: and one of them), or a term of the taxonomies (urn:trama:taxonomy:CODE)",
                RESOURCE_KINDS.join(", ")
            ),
        ))
    };
    if r.is_empty() {
        return Err(ApiError::InvalidBody(FieldError::new(
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

fn org_iri(field: &str, v: Option<&str>, territory: &str) -> ApiResult<String> {
    match v {
        None | Some("") => Ok(territory.to_string()),
        Some(s) => Uuid::parse_str(s)
            .map(|u| format!("urn:trama:organization:{u}"))
            .map_err(|_| {
                ApiError::InvalidBody(FieldError::new(field, "must be an organisation id"))
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
) -> ApiResult<()> {
    for (i, ev) in events.iter().enumerate() {
        for (side, iri) in [("provider", &ev.provider), ("receiver", &ev.receiver)] {
            let Some(id) = iri.strip_prefix("urn:trama:organization:") else {
                continue;
            };
            let org = OrganizationId::parse("organization", id).map_err(|_| {
                ApiError::InvalidBody(FieldError::new(
                    field(i, side),
                    "must be an organisation id",
                ))
            })?;
            if !state.store.organization_exists(org).await? {
                return Err(ApiError::InvalidReference(FieldError::new(
                    field(i, side),
                    "no such organisation in the directory",
                )));
            }
            if !p.has_role(Role::TerritoryAdmin) && !p.operates_for(org) {
                return Err(ApiError::Forbidden(format!(
                    "{}: you do not act for this organisation; a flow is recorded by the organisations it names",
                    field(i, side)
                )));
            }
        }
    }
    Ok(())
}

/// Builds the event of a recorded flow.
pub fn flow_event(req: &FlowRequest, territory: &str) -> ApiResult<EconomicEvent> {
    let action = Action::parse(req.action.trim()).ok_or_else(|| {
        ApiError::InvalidBody(FieldError::new(
            "action",
            format!("'{}' is not a ValueFlows action", req.action),
        ))
    })?;
    let unit = Unit::parse(req.unit.trim()).ok_or_else(|| {
        ApiError::InvalidBody(FieldError::new(
            "unit",
            "one of hour, kilogram, kilowattHour, litre, euro, one, kilometre",
        ))
    })?;
    let measure = Measure::new(req.quantity, unit).map_err(|e| match e {
        LedgerError::Invalid { reason, .. } => {
            ApiError::InvalidBody(FieldError::new("quantity", reason))
        }
        _ => ApiError::InvalidBody(FieldError::new("quantity", e.to_string())),
    })?;
    // The register is public and nothing in it can be erased: it carries no free text, where
    // a careless word could name a person for ever (a screen for names and addresses is a
    // net with holes: an independent tester got phones, e-mails and addresses through one).
    if req.note.as_deref().is_some_and(|n| !n.trim().is_empty()) {
        return Err(ApiError::InvalidBody(FieldError::new(
            "note",
            "the register is public and nothing in it can be erased, so it carries no free text: say what flowed with action, resource, quantity and the organisations",
        )));
    }
    if req.quantity.is_nan() || req.quantity <= 0.0 {
        return Err(ApiError::InvalidBody(FieldError::new(
            "quantity",
            "a flow moves more than nothing: must be above zero",
        )));
    }
    let now = OffsetDateTime::now_utc();
    let at = match req.at.as_deref() {
        Some(s) => parse_point_in_time(s).map_err(|_| {
            ApiError::InvalidBody(FieldError::new("at", "must be an RFC 3339 date-time"))
        })?,
        None => now,
    };
    // The register records what happened: not before 2000, not in the future (five minutes
    // of clocks' disagreement allowed).
    let earliest = time::macros::datetime!(2000-01-01 0:00 UTC);
    if at < earliest || at > now + time::Duration::minutes(5) {
        return Err(ApiError::InvalidBody(FieldError::new(
            "at",
            "must be a moment that has passed, from the year 2000 on",
        )));
    }
    let (resource_quantity, effort_quantity) = if action == Action::Work {
        if unit != Unit::Hour {
            return Err(ApiError::InvalidBody(FieldError::new(
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

/// Records a flow of commons (energy, waste, food, water, mobility) in the register.
#[utoipa::path(post, path = "/api/register/flows", tag = "register", request_body = FlowRequest, responses((status = 201, body = AppendedView), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn record_flow_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    body: Result<Json<FlowRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<AppendedView>)> {
    let p = admitted.for_write(&headers)?;
    may_record_flows(p)?;
    let req = body.map_err(ApiError::from)?.0;
    let ev = flow_event(&req, state.register.territory())?;
    check_attribution(&state, p, std::slice::from_ref(&ev), |_, side| {
        format!("{side}_organization")
    })
    .await?;
    let indexes = state.register.append(vec![ev.clone()]).await?;
    Ok((
        StatusCode::CREATED,
        Json(AppendedView {
            indexes,
            events: vec![ev],
        }),
    ))
}

/// Reads a CSV of flows (`action,resource,quantity,unit,provider_organization,
/// receiver_organization,at,note`, with that header). All or nothing: the first bad line is
/// named and nothing is appended.
pub fn parse_flows_csv(data: &[u8], territory: &str) -> Result<Vec<EconomicEvent>, FieldError> {
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
        let ev = flow_event(&req, territory).map_err(|e| match e {
            ApiError::InvalidBody(f) => {
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

/// Imports flows from CSV (text/csv), all or nothing.
#[utoipa::path(post, path = "/api/register/flows/import", tag = "register", request_body(content = String, content_type = "text/csv"), responses((status = 201, body = AppendedView), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn import_flows_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<AppendedView>)> {
    let p = admitted.for_write(&headers)?;
    may_record_flows(p)?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("text/csv") {
        return Err(ApiError::UnsupportedMediaType("text/csv"));
    }
    let events =
        parse_flows_csv(&body, state.register.territory()).map_err(ApiError::InvalidBody)?;
    check_attribution(&state, p, &events, |i, side| {
        format!("line {}: {side}_organization", i + 2)
    })
    .await?;
    let indexes = state.register.append(events.clone()).await?;
    Ok((StatusCode::CREATED, Json(AppendedView { indexes, events })))
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
pub async fn contributions_of(state: &AppState, p: &Principal) -> ApiResult<MyContributions> {
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

/// My contributions: time credits and the entries behind them.
#[utoipa::path(get, path = "/api/me/contributions", tag = "register", responses((status = 200, body = MyContributions), (status = 401, body = ErrorEnvelope)))]
pub async fn my_contributions_api(
    State(state): State<AppState>,
    admitted: Admitted,
) -> ApiResult<Json<MyContributions>> {
    let p = admitted.principal();
    Ok(Json(contributions_of(&state, p).await?))
}

/// The statement of a person, for download.
pub async fn statement_of(state: &AppState, p: &Principal) -> ApiResult<Statement> {
    let iri = format!("urn:trama:person:{}", p.user_id);
    let agent = state
        .register
        .existing_pseudonym(&iri)
        .await?
        .ok_or_else(|| ApiError::NotFound("you have no entries in the register yet".into()))?;
    Ok(state.register.statement(&agent).await?)
}

/// My statement: my entries with inclusion proofs against the latest signed checkpoint;
/// check it offline with `trama verify-statement FILE --key KEY`.
#[utoipa::path(get, path = "/api/me/statement", tag = "register", responses((status = 200, body = Object), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn my_statement_api(
    State(state): State<AppState>,
    admitted: Admitted,
) -> ApiResult<Response> {
    let p = admitted.principal();
    let st = statement_of(&state, p).await?;
    let mut res = Json(st).into_response();
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"trama-statement.json\""),
    );
    Ok(res)
}

/// Erases the links between me and my pseudonyms (one per purpose). My entries stay in the
/// register, valid and no longer linkable to me; Trama can no longer show them as mine.
#[utoipa::path(delete, path = "/api/me/pseudonym", tag = "register", responses((status = 204), (status = 401, body = ErrorEnvelope)))]
pub async fn forget_me_api(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let p = admitted.for_write(&headers)?;
    let iri = format!("urn:trama:person:{}", p.user_id);
    for purpose in crate::register::Purpose::ALL {
        state
            .store
            .register_forget_agent(&purpose.agent(&iri))
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
