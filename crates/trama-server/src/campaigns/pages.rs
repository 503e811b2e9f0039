//! The campaigns' pages: the list (public), a campaign with its live figures, the districts'
//! hubs and where help is missing (public), and the territory admin's forms to open, dispatch
//! and close one.

use super::words::{CampaignWords, campaign_words, kind_label, phase_label};
use crate::auth::Viewer;
use crate::error::ApiError;
use crate::policy::Routes;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::form::{Opt, PageError, PageResult, SignedForm, SignedPage, field, fields};
use crate::web::form::{Page, query_pairs};
use crate::web::i18n::{Lang, date_words};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use trama_core::auth::{Principal, Role};
use trama_core::campaigns::{CampaignPhase, CampaignRequest, KINDS};
use trama_core::ids::CampaignId;
use trama_core::taxonomy::{AIUTI, term_id};
use trama_store::CampaignRow;

/// The pages of this feature, each with its policy (docs/SECURITY.md).
pub fn routes() -> Routes {
    use crate::policy::Scope;
    use crate::web::policies as may;
    let territory = || may::signed(Scope::Territory, "the territory admin");
    Routes::pages()
        .get("/campagne", campaigns, may::anyone())
        .get("/campagne/nuova", new_form, territory())
        .post("/campagne/nuova", new_submit, territory())
        .get("/campagne/{id}", campaign, may::anyone())
        .post("/campagne/{id}/assegna", campaign_dispatch, territory())
        .post("/campagne/{id}/chiudi", close_submit, territory())
}

/// A campaign as a line of the list or the head of its page: everything in words.
pub(crate) struct CampaignLine {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub phase: &'static str,
    pub running: bool,
    pub days: String,
    pub districts: String,
    pub categories: String,
    pub counts: trama_store::CampaignCounts,
}

fn is_admin(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| p.has_role(Role::TerritoryAdmin))
}

async fn line(state: &AppState, lang: Lang, c: &CampaignRow) -> Result<CampaignLine, ApiError> {
    let phase = super::service::phase(state, c);
    let days = match (c.ends_on, lang) {
        (Some(e), Lang::En) => format!(
            "from {} to {}",
            date_words(c.starts_on, lang),
            date_words(e, lang)
        ),
        (Some(e), _) => format!("{} {}", on_day("dal", c.starts_on), on_day("al", e)),
        (None, Lang::En) => format!("from {}, until closed", date_words(c.starts_on, lang)),
        (None, _) => format!("{}, fino alla chiusura", on_day("dal", c.starts_on)),
    };
    // Names of districts hold commas ("Municipio 2 – Stazione Centrale, Gorla…").
    let districts = if c.areas.is_empty() {
        campaign_words(lang).whole_territory.to_string()
    } else {
        let known = super::service::districts(state).await?;
        c.areas
            .iter()
            .map(|code| {
                known
                    .iter()
                    .find(|a| &a.code == code)
                    .map(|a| a.name.clone())
                    .unwrap_or_else(|| code.clone())
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let categories = c
        .categories
        .iter()
        .filter_map(|t| AIUTI.iter().find(|s| term_id(s.code) == *t))
        .map(|s| if lang == Lang::En { s.en } else { s.it })
        .collect::<Vec<_>>()
        .join(", ");
    Ok(CampaignLine {
        id: c.id.to_string(),
        name: c.name.clone(),
        kind: kind_label(&c.kind, lang),
        phase: phase_label(phase, lang),
        running: phase == CampaignPhase::Running,
        days,
        districts,
        categories,
        counts: super::service::counts(state, c.id).await?,
    })
}

/// "dal 7 dicembre 2026", "dall'8 dicembre 2026" (Italian elides before otto and undici).
fn on_day(preposition: &str, d: time::Date) -> String {
    let words = date_words(d, Lang::It);
    if matches!(d.day(), 8 | 11) {
        format!("{preposition}l'{words}")
    } else {
        format!("{preposition} {words}")
    }
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct CampaignsPage<'a> {
    l: &'a Layout,
    w: &'static CampaignWords,
    current: Vec<CampaignLine>,
    ended: Vec<CampaignLine>,
    is_admin: bool,
}

/// `/campagne`: the campaigns running or coming up, with their figures, then the past ones.
pub async fn campaigns(State(state): State<AppState>, page: Page) -> PageResult {
    let Page { l, viewer, .. } = page;
    let mut current = Vec::new();
    let mut ended = Vec::new();
    for c in super::service::campaigns(&state).await? {
        let ended_now = super::service::phase(&state, &c) == CampaignPhase::Ended;
        let line = line(&state, l.lang, &c).await?;
        if ended_now {
            ended.push(line);
        } else {
            current.push(line);
        }
    }
    Ok(l.render(
        StatusCode::OK,
        &CampaignsPage {
            l: &l,
            w: campaign_words(l.lang),
            current,
            ended,
            is_admin: is_admin(viewer.principal.as_ref()),
        },
    ))
}

#[derive(Template)]
#[template(path = "campaign_form.html")]
struct CampaignFormPage<'a> {
    l: &'a Layout,
    w: &'static CampaignWords,
    error: Option<(String, String)>,
    name: String,
    kinds: Vec<Opt>,
    description: String,
    categories: Vec<Opt>,
    starts_on: String,
    ends_on: String,
    districts: Vec<Opt>,
}

/// The form as typed (or as it first opens).
struct Typed {
    name: String,
    kind: String,
    description: String,
    categories: Vec<String>,
    starts_on: String,
    ends_on: String,
    areas: Vec<String>,
}

async fn form_render(
    state: &AppState,
    l: &Layout,
    typed: &Typed,
    error: Option<(String, String)>,
) -> Result<Response, ApiError> {
    let lang = l.lang;
    let checked = |list: &[String], v: &str| list.iter().any(|x| x == v);
    let districts = super::service::districts(state)
        .await?
        .into_iter()
        .map(|a| Opt {
            selected: checked(&typed.areas, &a.code),
            value: a.code,
            label: a.name,
        })
        .collect();
    let status = crate::web::form_status(&error);
    Ok(l.render(
        status,
        &CampaignFormPage {
            l,
            w: campaign_words(lang),
            error,
            name: typed.name.clone(),
            kinds: KINDS
                .iter()
                .map(|k| Opt {
                    value: k.to_string(),
                    label: kind_label(k, lang).to_string(),
                    selected: *k == typed.kind,
                })
                .collect(),
            description: typed.description.clone(),
            categories: AIUTI
                .iter()
                .map(|t| Opt {
                    value: t.code.to_string(),
                    label: (if lang == Lang::En { t.en } else { t.it }).to_string(),
                    selected: checked(&typed.categories, t.code),
                })
                .collect(),
            starts_on: typed.starts_on.clone(),
            ends_on: typed.ends_on.clone(),
            districts,
        },
    ))
}

/// `/campagne/nuova`: the territory admin's form to open a campaign.
pub async fn new_form(State(state): State<AppState>, signed: SignedPage) -> PageResult {
    super::service::territory_only(&signed.p, "opens campaigns")?;
    let today = state.now_local().date();
    let typed = Typed {
        name: String::new(),
        kind: "other".into(),
        description: String::new(),
        categories: vec!["H1".into(), "H2".into()],
        starts_on: trama_core::moment::format_date(today),
        ends_on: String::new(),
        areas: Vec::new(),
    };
    Ok(form_render(&state, &signed.l, &typed, None).await?)
}

pub async fn new_submit(
    State(state): State<AppState>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let l = page.l;
    let typed = Typed {
        name: field(&form, "name").into(),
        kind: field(&form, "kind").into(),
        description: field(&form, "description").into(),
        categories: fields(&form, "categories"),
        starts_on: field(&form, "starts_on").into(),
        ends_on: field(&form, "ends_on").into(),
        areas: fields(&form, "areas"),
    };
    let asked = CampaignRequest {
        name: typed.name.clone(),
        kind: typed.kind.clone(),
        description: typed.description.clone(),
        categories: typed.categories.clone(),
        starts_on: Some(typed.starts_on.clone()),
        ends_on: Some(typed.ends_on.clone()),
        areas: typed.areas.clone(),
    };
    match super::service::create_campaign(&state, &p, &asked)
        .await
        .map_err(ApiError::from)
    {
        Ok(id) => Ok(Redirect::to(&format!("/campagne/{id}?fatto=aperta")).into_response()),
        Err(
            ApiError::InvalidBody(e)
            | ApiError::InvalidParameter(e)
            | ApiError::InvalidReference(e),
        ) => {
            // A checkbox list names its first box: the message links to the group's first.
            let anchor = match e.field.split('[').next().unwrap_or_default() {
                "categories" => "cat-H1".to_string(),
                "areas" => "districts".to_string(),
                f => f.to_string(),
            };
            let said = crate::web::say::field_error(l.lang, &e);
            Ok(form_render(&state, &l, &typed, Some((anchor, said))).await?)
        }
        Err(e) => Err(PageError::from(e)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_read_as_italian_says_them() {
        let d = |s: &str| trama_core::moment::parse_date("d", s).unwrap();
        assert_eq!(super::on_day("dal", d("2026-12-07")), "dal 7 dicembre 2026");
        assert_eq!(
            super::on_day("dal", d("2026-12-08")),
            "dall'8 dicembre 2026"
        );
        assert_eq!(super::on_day("al", d("2027-01-11")), "all'11 gennaio 2027");
    }
}

#[derive(Template)]
#[template(path = "campaign.html")]
pub(crate) struct CampaignPage<'a> {
    l: &'a Layout,
    w: &'static CampaignWords,
    c: CampaignLine,
    description: String,
    notice: Option<String>,
    /// Areas where the campaign's requests still wait: (name, open, urgent).
    missing: Vec<(String, i64, i64)>,
    /// The hubs in its districts: (name, address).
    hubs: Vec<(String, String)>,
    can_dispatch: bool,
    can_close: bool,
}

pub(crate) async fn campaign_render(
    state: &AppState,
    l: &Layout,
    viewer: &Viewer,
    id: &str,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let cid = CampaignId::parse("id", id)?;
    let c = super::service::campaign(state, cid)
        .await?
        .ok_or_else(|| ApiError::not_found("campaign", id))?;
    // A public page: areas with few requests come counted together (`needs_by_area`), last.
    let mut missing: Vec<(String, i64, i64)> = Vec::new();
    let mut rest = None;
    for a in crate::help::service::needs_by_area(state, Some(cid)).await? {
        if a.kind == "other" {
            let other = if l.lang == Lang::En {
                "Other areas".to_string()
            } else {
                a.name
            };
            rest = Some((other, a.open, a.urgent));
        } else {
            missing.push((a.name, a.open, a.urgent));
        }
    }
    missing.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    missing.extend(rest);
    let hubs = super::service::campaign_hubs(state, &c)
        .await?
        .into_iter()
        .map(|h| (h.name, h.address.unwrap_or_default()))
        .collect();
    let admin = is_admin(viewer.principal.as_ref());
    let c_line = line(state, l.lang, &c).await?;
    // Needs gathered go on after a campaign ends: volunteers may still be sent.
    let can_dispatch = admin && c_line.counts.uncovered > 0;
    Ok(l.render(
        StatusCode::OK,
        &CampaignPage {
            l,
            w: campaign_words(l.lang),
            description: c.description.clone(),
            c: c_line,
            notice,
            missing,
            hubs,
            can_dispatch,
            can_close: admin && c.state != "closed",
        },
    ))
}

pub async fn campaign(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> PageResult {
    let Page { l, viewer, uri, .. } = page;
    let w = campaign_words(l.lang);
    let notice = match query_pairs(&uri).get("fatto").map(String::as_str) {
        Some("aperta") => Some(w.created.to_string()),
        Some("chiusa") => Some(w.closed_notice.to_string()),
        _ => None,
    };
    campaign_render(&state, &l, &viewer, &id, notice)
        .await
        .map_err(PageError::from)
}

pub async fn campaign_dispatch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { page, p, .. }: SignedForm,
) -> PageResult {
    let Page { l, viewer, .. } = page;
    let cid = CampaignId::parse("id", &id)?;
    if super::service::campaign(&state, cid).await?.is_none() {
        return Err(ApiError::not_found("campaign", &id).into());
    }
    let r = super::service::run_batch(&state, &p, Some(cid), false).await?;
    let w = campaign_words(l.lang);
    let notice = format!(
        "{}: {} · {} {} / {} · {} {}",
        w.dispatched,
        r.matches_created,
        w.covered,
        r.covered_units,
        r.need_units,
        w.uncovered,
        r.uncovered_units
    );
    Ok(campaign_render(&state, &l, &viewer, &id, Some(notice)).await?)
}

pub async fn close_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { p, .. }: SignedForm,
) -> PageResult {
    let cid = CampaignId::parse("id", &id)?;
    super::service::close_campaign(&state, &p, cid).await?;
    Ok(Redirect::to(&format!("/campagne/{cid}?fatto=chiusa")).into_response())
}
