//! The HSDS 3.0 API under `/hsds`: read-only for everyone, in the shapes of the official
//! OpenAPI description (paged lists in the `Page` envelope, fully nested documents by id).
//!
//! Trama's additions on `/services`: `lat`, `lon`, `radius_km` (sorted by distance, with
//! `distance_km` in each item), `open_now`, `funder`. Every item also carries `open_now`.

use crate::json::PathId;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde_json::{Value, json};
use std::collections::HashMap;

use trama_core::FieldError;
use trama_core::hsds::{HSDS_VERSION, Page, PageRequest};
use trama_core::ids::{OrganizationId, ServiceAtLocationId, ServiceId, TaxonomyId, TaxonomyTermId};
use trama_core::query::ServiceQuery;
use trama_store::SearchHit;

use crate::error::{ApiError, ApiResult};
use crate::policy::Routes;
use crate::state::AppState;

type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

fn params(p: Params) -> ApiResult<HashMap<String, String>> {
    Ok(p.map_err(ApiError::from)?.0)
}

/// A list's `page` and `per_page`, and its `search` (blank is none).
fn page_and_search(p: &HashMap<String, String>) -> ApiResult<(PageRequest, Option<&str>)> {
    let page = PageRequest::parse(
        p.get("page").map(String::as_str),
        p.get("per_page").map(String::as_str),
    )?;
    let search = p.get("search").map(|s| s.trim()).filter(|s| !s.is_empty());
    Ok((page, search))
}

/// HSDS objects as the JSON they are served as.
fn values<T: serde::Serialize>(items: Vec<T>) -> Vec<Value> {
    items
        .into_iter()
        .map(|x| serde_json::to_value(x).expect("serialisable"))
        .collect()
}

pub fn routes() -> Routes {
    let p = crate::policy::PUBLIC;
    Routes::api()
        .get("/", api_info, p)
        .get("/services", list_services, p)
        .get("/services/{id}", get_service, p)
        .get("/organizations", list_organizations, p)
        .get("/organizations/{id}", get_organization, p)
        .get("/service_at_locations", list_service_at_locations, p)
        .get("/service_at_locations/{id}", get_service_at_location, p)
        .get("/taxonomies", list_taxonomies, p)
        .get("/taxonomies/{id}", get_taxonomy, p)
        .get("/taxonomy_terms", list_taxonomy_terms, p)
        .get("/taxonomy_terms/{id}", get_taxonomy_term, p)
}

/// `GET /hsds/`: which HSDS version this API speaks and where its description is.
#[utoipa::path(get, path = "/hsds/", tag = "hsds", responses((status = 200, description = "API information")))]
pub async fn api_info(State(state): State<AppState>) -> Json<Value> {
    let base = state
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", state.config.listen));
    Json(json!({
        "version": HSDS_VERSION,
        "profile": "https://docs.openreferral.org/en/3.0/",
        "openapi_url": format!("{base}/api/openapi.json"),
    }))
}

/// A search hit as an HSDS list item, with Trama's additions.
pub fn hit_json(h: &SearchHit) -> Value {
    let mut v = serde_json::to_value(&h.service).expect("serialisable");
    if let Value::Object(m) = &mut v {
        if let Some(d) = h.distance_km {
            m.insert("distance_km".into(), json!((d * 1000.0).round() / 1000.0));
        }
        m.insert("open_now".into(), json!(h.open_now));
    }
    v
}

/// A boolean flag of the HSDS OpenAPI: `true` or `false` (any case), nothing else. An empty
/// value (`?full=`) or a word like `yes` is a 400: the description types them as booleans.
fn get_bool(p: &HashMap<String, String>, k: &str) -> ApiResult<bool> {
    match p.get(k).map(|v| v.to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(_) => Err(ApiError::InvalidParameter(FieldError::new(
            k,
            format!("'{}' is not true or false", p[k]),
        ))),
    }
}

/// Checks boolean flags of the HSDS OpenAPI that an endpoint accepts (even those it does not
/// act on): a value that is not a boolean is a 400, as the description promises.
fn check_flags(p: &HashMap<String, String>, names: &[&str]) -> ApiResult<()> {
    for n in names {
        get_bool(p, n)?;
    }
    Ok(())
}

/// `GET /hsds/services`: the directory search.
#[utoipa::path(get, path = "/hsds/services", tag = "hsds",
    params(
        ("search" = Option<String>, Query, description = "Full text, Italian and English"),
        ("taxonomy_term_id" = Option<String>, Query, description = "A category; its sub-categories are included"),
        ("taxonomy_id" = Option<String>, Query),
        ("organization_id" = Option<String>, Query),
        ("modified_after" = Option<String>, Query, description = "RFC 3339 date-time or date"),
        ("lat" = Option<f64>, Query), ("lon" = Option<f64>, Query),
        ("radius_km" = Option<f64>, Query, description = "Default 10, at most 100"),
        ("open_now" = Option<bool>, Query), ("funder" = Option<String>, Query),
        ("full" = Option<bool>, Query, description = "Fully nested services"),
        ("minimal" = Option<bool>, Query, description = "Only id and last_modified of each service"),
        ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query, description = "1 to 500, default 20"),
    ),
    responses((status = 200, description = "A page of services"), (status = 400, body = crate::error::ErrorEnvelope)))]
pub async fn list_services(
    State(state): State<AppState>,
    p: Params,
) -> ApiResult<Json<Page<Value>>> {
    let p = params(p)?;
    check_flags(&p, &["open_now"])?;
    let q = ServiceQuery::parse(|k| p.get(k).map(String::as_str))?;
    let full = get_bool(&p, "full")?;
    let minimal = get_bool(&p, "minimal")?;
    let result = super::service::search(&state, &q).await?;
    if minimal {
        // HSDS `minimal`: the description asks for each service's id and modification time;
        // the response schema also requires name and status, so those come too.
        let items = result
            .hits
            .iter()
            .map(|h| json!({"id": h.service.id, "name": h.service.name, "status": h.service.status, "last_modified": h.service.last_modified}))
            .collect();
        return Ok(Json(Page::new(items, result.total, q.page)));
    }
    let mut items = Vec::with_capacity(result.hits.len());
    for h in &result.hits {
        let mut v = hit_json(h);
        if full
            && let Some(d) = super::service::get_service(&state, ServiceId(h.service.id)).await?
        {
            let extra = v.as_object().cloned().unwrap_or_default();
            v = serde_json::to_value(&d.service).expect("serialisable");
            if let (Value::Object(m), Some(d)) = (&mut v, extra.get("distance_km")) {
                m.insert("distance_km".into(), d.clone());
            }
            if let Value::Object(m) = &mut v {
                m.insert("open_now".into(), json!(h.open_now));
            }
        }
        items.push(v);
    }
    Ok(Json(Page::new(items, result.total, q.page)))
}

/// `GET /hsds/services/{id}`: the fully nested service.
#[utoipa::path(get, path = "/hsds/services/{id}", tag = "hsds", params(("id" = String, Path)),
    responses((status = 200, description = "The service"), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn get_service(
    State(state): State<AppState>,
    PathId(sid): PathId<ServiceId>,
) -> ApiResult<Json<Value>> {
    let d = super::service::get_service(&state, sid)
        .await?
        .ok_or_else(|| ApiError::not_found("service", &sid.to_string()))?;
    let mut v = serde_json::to_value(&d.service).expect("serialisable");
    if let Value::Object(m) = &mut v {
        m.insert(
            "open_now".into(),
            json!(d.weekly_hours.is_open_at(state.now_local())),
        );
    }
    Ok(Json(v))
}

/// `GET /hsds/organizations`.
#[utoipa::path(get, path = "/hsds/organizations", tag = "hsds",
    params(("search" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "A page of organizations")))]
pub async fn list_organizations(
    State(state): State<AppState>,
    p: Params,
) -> ApiResult<Json<Page<Value>>> {
    let p = params(p)?;
    check_flags(&p, &["full", "full_service"])?;
    let (page, search) = page_and_search(&p)?;
    let (total, items) = super::service::list_organizations(&state, search, page).await?;
    Ok(Json(Page::new(values(items), total, page)))
}

/// `GET /hsds/organizations/{id}`: with its locations and services.
#[utoipa::path(get, path = "/hsds/organizations/{id}", tag = "hsds", params(("id" = String, Path)),
    responses((status = 200, description = "The organization"), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn get_organization(
    State(state): State<AppState>,
    PathId(oid): PathId<OrganizationId>,
    p: Params,
) -> ApiResult<Json<Value>> {
    check_flags(&params(p)?, &["full_service"])?;
    let (o, _) = super::service::get_organization(&state, oid)
        .await?
        .ok_or_else(|| ApiError::not_found("organization", &oid.to_string()))?;
    Ok(Json(serde_json::to_value(o).expect("serialisable")))
}

/// `GET /hsds/service_at_locations`.
#[utoipa::path(get, path = "/hsds/service_at_locations", tag = "hsds",
    params(("search" = Option<String>, Query), ("taxonomy_term_id" = Option<String>, Query),
        ("taxonomy_id" = Option<String>, Query), ("organization_id" = Option<String>, Query),
        ("modified_after" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "A page of services at locations")))]
pub async fn list_service_at_locations(
    State(state): State<AppState>,
    p: Params,
) -> ApiResult<Json<Page<Value>>> {
    let p = params(p)?;
    check_flags(&p, &["full", "open_now"])?;
    let q = ServiceQuery::parse(|k| p.get(k).map(String::as_str))?;
    if q.near.is_some() || q.open_now || q.funder.is_some() {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "lat",
            "distance, open_now and funder filters are offered on /hsds/services",
        )));
    }
    let (total, items) = super::service::list_service_at_locations(&state, &q).await?;
    Ok(Json(Page::new(values(items), total, q.page)))
}

/// `GET /hsds/service_at_locations/{id}`.
#[utoipa::path(get, path = "/hsds/service_at_locations/{id}", tag = "hsds", params(("id" = String, Path)),
    responses((status = 200, description = "The service at location"), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn get_service_at_location(
    State(state): State<AppState>,
    PathId(sid): PathId<ServiceAtLocationId>,
) -> ApiResult<Json<Value>> {
    let s = super::service::get_service_at_location(&state, sid)
        .await?
        .ok_or_else(|| ApiError::not_found("service_at_location", &sid.to_string()))?;
    Ok(Json(serde_json::to_value(s).expect("serialisable")))
}

/// `GET /hsds/taxonomies`.
#[utoipa::path(get, path = "/hsds/taxonomies", tag = "hsds",
    params(("search" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "A page of taxonomies")))]
pub async fn list_taxonomies(
    State(state): State<AppState>,
    p: Params,
) -> ApiResult<Json<Page<Value>>> {
    let p = params(p)?;
    let (page, search) = page_and_search(&p)?;
    let (total, items) = super::service::list_taxonomies(&state, search, page).await?;
    Ok(Json(Page::new(values(items), total, page)))
}

/// `GET /hsds/taxonomies/{id}`.
#[utoipa::path(get, path = "/hsds/taxonomies/{id}", tag = "hsds", params(("id" = String, Path)),
    responses((status = 200, description = "The taxonomy"), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn get_taxonomy(
    State(state): State<AppState>,
    PathId(tid): PathId<TaxonomyId>,
) -> ApiResult<Json<Value>> {
    let t = super::service::get_taxonomy(&state, tid)
        .await?
        .ok_or_else(|| ApiError::not_found("taxonomy", &tid.to_string()))?;
    Ok(Json(serde_json::to_value(t).expect("serialisable")))
}

/// `GET /hsds/taxonomy_terms`.
#[utoipa::path(get, path = "/hsds/taxonomy_terms", tag = "hsds",
    params(("search" = Option<String>, Query), ("taxonomy_id" = Option<String>, Query), ("parent_id" = Option<String>, Query),
        ("top_only" = Option<bool>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "A page of taxonomy terms")))]
pub async fn list_taxonomy_terms(
    State(state): State<AppState>,
    p: Params,
) -> ApiResult<Json<Page<Value>>> {
    let p = params(p)?;
    let page = PageRequest::parse(
        p.get("page").map(String::as_str),
        p.get("per_page").map(String::as_str),
    )?;
    let nonempty = |k: &str| p.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let taxonomy = nonempty("taxonomy_id")
        .map(|s| TaxonomyId::parse("taxonomy_id", s))
        .transpose()?;
    let parent = nonempty("parent_id")
        .map(|s| TaxonomyTermId::parse("parent_id", s))
        .transpose()?;
    let top_only = get_bool(&p, "top_only")?;
    let (total, items) =
        super::service::list_terms(&state, taxonomy, parent, top_only, nonempty("search"), page)
            .await?;
    let items = items
        .into_iter()
        .map(|t| serde_json::to_value(t.term).expect("serialisable"))
        .collect();
    Ok(Json(Page::new(items, total, page)))
}

/// `GET /hsds/taxonomy_terms/{id}`.
#[utoipa::path(get, path = "/hsds/taxonomy_terms/{id}", tag = "hsds", params(("id" = String, Path)),
    responses((status = 200, description = "The taxonomy term"), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn get_taxonomy_term(
    State(state): State<AppState>,
    PathId(tid): PathId<TaxonomyTermId>,
) -> ApiResult<Json<Value>> {
    let t = super::service::get_term(&state, tid)
        .await?
        .ok_or_else(|| ApiError::not_found("taxonomy_term", &tid.to_string()))?;
    Ok(Json(serde_json::to_value(t.term).expect("serialisable")))
}
