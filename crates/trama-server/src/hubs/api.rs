//! Community hubs, rooms and shared services over JSON (`/api/hubs`, `/api/rooms`,
//! `/api/shared-services`).

use super::service::{HubRequest, RoomRequest, add_room, put_hub};
use crate::error::{ApiResult, ErrorEnvelope};
use crate::hubs::service::HubView;
use crate::hubs::service::RoomView;
use crate::hubs::service::SharedGroupView;
use crate::hubs::service::SlotView;
use crate::hubs::service::book_room;
use crate::hubs::service::hub_view;
use crate::hubs::service::room_slots;
use crate::hubs::service::shared_services;
use crate::json::Body;
use crate::json::PathId;
use crate::json::invalid;
use crate::policy::Admitted;
use crate::policy::Writer;
use crate::policy::{Policy, Routes, Scope, Who};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use trama_core::hubs::RoomBookingForm;
use trama_core::ids::RoomId;

pub fn routes() -> Routes {
    use crate::policy::{self, OPERATORS, PUBLIC, TERRITORY_ADMIN};
    let signed_in = |scope, note| Policy::new(Who::SignedIn, scope, note);
    let _own = signed_in(Scope::Own, "one's own");
    let operators = |note| Policy::new(Who::Roles(OPERATORS), Scope::Organisation, note);
    let _territory = |note| Policy::new(Who::Roles(TERRITORY_ADMIN), Scope::Territory, note);
    Routes::api()
        .get("/hubs", list_hubs_api, PUBLIC)
        .put(
            "/hubs/{id}",
            put_hub_api,
            Policy::new(
                Who::Roles(policy::HUB_MANAGERS),
                Scope::Organisation,
                "the hub managers and admins of its organisation; the territory admin",
            ),
        )
        .post(
            "/hubs/{id}/rooms",
            add_room_api,
            Policy::new(
                Who::Roles(policy::HUB_MANAGERS),
                Scope::Organisation,
                "the hub managers and admins of its organisation; the territory admin",
            ),
        )
        .get("/rooms/{id}/slots", room_slots_api, PUBLIC)
        .post(
            "/rooms/{id}/bookings",
            book_room_api,
            signed_in(Scope::Own, "anyone signed in, for themself"),
        )
        .get(
            "/shared-services",
            shared_services_api,
            operators("the open needs one's organisations follow"),
        )
}

/// Community hubs (public: they are public places).
#[utoipa::path(get, path = "/api/hubs", tag = "hubs", responses((status = 200, body = serde_json::Value)))]
pub async fn list_hubs_api(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
) -> ApiResult<Json<Vec<HubView>>> {
    Ok(Json(
        super::service::hubs(&state, None)
            .await?
            .iter()
            .map(hub_view)
            .collect(),
    ))
}

/// A hub manager sets what a place of their organisation offers as a hub (it becomes a hub).
#[utoipa::path(put, path = "/api/hubs/{id}", tag = "hubs", params(("id" = String, Path)), request_body = serde_json::Value, responses((status = 200, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn put_hub_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(loc): PathId<trama_core::ids::LocationId>,
    Body(r): Body<HubRequest>,
) -> ApiResult<Json<HubView>> {
    Ok(Json(put_hub(&state, p, loc, &r).await?))
}

#[utoipa::path(post, path = "/api/hubs/{id}/rooms", tag = "hubs", params(("id" = String, Path)), request_body = serde_json::Value, responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn add_room_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(loc): PathId<trama_core::ids::LocationId>,
    Body(r): Body<RoomRequest>,
) -> ApiResult<(StatusCode, Json<RoomView>)> {
    Ok((
        StatusCode::CREATED,
        Json(add_room(&state, p, loc, &r).await?),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateQuery {
    /// YYYY-MM-DD
    pub date: String,
}

/// The slots of a room on a day, within the hub's opening hours, and which are free.
#[utoipa::path(get, path = "/api/rooms/{id}/slots", tag = "hubs", params(("id" = String, Path), ("date" = String, Query)), responses((status = 200, body = serde_json::Value), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn room_slots_api(
    State(state): State<AppState>,
    PathId(room): PathId<RoomId>,
    Query(q): Query<DateQuery>,
) -> ApiResult<Json<Vec<SlotView>>> {
    Ok(Json(room_slots(&state, room, &q.date).await?.2))
}

/// Books one slot of a room (signed in). A slot taken meanwhile is 409.
#[utoipa::path(post, path = "/api/rooms/{id}/bookings", tag = "hubs", params(("id" = String, Path)), request_body = serde_json::Value, responses((status = 201, body = serde_json::Value), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn book_room_api(
    State(state): State<AppState>,
    Writer(ref p): Writer,
    PathId(room): PathId<RoomId>,
    Body(form): Body<RoomBookingForm>,
) -> ApiResult<(StatusCode, Json<SlotView>)> {
    let r = form.parse().map_err(invalid)?;
    Ok((
        StatusCode::CREATED,
        Json(book_room(&state, p, room, &r).await?),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedQuery {
    /// The hourly rate of the shared visit, in euro (default 22.00).
    pub hourly_rate: Option<f64>,
    /// Extra per member after the first, percent (default 25).
    pub extra_percent: Option<u32>,
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
