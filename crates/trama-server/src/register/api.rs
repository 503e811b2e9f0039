//! The contribution register over HTTP: the C2SP tlog-tiles log (`/register/...`), proofs,
//! flows and time credits, recording flows (`/api/register/...`).

use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::policy::Admitted;
use crate::policy::Routes;
use crate::policy::Writer;
use crate::register::service::AppendedView;
use crate::register::service::ConsistencyProofView;
use crate::register::service::EntriesPage;
use crate::register::service::EntryView;
use crate::register::service::FlowRequest;
use crate::register::service::FlowView;
use crate::register::service::InclusionProofView;
use crate::register::service::MyContributions;
use crate::register::service::TerritoryCredits;
use crate::register::service::check_attribution;
use crate::register::service::compute_flows;
use crate::register::service::contributions_of;
use crate::register::service::flow_event;
use crate::register::service::may_record_flows;
use crate::register::service::parse_flows_csv;
use crate::register::service::statement_of;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use trama_core::FieldError;
use trama_ledger::accounting::all_credits;
use trama_ledger::event::json_ld_context;
use trama_ledger::merkle::Hash;
use trama_ledger::tiles::Tile;

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

pub(crate) fn text(body: String, cache: &'static str) -> Response {
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
    let rows = super::service::register_checkpoints(&state).await?;
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

pub(crate) fn parse_u64(field: &str, v: Option<&str>) -> ApiResult<Option<u64>> {
    v.map(|s| trama_core::bounded::number::<u64>(field, s))
        .transpose()
        .map_err(ApiError::InvalidParameter)
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

/// Entries of the log as JSON-LD, from `from` (default 0), at most `limit` (default 100, at
/// most 1000). The exact bytes are in the entry bundles.
#[utoipa::path(get, path = "/register/entries", tag = "register", params(("from" = Option<u64>, Query), ("limit" = Option<u64>, Query)), responses((status = 200, body = EntriesPage), (status = 400, body = ErrorEnvelope)))]
pub async fn entries(
    State(state): State<AppState>,
    Query(q): Query<EntriesQuery>,
) -> ApiResult<Json<EntriesPage>> {
    let from = parse_u64("from", q.from.as_deref())?.unwrap_or(0);
    let limit = trama_core::bounded::within(
        "limit",
        parse_u64("limit", q.limit.as_deref())?.unwrap_or(100),
        1,
        1000,
    )
    .map_err(ApiError::InvalidParameter)?;
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

/// Flow accounting per resource kind and month, from the log.
#[utoipa::path(get, path = "/register/flows", tag = "register", responses((status = 200, body = [FlowView])))]
pub async fn flows_api(State(state): State<AppState>) -> ApiResult<Json<Vec<FlowView>>> {
    let rows = compute_flows(&state).await?;
    Ok(Json(rows.iter().map(FlowView::from).collect()))
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

/// Records a flow of commons (energy, waste, food, water, mobility) in the register.
#[utoipa::path(post, path = "/api/register/flows", tag = "register", request_body = FlowRequest, responses((status = 201, body = AppendedView), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn record_flow_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    body: Result<Json<FlowRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<AppendedView>)> {
    may_record_flows(p)?;
    let req = body.map_err(ApiError::from)?.0;
    let ev = flow_event(&req, state.register.territory(), state.now())?;
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
    let events = parse_flows_csv(&body, state.register.territory(), state.now())
        .map_err(ApiError::InvalidBody)?;
    check_attribution(&state, p, &events, |i, side| {
        format!("line {}: {side}_organization", i + 2)
    })
    .await?;
    let indexes = state.register.append(events.clone()).await?;
    Ok((StatusCode::CREATED, Json(AppendedView { indexes, events })))
}

/// My contributions: time credits and the entries behind them.
#[utoipa::path(get, path = "/api/me/contributions", tag = "register", responses((status = 200, body = MyContributions), (status = 401, body = ErrorEnvelope)))]
pub async fn my_contributions_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
) -> ApiResult<Json<MyContributions>> {
    let p = admitted.principal();
    Ok(Json(contributions_of(&state, p).await?))
}

/// My statement: my entries with inclusion proofs against the latest signed checkpoint;
/// check it offline with `trama verify-statement FILE --key KEY`.
#[utoipa::path(get, path = "/api/me/statement", tag = "register", responses((status = 200, body = Object), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn my_statement_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
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
    Writer(ref p): Writer,
) -> ApiResult<StatusCode> {
    let iri = format!("urn:trama:person:{}", p.user_id);
    for purpose in crate::register::log::Purpose::ALL {
        super::service::register_forget_agent(&state, &purpose.agent(&iri)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
