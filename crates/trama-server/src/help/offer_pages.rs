//! The offer form: offering time (`/aiuto/offri`) and rewriting one's offer
//! (`/aiuto/offerte/{id}/modifica`), one form for both, kept as typed when a field is wrong.

use super::pages::{area_choices, bilingual_opts, category_opts, day_opts};
use super::words::{Words, words};
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::form::{Form, Opt, PageError, PageResult, SignedForm, SignedPage, field, fields};
use crate::web::i18n::Lang;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use trama_core::auth::Principal;
use trama_core::geo::Coordinates;
use trama_core::ids::OfferId;
use trama_core::matching::instance::WindowSpec;
use trama_core::needs::{LANGUAGES, OfferForm, SKILLS};
use trama_core::taxonomy::{AIUTI, term_id};
use trama_store::OfferRow;

/// The offer as typed, or as stored when its owner opens it to change it.
pub(crate) struct OfferTyped {
    categories: Vec<String>,
    description: String,
    /// An area of the list; empty, when changing an offer, for "where it is now".
    area: String,
    radius: String,
    /// (day, from, to), rows left blank ignored.
    windows: Vec<(String, String, String)>,
    hours: String,
    capacity: String,
    languages: Vec<String>,
    skills: Vec<String>,
    organization: String,
}

impl OfferTyped {
    fn fresh() -> Self {
        Self {
            categories: vec!["H1".into()],
            description: String::new(),
            area: String::new(),
            radius: "1".into(),
            windows: vec![("tue".into(), "09:00".into(), "13:00".into())],
            hours: "4".into(),
            capacity: "2".into(),
            languages: vec!["it".into()],
            skills: Vec::new(),
            organization: String::new(),
        }
    }

    fn from_form(form: &Form) -> Self {
        let (days, froms, tos) = (
            fields(form, "day"),
            fields(form, "from"),
            fields(form, "to"),
        );
        let windows = days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let at = |v: &[String]| v.get(i).cloned().unwrap_or_default();
                (d.clone(), at(&froms), at(&tos))
            })
            .collect();
        Self {
            categories: fields(form, "category"),
            description: field(form, "description").into(),
            area: field(form, "area").into(),
            radius: field(form, "radius").into(),
            windows,
            hours: field(form, "hours").into(),
            capacity: field(form, "capacity").into(),
            languages: fields(form, "language"),
            skills: fields(form, "skill"),
            organization: field(form, "organization").into(),
        }
    }

    fn from_offer(o: &OfferRow) -> Self {
        let number = |x: f64| format!("{x}");
        Self {
            categories: o
                .categories
                .iter()
                .filter_map(|t| AIUTI.iter().find(|s| term_id(s.code) == *t))
                .map(|s| s.code.to_string())
                .collect(),
            description: o.description.clone(),
            area: String::new(),
            radius: number(o.radius_km),
            windows: o
                .availability
                .iter()
                .map(WindowSpec::of)
                .map(|w| (w.day, w.from, w.to))
                .collect(),
            hours: number(o.hours_per_week),
            capacity: o.capacity.to_string(),
            languages: o.languages.clone(),
            skills: o.skills.clone(),
            organization: String::new(),
        }
    }

    /// The offer the form asks for: its place is the area chosen, or (when changing an offer
    /// and no area is chosen) where it is now.
    async fn to_form(
        &self,
        state: &AppState,
        now_at: Option<Coordinates>,
    ) -> Result<OfferForm, ApiError> {
        let areas = area_choices(state).await?;
        let chosen = areas.iter().find(|a| a.0 == self.area).map(|a| (a.2, a.3));
        let (lat, lon) = match (chosen, now_at) {
            (Some(p), _) => p,
            (None, Some(c)) if self.area.is_empty() => (c.lat(), c.lon()),
            _ => {
                return Err(ApiError::InvalidBody(trama_core::FieldError::new(
                    "area",
                    "choose the neighbourhood",
                )));
            }
        };
        let num =
            |v: &str, f: &str| trama_core::bounded::decimal(f, v).map_err(ApiError::InvalidBody);
        Ok(OfferForm {
            categories: self.categories.clone(),
            description: self.description.clone(),
            lat,
            lon,
            radius_km: num(&self.radius, "radius_km")?,
            availability: self
                .windows
                .iter()
                .filter(|w| !w.0.is_empty())
                .map(|(day, from, to)| WindowSpec {
                    day: day.clone(),
                    from: from.clone(),
                    to: to.clone(),
                })
                .collect(),
            hours_per_week: num(&self.hours, "hours_per_week")?,
            capacity: trama_core::bounded::number("capacity", &self.capacity)
                .map_err(ApiError::InvalidBody)?,
            languages: self.languages.clone(),
            skills: self.skills.clone(),
            organization_id: Some(self.organization.clone()).filter(|o| !o.is_empty()),
        })
    }
}

/// A row of the form's hours.
pub(crate) struct WindowRow {
    days: Vec<Opt>,
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "offer_form.html")]
pub(crate) struct OfferFormPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    heading: &'static str,
    action: String,
    /// Changing an offer: its place may stay where it is.
    editing: bool,
    keep_place: &'static str,
    hours_hint: &'static str,
    categories: Vec<Opt>,
    areas: Vec<Opt>,
    windows: Vec<WindowRow>,
    languages: Vec<Opt>,
    skills: Vec<Opt>,
    /// On whose behalf: yourself, or an organisation you work for (none when you work for none
    /// or when changing an offer).
    organizations: Vec<Opt>,
    t: &'a OfferTyped,
    error: Option<(String, String)>,
}

/// The organisations a person may offer help for (those they work for), by name.
pub(crate) async fn offering_organizations(
    state: &AppState,
    p: &Principal,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for org in p.operator_organizations() {
        if let Some((o, _)) = crate::directory::service::get_organization(state, org).await? {
            out.push((org.to_string(), o.name));
        }
    }
    Ok(out)
}

/// Options with every value of `chosen` selected.
fn many(mut options: Vec<Opt>, chosen: &[String]) -> Vec<Opt> {
    for o in &mut options {
        o.selected = chosen.contains(&o.value);
    }
    options
}

/// Where a field's message points: the control that holds it.
fn anchor(field: &str) -> String {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    match base {
        "availability" => {
            let row = field
                .split_once('[')
                .and_then(|(_, r)| r.split_once(']'))
                .map(|(n, _)| n)
                .unwrap_or("0");
            let part = field.rsplit('.').next().unwrap_or("day");
            let part = if ["day", "from", "to"].contains(&part) {
                part
            } else {
                "day"
            };
            format!("{part}-{row}")
        }
        "categories" => "category".into(),
        "radius_km" => "radius".into(),
        "hours_per_week" => "hours".into(),
        "languages" => "lang-it".into(),
        "skills" => "skills".into(),
        "organization_id" => "organization".into(),
        f => f.into(),
    }
}

async fn render(
    state: &AppState,
    l: &Layout,
    p: &Principal,
    t: &OfferTyped,
    editing: Option<OfferId>,
    error: Option<(String, String)>,
) -> Result<Response, ApiError> {
    let w = words(l.lang);
    let en = l.lang == Lang::En;
    let areas = area_choices(state).await?;
    let organizations = match editing {
        Some(_) => Vec::new(),
        None => {
            let orgs = offering_organizations(state, p).await?;
            if orgs.is_empty() {
                Vec::new()
            } else {
                crate::web::form::opts(
                    std::iter::once((String::new(), w.as_myself.to_string())).chain(orgs),
                    &t.organization,
                )
            }
        }
    };
    // The hours typed, and a blank row to add one more.
    let mut windows: Vec<WindowRow> = t
        .windows
        .iter()
        .map(|(d, from, to)| WindowRow {
            days: day_opts(w, d),
            from: from.clone(),
            to: to.clone(),
        })
        .collect();
    windows.push(WindowRow {
        days: std::iter::once(Opt {
            value: String::new(),
            label: "—".into(),
            selected: true,
        })
        .chain(day_opts(w, ""))
        .collect(),
        from: String::new(),
        to: String::new(),
    });
    let page = OfferFormPage {
        l,
        w,
        heading: match (editing, en) {
            (Some(_), true) => "Change your offer",
            (Some(_), false) => "Modifica la tua offerta",
            (None, _) => w.offer,
        },
        action: match editing {
            Some(id) => format!("/aiuto/offerte/{id}/modifica"),
            None => "/aiuto/offri".into(),
        },
        editing: editing.is_some(),
        keep_place: if en {
            "Where it is now"
        } else {
            "Dove si trova ora"
        },
        hours_hint: if en {
            "One row per time; leave the last row blank if you need no more."
        } else {
            "Una riga per orario; lascia vuota l'ultima se non ne servono altri."
        },
        categories: many(category_opts(l.lang, ""), &t.categories),
        areas: crate::web::form::opts(areas.iter().map(|a| (a.0.clone(), a.1.clone())), &t.area),
        windows,
        languages: many(bilingual_opts(LANGUAGES, l.lang, ""), &t.languages),
        skills: many(bilingual_opts(SKILLS, l.lang, ""), &t.skills),
        organizations,
        t,
        error: error.clone(),
    };
    Ok(l.render_form(&error, &page))
}

/// `/aiuto/offri`: offering time.
pub async fn offer_form(State(state): State<AppState>, signed: SignedPage) -> PageResult {
    let mut t = OfferTyped::fresh();
    t.area = area_choices(&state)
        .await?
        .first()
        .map(|a| a.0.clone())
        .unwrap_or_default();
    render(&state, &signed.l, &signed.p, &t, None, None)
        .await
        .map_err(PageError::from)
}

/// What a wrong field says, next to it, in the reader's language.
fn said(l: &Layout, e: &trama_core::FieldError) -> Option<(String, String)> {
    Some((anchor(&e.field), crate::web::say::field_error(l.lang, e)))
}

pub async fn offer_submit(
    State(state): State<AppState>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let l = page.l;
    let t = OfferTyped::from_form(&form);
    let result = match t.to_form(&state, None).await {
        Ok(of) => crate::help::service::create_offer(&state, &p, &of)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    Ok(match result {
        Ok(id) => Redirect::to(&format!("/aiuto/offerte/{id}")).into_response(),
        // A limit reached (at most so many offers) is said on the form, which keeps what was
        // typed, like any mistake.
        Err(
            ApiError::InvalidBody(e)
            | ApiError::InvalidParameter(e)
            | ApiError::InvalidReference(e)
            | ApiError::Conflict(e),
        ) => render(&state, &l, &p, &t, None, said(&l, &e)).await?,
        Err(e) => return Err(PageError::from(e)),
    })
}

/// The owner's offer, or "not found" for anyone else (as its API answers).
async fn own_offer(state: &AppState, p: &Principal, id: &str) -> Result<OfferRow, ApiError> {
    let oid = OfferId::parse("id", id)?;
    match super::service::offer(state, oid).await? {
        Some(o) if o.owner == p.user_id => Ok(o),
        _ => Err(ApiError::not_found("offer", id)),
    }
}

/// `/aiuto/offerte/{id}/modifica`: the owner changes what, where, when and how much.
pub async fn edit_form(
    State(state): State<AppState>,
    signed: SignedPage,
    Path(id): Path<String>,
) -> PageResult {
    let o = own_offer(&state, &signed.p, &id).await?;
    if o.state == "withdrawn" {
        return Err(ApiError::Conflict(trama_core::FieldError::new(
            "state",
            "an offer that is withdrawn cannot be changed",
        ))
        .into());
    }
    let t = OfferTyped::from_offer(&o);
    Ok(render(&state, &signed.l, &signed.p, &t, Some(o.id), None).await?)
}

pub async fn edit_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let l = page.l;
    let o = own_offer(&state, &p, &id).await?;
    let t = OfferTyped::from_form(&form);
    let result = match t.to_form(&state, Some(o.point)).await {
        Ok(of) => crate::help::service::update_offer(&state, &p, o.id, &of)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    Ok(match result {
        Ok(_) => Redirect::to(&format!("/aiuto/offerte/{}?fatto=modificata", o.id)).into_response(),
        Err(
            ApiError::InvalidBody(e)
            | ApiError::InvalidParameter(e)
            | ApiError::InvalidReference(e)
            | ApiError::Conflict(e),
        ) => render(&state, &l, &p, &t, Some(o.id), said(&l, &e)).await?,
        Err(e) => return Err(PageError::from(e)),
    })
}
