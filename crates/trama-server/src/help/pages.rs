//! Neighbourly help in the browser (`/aiuto`, `/sportello`): asking, offering, the map and the
//! desk. Every page works without JavaScript.

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::help::service::MatchView;
use crate::help::service::NeedView;
use crate::help::words::{Words, words};
use crate::policy::Routes;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::form::Opt;
use crate::web::form::SignedPage;
use crate::web::form::field;
use crate::web::form::fields;
use crate::web::form::opts;
use crate::web::form::query_pairs;
use crate::web::form::{Page, SignedForm};
use crate::web::form::{PageError, PageResult};
use crate::web::i18n::Lang;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use trama_core::auth::{Principal, Role};
use trama_core::ids::{CampaignId, MatchId, NeedId, OfferId};
use trama_core::matching::instance::WindowSpec;
use trama_core::matching::lifecycle::NeedState;
use trama_core::needs::{LANGUAGES, NeedAccess, NeedForm};
use trama_core::schedule::TimeZone;
use trama_core::taxonomy::AIUTI;

/// The pages of this feature, each with its policy (docs/SECURITY.md).
pub fn routes() -> Routes {
    use crate::web::policies as may;
    Routes::pages()
        .get("/aiuto", home, may::parties())
        .get("/aiuto/chiedi", need_form, may::own())
        .post("/aiuto/chiedi", need_submit, may::own())
        .get("/aiuto/offri", super::offer_pages::offer_form, may::own())
        .post("/aiuto/offri", super::offer_pages::offer_submit, may::own())
        .get("/aiuto/mappa", map_page, may::anyone())
        .get("/aiuto/richieste/{id}", need_page, may::parties().audited())
        .get(
            "/aiuto/richieste/{id}/modifica",
            need_edit_form,
            may::parties(),
        )
        .post(
            "/aiuto/richieste/{id}/modifica",
            need_edit_submit,
            may::parties(),
        )
        .post("/aiuto/richieste/{id}/proponi", propose_submit, may::acts())
        .post("/aiuto/richieste/{id}/accetta", accept_submit, may::acts())
        .get("/aiuto/offerte/{id}", offer_page, may::own())
        .get(
            "/aiuto/offerte/{id}/modifica",
            super::offer_pages::edit_form,
            may::own(),
        )
        .post(
            "/aiuto/offerte/{id}/modifica",
            super::offer_pages::edit_submit,
            may::own(),
        )
        .post("/aiuto/offerte/{id}/stato", offer_state_submit, may::own())
        .post(
            "/aiuto/richieste/{id}/stato",
            need_state_submit,
            may::acts(),
        )
        .post("/aiuto/abbinamenti/{id}", match_submit, may::acts())
        .post("/aiuto/notifiche/{id}", notification_open, may::own())
        .get("/sportello", desk, may::desk())
        .post("/sportello/persone", desk_register, may::desk())
}

pub(crate) fn category_label(lang: Lang, code: &str) -> String {
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

pub(crate) fn category_opts(lang: Lang, selected: &str) -> Vec<Opt> {
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

pub(crate) fn windows_text(w: &Words, ws: &[WindowSpec]) -> String {
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

pub(crate) fn need_line(lang: Lang, v: &NeedView) -> NeedLine {
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
        state: need_state_label(lang, &v.state),
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

pub(crate) fn event_label(lang: Lang, e: &str) -> String {
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

/// A need's state in words.
pub(crate) fn need_state_label(lang: Lang, state: &str) -> String {
    let (it, en) = match state {
        "open" => ("In cerca di aiuto", "Looking for help"),
        "matched" => ("Aiuto trovato", "Help found"),
        "fulfilled" => ("Completata", "Done"),
        "cancelled" => ("Annullata", "Cancelled"),
        "expired" => ("Scaduta", "Expired"),
        other => (other, other),
    };
    if lang == Lang::En { en } else { it }.to_string()
}

/// An offer's state in words.
pub(crate) fn offer_state_label(lang: Lang, state: &str) -> String {
    let (it, en) = match state {
        "active" => (
            "Attiva: la proponiamo a chi ha bisogno",
            "Active: suggested to people in need",
        ),
        "paused" => (
            "In pausa: non la proponiamo a nessuno",
            "Paused: suggested to nobody",
        ),
        "withdrawn" => ("Ritirata", "Withdrawn"),
        other => (other, other),
    };
    if lang == Lang::En { en } else { it }.to_string()
}

/// What the owner may do with an offer in `state`: (action, label).
fn offer_actions(lang: Lang, state: &str) -> Vec<(&'static str, &'static str)> {
    let en = lang == Lang::En;
    let pause = ("pause", if en { "Pause it" } else { "Metti in pausa" });
    let resume = ("resume", if en { "Resume it" } else { "Riprendi" });
    let withdraw = (
        "withdraw",
        if en {
            "Withdraw it"
        } else {
            "Ritira l'offerta"
        },
    );
    match state {
        "active" => vec![pause, withdraw],
        "paused" => vec![resume, withdraw],
        _ => vec![],
    }
}

/// What the requester may do with a need in `state` with `live` helpers engaged: (action,
/// label). Cancelling waits until the help in course is called off (core's rule).
fn need_actions(lang: Lang, state: NeedState, live: u8) -> Vec<(&'static str, &'static str)> {
    let en = lang == Lang::En;
    match state {
        NeedState::Open | NeedState::Matched if live > 0 => vec![],
        NeedState::Open | NeedState::Matched => vec![(
            "cancel",
            if en {
                "Cancel this request"
            } else {
                "Annulla la richiesta"
            },
        )],
        NeedState::Cancelled | NeedState::Expired => {
            vec![(
                "reopen",
                if en {
                    "Open it again"
                } else {
                    "Riapri la richiesta"
                },
            )]
        }
        NeedState::Fulfilled => vec![],
    }
}

/// A match's state in words.
pub(crate) fn match_state_label(lang: Lang, state: &str) -> String {
    let (it, en) = match state {
        "proposed" => ("Proposta in attesa", "Proposed, waiting"),
        "accepted_by_requester" => (
            "In attesa della risposta del volontario",
            "Waiting for the volunteer's answer",
        ),
        "accepted_by_volunteer" => (
            "In attesa della risposta di chi ha chiesto",
            "Waiting for the requester's answer",
        ),
        "accepted" => ("Accettata: da fissare la data", "Accepted: date to be set"),
        "scheduled" => ("Appuntamento fissato", "Appointment set"),
        "done_by_requester" => (
            "Fatto secondo chi ha chiesto: manca il volontario",
            "Done for the requester: waiting for the volunteer",
        ),
        "done_by_volunteer" => (
            "Fatto secondo il volontario: manca chi ha chiesto",
            "Done for the volunteer: waiting for the requester",
        ),
        "confirmed" => ("Aiuto dato e confermato", "Help given and confirmed"),
        "declined" => ("Rifiutata", "Declined"),
        "cancelled" => ("Annullata", "Cancelled"),
        "no_show" => ("Nessuno si è presentato", "Nobody came"),
        "expired" => ("Scaduta senza risposta", "Expired unanswered"),
        other => (other, other),
    };
    if lang == Lang::En { en } else { it }.to_string()
}

pub(crate) fn match_line(lang: Lang, tz: &TimeZone, m: &MatchView) -> MatchLine {
    MatchLine {
        id: m.id.to_string(),
        need_id: m.need_id.to_string(),
        volunteer: m.volunteer.name.clone(),
        state: match_state_label(lang, &m.state),
        area: m.area_name.clone(),
        next_at: m
            .next_at
            .as_deref()
            .map(|t| crate::web::i18n::moment(lang, tz, t))
            .unwrap_or_default(),
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
pub(crate) struct HomePage<'a> {
    l: &'a Layout,
    w: &'static Words,
    signed_in: bool,
    needs: Vec<NeedLine>,
    offers: Vec<(String, String)>,
    matches: Vec<MatchLine>,
    /// Unread notifications: id and text.
    notifications: Vec<(String, String)>,
    hours_given: String,
    is_operator: bool,
    is_admin: bool,
    /// An auditor reads and changes nothing: no asking or offering.
    may_act: bool,
}

pub async fn home(State(state): State<AppState>, page: Page) -> PageResult {
    let Page { l, viewer, .. } = page;
    Ok(home_inner(&state, &l, &viewer).await?)
}

pub(crate) async fn home_inner(
    state: &AppState,
    l: &Layout,
    viewer: &Viewer,
) -> Result<Response, ApiError> {
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
        may_act: viewer
            .principal
            .as_ref()
            .is_none_or(|p| !p.is_auditor_only()),
    };
    if let Some(p) = &viewer.principal {
        page.is_operator = !p.operator_organizations().is_empty();
        page.is_admin = p.has_role(Role::TerritoryAdmin);
        for n in super::service::needs(
            state,
            &trama_store::NeedFilter {
                requester: Some(p.user_id),
                limit: 50,
                ..Default::default()
            },
        )
        .await?
        {
            page.needs.push(need_line(
                l.lang,
                &crate::help::service::need_view(&n, NeedAccess::Full),
            ));
        }
        for o in super::service::offers_of(state, p.user_id).await? {
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
            if o.state == "withdrawn" {
                continue;
            }
            let paused = if o.state == "paused" {
                if l.lang == Lang::En {
                    " (paused)"
                } else {
                    " (in pausa)"
                }
            } else {
                ""
            };
            page.offers.push((
                o.id.to_string(),
                format!("{} · {}{paused}", cats.join(", "), o.area_name),
            ));
        }
        for m in super::service::matches_of_person(state, p.user_id, false)
            .await?
            .iter()
            .take(50)
        {
            let side = crate::help::service::side_in(state, p, m).await?;
            page.matches.push(match_line(
                l.lang,
                &state.time_zone,
                &crate::help::service::match_view(m, side),
            ));
        }
        // What is still to be seen, each leading to what it is about.
        for n in crate::accounts::service::my_notifications(state, p.user_id, 20)
            .await?
            .into_iter()
            .filter(|n| !n.read)
            .take(5)
        {
            let text = if l.lang == Lang::En {
                n.text_en
            } else {
                n.text_it
            };
            page.notifications.push((n.id.to_string(), text));
        }
        // The same figure as "I miei contributi": the hours the register holds for the
        // person (help confirmed here and the history brought in), not only this app's.
        let mine = crate::register::service::contributions_of(state, p).await?;
        page.hours_given = crate::register::pages::number(mine.hours_given, l.lang);
    }
    Ok(l.render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "need_form.html")]
pub(crate) struct NeedFormPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    categories: Vec<Opt>,
    areas: Vec<Opt>,
    days: Vec<Opt>,
    urgencies: Vec<Opt>,
    languages: Vec<Opt>,
    persons: Vec<Opt>,
    /// The campaign the request is filed under, by name.
    campaign: Option<String>,
    /// Why a campaign asked for is not the request's (it is not taking requests today).
    campaign_note: Option<String>,
    heading: &'static str,
    action: String,
    /// Changing a need: its place may stay where it is.
    editing: bool,
    keep_place: &'static str,
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
pub(crate) async fn area_choices(
    state: &AppState,
) -> Result<Vec<(String, String, f64, f64)>, ApiError> {
    let mut areas = crate::directory::service::areas(state, "nil").await?;
    if areas.is_empty() {
        areas = crate::directory::service::areas(state, "municipio").await?;
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

/// The days of the week to choose from, in the page's words.
pub(crate) fn day_opts(w: &Words, selected: &str) -> Vec<Opt> {
    opts(
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .zip(w.days)
            .map(|(d, label)| (d.to_string(), label.to_string())),
        selected,
    )
}

/// Choices named in both languages (code, Italian, English), labelled in the page's.
pub(crate) fn bilingual_opts(list: &[(&str, &str, &str)], lang: Lang, selected: &str) -> Vec<Opt> {
    opts(
        list.iter().map(|(c, it, en)| {
            let label = if lang == Lang::En { en } else { it };
            (c.to_string(), label.to_string())
        }),
        selected,
    )
}

pub(crate) async fn need_form_page(
    state: &AppState,
    l: &Layout,
    p: &Principal,
    mut f: HashMap<String, String>,
    error: Option<(String, String)>,
    editing: Option<NeedId>,
) -> Result<Response, ApiError> {
    let w = words(l.lang);
    // A campaign's intake form offers the kinds of help the campaign gathers; a campaign not
    // taking requests today is said at once, and the request goes in without it.
    let campaign = match CampaignId::parse(
        "campaign_id",
        f.get("campaign_id").map_or("", String::as_str),
    ) {
        Ok(c) => crate::campaigns::service::campaign(state, c).await?,
        Err(_) => None,
    };
    let mut campaign_note = None;
    let campaign = match campaign {
        Some(c)
            if crate::campaigns::service::phase(state, &c)
                != trama_core::campaigns::CampaignPhase::Running =>
        {
            campaign_note = Some(if l.lang == Lang::En {
                format!(
                    "The campaign «{}» is not taking requests today: this request will be entered without it.",
                    c.name
                )
            } else {
                format!(
                    "La campagna «{}» non raccoglie richieste oggi: la richiesta sarà inserita senza campagna.",
                    c.name
                )
            });
            f.remove("campaign_id");
            None
        }
        c => c,
    };
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let areas = area_choices(state).await?;
    let mut persons = vec![Opt {
        value: String::new(),
        label: w.myself.into(),
        selected: get("per").is_empty(),
    }];
    for a in super::service::assisted_people(state, &p.operator_organizations()).await? {
        persons.push(Opt {
            selected: get("per") == a.user.to_string(),
            value: a.user.to_string(),
            label: a.display_name,
        });
    }
    let mut categories = category_opts(l.lang, &get("category"));
    if let Some(c) = &campaign {
        categories.retain(|o| {
            c.categories
                .contains(&trama_core::taxonomy::term_id(&o.value))
        });
    }
    // Whom a need is for is not changed with it.
    if editing.is_some() {
        persons.clear();
    }
    let page = NeedFormPage {
        l,
        w,
        categories,
        campaign: campaign.map(|c| c.name),
        campaign_note,
        heading: match (editing, l.lang == Lang::En) {
            (Some(_), true) => "Change your request",
            (Some(_), false) => "Modifica la tua richiesta",
            (None, _) => w.ask,
        },
        action: editing.map_or_else(
            || "/aiuto/chiedi".to_string(),
            |id| format!("/aiuto/richieste/{id}/modifica"),
        ),
        editing: editing.is_some(),
        keep_place: if l.lang == Lang::En {
            "Where it is now"
        } else {
            "Dove si trova ora"
        },
        areas: opts(
            areas.iter().map(|a| (a.0.clone(), a.1.clone())),
            &get("area"),
        ),
        days: day_opts(w, &get("day")),
        urgencies: opts(
            ["low", "normal", "high", "critical"]
                .iter()
                .enumerate()
                .map(|(i, u)| (u.to_string(), w.urgencies[i].to_string())),
            &get("urgency"),
        ),
        languages: bilingual_opts(LANGUAGES, l.lang, &get("language")),
        persons,
        f,
        error: error.clone(),
    };
    Ok(l.render_form(&error, &page))
}

pub async fn need_form(State(state): State<AppState>, signed: SignedPage) -> PageResult {
    let SignedPage { l, ref p, uri, .. } = signed;
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
    Ok(need_form_page(&state, &l, p, f, None, None).await?)
}

/// The need as it is, in the form's fields (its first time row; its place kept unless
/// another area is chosen).
fn need_fields(n: &trama_store::NeedRow) -> HashMap<String, String> {
    let mut f = HashMap::new();
    let code = AIUTI
        .iter()
        .find(|t| trama_core::taxonomy::term_id(t.code) == n.category)
        .map(|t| t.code.to_string())
        .unwrap_or_default();
    f.insert("category".into(), code);
    f.insert("description".into(), n.description.clone());
    f.insert("address".into(), n.address.clone());
    if let Some(w) = n.windows.first().map(WindowSpec::of) {
        f.insert("day".into(), w.day);
        f.insert("from".into(), w.from);
        f.insert("to".into(), w.to);
    }
    if n.recurring {
        f.insert("weekly".into(), "on".into());
    }
    if let Some(d) = n.date {
        f.insert("date".into(), trama_core::moment::format_date(d));
    }
    f.insert("duration".into(), n.duration_minutes.to_string());
    f.insert("urgency".into(), n.urgency.as_str().into());
    f.insert(
        "language".into(),
        n.languages.first().cloned().unwrap_or_else(|| "it".into()),
    );
    f.insert("people".into(), n.people.to_string());
    f
}

/// The need, if `p` may change it (the person, or an operator acting for them).
async fn editable_need(
    state: &AppState,
    p: &Principal,
    id: &str,
) -> Result<trama_store::NeedRow, ApiError> {
    let nid = NeedId::parse("id", id)?;
    let (n, parties, _) = crate::help::service::load_need(state, Some(p), nid).await?;
    if !trama_core::needs::acts_for_requester(p, &parties) {
        return Err(ApiError::not_found("need", id));
    }
    Ok(n)
}

/// `/aiuto/richieste/{id}/modifica`: the person (or an operator for them) changes a request
/// nobody has taken yet.
pub async fn need_edit_form(
    State(state): State<AppState>,
    signed: SignedPage,
    Path(id): Path<String>,
) -> PageResult {
    let n = editable_need(&state, &signed.p, &id).await?;
    Ok(need_form_page(
        &state,
        &signed.l,
        &signed.p,
        need_fields(&n),
        None,
        Some(n.id),
    )
    .await?)
}

pub async fn need_edit_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let l = page.l;
    let n = editable_need(&state, &p, &id).await?;
    let map: HashMap<String, String> = form.iter().cloned().collect();
    let result = async {
        let (lat, lon) = if field(&form, "area").is_empty() {
            (n.point.lat(), n.point.lon())
        } else {
            area_choices(&state)
                .await?
                .iter()
                .find(|a| a.0 == field(&form, "area"))
                .map(|a| (a.2, a.3))
                .ok_or_else(|| {
                    ApiError::InvalidBody(trama_core::FieldError::new(
                        "area",
                        "choose the neighbourhood",
                    ))
                })?
        };
        let more = n.windows.iter().skip(1).map(WindowSpec::of).collect();
        let nf = need_form_of(&form, lat, lon, more)?;
        crate::help::service::update_need(&state, &p, n.id, &nf)
            .await
            .map_err(ApiError::from)
    }
    .await;
    Ok(match result {
        Ok(_) => {
            Redirect::to(&format!("/aiuto/richieste/{}?fatto=modificata", n.id)).into_response()
        }
        Err(
            ApiError::InvalidBody(e)
            | ApiError::InvalidParameter(e)
            | ApiError::InvalidReference(e)
            | ApiError::Conflict(e),
        ) => {
            let said = Some((e.field.clone(), crate::web::say::field_error(l.lang, &e)));
            need_form_page(&state, &l, &p, map, said, Some(n.id)).await?
        }
        Err(e) => return Err(PageError::from(e)),
    })
}

/// The need a form asks for, at `lat`, `lon`; its time row first, then `more_windows` (those
/// of a need being changed that the form does not show).
fn need_form_of(
    form: &crate::web::form::Form,
    lat: f64,
    lon: f64,
    more_windows: Vec<WindowSpec>,
) -> Result<NeedForm, ApiError> {
    let weekly = field(form, "weekly") == "on";
    let mut windows = vec![WindowSpec {
        day: field(form, "day").into(),
        from: field(form, "from").into(),
        to: field(form, "to").into(),
    }];
    windows.extend(more_windows);
    Ok(NeedForm {
        category: field(form, "category").into(),
        description: field(form, "description").into(),
        address: field(form, "address").into(),
        lat,
        lon,
        windows,
        recurring: weekly,
        date: (!weekly).then(|| field(form, "date").to_string()),
        until: None,
        duration_minutes: trama_core::bounded::number("duration_minutes", field(form, "duration"))
            .map_err(ApiError::InvalidBody)?,
        urgency: field(form, "urgency")
            .parse()
            .map_err(ApiError::InvalidBody)?,
        languages: vec![field(form, "language").to_string()],
        skills: fields(form, "skill"),
        people: trama_core::bounded::number("people", field(form, "people"))
            .map_err(ApiError::InvalidBody)?,
        on_behalf_of: Some(field(form, "per").to_string()).filter(|s| !s.is_empty()),
        campaign_id: Some(field(form, "campaign_id").to_string()).filter(|s| !s.is_empty()),
    })
}

pub async fn need_submit(
    State(state): State<AppState>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let Page { l, .. } = page;
    let p = &p;
    let map: HashMap<String, String> = form.iter().cloned().collect();
    let result = async {
        let areas = area_choices(&state).await?;
        let (lat, lon) = match (
            trama_core::bounded::decimal("lat", field(&form, "lat")),
            trama_core::bounded::decimal("lon", field(&form, "lon")),
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
        let nf = need_form_of(&form, lat, lon, Vec::new())?;
        crate::help::service::create_need(&state, p, &nf)
            .await
            .map_err(ApiError::from)
    }
    .await;
    Ok(match result {
        Ok(id) => Redirect::to(&format!("/aiuto/richieste/{id}")).into_response(),
        Err(
            ApiError::InvalidBody(e)
            | ApiError::InvalidParameter(e)
            | ApiError::InvalidReference(e)
            | ApiError::Conflict(e),
        ) => {
            need_form_page(
                &state,
                &l,
                p,
                map,
                Some((e.field.clone(), crate::web::say::field_error(l.lang, &e))),
                None,
            )
            .await?
        }
        Err(e) => return Err(PageError::from(e)),
    })
}

#[derive(Template)]
#[template(path = "need.html")]
pub(crate) struct NeedPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    n: NeedLine,
    can_act: bool,
    /// What the requester may do with the need now: (action, label).
    actions: Vec<(&'static str, &'static str)>,
    /// Helpers are engaged: to cancel, their matches are called off first (said on the page).
    engaged: bool,
    /// "Change it", while it is open and nobody has taken it; the notice after a change.
    edit: Option<&'static str>,
    notice: Option<&'static str>,
    suggestions: Vec<crate::help::service::Suggestion>,
    matches: Vec<MatchLine>,
    my_offers: Vec<(String, String)>,
}

pub async fn need_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> PageResult {
    let Page { l, viewer, uri, .. } = page;
    let id = NeedId::parse("id", &id)?;
    let (n, parties, access) =
        crate::help::service::load_need(&state, viewer.principal.as_ref(), id).await?;
    let can_act = viewer
        .principal
        .as_ref()
        .is_some_and(|p| trama_core::needs::acts_for_requester(p, &parties));
    let mut page = NeedPage {
        l: &l,
        w: words(l.lang),
        n: need_line(l.lang, &crate::help::service::need_view(&n, access)),
        can_act,
        actions: if can_act {
            need_actions(l.lang, n.state, n.covered)
        } else {
            vec![]
        },
        engaged: can_act
            && n.covered > 0
            && matches!(n.state, NeedState::Open | NeedState::Matched),
        edit: (can_act && n.state.check_edit(i64::from(n.covered)).is_ok()).then_some(
            if l.lang == Lang::En {
                "Change the request"
            } else {
                "Modifica la richiesta"
            },
        ),
        notice: query_pairs(&uri)
            .contains_key("fatto")
            .then_some(if l.lang == Lang::En {
                "Request changed."
            } else {
                "Richiesta modificata."
            }),
        suggestions: vec![],
        matches: vec![],
        my_offers: vec![],
    };
    if let Some(p) = &viewer.principal {
        if can_act && n.state.is_open() {
            page.suggestions = crate::help::service::suggestions_for(&state, p, &n, 5).await?;
        }
        for m in super::service::matches_of_need(&state, n.id).await? {
            let side = crate::help::service::side_in(&state, p, &m).await?;
            if side.is_some() {
                page.matches.push(match_line(
                    l.lang,
                    &state.time_zone,
                    &crate::help::service::match_view(&m, side),
                ));
            }
        }
        if !can_act && n.state.is_open() {
            page.my_offers = super::service::offers_of(&state, p.user_id)
                .await?
                .into_iter()
                .filter(|o| o.state == "active" && o.categories.contains(&n.category))
                .map(|o| (o.id.to_string(), o.area_name))
                .collect();
        }
    }
    Ok(l.render(StatusCode::OK, &page))
}

/// The owner pauses, resumes or withdraws an offer from its page.
pub async fn offer_state_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { p, form, .. }: SignedForm,
) -> PageResult {
    let offer = OfferId::parse("id", &id).map_err(ApiError::InvalidParameter)?;
    let action = trama_core::matching::lifecycle::offer_action("azione", field(&form, "azione"))
        .map_err(ApiError::InvalidBody)?;
    crate::help::service::change_offer_state(&state, &p, offer, action).await?;
    Ok(Redirect::to(&format!("/aiuto/offerte/{offer}")).into_response())
}

/// The requester (or their operator) cancels or reopens a need from its page.
pub async fn need_state_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { p, form, .. }: SignedForm,
) -> PageResult {
    let need = NeedId::parse("id", &id).map_err(ApiError::InvalidParameter)?;
    let to = trama_core::matching::lifecycle::requester_target("azione", field(&form, "azione"))
        .map_err(ApiError::InvalidBody)?;
    crate::help::service::change_need_state(&state, &p, need, to).await?;
    Ok(Redirect::to(&format!("/aiuto/richieste/{need}")).into_response())
}

pub async fn propose_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    signed: SignedForm,
) -> PageResult {
    need_action(state, signed, id, true).await
}

pub async fn accept_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    signed: SignedForm,
) -> PageResult {
    need_action(state, signed, id, false).await
}

pub(crate) async fn need_action(
    state: AppState,
    SignedForm { p, form, .. }: SignedForm,
    id: String,
    propose: bool,
) -> PageResult {
    let p = &p;
    let need = NeedId::parse("id", &id)?;
    let offer =
        OfferId::parse("offer_id", field(&form, "offer_id")).map_err(ApiError::InvalidBody)?;
    if propose {
        crate::help::service::propose(&state, p, need, offer).await?;
    } else {
        crate::help::service::accept_need(&state, p, need, offer).await?;
    }
    Ok(Redirect::to(&format!("/aiuto/richieste/{need}")).into_response())
}

/// Opens a notification: marks it read and goes where it leads (the request it is about).
pub async fn notification_open(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { p, .. }: SignedForm,
) -> PageResult {
    let nid = trama_core::ids::NotificationId::parse("id", &id)?;
    let to = crate::help::service::notification_target(&state, &p, nid).await?;
    Ok(axum::response::Redirect::to(&to).into_response())
}

pub async fn match_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { p, form, .. }: SignedForm,
) -> PageResult {
    let p = &p;
    let mid = MatchId::parse("id", &id)?;
    // A datetime-local field: local time of the territory.
    let next_at = match field(&form, "next_at") {
        "" => None,
        s => Some(state.time_zone.to_utc(
            trama_core::moment::parse_local_minute("next_at", s).map_err(ApiError::InvalidBody)?,
        )),
    };
    let m = crate::help::service::match_event(
        &state,
        p,
        mid,
        field(&form, "event"),
        next_at,
        None,
        None,
    )
    .await?;
    Ok(Redirect::to(&format!("/aiuto/richieste/{}", m.need)).into_response())
}

#[derive(Template)]
#[template(path = "offer.html")]
pub(crate) struct OfferPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    id: String,
    summary: String,
    state: String,
    /// What the owner may do with the offer now: (action, label).
    actions: Vec<(&'static str, &'static str)>,
    /// "Change it" (none once withdrawn), and the notice after a change.
    edit: Option<&'static str>,
    notice: Option<&'static str>,
    suggestions: Vec<(NeedLine, String, u8)>,
}

pub async fn offer_page(
    State(state): State<AppState>,
    signed: SignedPage,
    Path(id): Path<String>,
) -> PageResult {
    let SignedPage { l, ref p, uri, .. } = signed;
    let oid = OfferId::parse("id", &id)?;
    let o = super::service::offer(&state, oid)
        .await?
        .ok_or_else(|| ApiError::not_found("offer", &id))?;
    // Someone else's offer does not exist for them (as its state change answers).
    if o.owner != p.user_id {
        return Err(ApiError::not_found("offer", &id).into());
    }
    let w = words(l.lang);
    // A paused or withdrawn offer is suggested to nobody, and is shown nobody either.
    let sugg = if o.state == "active" {
        crate::help::service::suggestions_for_offer(&state, p, &o, 10).await?
    } else {
        vec![]
    };
    let page = OfferPage {
        l: &l,
        w,
        id: o.id.to_string(),
        state: offer_state_label(l.lang, &o.state),
        actions: offer_actions(l.lang, &o.state),
        edit: (o.state != "withdrawn").then_some(if l.lang == Lang::En {
            "Change the offer"
        } else {
            "Modifica l'offerta"
        }),
        notice: query_pairs(&uri)
            .contains_key("fatto")
            .then_some(if l.lang == Lang::En {
                "Offer changed."
            } else {
                "Offerta modificata."
            }),
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

#[derive(Template)]
#[template(path = "needs_map.html")]
pub(crate) struct MapPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    rows: Vec<crate::help::service::AreaCountView>,
    dots: Vec<(f64, f64, f64, String)>,
}

pub async fn map_page(State(state): State<AppState>, page: Page) -> PageResult {
    let Page { l, uri, .. } = page;
    let campaign = query_pairs(&uri)
        .get("campagna")
        .map(|s| CampaignId::parse("campagna", s))
        .transpose()?;
    let mut rows = crate::help::service::needs_by_area(&state, campaign).await?;
    for r in rows
        .iter_mut()
        .filter(|r| r.kind == "other" && l.lang == Lang::En)
    {
        r.name = "Other areas".into();
    }
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
    Ok(l.render(
        StatusCode::OK,
        &MapPage {
            l: &l,
            w: words(l.lang),
            rows,
            dots,
        },
    ))
}

#[derive(Template)]
#[template(path = "desk.html")]
pub(crate) struct DeskPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    people: Vec<(String, String, String)>,
    needs: Vec<NeedLine>,
    /// Proposed shared services: the members' lines and the cost of a visit and each share.
    shared: Vec<(Vec<NeedLine>, String, String)>,
    /// The campaigns taking requests today: (id, name), for the phone intake.
    campaigns: Vec<(String, String)>,
    cw: &'static crate::campaigns::words::CampaignWords,
    sw: &'static super::words::SharedWords,
    error: Option<(String, String)>,
}

pub(crate) async fn desk_page(
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
    let people = super::service::assisted_people(state, &orgs)
        .await?
        .into_iter()
        .map(|a| (a.user.to_string(), a.display_name, a.consent_reference))
        .collect();
    let mut needs = vec![];
    for n in super::service::needs(
        state,
        &trama_store::NeedFilter {
            organizations: Some(orgs),
            limit: 100,
            ..Default::default()
        },
    )
    .await?
    {
        // The desk sees each person's name and address: each such read is the person's to see.
        crate::help::service::audit_full_read(state, Some(p), &n, NeedAccess::Full).await?;
        needs.push(need_line(
            l.lang,
            &crate::help::service::need_view(&n, NeedAccess::Full),
        ));
    }
    let shared = crate::hubs::service::shared_services(state, p, None, None)
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
    let campaigns = crate::campaigns::service::campaigns(state)
        .await?
        .into_iter()
        .filter(|c| {
            crate::campaigns::service::phase(state, c)
                == trama_core::campaigns::CampaignPhase::Running
        })
        .map(|c| (c.id.to_string(), c.name))
        .collect();
    let status = crate::web::form_status(&error);
    Ok(l.render(
        status,
        &DeskPage {
            campaigns,
            cw: crate::campaigns::words::campaign_words(l.lang),
            sw: super::words::shared_words(l.lang),
            l,
            w: words(l.lang),
            people,
            needs,
            shared,
            error,
        },
    ))
}

pub async fn desk(State(state): State<AppState>, signed: SignedPage) -> PageResult {
    let SignedPage { l, ref p, .. } = signed;
    desk_page(&state, &l, p, None)
        .await
        .map_err(PageError::from)
}

pub async fn desk_register(
    State(state): State<AppState>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let Page { l, .. } = page;
    let p = &p;
    let req = crate::help::service::PersonRequest {
        display_name: field(&form, "display_name").into(),
        consent_reference: field(&form, "consent_reference").into(),
        phone: Some(field(&form, "phone").to_string()),
        organization_id: None,
        locale: Some(l.lang.code().into()),
    };
    Ok(
        match crate::help::service::register_person(&state, p, &req)
            .await
            .map_err(ApiError::from)
        {
            Ok(id) => {
                // Registered for a campaign's phone intake: its form opens, already urgent.
                let campaign = CampaignId::parse("campagna", field(&form, "campagna"))
                    .map(|c| format!("&campagna={c}"))
                    .unwrap_or_default();
                Redirect::to(&format!("/aiuto/chiedi?per={id}{campaign}")).into_response()
            }
            Err(ApiError::InvalidBody(e)) => {
                desk_page(
                    &state,
                    &l,
                    p,
                    Some((e.field.clone(), crate::web::say::field_error(l.lang, &e))),
                )
                .await?
            }
            Err(e) => return Err(PageError::from(e)),
        },
    )
}
