//! An organisation manages its services in the browser (`/gestione`): the list, the service
//! form (hours per day, costs, who it is for, languages), a preview of the page as it will
//! appear, saving and deleting.

use super::pages::{CategoryView, Preview, ServiceShown, categories, render_service, status_label};
use super::service::{remove_service, save_service};
use super::words::{ServiceWords, service_words};
use crate::error::ApiError;
use crate::policy::Routes;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::form::{
    Form, Page, PageResult, SignedForm, SignedPage, field, not_found, query_pairs, refuse,
};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use trama_core::auth::Principal;
use trama_core::hsds::form::{SPANS_PER_DAY, span_field};
use trama_core::hsds::{Service, ServiceForm};
use trama_core::ids::{OrganizationId, ServiceId};
use trama_core::schedule::WeeklyHours;
use uuid::Uuid;

/// The pages of this feature, each with its policy (docs/SECURITY.md).
pub fn routes() -> Routes {
    use crate::web::policies as may;
    Routes::pages()
        .get("/gestione", manage, may::org())
        .get("/gestione/servizi/nuovo", new_service_form, may::org())
        .post("/gestione/servizi/nuovo", new_service_submit, may::org())
        .get("/gestione/servizi/{id}", edit_service_form, may::org())
        .post("/gestione/servizi/{id}", edit_service_submit, may::org())
        .post(
            "/gestione/servizi/{id}/elimina",
            delete_service_submit,
            may::org(),
        )
}

pub struct ManagedService {
    pub id: String,
    pub name: String,
    pub status: &'static str,
}

pub struct ManagedOrg {
    pub id: String,
    pub name: String,
    pub services: Vec<ManagedService>,
}

#[derive(Template)]
#[template(path = "manage.html")]
pub(crate) struct ManagePage<'a> {
    l: &'a Layout,
    orgs: Vec<ManagedOrg>,
    deleted: bool,
}

pub async fn manage(State(state): State<AppState>, signed: SignedPage) -> PageResult {
    let SignedPage { l, ref p, uri, .. } = signed;
    let mut orgs = vec![];
    for oid in p.administered_organizations() {
        if let Some((o, _)) = super::service::get_organization(&state, oid).await? {
            orgs.push(ManagedOrg {
                id: o.id.to_string(),
                name: o.name.clone(),
                services: o
                    .services
                    .iter()
                    .map(|s| ManagedService {
                        id: s.id.to_string(),
                        name: s.name.clone(),
                        status: status_label(&s.status, l.lang),
                    })
                    .collect(),
            });
        }
    }
    Ok(l.render(
        StatusCode::OK,
        &ManagePage {
            l: &l,
            orgs,
            deleted: query_pairs(&uri).contains_key("eliminato"),
        },
    ))
}

/// The service form's values as the browser sent them (parsed and applied by core).
fn service_form_from(f: &Form) -> ServiceForm {
    let mut form = ServiceForm {
        organization_id: field(f, "organization_id").into(),
        name: field(f, "name").into(),
        description: field(f, "description").into(),
        status: field(f, "status").into(),
        category: field(f, "category").into(),
        funder: field(f, "funder").into(),
        phone: field(f, "phone").into(),
        email: field(f, "email").into(),
        location: field(f, "location").into(),
        fees_description: field(f, "fees_description").into(),
        cost_amount: field(f, "cost_amount").into(),
        cost_option: field(f, "cost_option").into(),
        eligibility: field(f, "eligibility").into(),
        minimum_age: field(f, "minimum_age").into(),
        maximum_age: field(f, "maximum_age").into(),
        application_process: field(f, "application_process").into(),
        languages: f
            .iter()
            .filter(|(k, _)| k == "languages")
            .map(|(_, v)| v.clone())
            .collect(),
        ..Default::default()
    };
    for (k, v) in f.iter() {
        form.set_span(k, v);
    }
    form
}

/// The fields of a form to send back with a preview: everything typed, not the form's token
/// nor its buttons.
fn fields_to_keep(f: &Form) -> Vec<(String, String)> {
    f.iter()
        .filter(|(k, _)| !matches!(k.as_str(), "csrf" | "anteprima" | "modifica"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// One day's row of the hours table: its name and its spans' field names and values.
pub struct DayRow {
    pub label: &'static str,
    /// Per span: (opens field, opens value, closes field, closes value).
    pub spans: Vec<(String, String, String, String)>,
}

/// A language the form offers, ticked or not.
pub struct LanguageChoice {
    pub code: &'static str,
    pub label: &'static str,
    pub ticked: bool,
}
pub struct Choice {
    pub id: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "service_form.html")]
pub(crate) struct ServiceFormPage<'a> {
    l: &'a Layout,
    action: String,
    is_new: bool,
    f: ServiceForm,
    orgs: Vec<Choice>,
    locations: Vec<Choice>,
    categories: Vec<CategoryView>,
    statuses: Vec<(String, &'static str)>,
    error: Option<(String, String)>,
    delete_url: Option<String>,
    days: Vec<DayRow>,
    languages: Vec<LanguageChoice>,
    w: &'static ServiceWords,
}

/// Where a service form posts: a new service, or an existing one (which can also be deleted).
pub(crate) struct FormTarget {
    action: String,
    is_new: bool,
    delete_url: Option<String>,
}

impl FormTarget {
    fn for_service(existing: Option<ServiceId>) -> Self {
        match existing {
            Some(id) => Self {
                action: format!("/gestione/servizi/{id}"),
                is_new: false,
                delete_url: Some(format!("/gestione/servizi/{id}/elimina")),
            },
            None => Self {
                action: "/gestione/servizi/nuovo".into(),
                is_new: true,
                delete_url: None,
            },
        }
    }
}

pub(crate) async fn form_page(
    state: &AppState,
    l: &Layout,
    p: &trama_core::auth::Principal,
    target: FormTarget,
    f: ServiceForm,
    error: Option<(String, String)>,
) -> PageResult {
    let mut orgs = vec![];
    let mut locations = vec![];
    // The organisations one administers, and the one the service belongs to when one may edit
    // it without administering it (the territory's admin).
    let mut choices: Vec<OrganizationId> = p.administered_organizations().collect();
    if let Ok(current) = uuid::Uuid::parse_str(f.organization_id.trim()).map(OrganizationId)
        && !choices.contains(&current)
        && p.can_edit_organization(current)
    {
        choices.push(current);
    }
    for oid in choices {
        if let Some((o, _)) = super::service::get_organization(state, oid).await? {
            orgs.push(Choice {
                id: o.id.to_string(),
                label: o.name.clone(),
            });
            for loc in &o.locations {
                let addr = loc
                    .addresses
                    .first()
                    .map(|a| format!(" ({})", a.address_1))
                    .unwrap_or_default();
                locations.push(Choice {
                    id: loc.id.to_string(),
                    label: format!("{}{addr}", loc.name.clone().unwrap_or_default()),
                });
            }
        }
    }
    let statuses = trama_core::hsds::SERVICE_STATUSES
        .iter()
        .map(|s| (s.to_string(), status_label(s, l.lang)))
        .collect();
    let status = crate::web::form_status(&error);
    let FormTarget {
        action,
        is_new,
        delete_url,
    } = target;
    let page = ServiceFormPage {
        l,
        action,
        is_new,
        orgs,
        locations,
        categories: categories(state, l.lang).await?,
        statuses,
        error,
        delete_url,
        days: (0..7)
            .map(|d| DayRow {
                label: l.t.days[d],
                spans: (0..SPANS_PER_DAY)
                    .map(|k| {
                        (
                            span_field(d, k, false),
                            f.span(d, k, false).to_string(),
                            span_field(d, k, true),
                            f.span(d, k, true).to_string(),
                        )
                    })
                    .collect(),
            })
            .collect(),
        languages: trama_core::needs::LANGUAGES
            .iter()
            .map(|(code, it, en)| LanguageChoice {
                code,
                label: if l.lang == crate::web::i18n::Lang::En {
                    en
                } else {
                    it
                },
                ticked: f.speaks(code),
            })
            .collect(),
        w: service_words(l.lang),
        f,
    };
    Ok(l.render(status, &page))
}

pub async fn new_service_form(State(state): State<AppState>, signed: SignedPage) -> PageResult {
    let SignedPage { l, ref p, .. } = signed;
    // A new service belongs to an organisation one administers: without one, nothing to fill.
    if p.administered_organizations().next().is_none() {
        return Ok(refuse(&l, StatusCode::FORBIDDEN, l.t.manage_none));
    }
    let f = ServiceForm::new_service(p.administered_organizations().next().map(|o| o.0));
    form_page(&state, &l, p, FormTarget::for_service(None), f, None).await
}

pub(crate) async fn submit(
    state: &AppState,
    l: &Layout,
    p: &Principal,
    form: &Form,
    existing: Option<ServiceId>,
) -> PageResult {
    let f = service_form_from(form);
    let base = match existing {
        Some(id) => match super::service::get_service(state, id).await? {
            Some(d) => d.service,
            None => return Ok(not_found(l)),
        },
        None => Service {
            id: Uuid::now_v7(),
            ..Default::default()
        },
    };
    let id = base.id;
    if form.iter().any(|(k, _)| k == "modifica") {
        return form_page(state, l, p, FormTarget::for_service(existing), f, None).await;
    }
    let service = match f.apply(base) {
        Ok(s) => s,
        Err(e) => {
            return form_page(
                state,
                l,
                p,
                FormTarget::for_service(existing),
                f,
                Some((e.field.clone(), crate::web::say::field_error(l.lang, &e))),
            )
            .await;
        }
    };
    if form.iter().any(|(k, _)| k == "anteprima") {
        return preview(state, l, p, service, existing, form).await;
    }
    match save_service(state, p, service, existing)
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => Ok(Redirect::to(&format!("/servizi/{id}?salvato=1")).into_response()),
        Err(e @ (ApiError::InvalidBody(_) | ApiError::InvalidReference(_))) => {
            // The form's own field, so that the message links to it.
            let field = match e.field().unwrap_or("") {
                f if f.starts_with("service_at_locations") => "location",
                f if f.starts_with("attributes") => "category",
                f => f,
            }
            .to_string();
            form_page(
                state,
                l,
                p,
                FormTarget::for_service(existing),
                f,
                Some((field, crate::web::say::api_error(l.lang, &e))),
            )
            .await
        }
        Err(ApiError::Forbidden(_)) => Ok(refuse(l, StatusCode::FORBIDDEN, l.t.forbidden_text)),
        Err(e) => Err(e.into()),
    }
}

/// The page as it will appear, from the form as typed, with the fields to save it or go back.
/// Only someone who may edit the chosen organisation sees it (its places are nested in).
async fn preview(
    state: &AppState,
    l: &Layout,
    p: &Principal,
    mut service: Service,
    existing: Option<ServiceId>,
    form: &Form,
) -> PageResult {
    let Some(oid) = service.organization_id.map(OrganizationId) else {
        return Ok(not_found(l));
    };
    if !p.can_edit_organization(oid) {
        return Ok(refuse(l, StatusCode::FORBIDDEN, l.t.forbidden_text));
    }
    let Some((mut org, _)) = super::service::get_organization(state, oid).await? else {
        return Ok(not_found(l));
    };
    // What saving would refuse, the preview refuses too, on the form: the form's place must be
    // one of the organisation's, its category one the territory has.
    let typed = || service_form_from(form);
    let again = |field: &str, reason: &str| {
        form_page(
            state,
            l,
            p,
            FormTarget::for_service(existing),
            typed(),
            Some((
                field.to_string(),
                crate::web::say::field_error(l.lang, &trama_core::FieldError::new(field, reason)),
            )),
        )
    };
    if let Ok(loc) = uuid::Uuid::parse_str(field(form, "location").trim())
        && !org.locations.iter().any(|x| x.id == loc)
    {
        return again("location", "choose a place").await;
    }
    if let Ok(term) = uuid::Uuid::parse_str(field(form, "category").trim())
        && super::service::get_term(state, trama_core::ids::TaxonomyTermId(term))
            .await?
            .is_none()
    {
        return again("category", "choose a category").await;
    }
    for sal in &mut service.service_at_locations {
        sal.location = org
            .locations
            .iter()
            .find(|loc| Some(loc.id) == sal.location_id)
            .cloned()
            .map(Box::new);
    }
    org.services.clear();
    org.locations.clear();
    service.organization = Some(Box::new(org));
    let weekly = WeeklyHours::from_schedules(&service.schedules).map_err(ApiError::from)?;
    let shown = ServiceShown {
        can_edit: false,
        saved: false,
        preview: Some(Preview {
            action: FormTarget::for_service(existing).action,
            fields: fields_to_keep(form),
        }),
    };
    render_service(state, l, service, &weekly, shown).await
}

pub async fn new_service_submit(
    State(state): State<AppState>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    submit(&state, &page.l, &p, &form, None).await
}

pub async fn edit_service_form(
    State(state): State<AppState>,
    signed: SignedPage,
    Path(id): Path<String>,
) -> PageResult {
    let SignedPage { l, ref p, .. } = signed;
    let Ok(sid) = ServiceId::parse("id", &id) else {
        return Ok(not_found(&l));
    };
    let Some(d) = super::service::get_service(&state, sid).await? else {
        return Ok(not_found(&l));
    };
    if !d
        .service
        .organization_id
        .is_some_and(|o| p.can_edit_organization(OrganizationId(o)))
    {
        return Ok(refuse(&l, StatusCode::FORBIDDEN, l.t.forbidden_text));
    }
    let f = ServiceForm::from_service(&d.service);
    form_page(&state, &l, p, FormTarget::for_service(Some(sid)), f, None).await
}

pub async fn edit_service_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let Ok(sid) = ServiceId::parse("id", &id) else {
        return Ok(not_found(&page.l));
    };
    submit(&state, &page.l, &p, &form, Some(sid)).await
}

pub async fn delete_service_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { page, p, .. }: SignedForm,
) -> PageResult {
    let Page { l, .. } = page;
    let p = &p;
    let Ok(sid) = ServiceId::parse("id", &id) else {
        return Ok(not_found(&l));
    };
    match remove_service(&state, p, sid).await.map_err(ApiError::from) {
        Ok(()) => Ok(Redirect::to("/gestione?eliminato=1").into_response()),
        Err(ApiError::Forbidden(_)) => Ok(refuse(&l, StatusCode::FORBIDDEN, l.t.forbidden_text)),
        Err(ApiError::NotFound(_)) => Ok(not_found(&l)),
        Err(e) => Err(e.into()),
    }
}
