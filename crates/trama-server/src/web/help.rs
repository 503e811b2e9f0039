//! The pages of neighbourly help: ask for help, offer it, suggestions, the agenda of matches,
//! the operator's desk at a hub, the map of open needs by area, hubs and campaigns. They call
//! the same service layer as the JSON API (`crate::matching`), so the rules are the same.

use askama::Template;
use axum::extract::{Path, RawForm, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

use trama_core::auth::{Principal, Role};
use trama_core::ids::{CampaignId, MatchId, NeedId, OfferId};
use trama_core::matching::instance::WindowSpec;
use trama_core::needs::{LANGUAGES, NeedAccess, NeedForm, OfferForm, SKILLS};
use trama_core::taxonomy::AIUTI;

use super::i18n::Lang;
use super::pages::{Form, field, login_redirect, parse_form, query_pairs};
use super::{Layout, MessagePage, form_csrf_ok};
use crate::auth::Viewer;
use crate::error::ApiError;
use crate::matching::{self as svc, MatchView, NeedView};
use crate::state::AppState;

/// The signed-in poster of a form and its fields, or the response that refuses it (a login
/// redirect, or 403 when the CSRF check fails).
pub(super) fn signed_form<'v>(
    l: &Layout,
    viewer: &'v Viewer,
    headers: &HeaderMap,
    uri: &Uri,
    raw: &[u8],
) -> Result<(&'v Principal, Form), Box<Response>> {
    let Some(p) = viewer.principal.as_ref() else {
        return Err(Box::new(login_redirect(uri)));
    };
    let form = parse_form(raw);
    if !form_csrf_ok(viewer, headers, &form) {
        return Err(Box::new(message(
            l,
            StatusCode::FORBIDDEN,
            l.t.error_heading,
            l.t.csrf_text,
        )));
    }
    // The same rule as the API's writes: an auditor changes nothing.
    if p.is_auditor_only() {
        return Err(Box::new(message(
            l,
            StatusCode::FORBIDDEN,
            l.t.error_heading,
            l.t.auditor_text,
        )));
    }
    Ok((p, form))
}

/// Every value a form gave for a field that may repeat (checkboxes, multiple selects).
fn fields(f: &Form, k: &str) -> Vec<String> {
    f.iter()
        .filter(|(key, _)| key == k)
        .map(|(_, v)| v.clone())
        .collect()
}

pub(super) fn message(l: &Layout, status: StatusCode, heading: &str, text: &str) -> Response {
    l.render(status, &MessagePage { l, heading, text })
}

/// Errors a page shows in words rather than as JSON.
pub(super) fn error_page(l: &Layout, e: ApiError) -> Response {
    let status = e.status();
    let heading = if l.lang == Lang::En {
        "Something is wrong"
    } else {
        "Qualcosa non va"
    };
    message(l, status, heading, &e.to_string())
}

/// The words of these pages, Italian first.
pub struct Words {
    pub help: &'static str,
    pub intro: &'static str,
    pub ask: &'static str,
    pub offer: &'static str,
    pub my_needs: &'static str,
    pub my_offers: &'static str,
    pub agenda: &'static str,
    pub none: &'static str,
    pub map: &'static str,
    pub desk: &'static str,
    pub hubs: &'static str,
    pub category: &'static str,
    pub description: &'static str,
    pub address: &'static str,
    pub address_hint: &'static str,
    pub area: &'static str,
    pub day: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub weekly: &'static str,
    pub date: &'static str,
    pub duration: &'static str,
    pub urgency: &'static str,
    pub language: &'static str,
    pub people: &'static str,
    pub for_person: &'static str,
    pub myself: &'static str,
    pub send: &'static str,
    pub radius: &'static str,
    pub hours_week: &'static str,
    pub capacity: &'static str,
    pub skills: &'static str,
    pub suggestions: &'static str,
    pub choose: &'static str,
    pub take: &'static str,
    pub score: &'static str,
    pub distance: &'static str,
    pub state: &'static str,
    pub matches: &'static str,
    pub when: &'static str,
    pub privacy_public: &'static str,
    pub privacy_party: &'static str,
    pub register_person: &'static str,
    pub name: &'static str,
    pub consent: &'static str,
    pub phone: &'static str,
    pub people_followed: &'static str,
    pub desk_needs: &'static str,
    pub ask_for: &'static str,
    pub open_needs: &'static str,
    pub urgent: &'static str,
    pub map_note: &'static str,
    pub functions: &'static str,
    pub show_slots: &'static str,
    pub hub_closed: &'static str,
    pub time: &'static str,
    pub free: &'static str,
    pub taken: &'static str,
    pub book: &'static str,
    pub purpose: &'static str,
    pub sign_in_to_book: &'static str,
    pub booked: &'static str,
    pub as_myself: &'static str,
    pub offer_for: &'static str,
    pub hub_words: &'static str,
    pub any_function: &'static str,
    pub hubs_found: &'static str,
    pub opening: &'static str,
    pub help_desk: &'static str,
    pub rooms: &'static str,
    pub campaign: &'static str,
    pub dispatch: &'static str,
    pub covered: &'static str,
    pub uncovered: &'static str,
    pub fulfilled: &'static str,
    pub volunteers: &'static str,
    pub assisted_label: &'static str,
    pub hours_given: &'static str,
    pub notifications: &'static str,
    pub shared: &'static str,
    pub shared_cost: &'static str,
    pub days: [&'static str; 7],
    pub urgencies: [&'static str; 4],
}

pub const IT: Words = Words {
    help: "Aiuto tra vicini",
    intro: "Chiedi una mano o offrila a chi abita vicino a te. L'indirizzo esatto resta privato finché entrambi non avete accettato.",
    ask: "Chiedi aiuto",
    offer: "Offri aiuto",
    my_needs: "Le mie richieste",
    my_offers: "Le mie offerte",
    agenda: "La mia agenda",
    none: "Nessuna.",
    map: "Richieste aperte per zona",
    desk: "Sportello",
    hubs: "Hub di comunità",
    category: "Di che aiuto si tratta",
    description: "Descrizione",
    address: "Indirizzo (privato)",
    address_hint: "Lo vedrà solo chi ti aiuta, dopo che avrete accettato entrambi.",
    area: "Quartiere",
    day: "Giorno",
    from: "Dalle",
    to: "Alle",
    weekly: "Ogni settimana",
    date: "Oppure una volta sola, il giorno",
    duration: "Durata (minuti)",
    urgency: "Urgenza",
    language: "Lingua",
    people: "Persone che servono",
    for_person: "Per chi",
    myself: "Per me",
    send: "Invia",
    radius: "Fino a quanti km da casa",
    hours_week: "Ore alla settimana",
    capacity: "Quante persone puoi seguire",
    skills: "Competenze",
    suggestions: "Volontari suggeriti",
    choose: "Scegli",
    take: "Mi offro",
    score: "Affinità",
    distance: "Distanza",
    state: "Stato",
    matches: "Abbinamenti",
    when: "Quando",
    privacy_public: "Vedi solo categoria, zona e orari: i dettagli restano privati.",
    privacy_party: "Vedrai l'indirizzo quando anche l'altra parte avrà accettato.",
    register_person: "Registra una persona senza e-mail né telefono",
    name: "Nome e cognome",
    consent: "Riferimento del consenso firmato",
    phone: "Telefono fisso (facoltativo)",
    people_followed: "Persone seguite",
    desk_needs: "Richieste seguite dallo sportello",
    ask_for: "Inserisci una richiesta",
    open_needs: "Aperte",
    urgent: "Urgenti",
    map_note: "Per riservatezza la mappa mostra solo il numero di richieste per zona, mai i punti; una zona con meno di 3 richieste compare solo nella tabella.",
    functions: "Funzioni",
    show_slots: "Mostra gli orari",
    hub_closed: "L'hub è chiuso in questa data.",
    time: "Orario",
    free: "Libera",
    taken: "Occupata",
    book: "Prenota",
    purpose: "A cosa serve la sala",
    sign_in_to_book: "Accedi per prenotare",
    booked: "Prenotazione fatta.",
    as_myself: "A titolo personale",
    offer_for: "Offerta a nome di",
    hub_words: "Nome, indirizzo o ente",
    any_function: "Tutte le funzioni",
    hubs_found: "hub trovati",
    opening: "Orari",
    help_desk: "Sportello di aiuto",
    rooms: "Sale prenotabili",
    campaign: "Campagna",
    dispatch: "Assegna ora i volontari",
    covered: "Coperte",
    uncovered: "Scoperte",
    fulfilled: "Concluse",
    volunteers: "Volontari attivi",
    assisted_label: "Azione svolta da un operatore per conto della persona",
    hours_given: "Ore di aiuto date",
    notifications: "Notifiche",
    shared: "Servizi condivisi proposti",
    shared_cost: "Costo di una visita condivisa e quote (euro)",
    days: [
        "lunedì",
        "martedì",
        "mercoledì",
        "giovedì",
        "venerdì",
        "sabato",
        "domenica",
    ],
    urgencies: ["bassa", "normale", "alta", "critica"],
};

pub const EN: Words = Words {
    help: "Neighbourly help",
    intro: "Ask for a hand or offer one to people who live near you. The exact address stays private until both of you have accepted.",
    ask: "Ask for help",
    offer: "Offer help",
    my_needs: "My requests",
    my_offers: "My offers",
    agenda: "My agenda",
    none: "None.",
    map: "Open requests by area",
    desk: "Help desk",
    hubs: "Community hubs",
    category: "What kind of help",
    description: "Description",
    address: "Address (private)",
    address_hint: "Only the person who helps will see it, once both of you have accepted.",
    area: "Neighbourhood",
    day: "Day",
    from: "From",
    to: "To",
    weekly: "Every week",
    date: "Or once, on",
    duration: "Duration (minutes)",
    urgency: "Urgency",
    language: "Language",
    people: "People needed",
    for_person: "For whom",
    myself: "For me",
    send: "Send",
    radius: "Up to how many km from home",
    hours_week: "Hours a week",
    capacity: "How many people you can follow",
    skills: "Skills",
    suggestions: "Suggested volunteers",
    choose: "Choose",
    take: "I'll help",
    score: "Fit",
    distance: "Distance",
    state: "State",
    matches: "Matches",
    when: "When",
    privacy_public: "You see only the kind of help, the area and the times: details stay private.",
    privacy_party: "You will see the address once the other side has accepted too.",
    register_person: "Register a person with no e-mail or phone",
    name: "Full name",
    consent: "Reference of the signed consent",
    phone: "Landline (optional)",
    people_followed: "People followed",
    desk_needs: "Requests followed by the desk",
    ask_for: "Enter a request",
    open_needs: "Open",
    urgent: "Urgent",
    map_note: "For privacy the map shows only how many requests each area has, never points; an area with fewer than 3 requests appears only in the table.",
    functions: "Functions",
    show_slots: "Show the times",
    hub_closed: "The hub is closed on this date.",
    time: "Time",
    free: "Free",
    taken: "Taken",
    book: "Book",
    purpose: "What the room is for",
    sign_in_to_book: "Sign in to book",
    booked: "Booked.",
    as_myself: "As myself",
    offer_for: "Offered on behalf of",
    hub_words: "Name, address or organisation",
    any_function: "All functions",
    hubs_found: "hubs found",
    opening: "Opening hours",
    help_desk: "Help desk",
    rooms: "Bookable rooms",
    campaign: "Campaign",
    dispatch: "Assign volunteers now",
    covered: "Covered",
    uncovered: "Uncovered",
    fulfilled: "Done",
    volunteers: "Active volunteers",
    assisted_label: "Action taken by an operator on the person's behalf",
    hours_given: "Hours of help given",
    notifications: "Notifications",
    shared: "Proposed shared services",
    shared_cost: "Cost of one shared visit and the shares (euro)",
    days: [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ],
    urgencies: ["low", "normal", "high", "critical"],
};

pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::It => &IT,
        Lang::En => &EN,
    }
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn opts(items: impl IntoIterator<Item = (String, String)>, selected: &str) -> Vec<Opt> {
    items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == selected,
            value,
            label,
        })
        .collect()
}

fn category_label(lang: Lang, code: &str) -> String {
    AIUTI
        .iter()
        .find(|t| t.code == code)
        .map(|t| {
            if lang == Lang::En {
                t.en.to_string()
            } else {
                t.it.to_string()
            }
        })
        .unwrap_or_else(|| code.to_string())
}

fn category_opts(lang: Lang, selected: &str) -> Vec<Opt> {
    opts(
        AIUTI.iter().map(|t| {
            (
                t.code.to_string(),
                if lang == Lang::En {
                    t.en.to_string()
                } else {
                    t.it.to_string()
                },
            )
        }),
        selected,
    )
}

fn windows_text(w: &Words, ws: &[WindowSpec]) -> String {
    let day_index = |d: &str| {
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .position(|x| *x == d)
            .unwrap_or(0)
    };
    ws.iter()
        .map(|x| format!("{} {}–{}", w.days[day_index(&x.day)], x.from, x.to))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A need as a row or a page shows it.
pub struct NeedLine {
    pub id: String,
    pub category: String,
    pub area: String,
    pub when: String,
    pub state: String,
    pub description: Option<String>,
    pub address: Option<String>,
    pub requester: Option<String>,
    pub assisted: bool,
    pub access: String,
}

fn need_line(lang: Lang, v: &NeedView) -> NeedLine {
    let w = words(lang);
    let category = match (lang, &v.category.name_en) {
        (Lang::En, Some(en)) => en.clone(),
        _ => v.category.name.clone(),
    };
    let mut when = windows_text(w, &v.windows);
    if let Some(d) = &v.date {
        when = format!("{d}, {when}");
    } else if v.recurring {
        when = format!("{} · {when}", w.weekly);
    }
    NeedLine {
        id: v.id.to_string(),
        category,
        area: v.area.name.clone(),
        when: format!("{when} ({} min)", v.duration_minutes),
        state: v.state.clone(),
        description: v.description.clone(),
        address: v.address.clone(),
        requester: v.requester.as_ref().map(|r| r.name.clone()),
        assisted: v.assisted.unwrap_or(false),
        access: match v.access {
            NeedAccess::Public => "public",
            NeedAccess::Party => "party",
            NeedAccess::Full => "full",
        }
        .into(),
    }
}

pub struct MatchLine {
    pub id: String,
    pub need_id: String,
    pub volunteer: String,
    pub state: String,
    pub area: String,
    pub next_at: String,
    pub score: u8,
    pub events: Vec<(String, String)>,
}

fn event_label(lang: Lang, e: &str) -> String {
    let (it, en) = match e {
        "accept" => ("Accetto", "Accept"),
        "decline" => ("Rifiuto", "Decline"),
        "schedule" => ("Fissa la data", "Set the date"),
        "done" => ("Confermo: fatto", "Confirm: done"),
        "cancel" => ("Annulla", "Cancel"),
        "no_show" => ("Non si è presentato", "Did not show up"),
        _ => (e, e),
    };
    if lang == Lang::En {
        en.into()
    } else {
        it.into()
    }
}

fn match_line(lang: Lang, m: &MatchView) -> MatchLine {
    MatchLine {
        id: m.id.to_string(),
        need_id: m.need_id.to_string(),
        volunteer: m.volunteer.name.clone(),
        state: m.state.clone(),
        area: m.area_name.clone(),
        next_at: m.next_at.clone().unwrap_or_default(),
        score: m.score,
        events: m
            .allowed_events
            .iter()
            .map(|e| (e.clone(), event_label(lang, e)))
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "help_home.html")]
struct HomePage<'a> {
    l: &'a Layout,
    w: &'static Words,
    signed_in: bool,
    needs: Vec<NeedLine>,
    offers: Vec<(String, String)>,
    matches: Vec<MatchLine>,
    notifications: Vec<String>,
    hours_given: String,
    is_operator: bool,
    is_admin: bool,
}

pub async fn home(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    match home_inner(&state, &l, &viewer).await {
        Ok(r) => r,
        Err(e) => error_page(&l, e),
    }
}

async fn home_inner(state: &AppState, l: &Layout, viewer: &Viewer) -> Result<Response, ApiError> {
    let w = words(l.lang);
    let mut page = HomePage {
        l,
        w,
        signed_in: viewer.principal.is_some(),
        needs: vec![],
        offers: vec![],
        matches: vec![],
        notifications: vec![],
        hours_given: String::new(),
        is_operator: false,
        is_admin: false,
    };
    if let Some(p) = &viewer.principal {
        page.is_operator = !p.operator_organizations().is_empty();
        page.is_admin = p.has_role(Role::TerritoryAdmin);
        for n in state
            .store
            .needs(&trama_store::NeedFilter {
                requester: Some(p.user_id),
                limit: 50,
                ..Default::default()
            })
            .await?
        {
            page.needs
                .push(need_line(l.lang, &svc::need_view(&n, NeedAccess::Full)));
        }
        for o in state.store.offers_of(p.user_id).await? {
            let cats: Vec<String> = o
                .categories
                .iter()
                .map(|c| {
                    AIUTI
                        .iter()
                        .find(|t| trama_core::taxonomy::term_id(t.code) == *c)
                        .map(|t| category_label(l.lang, t.code))
                        .unwrap_or_default()
                })
                .collect();
            page.offers.push((
                o.id.to_string(),
                format!("{} · {}", cats.join(", "), o.area_name),
            ));
        }
        for m in state
            .store
            .matches_of_person(p.user_id, false)
            .await?
            .iter()
            .take(50)
        {
            let side = svc::side_in(state, p, m).await?;
            page.matches
                .push(match_line(l.lang, &svc::match_view(m, side)));
        }
        for n in state.store.notifications(p.user_id, 5).await? {
            page.notifications.push(if l.lang == Lang::En {
                n.text_en
            } else {
                n.text_it
            });
        }
        let minutes = state.store.minutes_given(p.user_id).await?;
        page.hours_given = format!("{:.1}", minutes as f64 / 60.0);
    }
    Ok(l.render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "need_form.html")]
struct NeedFormPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    categories: Vec<Opt>,
    areas: Vec<Opt>,
    days: Vec<Opt>,
    urgencies: Vec<Opt>,
    languages: Vec<Opt>,
    persons: Vec<Opt>,
    f: HashMap<String, String>,
    error: Option<(String, String)>,
}

impl NeedFormPage<'_> {
    fn v(&self, k: &str) -> String {
        self.f.get(k).cloned().unwrap_or_default()
    }
    fn checked(&self, k: &str) -> bool {
        self.f.get(k).is_some_and(|v| v == "on" || v == "true")
    }
}

/// Areas to choose from: neighbourhoods (NIL), else Municipi, with their centres.
async fn area_choices(state: &AppState) -> Result<Vec<(String, String, f64, f64)>, ApiError> {
    let mut areas = state.store.areas("nil").await?;
    if areas.is_empty() {
        areas = state.store.areas("municipio").await?;
    }
    if areas.is_empty() {
        areas = trama_core::areas::milano_municipi();
    }
    let mut out: Vec<(String, String, f64, f64)> = areas
        .iter()
        .filter_map(|a| {
            let c = a
                .centroid
                .or_else(|| a.polygons.first().and_then(|p| p.centroid()))?;
            Some((
                format!("{}:{}", a.kind, a.code),
                a.name.clone(),
                c.lat(),
                c.lon(),
            ))
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

async fn need_form_page(
    state: &AppState,
    l: &Layout,
    p: &Principal,
    f: HashMap<String, String>,
    error: Option<(String, String)>,
) -> Result<Response, ApiError> {
    let w = words(l.lang);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let areas = area_choices(state).await?;
    let mut persons = vec![Opt {
        value: String::new(),
        label: w.myself.into(),
        selected: get("per").is_empty(),
    }];
    for a in state
        .store
        .assisted_people(&p.operator_organizations())
        .await?
    {
        persons.push(Opt {
            selected: get("per") == a.user.to_string(),
            value: a.user.to_string(),
            label: a.display_name,
        });
    }
    let page = NeedFormPage {
        l,
        w,
        categories: category_opts(l.lang, &get("category")),
        areas: opts(
            areas.iter().map(|a| (a.0.clone(), a.1.clone())),
            &get("area"),
        ),
        days: opts(
            ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .iter()
                .enumerate()
                .map(|(i, d)| (d.to_string(), w.days[i].to_string())),
            &get("day"),
        ),
        urgencies: opts(
            ["low", "normal", "high", "critical"]
                .iter()
                .enumerate()
                .map(|(i, u)| (u.to_string(), w.urgencies[i].to_string())),
            &get("urgency"),
        ),
        languages: opts(
            LANGUAGES.iter().map(|(c, it, en)| {
                (
                    c.to_string(),
                    if l.lang == Lang::En {
                        en.to_string()
                    } else {
                        it.to_string()
                    },
                )
            }),
            &get("language"),
        ),
        persons,
        f,
        error: error.clone(),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(l.render(status, &page))
}

pub async fn need_form(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    let Some(p) = viewer.principal.as_ref() else {
        return login_redirect(&uri);
    };
    let mut f: HashMap<String, String> = HashMap::new();
    f.insert("category".into(), "H1".into());
    f.insert("day".into(), "tue".into());
    f.insert("from".into(), "09:00".into());
    f.insert("to".into(), "12:00".into());
    f.insert("weekly".into(), "on".into());
    f.insert("duration".into(), "60".into());
    f.insert("urgency".into(), "normal".into());
    f.insert("language".into(), "it".into());
    f.insert("people".into(), "1".into());
    let q = query_pairs(&uri);
    if let Some(per) = q.get("per") {
        f.insert("per".into(), per.clone());
    }
    // The intake form of a campaign: the same form, filed under the campaign, urgent by default.
    if let Some(c) = q.get("campagna") {
        f.insert("campaign_id".into(), c.clone());
        f.insert("urgency".into(), "high".into());
    }
    match need_form_page(&state, &l, p, f, None).await {
        Ok(r) => r,
        Err(e) => error_page(&l, e),
    }
}

pub async fn need_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
    RawForm(raw): RawForm,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    let (p, form) = match signed_form(&l, &viewer, &headers, &uri, &raw) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let map: HashMap<String, String> = form.iter().cloned().collect();
    let result = async {
        let areas = area_choices(&state).await?;
        let (lat, lon) = match (
            field(&form, "lat").parse::<f64>(),
            field(&form, "lon").parse::<f64>(),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            _ => areas
                .iter()
                .find(|a| a.0 == field(&form, "area"))
                .map(|a| (a.2, a.3))
                .ok_or_else(|| {
                    ApiError::InvalidBody(trama_core::FieldError::new(
                        "area",
                        "choose the neighbourhood",
                    ))
                })?,
        };
        let weekly = field(&form, "weekly") == "on";
        let nf = NeedForm {
            category: field(&form, "category").into(),
            description: field(&form, "description").into(),
            address: field(&form, "address").into(),
            lat,
            lon,
            windows: vec![WindowSpec {
                day: field(&form, "day").into(),
                from: field(&form, "from").into(),
                to: field(&form, "to").into(),
            }],
            recurring: weekly,
            date: (!weekly).then(|| field(&form, "date").to_string()),
            until: None,
            duration_minutes: field(&form, "duration").parse().map_err(|_| {
                ApiError::InvalidBody(trama_core::FieldError::new(
                    "duration_minutes",
                    "is not a number of minutes",
                ))
            })?,
            urgency: field(&form, "urgency")
                .parse()
                .map_err(ApiError::InvalidBody)?,
            languages: vec![field(&form, "language").to_string()],
            skills: fields(&form, "skill"),
            people: field(&form, "people").parse().map_err(|_| {
                ApiError::InvalidBody(trama_core::FieldError::new("people", "is not a number"))
            })?,
            on_behalf_of: Some(field(&form, "per").to_string()).filter(|s| !s.is_empty()),
            campaign_id: Some(field(&form, "campaign_id").to_string()).filter(|s| !s.is_empty()),
        };
        svc::create_need(&state, p, &nf).await
    }
    .await;
    match result {
        Ok(id) => Redirect::to(&format!("/aiuto/richieste/{id}")).into_response(),
        Err(
            ApiError::InvalidBody(e)
            | ApiError::InvalidParameter(e)
            | ApiError::InvalidReference(e)
            | ApiError::Conflict(e),
        ) => {
            match need_form_page(
                &state,
                &l,
                p,
                map,
                Some((e.field.clone(), e.reason.clone())),
            )
            .await
            {
                Ok(r) => r,
                Err(e) => error_page(&l, e),
            }
        }
        Err(e) => error_page(&l, e),
    }
}

#[derive(Template)]
#[template(path = "need.html")]
struct NeedPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    n: NeedLine,
    can_act: bool,
    suggestions: Vec<svc::Suggestion>,
    matches: Vec<MatchLine>,
    my_offers: Vec<(String, String)>,
}

pub async fn need_page(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    let r = async {
        let id = NeedId::parse("id", &id)?;
        let (n, parties, access) = svc::load_need(&state, viewer.principal.as_ref(), id).await?;
        let can_act = viewer
            .principal
            .as_ref()
            .is_some_and(|p| trama_core::needs::acts_for_requester(p, &parties));
        let mut page = NeedPage {
            l: &l,
            w: words(l.lang),
            n: need_line(l.lang, &svc::need_view(&n, access)),
            can_act,
            suggestions: vec![],
            matches: vec![],
            my_offers: vec![],
        };
        if let Some(p) = &viewer.principal {
            if can_act && n.state.is_open() {
                page.suggestions = svc::suggestions_for(&state, p, &n, 5).await?;
            }
            for m in state.store.matches_of_need(n.id).await? {
                let side = svc::side_in(&state, p, &m).await?;
                if side.is_some() {
                    page.matches
                        .push(match_line(l.lang, &svc::match_view(&m, side)));
                }
            }
            if !can_act && n.state.is_open() {
                page.my_offers = state
                    .store
                    .offers_of(p.user_id)
                    .await?
                    .into_iter()
                    .filter(|o| o.state == "active" && o.categories.contains(&n.category))
                    .map(|o| (o.id.to_string(), o.area_name))
                    .collect();
            }
        }
        Ok::<_, ApiError>(l.render(StatusCode::OK, &page))
    }
    .await;
    r.unwrap_or_else(|e| error_page(&l, e))
}

pub async fn propose_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    RawForm(raw): RawForm,
) -> Response {
    need_action(state, viewer, headers, uri, id, raw, true).await
}

pub async fn accept_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    RawForm(raw): RawForm,
) -> Response {
    need_action(state, viewer, headers, uri, id, raw, false).await
}

async fn need_action(
    state: AppState,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
    id: String,
    raw: axum::body::Bytes,
    propose: bool,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    let (p, form) = match signed_form(&l, &viewer, &headers, &uri, &raw) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let r = async {
        let need = NeedId::parse("id", &id)?;
        let offer =
            OfferId::parse("offer_id", field(&form, "offer_id")).map_err(ApiError::InvalidBody)?;
        if propose {
            svc::propose(&state, p, need, offer).await?;
        } else {
            svc::accept_need(&state, p, need, offer).await?;
        }
        Ok::<_, ApiError>(Redirect::to(&format!("/aiuto/richieste/{need}")).into_response())
    }
    .await;
    r.unwrap_or_else(|e| error_page(&l, e))
}

pub async fn match_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    RawForm(raw): RawForm,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    let (p, form) = match signed_form(&l, &viewer, &headers, &uri, &raw) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let r = async {
        let mid = MatchId::parse("id", &id)?;
        let next_at = match field(&form, "next_at") {
            "" => None,
            s => {
                // A datetime-local field: local time of the territory.
                let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
                let local = time::PrimitiveDateTime::parse(s, &fmt).map_err(|_| {
                    ApiError::InvalidBody(trama_core::FieldError::new(
                        "next_at",
                        "is not a date and time",
                    ))
                })?;
                let utc_guess = local.assume_utc();
                Some(local.assume_offset(state.time_zone.offset_at(utc_guess)))
            }
        };
        let m =
            svc::match_event(&state, p, mid, field(&form, "event"), next_at, None, None).await?;
        Ok::<_, ApiError>(Redirect::to(&format!("/aiuto/richieste/{}", m.need)).into_response())
    }
    .await;
    r.unwrap_or_else(|e| error_page(&l, e))
}

#[derive(Template)]
#[template(path = "offer_form.html")]
struct OfferFormPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    categories: Vec<Opt>,
    areas: Vec<Opt>,
    days: Vec<Opt>,
    languages: Vec<Opt>,
    skills: Vec<Opt>,
    /// On whose behalf: yourself, or an organisation you work for (none when you work for none).
    organizations: Vec<Opt>,
    f: HashMap<String, String>,
    error: Option<(String, String)>,
}

impl OfferFormPage<'_> {
    fn v(&self, k: &str) -> String {
        self.f.get(k).cloned().unwrap_or_default()
    }
}

/// The organisations a person may offer help for (those they work for), by name.
async fn offering_organizations(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    if let Some(p) = &viewer.principal {
        for org in p.operator_organizations() {
            if let Some((o, _)) = state.store.get_organization(org).await? {
                out.push((org.to_string(), o.name));
            }
        }
    }
    Ok(out)
}

async fn offer_form_page(
    state: &AppState,
    l: &Layout,
    viewer: &Viewer,
    f: HashMap<String, String>,
    error: Option<(String, String)>,
) -> Result<Response, ApiError> {
    let w = words(l.lang);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let areas = area_choices(state).await?;
    let orgs = offering_organizations(state, viewer).await?;
    let organizations = if orgs.is_empty() {
        Vec::new()
    } else {
        opts(
            std::iter::once((String::new(), w.as_myself.to_string())).chain(orgs),
            &get("organization"),
        )
    };
    let page = OfferFormPage {
        l,
        w,
        categories: category_opts(l.lang, &get("category")),
        areas: opts(
            areas.iter().map(|a| (a.0.clone(), a.1.clone())),
            &get("area"),
        ),
        days: opts(
            ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .iter()
                .enumerate()
                .map(|(i, d)| (d.to_string(), w.days[i].to_string())),
            &get("day"),
        ),
        languages: opts(
            LANGUAGES.iter().map(|(c, it, en)| {
                (
                    c.to_string(),
                    if l.lang == Lang::En {
                        en.to_string()
                    } else {
                        it.to_string()
                    },
                )
            }),
            &get("language"),
        ),
        skills: opts(
            SKILLS.iter().map(|(c, it, en)| {
                (
                    c.to_string(),
                    if l.lang == Lang::En {
                        en.to_string()
                    } else {
                        it.to_string()
                    },
                )
            }),
            "",
        ),
        organizations,
        f,
        error: error.clone(),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(l.render(status, &page))
}

pub async fn offer_form(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    if viewer.principal.is_none() {
        return login_redirect(&uri);
    }
    let f: HashMap<String, String> = [
        ("category", "H1"),
        ("day", "tue"),
        ("from", "09:00"),
        ("to", "13:00"),
        ("radius", "1"),
        ("hours", "4"),
        ("capacity", "2"),
        ("language", "it"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    offer_form_page(&state, &l, &viewer, f, None)
        .await
        .unwrap_or_else(|e| error_page(&l, e))
}

pub async fn offer_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
    RawForm(raw): RawForm,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    let (p, form) = match signed_form(&l, &viewer, &headers, &uri, &raw) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let map: HashMap<String, String> = form.iter().cloned().collect();
    let result = async {
        let areas = area_choices(&state).await?;
        let (lat, lon) = areas
            .iter()
            .find(|a| a.0 == field(&form, "area"))
            .map(|a| (a.2, a.3))
            .ok_or_else(|| {
                ApiError::InvalidBody(trama_core::FieldError::new(
                    "area",
                    "choose the neighbourhood",
                ))
            })?;
        let num = |k: &str, f: &str| {
            field(&form, k)
                .replace(',', ".")
                .parse::<f64>()
                .map_err(|_| {
                    ApiError::InvalidBody(trama_core::FieldError::new(f, "is not a number"))
                })
        };
        let of = OfferForm {
            categories: fields(&form, "category"),
            description: field(&form, "description").into(),
            lat,
            lon,
            radius_km: num("radius", "radius_km")?,
            availability: vec![WindowSpec {
                day: field(&form, "day").into(),
                from: field(&form, "from").into(),
                to: field(&form, "to").into(),
            }],
            hours_per_week: num("hours", "hours_per_week")?,
            capacity: num("capacity", "capacity")? as u16,
            languages: vec![field(&form, "language").to_string()],
            skills: fields(&form, "skill"),
            organization_id: Some(field(&form, "organization").to_string())
                .filter(|o| !o.is_empty()),
        };
        svc::create_offer(&state, p, &of).await
    }
    .await;
    match result {
        Ok(id) => Redirect::to(&format!("/aiuto/offerte/{id}")).into_response(),
        Err(
            ApiError::InvalidBody(e)
            | ApiError::InvalidParameter(e)
            | ApiError::InvalidReference(e),
        ) => offer_form_page(
            &state,
            &l,
            &viewer,
            map,
            Some((e.field.clone(), e.reason.clone())),
        )
        .await
        .unwrap_or_else(|e| error_page(&l, e)),
        Err(e) => error_page(&l, e),
    }
}

#[derive(Template)]
#[template(path = "offer.html")]
struct OfferPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    id: String,
    summary: String,
    suggestions: Vec<(NeedLine, String, u8)>,
}

pub async fn offer_page(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    let Some(p) = viewer.principal.as_ref() else {
        return login_redirect(&uri);
    };
    let r = async {
        let oid = OfferId::parse("id", &id)?;
        let o = state
            .store
            .offer(oid)
            .await?
            .ok_or_else(|| ApiError::not_found("offer", &id))?;
        if o.owner != p.user_id {
            return Err(ApiError::Forbidden("this offer is not yours".into()));
        }
        let w = words(l.lang);
        let sugg = svc::suggestions_for_offer(&state, p, &o, 10).await?;
        let page = OfferPage {
            l: &l,
            w,
            id: o.id.to_string(),
            summary: format!(
                "{} · {} km · {}",
                o.area_name,
                o.radius_km,
                windows_text(
                    w,
                    &o.availability
                        .iter()
                        .map(WindowSpec::of)
                        .collect::<Vec<_>>()
                )
            ),
            suggestions: sugg
                .iter()
                .map(|s| {
                    (
                        need_line(l.lang, &s.need),
                        format!("{:.1} km", s.distance_km),
                        s.score,
                    )
                })
                .collect(),
        };
        Ok(l.render(StatusCode::OK, &page))
    }
    .await;
    r.unwrap_or_else(|e| error_page(&l, e))
}

#[derive(Template)]
#[template(path = "needs_map.html")]
struct MapPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    rows: Vec<svc::AreaCountView>,
    dots: Vec<(f64, f64, f64, String)>,
}

pub async fn map_page(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    let r = async {
        let campaign = query_pairs(&uri)
            .get("campagna")
            .map(|s| CampaignId::parse("campagna", s))
            .transpose()?;
        let rows = svc::needs_by_area(&state, campaign).await?;
        // An SVG of the city: one circle per area with enough needs, sized by the count.
        let (min_lat, max_lat, min_lon, max_lon) = (45.38, 45.54, 9.04, 9.28);
        let dots = rows
            .iter()
            .filter_map(|r| {
                let [lat, lon] = r.center?;
                let x = (lon - min_lon) / (max_lon - min_lon) * 600.0;
                let y = (max_lat - lat) / (max_lat - min_lat) * 400.0;
                Some((
                    x,
                    y,
                    4.0 + (r.open as f64).sqrt() * 3.0,
                    format!("{}: {}", r.name, r.open),
                ))
            })
            .collect();
        Ok::<_, ApiError>(l.render(
            StatusCode::OK,
            &MapPage {
                l: &l,
                w: words(l.lang),
                rows,
                dots,
            },
        ))
    }
    .await;
    r.unwrap_or_else(|e| error_page(&l, e))
}

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    people: Vec<(String, String, String)>,
    needs: Vec<NeedLine>,
    /// Proposed shared services: the members' lines and the cost of a visit and each share.
    shared: Vec<(Vec<NeedLine>, String, String)>,
    error: Option<(String, String)>,
}

async fn desk_page(
    state: &AppState,
    l: &Layout,
    p: &Principal,
    error: Option<(String, String)>,
) -> Result<Response, ApiError> {
    let orgs = p.operator_organizations();
    if orgs.is_empty() {
        return Err(ApiError::Forbidden(if l.lang == Lang::En {
            "The desk is for operators.".into()
        } else {
            "Lo sportello è per gli operatori.".into()
        }));
    }
    let people = state
        .store
        .assisted_people(&orgs)
        .await?
        .into_iter()
        .map(|a| (a.user.to_string(), a.display_name, a.consent_reference))
        .collect();
    let mut needs = vec![];
    for n in state
        .store
        .needs(&trama_store::NeedFilter {
            organizations: Some(orgs),
            limit: 100,
            ..Default::default()
        })
        .await?
    {
        // The desk sees each person's name and address: each such read is the person's to see.
        svc::audit_full_read(state, Some(p), &n, NeedAccess::Full).await?;
        needs.push(need_line(l.lang, &svc::need_view(&n, NeedAccess::Full)));
    }
    let shared = svc::shared_services(state, p, None, None)
        .await?
        .iter()
        .map(|g| {
            let euro = |c: i64| trama_core::money::Cents(c).to_string();
            (
                g.needs.iter().map(|n| need_line(l.lang, n)).collect(),
                euro(g.total_cents),
                g.shares_cents
                    .iter()
                    .map(|c| euro(*c))
                    .collect::<Vec<_>>()
                    .join(" + "),
            )
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(l.render(
        status,
        &DeskPage {
            l,
            w: words(l.lang),
            people,
            needs,
            shared,
            error,
        },
    ))
}

pub async fn desk(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    let Some(p) = viewer.principal.as_ref() else {
        return login_redirect(&uri);
    };
    desk_page(&state, &l, p, None)
        .await
        .unwrap_or_else(|e| error_page(&l, e))
}

pub async fn desk_register(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
    RawForm(raw): RawForm,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    let (p, form) = match signed_form(&l, &viewer, &headers, &uri, &raw) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let req = svc::PersonRequest {
        display_name: field(&form, "display_name").into(),
        consent_reference: field(&form, "consent_reference").into(),
        phone: Some(field(&form, "phone").to_string()),
        organization_id: None,
        locale: Some(l.lang.code().into()),
    };
    match svc::register_person(&state, p, &req).await {
        Ok(id) => Redirect::to(&format!("/aiuto/chiedi?per={id}")).into_response(),
        Err(ApiError::InvalidBody(e)) => desk_page(&state, &l, p, Some((e.field, e.reason)))
            .await
            .unwrap_or_else(|e| error_page(&l, e)),
        Err(e) => error_page(&l, e),
    }
}

#[derive(Template)]
#[template(path = "hubs.html")]
struct HubsPage<'a> {
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
fn to_svg(lat: f64, lon: f64) -> Option<(f64, f64)> {
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

pub async fn hubs(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    let r = async {
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
        let rows: Vec<_> = state
            .store
            .hubs(None)
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
        Ok::<_, ApiError>(
            l.render(
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
            ),
        )
    }
    .await;
    r.unwrap_or_else(|e| error_page(&l, e))
}

#[derive(Template)]
#[template(path = "campaign.html")]
struct CampaignPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    id: String,
    name: String,
    description: String,
    counts: trama_store::CampaignCounts,
    is_admin: bool,
    report: Option<svc::BatchReport>,
}

async fn campaign_render(
    state: &AppState,
    l: &Layout,
    viewer: &Viewer,
    id: &str,
    report: Option<svc::BatchReport>,
) -> Result<Response, ApiError> {
    let cid = CampaignId::parse("id", id)?;
    let c = state
        .store
        .campaign(cid)
        .await?
        .ok_or_else(|| ApiError::not_found("campaign", id))?;
    let counts = state.store.campaign_counts(cid).await?;
    Ok(l.render(
        StatusCode::OK,
        &CampaignPage {
            l,
            w: words(l.lang),
            id: c.id.to_string(),
            name: c.name,
            description: c.description,
            counts,
            is_admin: viewer
                .principal
                .as_ref()
                .is_some_and(|p| p.has_role(Role::TerritoryAdmin)),
            report,
        },
    ))
}

pub async fn campaign(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    campaign_render(&state, &l, &viewer, &id, None)
        .await
        .unwrap_or_else(|e| error_page(&l, e))
}

pub async fn campaign_dispatch(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    RawForm(raw): RawForm,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    let (p, _) = match signed_form(&l, &viewer, &headers, &uri, &raw) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let r = async {
        let cid = CampaignId::parse("id", &id)?;
        let report = svc::run_batch(&state, p, Some(cid), false).await?;
        campaign_render(&state, &l, &viewer, &id, Some(report)).await
    }
    .await;
    r.unwrap_or_else(|e| error_page(&l, e))
}

#[derive(Template)]
#[template(path = "room.html")]
struct RoomPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    id: String,
    name: String,
    capacity: u32,
    hub_name: String,
    date: String,
    /// (time in words, start to send, free).
    slots: Vec<(String, String, bool)>,
    signed_in: bool,
    /// (css class, message).
    notice: Option<(&'static str, String)>,
}

async fn room_render(
    state: &AppState,
    l: &Layout,
    viewer: &Viewer,
    id: &str,
    date: &str,
    status: StatusCode,
    notice: Option<(&'static str, String)>,
) -> Result<Response, ApiError> {
    let (room, hub, slots) = svc::room_slots(state, id, date).await?;
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
pub async fn room(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    let q = query_pairs(&uri);
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let date = q
        .get("data")
        .filter(|d| !d.is_empty())
        .cloned()
        .unwrap_or_else(|| state.now_local().date().format(&fmt).expect("formattable"));
    let notice = q
        .contains_key("prenotato")
        .then(|| ("notice", words(l.lang).booked.to_string()));
    room_render(&state, &l, &viewer, &id, &date, StatusCode::OK, notice)
        .await
        .unwrap_or_else(|e| error_page(&l, e))
}

pub async fn room_book(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    RawForm(raw): RawForm,
) -> Response {
    let l = Layout::new(&state, &headers, &uri, &viewer);
    let (p, form) = match signed_form(&l, &viewer, &headers, &uri, &raw) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let request = svc::BookingRequest {
        start: field(&form, "start").to_string(),
        purpose: field(&form, "purpose").to_string(),
    };
    let date = request
        .start
        .split('T')
        .next()
        .unwrap_or_default()
        .to_string();
    match svc::book_room(&state, p, &id, &request).await {
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
            .await
            .unwrap_or_else(|e| error_page(&l, e))
        }
        Err(e) => error_page(&l, e),
    }
}
