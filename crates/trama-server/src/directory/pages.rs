//! The directory in the browser: search, a service's and an organisation's pages (`/cerca`,
//! `/servizi`, `/organizzazioni`). Managing one's own services is `manage_pages`.

use crate::error::ApiError;
use crate::policy::Routes;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::form::{Page, PageResult, not_found, query_pairs};
use crate::web::map::{MapPoint, MapView, map_view};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use std::collections::HashMap;
use trama_core::hsds::Service;
use trama_core::ids::{OrganizationId, ServiceId, TaxonomyTermId};
use trama_core::query::ServiceQuery;
use trama_core::schedule::WeeklyHours;
use trama_store::SearchHit;

/// The pages of this feature, each with its policy (docs/SECURITY.md).
pub fn routes() -> Routes {
    use crate::web::policies as may;
    Routes::pages()
        .get("/", home, may::anyone())
        .get("/cerca", search, may::anyone())
        .get("/servizi/{id}", service, may::anyone())
        .get("/organizzazioni/{id}", organization, may::anyone())
}

/// A category for the select boxes and the home page.
pub struct CategoryView {
    pub id: String,
    pub label: String,
    pub children: Vec<CategoryView>,
}

pub(crate) async fn categories(
    state: &AppState,
    lang: crate::web::i18n::Lang,
) -> Result<Vec<CategoryView>, ApiError> {
    let page = trama_core::hsds::PageRequest {
        page: 1,
        per_page: 500,
    };
    let taxonomy = trama_core::taxonomy::seed_taxonomies()
        .into_iter()
        .next()
        .map(|s| trama_core::ids::TaxonomyId(s.taxonomy.id));
    let (_, terms) = super::service::list_terms(state, taxonomy, None, false, None, page).await?;
    let label = |t: &trama_store::TermRow| match (lang, &t.name_en) {
        (crate::web::i18n::Lang::En, Some(en)) => en.clone(),
        _ => t.term.name.clone(),
    };
    let mut out: Vec<CategoryView> = terms
        .iter()
        .filter(|t| t.term.parent_id.is_none())
        .map(|t| CategoryView {
            id: t.term.id.to_string(),
            label: label(t),
            children: vec![],
        })
        .collect();
    for t in terms.iter().filter(|t| t.term.parent_id.is_some()) {
        if let Some(parent) = out
            .iter_mut()
            .find(|p| Some(p.id.as_str()) == t.term.parent_id.map(|u| u.to_string()).as_deref())
        {
            parent.children.push(CategoryView {
                id: t.term.id.to_string(),
                label: label(t),
                children: vec![],
            });
        }
    }
    Ok(out)
}

/// A place to search near: landmarks from the settings, then the territory's areas.
pub struct PlaceView {
    pub key: String,
    pub label: String,
    pub lat: f64,
    pub lon: f64,
}

pub(crate) async fn places(state: &AppState) -> Result<Vec<PlaceView>, ApiError> {
    let mut out: Vec<PlaceView> = state
        .config
        .map
        .places
        .iter()
        .enumerate()
        .map(|(i, (name, lat, lon))| PlaceView {
            key: format!("p{i}"),
            label: name.clone(),
            lat: *lat,
            lon: *lon,
        })
        .collect();
    for kind in ["municipio", "nil"] {
        let mut areas = super::service::areas(state, kind).await?;
        if kind == "nil" {
            areas.sort_by(|a, b| a.name.cmp(&b.name));
        }
        for a in areas {
            if let Some(c) = a.centroid {
                out.push(PlaceView {
                    key: format!("{kind}:{}", a.code),
                    label: a.name,
                    lat: c.lat(),
                    lon: c.lon(),
                });
            }
        }
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomePage<'a> {
    l: &'a Layout,
    form: SearchForm,
    places: Vec<PlaceView>,
    categories: Vec<CategoryView>,
}

/// What the search form holds (echoed back on the results page).
#[derive(Default, Clone)]
pub struct SearchForm {
    pub q: String,
    pub place: String,
    pub radius: String,
    pub category: String,
    pub open_now: bool,
    pub funder: String,
    /// An address or a neighbourhood typed instead of a place of the list.
    pub address: String,
    /// The browser's position ("use my position"), when given.
    pub lat: String,
    pub lon: String,
}

impl SearchForm {
    fn from(p: &HashMap<String, String>) -> Self {
        Self {
            q: p.get("q").cloned().unwrap_or_default(),
            place: p.get("luogo").cloned().unwrap_or_default(),
            radius: p
                .get("raggio")
                .cloned()
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "2".into()),
            category: p.get("categoria").cloned().unwrap_or_default(),
            open_now: p
                .get("aperto")
                .is_some_and(|v| v == "1" || v == "on" || v == "true"),
            funder: p.get("finanziatore").cloned().unwrap_or_default(),
            address: p.get("indirizzo").cloned().unwrap_or_default(),
            lat: p.get("lat").cloned().unwrap_or_default(),
            lon: p.get("lon").cloned().unwrap_or_default(),
        }
    }
}

pub async fn home(State(state): State<AppState>, page: Page) -> PageResult {
    let Page { l, .. } = page;
    let page = HomePage {
        l: &l,
        form: SearchForm {
            radius: "2".into(),
            ..Default::default()
        },
        places: places(&state).await?,
        categories: categories(&state, l.lang).await?,
    };
    Ok(l.render(StatusCode::OK, &page))
}

pub struct HitView {
    pub id: String,
    pub name: String,
    pub organization: String,
    pub distance: Option<String>,
    pub open_now: bool,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub n: usize,
    /// Delivered at a community hub.
    pub hub: bool,
}

pub(crate) fn km(d: f64, lang: crate::web::i18n::Lang) -> String {
    let s = if d < 10.0 {
        format!("{d:.1}")
    } else {
        format!("{d:.0}")
    };
    if lang == crate::web::i18n::Lang::It {
        s.replace('.', ",")
    } else {
        s
    }
}

#[derive(Template)]
#[template(path = "search.html")]
pub(crate) struct SearchPage<'a> {
    l: &'a Layout,
    form: SearchForm,
    places: Vec<PlaceView>,
    categories: Vec<CategoryView>,
    error: Option<String>,
    total: u64,
    hits: Vec<HitView>,
    map: MapView,
    tile_url: String,
    attribution: String,
    /// The place searched from, by its name.
    near: Option<String>,
    /// Said when the place searched from lies outside the territory's areas.
    outside: Option<String>,
    page: u64,
    pages: u64,
    prev_url: Option<String>,
    next_url: Option<String>,
}

pub(crate) fn hit_view(h: &SearchHit, n: usize, lang: crate::web::i18n::Lang) -> HitView {
    HitView {
        id: h.service.id.to_string(),
        name: h.service.name.clone(),
        organization: h.organization_name.clone().unwrap_or_default(),
        distance: h.distance_km.map(|d| km(d, lang)),
        open_now: h.open_now,
        lat: h.point.map(|p| p.1.lat()),
        lon: h.point.map(|p| p.1.lon()),
        n,
        hub: false,
    }
}

pub async fn search(State(state): State<AppState>, page: Page) -> PageResult {
    let Page { l, uri, .. } = page;
    let p = query_pairs(&uri);
    let form = SearchForm::from(&p);
    let all_places = places(&state).await?;
    // The page's own parameter names, in the user's words, become the API's.
    // Where from: an address or a neighbourhood typed, else a place of the list, else the
    // browser's position; with the name the page shows for it.
    let mut unknown_place = None;
    let typed = if form.address.trim().is_empty() {
        None
    } else {
        match super::service::resolve_place(&state, &form.address).await? {
            Some((name, c)) => Some((name, c.lat().to_string(), c.lon().to_string())),
            None => {
                unknown_place = Some(trama_core::FieldError::new("address", l.t.address_unknown));
                None
            }
        }
    };
    let listed = all_places.iter().find(|pl| pl.key == form.place);
    if listed.is_none() && !form.place.is_empty() && unknown_place.is_none() {
        unknown_place = Some(trama_core::FieldError::new(
            "place",
            "is not one of the places listed",
        ));
    }
    let from = typed.or_else(|| match listed {
        Some(pl) => Some((pl.label.clone(), pl.lat.to_string(), pl.lon.to_string())),
        None => match (p.get("lat"), p.get("lon")) {
            (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => {
                Some((l.t.my_position_name.to_string(), a.clone(), b.clone()))
            }
            _ => None,
        },
    });
    let near = from.as_ref().map(|(name, _, _)| name.clone());
    let centre = from.map(|(_, lat, lon)| (lat, lon));
    let mut api: HashMap<&str, String> = HashMap::new();
    api.insert("search", form.q.clone());
    api.insert("taxonomy_term_id", form.category.clone());
    api.insert("funder", form.funder.clone());
    api.insert("per_page", "10".into());
    if let Some(pg) = p.get("pagina") {
        api.insert("page", pg.clone());
    }
    if form.open_now {
        api.insert("open_now", "true".into());
    }
    if let Some((lat, lon)) = &centre {
        api.insert("lat", lat.clone());
        api.insert("lon", lon.clone());
        api.insert("radius_km", form.radius.clone());
    }
    let parsed = ServiceQuery::parse(|k| api.get(k).map(String::as_str));
    let cats = categories(&state, l.lang).await?;
    let (result, error, q) = match parsed {
        Ok(q) => match super::service::search(&state, &q)
            .await
            .map_err(ApiError::from)
        {
            Ok(r) => (Some(r), None, Some(q)),
            Err(ApiError::InvalidParameter(f)) => {
                (None, Some(crate::web::say::field_error(l.lang, &f)), None)
            }
            Err(e) => return Err(e.into()),
        },
        Err(f) => (None, Some(crate::web::say::field_error(l.lang, &f)), None),
    };
    let (result, error, q) = match unknown_place {
        Some(f) => (None, Some(crate::web::say::field_error(l.lang, &f)), None),
        None => (result, error, q),
    };
    let (total, mut hits) = match &result {
        Some(r) => (
            r.total,
            r.hits
                .iter()
                .enumerate()
                .map(|(i, h)| hit_view(h, i + 1, l.lang))
                .collect::<Vec<_>>(),
        ),
        None => (0, vec![]),
    };
    if let Some(r) = &result {
        let ids: Vec<_> = r.hits.iter().map(|h| h.service.id).collect();
        let at_hubs = super::service::services_at_hubs(&state, &ids).await?;
        for (view, hit) in hits.iter_mut().zip(&r.hits) {
            view.hub = at_hubs.contains(&hit.service.id);
        }
    }
    let centre_c = q.as_ref().and_then(|q| q.near.as_ref().map(|n| n.point));
    // A point outside every area the territory knows (with their shapes): the list is of this
    // territory's services, and the page says so instead of a bare "0".
    let outside = match centre_c {
        Some(c) => {
            let areas = crate::territory::areas(&state).await?;
            let shaped: Vec<_> = areas.1.iter().filter(|a| !a.polygons.is_empty()).collect();
            (!shaped.is_empty() && !shaped.iter().any(|a| a.contains(&c))).then(|| {
                if l.lang == crate::web::i18n::Lang::En {
                    format!(
                        "This place is outside {}: Trama lists the services of {} only, and the nearest may be far.",
                        l.territory, l.territory
                    )
                } else {
                    format!(
                        "Questo luogo è fuori da {}: Trama elenca solo i servizi di {}, e i più vicini possono essere lontani.",
                        l.territory, l.territory
                    )
                }
            })
        }
        None => None,
    };
    let points: Vec<MapPoint> = hits
        .iter()
        .filter_map(|h| {
            Some(MapPoint {
                lat: h.lat?,
                lon: h.lon?,
                n: h.n,
                name: h.name.clone(),
                url: Some(format!("/servizi/{}", h.id)),
            })
        })
        .collect();
    let map = map_view(&state, &points, centre_c, 1.0).await?;
    let per_page = 10u64;
    let page = q.as_ref().map(|q| q.page.page as u64).unwrap_or(1);
    let pages = total.div_ceil(per_page).max(1);
    let link = |pg: u64| {
        let mut pairs: Vec<(String, String)> = p
            .iter()
            .filter(|(k, _)| *k != "pagina")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.sort();
        pairs.push(("pagina".into(), pg.to_string()));
        format!(
            "/cerca?{}",
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
        )
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page_view = SearchPage {
        l: &l,
        map,
        form,
        places: all_places,
        categories: cats,
        error,
        total,
        hits,
        near,
        outside,
        tile_url: state.config.map.tile_url.clone(),
        attribution: state.config.map.attribution.clone(),
        page,
        pages,
        prev_url: (page > 1).then(|| link(page - 1)),
        next_url: (page < pages).then(|| link(page + 1)),
    };
    Ok(l.render(status, &page_view))
}

/// One weekday's opening, for display.
pub struct DayHours {
    pub day: &'static str,
    pub hours: String,
}

pub(crate) fn hours_view(h: &WeeklyHours, lang: crate::web::i18n::Lang) -> Vec<DayHours> {
    let t = lang.msg();
    (0..7u8)
        .filter_map(|d| {
            let spans: Vec<String> = h
                .on(d)
                .map(|w| {
                    format!(
                        "{:02}:{:02}–{:02}:{:02}",
                        w.opens / 60,
                        w.opens % 60,
                        w.closes / 60,
                        w.closes % 60
                    )
                })
                .collect();
            (!spans.is_empty()).then(|| DayHours {
                day: t.days[d as usize],
                hours: spans.join(", "),
            })
        })
        .collect()
}

pub(crate) fn status_label(status: &str, lang: crate::web::i18n::Lang) -> &'static str {
    let i = trama_core::hsds::SERVICE_STATUSES
        .iter()
        .position(|s| *s == status)
        .unwrap_or(0);
    lang.msg().status_names[i]
}

#[derive(Template)]
#[template(path = "service.html")]
pub(crate) struct ServicePage<'a> {
    l: &'a Layout,
    s: Service,
    status: &'static str,
    open_now: bool,
    hours: Vec<DayHours>,
    categories: Vec<String>,
    /// The languages spoken, by name in the page's language.
    languages: Vec<String>,
    places: Vec<PlaceLine>,
    costs: Vec<String>,
    can_edit: bool,
    saved: bool,
    /// The unsaved form, when the page is a preview.
    preview: Option<Preview>,
    /// The ages it takes, in words ("da 65 anni").
    ages: Option<String>,
    w: &'static super::words::ServiceWords,
    map: MapView,
    tile_url: String,
    attribution: String,
}

/// A language a service speaks, by its name in `lang` when Trama knows the code (ISO 639-1),
/// else as the record names it.
fn language_name(g: &trama_core::hsds::Language, lang: crate::web::i18n::Lang) -> Option<String> {
    let code = g.code.as_deref().map(str::to_lowercase);
    let known = code.as_deref().and_then(|c| {
        trama_core::needs::LANGUAGES
            .iter()
            .find(|(k, _, _)| *k == c)
            .map(|(_, it, en)| {
                if lang == crate::web::i18n::Lang::En {
                    *en
                } else {
                    *it
                }
            })
    });
    known
        .map(str::to_string)
        .or_else(|| g.name.clone())
        .or(code)
}

/// The ages a service takes, in words; `None` when it takes any age.
fn ages_words(min: Option<f64>, max: Option<f64>, lang: crate::web::i18n::Lang) -> Option<String> {
    let it = lang == crate::web::i18n::Lang::It;
    // Ages as people write them: "16,5" in Italian.
    let show = |a: f64| {
        let t = a.to_string();
        if it { t.replace('.', ",") } else { t }
    };
    let (min, max) = (min.map(show), max.map(show));
    Some(match (min, max) {
        (None, None) => return None,
        (Some(a), None) if it => format!("da {a} anni"),
        (Some(a), None) => format!("{a} and over"),
        (None, Some(b)) if it => format!("fino a {b} anni"),
        (None, Some(b)) => format!("up to {b}"),
        (Some(a), Some(b)) if it => format!("da {a} a {b} anni"),
        (Some(a), Some(b)) => format!("{a} to {b}"),
    })
}

pub struct PlaceLine {
    pub name: String,
    pub address: String,
}

impl PlaceLine {
    /// A place's name and first address, as a page lists it.
    fn of(loc: &trama_core::hsds::Location) -> Self {
        PlaceLine {
            name: loc.name.clone().unwrap_or_default(),
            address: loc
                .addresses
                .first()
                .map(|a| format!("{}, {} {}", a.address_1, a.postal_code, a.city))
                .unwrap_or_default(),
        }
    }
}

pub async fn service(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> PageResult {
    let Page { l, viewer, uri, .. } = page;
    let Ok(sid) = ServiceId::parse("id", &id) else {
        return Ok(not_found(&l));
    };
    let Some(d) = super::service::get_service(&state, sid).await? else {
        return Ok(not_found(&l));
    };
    let can_edit = viewer.principal.as_ref().is_some_and(|p| {
        d.service
            .organization_id
            .is_some_and(|o| p.can_edit_organization(OrganizationId(o)))
    });
    let shown = ServiceShown {
        can_edit,
        saved: query_pairs(&uri).contains_key("salvato"),
        preview: None,
    };
    render_service(&state, &l, d.service, &d.weekly_hours, shown).await
}

/// A service form shown as its page before it is saved: the fields go back with the answer.
pub struct Preview {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

/// How a service page is shown: to someone who may edit it, just after saving, or as a preview.
pub(crate) struct ServiceShown {
    pub can_edit: bool,
    pub saved: bool,
    pub preview: Option<Preview>,
}

/// A service's public page: its document with its places nested, its weekly hours.
pub(crate) async fn render_service(
    state: &AppState,
    l: &Layout,
    s: Service,
    weekly: &WeeklyHours,
    shown: ServiceShown,
) -> PageResult {
    let mut cats = vec![];
    for tid in trama_core::hsds::attribute_term_ids(&s.attributes) {
        if let Some(t) = super::service::get_term(state, TaxonomyTermId(tid)).await? {
            cats.push(match (l.lang, t.name_en) {
                (crate::web::i18n::Lang::En, Some(en)) => en,
                _ => t.term.name,
            });
        }
    }
    let places: Vec<PlaceLine> = s
        .service_at_locations
        .iter()
        .filter_map(|sal| sal.location.as_deref())
        .map(PlaceLine::of)
        .collect();
    let points: Vec<MapPoint> = s
        .service_at_locations
        .iter()
        .filter_map(|sal| sal.location.as_deref())
        .enumerate()
        .filter_map(|(i, loc)| {
            Some(MapPoint {
                lat: loc.latitude?,
                lon: loc.longitude?,
                n: i + 1,
                name: loc.name.clone().unwrap_or_else(|| s.name.clone()),
                url: None,
            })
        })
        .collect();
    let costs = s
        .cost_options
        .iter()
        .map(|c| {
            // Money shows with two decimals, in the page's language ("22,50 EUR" / "22.50 EUR").
            let amount = c.amount.map(|a| {
                let cents = trama_core::money::Cents::from_decimal("amount", a)
                    .map(|c| c.to_string())
                    .unwrap_or_else(|_| format!("{a:.2}"));
                let shown = if l.lang == crate::web::i18n::Lang::It {
                    cents.replace('.', ",")
                } else {
                    cents
                };
                format!(
                    "{shown} {}",
                    c.currency.clone().unwrap_or_else(|| "EUR".into())
                )
            });
            [c.option.clone(), amount]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ")
        })
        .collect();
    let map = map_view(state, &points, None, 1.5).await?;
    let page = ServicePage {
        l,
        status: status_label(&s.status, l.lang),
        open_now: weekly.is_open_at(state.now_local()),
        // The hours of this week (a summer-only schedule is not December's).
        hours: hours_view(&weekly.in_week_of(state.now_local().date()), l.lang),
        ages: ages_words(s.minimum_age, s.maximum_age, l.lang),
        w: super::words::service_words(l.lang),
        categories: cats,
        languages: s
            .languages
            .iter()
            .filter_map(|g| language_name(g, l.lang))
            .collect(),
        places,
        costs,
        can_edit: shown.can_edit && shown.preview.is_none(),
        saved: shown.saved,
        preview: shown.preview,
        map,
        tile_url: state.config.map.tile_url.clone(),
        attribution: state.config.map.attribution.clone(),
        s,
    };
    Ok(l.render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "organization.html")]
pub(crate) struct OrganizationPage<'a> {
    l: &'a Layout,
    o: trama_core::hsds::Organization,
    places: Vec<PlaceLine>,
}

pub async fn organization(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> PageResult {
    let Page { l, .. } = page;
    let Ok(oid) = OrganizationId::parse("id", &id) else {
        return Ok(not_found(&l));
    };
    let Some((o, _)) = super::service::get_organization(&state, oid).await? else {
        return Ok(not_found(&l));
    };
    let places = o.locations.iter().map(PlaceLine::of).collect();
    Ok(l.render(StatusCode::OK, &OrganizationPage { l: &l, o, places }))
}
