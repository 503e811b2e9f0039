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
        .get("/hub/{id}/gestione", manage, may::org())
        .post("/hub/{id}/gestione", manage_submit, may::org())
        .post("/hub/{id}/sale", room_submit, may::org())
}

#[derive(Template)]
#[template(path = "hubs.html")]
pub(crate) struct HubsPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    /// "Run this hub", for the hubs the reader runs.
    manage_link: &'static str,
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
    /// The hub's place, for its manager's page.
    pub id: String,
    /// Whether the reader runs it (a link to its manager's page).
    pub manage: bool,
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
    let Page { l, uri, viewer, .. } = page;
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
                id: h.location.to_string(),
                manage: viewer
                    .principal
                    .as_ref()
                    .is_some_and(|p| p.can_manage_hubs_of(h.organization)),
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
            manage_link: manage_words(l.lang).manage_link,
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

/// The words of the hub manager's page.
pub(crate) struct ManageWords {
    heading: &'static str,
    what: &'static str,
    functions: &'static str,
    capacity: &'static str,
    hours: &'static str,
    hours_hint: &'static str,
    day: &'static str,
    from: &'static str,
    to: &'static str,
    help_desk: &'static str,
    save: &'static str,
    rooms: &'static str,
    no_rooms: &'static str,
    room_name: &'static str,
    room_capacity: &'static str,
    slot: &'static str,
    add_room: &'static str,
    saved: &'static str,
    room_added: &'static str,
    manage_link: &'static str,
}

pub(crate) fn manage_words(lang: Lang) -> ManageWords {
    if lang == Lang::En {
        ManageWords {
            heading: "Run the hub",
            what: "What the hub offers",
            functions: "What kind of place it is",
            capacity: "How many people it holds",
            hours: "Opening hours",
            hours_hint: "One row per opening; a day may have two (morning and afternoon). Rows left blank are ignored.",
            day: "Day",
            from: "from",
            to: "to",
            help_desk: "The help desk: when and what it helps with",
            save: "Save",
            rooms: "Rooms that can be booked",
            no_rooms: "No room yet.",
            room_name: "Room name",
            room_capacity: "Seats",
            slot: "Booked in slots of (minutes, 15 to 480)",
            add_room: "Add the room",
            saved: "Saved.",
            room_added: "Room added.",
            manage_link: "Run this hub",
        }
    } else {
        ManageWords {
            heading: "Gestisci l'hub",
            what: "Che cosa offre l'hub",
            functions: "Che luogo è",
            capacity: "Quante persone può accogliere",
            hours: "Orari di apertura",
            hours_hint: "Una riga per apertura; un giorno può averne due (mattina e pomeriggio). Le righe vuote non contano.",
            day: "Giorno",
            from: "dalle",
            to: "alle",
            help_desk: "Lo sportello: quando e per che cosa aiuta",
            save: "Salva",
            rooms: "Sale prenotabili",
            no_rooms: "Nessuna sala ancora.",
            room_name: "Nome della sala",
            room_capacity: "Posti",
            slot: "Si prenota a turni di (minuti, da 15 a 480)",
            add_room: "Aggiungi la sala",
            saved: "Salvato.",
            room_added: "Sala aggiunta.",
            manage_link: "Gestisci questo hub",
        }
    }
}

#[derive(Template)]
#[template(path = "hub_manage.html")]
pub(crate) struct ManagePage<'a> {
    l: &'a Layout,
    w: ManageWords,
    id: String,
    name: String,
    organization: String,
    address: String,
    notice: Option<&'static str>,
    error: Option<String>,
    functions: Vec<crate::web::form::Opt>,
    capacity: String,
    /// (day code, from, to), with blank rows to add more.
    hours: Vec<(String, String, String)>,
    days: Vec<(&'static str, &'static str)>,
    help_desk: String,
    rooms: Vec<(String, String)>,
    room_name: String,
    room_capacity: String,
    room_slot: String,
}

/// What the hub form was given.
struct HubTyped {
    functions: Vec<String>,
    capacity: String,
    /// (day code, from, to).
    hours: Vec<(String, String, String)>,
    help_desk: String,
}

/// What the two forms were given, kept when the page is shown again.
#[derive(Default)]
struct ManageTyped {
    hub: Option<HubTyped>,
    room: Option<(String, String, String)>,
}

/// How the page answers: its status, and a notice or an error.
struct Outcome {
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn manage_render(
    state: &AppState,
    l: &Layout,
    p: &trama_core::auth::Principal,
    id: &str,
    outcome: Outcome,
    typed: ManageTyped,
) -> PageResult {
    let Outcome {
        status,
        notice,
        error,
    } = outcome;
    let loc = trama_core::ids::LocationId::parse("id", id)?;
    let h = super::service::hub(state, loc)
        .await?
        .ok_or_else(|| ApiError::not_found("hub", id))?;
    if !p.can_manage_hubs_of(h.organization) {
        return Err(ApiError::Forbidden(
            "only the hub managers of this organisation run this hub".into(),
        )
        .into());
    }
    let HubTyped {
        functions,
        capacity,
        mut hours,
        help_desk,
    } = typed.hub.unwrap_or_else(|| HubTyped {
        functions: h.functions.clone(),
        capacity: h.capacity.to_string(),
        hours: h
            .opening_hours
            .iter()
            .map(|w| {
                let s = WindowSpec::of(w);
                // A time field has no 24:00: the end of the day is its last minute.
                let to = if s.to == "24:00" {
                    "23:59".into()
                } else {
                    s.to
                };
                (s.day, s.from, to)
            })
            .collect(),
        help_desk: h.help_desk.clone(),
    });
    hours.resize(hours.len().max(7) + 3, Default::default());
    let (room_name, room_capacity, room_slot) =
        typed
            .room
            .unwrap_or((String::new(), "20".into(), "60".into()));
    let en = l.lang == Lang::En;
    let page = ManagePage {
        l,
        w: manage_words(l.lang),
        id: id.to_string(),
        name: h.name.clone(),
        organization: h.organization_name.clone(),
        address: h.address.clone().unwrap_or_default(),
        notice,
        error,
        functions: trama_core::hubs::HUB_FUNCTIONS
            .iter()
            .map(|x| crate::web::form::Opt {
                value: x.0.to_string(),
                label: if en { x.2 } else { x.1 }.to_string(),
                selected: functions.iter().any(|f| f == x.0),
            })
            .collect(),
        capacity,
        hours,
        days: [
            ("mon", "lunedì", "Monday"),
            ("tue", "martedì", "Tuesday"),
            ("wed", "mercoledì", "Wednesday"),
            ("thu", "giovedì", "Thursday"),
            ("fri", "venerdì", "Friday"),
            ("sat", "sabato", "Saturday"),
            ("sun", "domenica", "Sunday"),
        ]
        .iter()
        .map(|d| (d.0, if en { d.2 } else { d.1 }))
        .collect(),
        help_desk,
        rooms: h
            .rooms
            .iter()
            .map(|r| (r.id.to_string(), format!("{} ({})", r.name, r.capacity)))
            .collect(),
        room_name,
        room_capacity,
        room_slot,
    };
    Ok(l.render(status, &page))
}

pub async fn manage(
    State(state): State<AppState>,
    signed: crate::web::form::SignedPage,
    Path(id): Path<String>,
) -> PageResult {
    let crate::web::form::SignedPage { l, ref p, uri, .. } = signed;
    let w = manage_words(l.lang);
    let notice = match query_pairs(&uri).get("fatto").map(String::as_str) {
        Some("sala") => Some(w.room_added),
        Some(_) => Some(w.saved),
        None => None,
    };
    manage_render(
        &state,
        &l,
        p,
        &id,
        Outcome {
            status: StatusCode::OK,
            notice,
            error: None,
        },
        ManageTyped::default(),
    )
    .await
}

pub async fn manage_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let Page { l, .. } = page;
    let loc = trama_core::ids::LocationId::parse("id", &id)?;
    let functions = crate::web::form::fields(&form, "functions");
    let hours: Vec<(String, String, String)> = crate::web::form::fields(&form, "day")
        .into_iter()
        .zip(crate::web::form::fields(&form, "from"))
        .zip(crate::web::form::fields(&form, "to"))
        .map(|((d, f), t)| (d, f, t))
        .collect();
    let capacity = field(&form, "capacity").to_string();
    let help_desk = field(&form, "help_desk").to_string();
    // The form's rule for hours (core's): each row closes after it opens; an opening past
    // midnight is two rows, one each day.
    let daytime = hours
        .iter()
        .enumerate()
        .filter(|(_, (d, f, t))| !(d.is_empty() && f.is_empty() && t.is_empty()))
        .try_for_each(|(i, (_, f, t))| {
            trama_core::schedule::daytime_interval(
                (&format!("opening_hours[{i}].from"), f),
                (&format!("opening_hours[{i}].to"), t),
            )
            .map(|_| ())
        });
    let asked = trama_core::hubs::HubForm {
        functions: functions.clone(),
        capacity: capacity.clone(),
        opening_hours: hours
            .iter()
            .filter(|(d, f, t)| !(d.is_empty() && f.is_empty() && t.is_empty()))
            .map(|(d, f, t)| WindowSpec {
                day: d.clone(),
                from: f.clone(),
                to: t.clone(),
            })
            .collect(),
        help_desk: help_desk.clone(),
    };
    let saved = match daytime {
        Err(e) => Err(ApiError::InvalidBody(e)),
        Ok(()) => super::service::put_hub_form(&state, &p, loc, &asked)
            .await
            .map_err(ApiError::from),
    };
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("/hub/{id}/gestione?fatto=1")).into_response()),
        Err(e @ ApiError::InvalidBody(_)) => {
            manage_render(
                &state,
                &l,
                &p,
                &id,
                Outcome {
                    status: e.status(),
                    notice: None,
                    error: Some(crate::web::say::api_error(l.lang, &e)),
                },
                ManageTyped {
                    hub: Some(HubTyped {
                        functions,
                        capacity,
                        hours,
                        help_desk,
                    }),
                    room: None,
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn room_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let Page { l, .. } = page;
    let loc = trama_core::ids::LocationId::parse("id", &id)?;
    let typed = (
        field(&form, "name").to_string(),
        field(&form, "capacity").to_string(),
        field(&form, "slot_minutes").to_string(),
    );
    let asked = trama_core::hubs::RoomForm {
        name: typed.0.clone(),
        capacity: typed.1.clone(),
        slot_minutes: typed.2.clone(),
    };
    match super::service::add_room_form(&state, &p, loc, &asked)
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => Ok(Redirect::to(&format!("/hub/{id}/gestione?fatto=sala")).into_response()),
        Err(e @ ApiError::InvalidBody(_)) => {
            manage_render(
                &state,
                &l,
                &p,
                &id,
                Outcome {
                    status: e.status(),
                    notice: None,
                    error: Some(crate::web::say::api_error(l.lang, &e)),
                },
                ManageTyped {
                    hub: None,
                    room: Some(typed),
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
