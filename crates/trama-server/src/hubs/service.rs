//! Community hubs: their rooms, room slots and bookings, and services shared by open needs.

use crate::help::service::NeedView;
use crate::help::service::Points;
use crate::help::service::compile;
use crate::help::service::need_view;
use crate::help::service::{audit, audit_full_read};
use crate::service_error::invalid;
use crate::service_error::store_calls;
use crate::service_error::{ServiceError, ServiceResult};
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use trama_core::FieldError;
use trama_core::auth::Principal;
use trama_core::hubs::NewRoomBooking;
use trama_core::ids::OrganizationId;
use trama_core::matching::instance::{Vocabulary, WindowSpec};
use trama_core::matching::lifecycle::NeedState;
use trama_core::moment::format_local_minute;
use trama_core::needs::NeedAccess;
use trama_store::{NeedFilter, NeedRow};
use uuid::Uuid;

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

pub(crate) async fn hub_location_org(
    state: &AppState,
    id: trama_core::ids::LocationId,
) -> ServiceResult<OrganizationId> {
    let org = state
        .store
        .location_organization(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("location", &id.to_string()))?;
    org.ok_or_else(|| {
        ServiceError::Conflict(FieldError::new(
            "id",
            "a hub's place must belong to an organisation",
        ))
    })
}

#[derive(Debug, Serialize)]
pub struct SlotView {
    /// Local time of the territory.
    pub start: String,
    pub end: String,
    /// Bookable: not taken and not begun yet.
    pub free: bool,
    /// Begun or over already (a slot of today earlier than now, or of a past day).
    pub past: bool,
}

pub(crate) async fn room_and_hub(
    state: &AppState,
    rid: trama_core::ids::RoomId,
) -> ServiceResult<(trama_store::RoomRow, trama_store::HubRow)> {
    let room = state
        .store
        .room(rid)
        .await?
        .ok_or_else(|| ServiceError::not_found("room", &rid.to_string()))?;
    let hub = state
        .store
        .hub(room.location)
        .await?
        .ok_or(ServiceError::Internal)?;
    Ok((room, hub))
}

/// A room, its hub and its slots on a day (`YYYY-MM-DD`, local time), each free or taken.
pub async fn room_slots(
    state: &AppState,
    id: trama_core::ids::RoomId,
    date: &str,
) -> ServiceResult<(trama_store::RoomRow, trama_store::HubRow, Vec<SlotView>)> {
    let (room, hub) = room_and_hub(state, id).await?;
    let day =
        trama_core::moment::parse_date("date", date).map_err(ServiceError::InvalidParameter)?;
    let slots = trama_core::hubs::slots_on(&hub.opening_hours, room.slot_minutes, day);
    let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
        return Ok((room, hub, vec![]));
    };
    let booked = state
        .store
        .bookings(
            room.id,
            state.time_zone.to_utc(first.start),
            state.time_zone.to_utc(last.end),
        )
        .await?;
    let now = state.now();
    let views = slots
        .iter()
        .map(|s| {
            let start = state.time_zone.to_utc(s.start);
            let past = start <= now;
            SlotView {
                start: format_local_minute(s.start),
                end: format_local_minute(s.end),
                free: !past && !booked.iter().any(|b| b.start == start),
                past,
            }
        })
        .collect();
    Ok((room, hub, views))
}

/// Books one slot of a room for `p`. A slot taken meanwhile is a conflict.
pub async fn book_room(
    state: &AppState,
    p: &Principal,
    id: trama_core::ids::RoomId,
    r: &NewRoomBooking,
) -> ServiceResult<SlotView> {
    let (room, hub) = room_and_hub(state, id).await?;
    let slot = trama_core::hubs::slot_at(&hub.opening_hours, room.slot_minutes, r.start)
        .ok_or_else(|| {
            invalid(FieldError::new(
                "start",
                "is not the start of a slot within the hub's opening hours",
            ))
        })?;
    if state.time_zone.to_utc(slot.start) < state.now() {
        return Err(invalid(FieldError::new("start", "is in the past")));
    }
    let purpose = r.purpose.as_str();
    state
        .store
        .book_slot(
            room.id,
            state.time_zone.to_utc(slot.start),
            state.time_zone.to_utc(slot.end),
            p.user_id,
            purpose,
        )
        .await?;
    audit(
        state,
        p,
        "room.book",
        "room",
        &id.to_string(),
        None,
        Some(format_local_minute(r.start)),
    )
    .await?;
    Ok(SlotView {
        start: format_local_minute(slot.start),
        end: format_local_minute(slot.end),
        free: false,
        past: false,
    })
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

/// The shared services the operator's open needs allow (see [`shared_services_api`]).
pub async fn shared_services(
    state: &AppState,
    p: &Principal,
    hourly_rate: Option<f64>,
    extra_percent: Option<u32>,
) -> ServiceResult<Vec<SharedGroupView>> {
    use trama_core::matching::shared::{SharingRules, propose_groups, shared_cost, split_cost};
    let orgs = p.operator_organizations();
    if orgs.is_empty() {
        return Err(ServiceError::Forbidden(
            "shared services are proposed to operators".into(),
        ));
    }
    let (rate, extra) = trama_core::matching::shared::pricing(hourly_rate, extra_percent)
        .map_err(ServiceError::InvalidParameter)?;
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
    let c = compile(&mut vocab, &pairs, &[], state.now(), Points::Exact)?;
    let groups = propose_groups(&c.problem.needs, SharingRules::default());
    // What each member's visit would cost alone: what sharing is measured against, and the
    // weight of each share (a short need beside long ones pays less than an equal share).
    let alone = |m: u32| shared_cost(rate, rows[m as usize].duration_minutes, 1, 0).0;
    // A proposal is worth making only when the shared visit costs less than separate ones
    // (a long need with a short one does not share well).
    let worth: Vec<_> = groups
        .iter()
        .filter_map(|g| {
            let total = shared_cost(rate, g.duration_min, g.members.len(), extra);
            let separate: i64 = g.members.iter().map(|&m| alone(m)).sum();
            (total.0 < separate).then_some((g, total, separate))
        })
        .collect();
    // Every need shown is a full read of someone else's need: audited under that person, as
    // the desk's reads are (only the needs of the proposals made).
    let mut shown: Vec<u32> = worth
        .iter()
        .flat_map(|(g, _, _)| g.members.iter().copied())
        .collect();
    shown.sort_unstable();
    shown.dedup();
    for m in shown {
        audit_full_read(state, Some(p), &rows[m as usize], NeedAccess::Full).await?;
    }
    Ok(worth
        .into_iter()
        .map(|(g, total, separate)| {
            let weights: Vec<u32> = g
                .members
                .iter()
                .map(|&m| u32::try_from(alone(m)).unwrap_or(u32::MAX))
                .collect();
            let shares = split_cost(total, &weights);
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

/// What a hub manager says of a hub.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubRequest {
    /// cultural_centre, library, bar, coworking, parish, social_centre
    pub functions: Vec<String>,
    pub capacity: u32,
    pub opening_hours: Vec<WindowSpec>,
    pub help_desk: String,
}

/// A room a hub manager adds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomRequest {
    pub name: String,
    pub capacity: u32,
    /// Bookings are made in slots of this many minutes (15–480).
    pub slot_minutes: u16,
}

/// A hub manager sets what a place of their organisation offers as a hub (it becomes one).
pub async fn put_hub(
    state: &AppState,
    p: &Principal,
    loc: trama_core::ids::LocationId,
    r: &HubRequest,
) -> ServiceResult<HubView> {
    put_hub_form(
        state,
        p,
        loc,
        &trama_core::hubs::HubForm {
            functions: r.functions.clone(),
            capacity: r.capacity.to_string(),
            opening_hours: r.opening_hours.clone(),
            help_desk: r.help_desk.clone(),
        },
    )
    .await
}

/// A hub manager sets what a place of their organisation offers as a hub, from the form
/// (core's `HubForm`). Audited.
pub async fn put_hub_form(
    state: &AppState,
    p: &Principal,
    loc: trama_core::ids::LocationId,
    form: &trama_core::hubs::HubForm,
) -> ServiceResult<HubView> {
    let org = hub_location_org(state, loc).await?;
    if !p.can_manage_hubs_of(org) {
        return Err(ServiceError::Forbidden(
            "only the hub managers of this organisation manage its hubs".into(),
        ));
    }
    let h = form.parse().map_err(invalid)?;
    state
        .store
        .put_hub(&trama_store::HubRecord {
            location: loc,
            functions: h.functions,
            capacity: h.capacity,
            opening_hours: h.opening_hours,
            help_desk: h.help_desk,
        })
        .await?;
    audit(
        state,
        p,
        "hub.put",
        "location",
        &loc.to_string(),
        None,
        None,
    )
    .await?;
    let h = hub(state, loc).await?.ok_or(ServiceError::Internal)?;
    Ok(hub_view(&h))
}

/// A hub manager adds a room, booked in slots of `slot_minutes`.
pub async fn add_room(
    state: &AppState,
    p: &Principal,
    loc: trama_core::ids::LocationId,
    r: &RoomRequest,
) -> ServiceResult<RoomView> {
    add_room_form(
        state,
        p,
        loc,
        &trama_core::hubs::RoomForm {
            name: r.name.clone(),
            capacity: r.capacity.to_string(),
            slot_minutes: r.slot_minutes.to_string(),
        },
    )
    .await
}

/// A hub manager adds a room from the form (core's `RoomForm`).
pub async fn add_room_form(
    state: &AppState,
    p: &Principal,
    loc: trama_core::ids::LocationId,
    form: &trama_core::hubs::RoomForm,
) -> ServiceResult<RoomView> {
    let h = hub(state, loc)
        .await?
        .ok_or_else(|| ServiceError::not_found("hub", &loc.to_string()))?;
    if !p.can_manage_hubs_of(h.organization) {
        return Err(ServiceError::Forbidden(
            "only the hub managers of this organisation manage its rooms".into(),
        ));
    }
    let r = form.parse().map_err(invalid)?;
    r.fits(h.capacity).map_err(invalid)?;
    let rid = state
        .store
        .add_room(loc, r.name.as_str(), r.capacity, r.slot_minutes)
        .await?;
    Ok(RoomView {
        id: rid.as_uuid(),
        name: r.name.into_string(),
        capacity: r.capacity,
        slot_minutes: r.slot_minutes,
    })
}

store_calls! {
    /// The hubs, optionally of one organisation (public).
    pub fn hubs(organization: Option<trama_core::ids::OrganizationId>) -> Vec<trama_store::HubRow>;
    pub fn hub(location: trama_core::ids::LocationId) -> Option<trama_store::HubRow>;
}
