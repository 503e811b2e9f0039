//! The hubs' map and rooms in the browser (`/hub`).

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::help::pages::windows_text;
use crate::help::words::{Words, words};
use crate::policy::Routes;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::form::field;
use crate::web::form::query_pairs;
use crate::web::form::{Page, SignedForm};
use crate::web::form::{PageError, PageResult};
use crate::web::i18n::Lang;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use trama_core::hubs::RoomBookingForm;
use trama_core::matching::instance::WindowSpec;

/// The pages of this feature, each with its policy (docs/SECURITY.md).
pub fn routes() -> Routes {
    use crate::web::policies as may;
    Routes::pages()
        .get("/hub", hubs, may::anyone())
        .get("/hub/sale/{id}", room, may::anyone())
        .post("/hub/sale/{id}/prenota", room_book, may::own())
}

#[derive(Template)]
#[template(path = "hubs.html")]
pub(crate) struct HubsPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    /// The search: words, and a function (key) with the choices (key, label).
    words: String,
    function: String,
    function_choices: Vec<(&'static str, &'static str)>,
    hubs: Vec<HubLine>,
    /// Hubs are public places: their points are drawn (x, y, name).
    dots: Vec<(f64, f64, String)>,
}

/// Where a point falls on the 600 × 400 drawing of the city.
pub(crate) fn to_svg(lat: f64, lon: f64) -> Option<(f64, f64)> {
    let (min_lat, max_lat, min_lon, max_lon) = (45.38, 45.54, 9.04, 9.28);
    if !(min_lat..=max_lat).contains(&lat) || !(min_lon..=max_lon).contains(&lon) {
        return None;
    }
    Some((
        (lon - min_lon) / (max_lon - min_lon) * 600.0,
        (max_lat - lat) / (max_lat - min_lat) * 400.0,
    ))
}

pub struct HubLine {
    pub name: String,
    pub organization: String,
    pub address: String,
    pub functions: String,
    pub opening: String,
    pub help_desk: String,
    /// (room id, "name (capacity)").
    pub rooms: Vec<(String, String)>,
}

pub async fn hubs(State(state): State<AppState>, page: Page) -> PageResult {
    let Page { l, uri, .. } = page;
    let w = words(l.lang);
    // The search: words in the name, address or organisation, and a function.
    let p = query_pairs(&uri);
    let asked = p.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let function = p
        .get("funzione")
        .filter(|f| {
            trama_core::hubs::HUB_FUNCTIONS
                .iter()
                .any(|x| x.0 == f.as_str())
        })
        .cloned()
        .unwrap_or_default();
    let needle = trama_core::text::fold_accents(&asked.to_lowercase());
    let rows: Vec<_> = super::service::hubs(&state, None)
        .await?
        .into_iter()
        .filter(|h| function.is_empty() || h.functions.contains(&function))
        .filter(|h| {
            needle.is_empty()
                || [
                    h.name.as_str(),
                    h.organization_name.as_str(),
                    h.address.as_deref().unwrap_or(""),
                ]
                .iter()
                .any(|t| trama_core::text::fold_accents(&t.to_lowercase()).contains(&needle))
        })
        .collect();
    let dots = rows
        .iter()
        .filter_map(|h| {
            let p = h.point?;
            let (x, y) = to_svg(p.lat(), p.lon())?;
            Some((x, y, h.name.clone()))
        })
        .collect();
    let hubs = rows
        .iter()
        .map(|h| {
            let fns: Vec<String> = h
                .functions
                .iter()
                .map(|f| {
                    trama_core::hubs::HUB_FUNCTIONS
                        .iter()
                        .find(|x| x.0 == f)
                        .map(|x| if l.lang == Lang::En { x.2 } else { x.1 })
                        .unwrap_or(f)
                        .to_string()
                })
                .collect();
            HubLine {
                name: h.name.clone(),
                organization: h.organization_name.clone(),
                address: h.address.clone().unwrap_or_default(),
                functions: fns.join(", "),
                opening: windows_text(
                    w,
                    &h.opening_hours
                        .iter()
                        .take(2)
                        .map(WindowSpec::of)
                        .collect::<Vec<_>>(),
                ),
                help_desk: h.help_desk.clone(),
                rooms: h
                    .rooms
                    .iter()
                    .map(|r| (r.id.to_string(), format!("{} ({})", r.name, r.capacity)))
                    .collect(),
            }
        })
        .collect();
    Ok(l.render(
        StatusCode::OK,
        &HubsPage {
            l: &l,
            w,
            words: asked,
            function,
            function_choices: trama_core::hubs::HUB_FUNCTIONS
                .iter()
                .map(|x| (x.0, if l.lang == Lang::En { x.2 } else { x.1 }))
                .collect(),
            hubs,
            dots,
        },
    ))
}

#[derive(Template)]
#[template(path = "room.html")]
pub(crate) struct RoomPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    id: String,
    name: String,
    capacity: u32,
    hub_name: String,
    date: String,
    /// (time in words, start to send, free).
    /// Each slot: its hours, its start, bookable, begun already.
    slots: Vec<(String, String, bool, bool)>,
    signed_in: bool,
    /// (css class, message).
    notice: Option<(&'static str, String)>,
}

pub(crate) async fn room_render(
    state: &AppState,
    l: &Layout,
    viewer: &Viewer,
    id: &str,
    date: &str,
    status: StatusCode,
    notice: Option<(&'static str, String)>,
) -> Result<Response, ApiError> {
    let rid = trama_core::ids::RoomId::parse("id", id)?;
    let (room, hub, slots) = crate::hubs::service::room_slots(state, rid, date).await?;
    let page = RoomPage {
        l,
        w: words(l.lang),
        id: room.id.to_string(),
        name: room.name,
        capacity: room.capacity,
        hub_name: hub.name,
        date: date.to_string(),
        slots: slots
            .into_iter()
            .map(|s| {
                let hours = |t: &str| {
                    t.split_once('T')
                        .map(|x| x.1.to_string())
                        .unwrap_or_default()
                };
                (
                    format!("{}–{}", hours(&s.start), hours(&s.end)),
                    s.start,
                    s.free,
                    s.past,
                )
            })
            .collect(),
        signed_in: viewer.principal.is_some(),
        notice,
    };
    Ok(l.render(status, &page))
}

/// A room's slots on a day (today unless `data` says otherwise), with a booking form for each
/// free one.
pub async fn room(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> PageResult {
    let Page { l, viewer, uri, .. } = page;
    let q = query_pairs(&uri);
    let date = q
        .get("data")
        .filter(|d| !d.is_empty())
        .cloned()
        .unwrap_or_else(|| trama_core::moment::format_date(state.now_local().date()));
    let notice = q
        .contains_key("prenotato")
        .then(|| ("notice", words(l.lang).booked.to_string()));
    room_render(&state, &l, &viewer, &id, &date, StatusCode::OK, notice)
        .await
        .map_err(PageError::from)
}

pub async fn room_book(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let Page { l, viewer, .. } = page;
    let p = &p;
    let asked = RoomBookingForm {
        start: field(&form, "start").to_string(),
        purpose: field(&form, "purpose").to_string(),
    };
    let date = asked
        .start
        .split('T')
        .next()
        .unwrap_or_default()
        .to_string();
    let booked = match (asked.parse(), trama_core::ids::RoomId::parse("id", &id)) {
        (Ok(request), Ok(rid)) => crate::hubs::service::book_room(&state, p, rid, &request)
            .await
            .map_err(ApiError::from),
        (Err(e), _) => Err(ApiError::InvalidBody(e)),
        (_, Err(e)) => Err(ApiError::InvalidParameter(e)),
    };
    Ok(match booked {
        Ok(_) => Redirect::to(&format!("/hub/sale/{id}?data={date}&prenotato=1")).into_response(),
        // What the person can put right is said on the same page, with its status.
        Err(e @ (ApiError::Conflict(_) | ApiError::InvalidBody(_))) => {
            let status = e.status();
            room_render(
                &state,
                &l,
                &viewer,
                &id,
                &date,
                status,
                Some(("error", e.to_string())),
            )
            .await?
        }
        Err(e) => return Err(PageError::from(e)),
    })
}
