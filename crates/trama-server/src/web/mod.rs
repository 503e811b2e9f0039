//! The web UI: server-rendered HTML in Italian and English, usable without JavaScript. The map
//! is an SVG drawn here, replaced by Leaflet when scripts and Leaflet are available; the list
//! always carries the same information.

mod assets;
pub mod form;
pub mod i18n;

use askama::Template;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::auth::{
    CSRF_COOKIE, LANG_COOKIE, Via, Viewer, constant_time_eq, cookie, random_token, set_cookie,
};
use crate::state::AppState;
use i18n::{Lang, Msg};

pub fn routes() -> Routes {
    use crate::policy::{PUBLIC, Policy, Scope, Who};
    let anyone = PUBLIC;
    let parties = Policy::new(
        Who::Anyone,
        Scope::Parties,
        "public facts; more to the parties (the handler decides)",
    );
    let signed = |scope, note| Policy::new(Who::SignedIn, scope, note);
    let own = signed(Scope::Own, "one's own");
    let org = signed(
        Scope::Organisation,
        "the admins of the organisation; the territory admin",
    );
    let acts = signed(Scope::Parties, "the parties of the need or match");
    let desk = signed(
        Scope::Organisation,
        "operators: the people their organisation follows (full reads audited)",
    )
    .audited();
    let caseload = signed(
        Scope::Caseload,
        "case managers: the people they follow with consent (audited)",
    )
    .audited();
    Routes::pages()
        .get("/", crate::directory::pages::home, anyone)
        .get("/cerca", crate::directory::pages::search, anyone)
        .get("/servizi/{id}", crate::directory::pages::service, anyone)
        .get(
            "/organizzazioni/{id}",
            crate::directory::pages::organization,
            anyone,
        )
        .get("/accedi", crate::accounts::pages::login_form, anyone)
        .post("/accedi", crate::accounts::pages::login_submit, anyone)
        .get("/registrati", crate::accounts::pages::signup_form, anyone)
        .post("/registrati", crate::accounts::pages::signup_submit, anyone)
        .get("/verifica", crate::accounts::pages::verify_page, anyone)
        .post("/verifica", crate::accounts::pages::verify_submit, anyone)
        .post("/esci", crate::accounts::pages::logout, anyone)
        .get("/gestione", crate::directory::pages::manage, org)
        .get(
            "/gestione/servizi/nuovo",
            crate::directory::pages::new_service_form,
            org,
        )
        .post(
            "/gestione/servizi/nuovo",
            crate::directory::pages::new_service_submit,
            org,
        )
        .get(
            "/gestione/servizi/{id}",
            crate::directory::pages::edit_service_form,
            org,
        )
        .post(
            "/gestione/servizi/{id}",
            crate::directory::pages::edit_service_submit,
            org,
        )
        .post(
            "/gestione/servizi/{id}/elimina",
            crate::directory::pages::delete_service_submit,
            org,
        )
        .get("/aiuto", crate::help::pages::home, parties)
        .get("/aiuto/chiedi", crate::help::pages::need_form, own)
        .post("/aiuto/chiedi", crate::help::pages::need_submit, own)
        .get("/aiuto/offri", crate::help::pages::offer_form, own)
        .post("/aiuto/offri", crate::help::pages::offer_submit, own)
        .get("/aiuto/mappa", crate::help::pages::map_page, anyone)
        .get(
            "/aiuto/richieste/{id}",
            crate::help::pages::need_page,
            parties.audited(),
        )
        .post(
            "/aiuto/richieste/{id}/proponi",
            crate::help::pages::propose_submit,
            acts,
        )
        .post(
            "/aiuto/richieste/{id}/accetta",
            crate::help::pages::accept_submit,
            acts,
        )
        .get("/aiuto/offerte/{id}", crate::help::pages::offer_page, own)
        .post(
            "/aiuto/abbinamenti/{id}",
            crate::help::pages::match_submit,
            acts,
        )
        .get("/sportello", crate::help::pages::desk, desk)
        .post(
            "/sportello/persone",
            crate::help::pages::desk_register,
            desk,
        )
        .get("/hub", crate::hubs::pages::hubs, anyone)
        .get("/hub/sale/{id}", crate::hubs::pages::room, anyone)
        .post("/hub/sale/{id}/prenota", crate::hubs::pages::room_book, own)
        .get("/campagne/{id}", crate::campaigns::pages::campaign, anyone)
        .post(
            "/campagne/{id}/assegna",
            crate::campaigns::pages::campaign_dispatch,
            signed(Scope::Territory, "the territory admin"),
        )
        .get("/registro", crate::register::pages::register_page, anyone)
        .get(
            "/registro/flussi",
            crate::register::pages::flows_page,
            anyone,
        )
        .get("/io/contributi", crate::register::pages::mine_page, own)
        .get(
            "/io/contributi/estratto.json",
            crate::register::pages::statement_download,
            own,
        )
        .get("/io/dati", crate::accounts::privacy_pages::page, own)
        .post(
            "/io/dati/cancella",
            crate::accounts::privacy_pages::erase_submit,
            own,
        )
        .get("/io/budget", crate::budgets::pages::mine, own)
        .post(
            "/io/budget/consensi/{cm}/revoca",
            crate::budgets::pages::revoke_submit,
            own,
        )
        .post(
            "/io/budget/consensi/{cm}/conferma",
            crate::budgets::pages::confirm_submit,
            own,
        )
        .get(
            "/sportello/budget",
            crate::budgets::pages::caseload,
            signed(
                Scope::Caseload,
                "case managers: the names of the people they follow with consent",
            ),
        )
        .post(
            "/sportello/budget/consensi",
            crate::budgets::pages::follow_submit,
            signed(
                Scope::Organisation,
                "case managers: record a consent at their desk (it waits for the person)",
            ),
        )
        .get(
            "/sportello/budget/persone/{id}",
            crate::budgets::pages::person,
            caseload,
        )
        .post(
            "/sportello/budget/persone/{id}/prenota",
            crate::budgets::pages::book_submit,
            caseload,
        )
        .post(
            "/sportello/budget/prenotazioni/{id}/annulla",
            crate::budgets::pages::cancel_submit,
            caseload,
        )
        .get(
            "/budget/cruscotto",
            crate::budgets::pages::dashboard,
            signed(
                Scope::Funder,
                "funders' admins (theirs), the territory admin and auditors; aggregates",
            ),
        )
        .get(
            "/gestione/prenotazioni",
            crate::budgets::pages::provider,
            signed(Scope::Organisation, "providers' admins and operators"),
        )
        .post(
            "/gestione/prenotazioni/{id}/consegna",
            crate::budgets::pages::deliver_submit,
            signed(Scope::Organisation, "providers' admins and operators"),
        )
        .get("/static/{*path}", assets::serve, anyone)
}

/// What every page's frame needs.
pub struct Layout {
    pub lang: Lang,
    pub t: &'static Msg,
    pub territory: String,
    pub user_name: Option<String>,
    pub can_manage: bool,
    pub csrf: String,
    /// The current address with the other language chosen.
    pub switch_url: String,
    pub switch_name: &'static str,
    set_csrf: bool,
    set_lang: bool,
}

impl Layout {
    pub fn new(state: &AppState, headers: &HeaderMap, uri: &Uri, viewer: &Viewer) -> Self {
        let query: Vec<(String, String)> = uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let from_query = query
            .iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(v));
        let lang = from_query
            .or_else(|| cookie(headers, LANG_COOKIE).and_then(Lang::parse))
            .or_else(|| {
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .map(Lang::from_accept_language)
            })
            .unwrap_or(Lang::It);
        // Signed in: the forms carry the session's own token (drawn at login, kept in the
        // session's row). Anonymous: the double-submit cookie's value.
        let (csrf, set_csrf) = match (&viewer.via, cookie(headers, CSRF_COOKIE)) {
            (Some(Via::Session { csrf, .. }), _) => (csrf.clone(), false),
            (_, Some(c)) if c.len() >= 32 => (c.to_string(), false),
            _ => (random_token(), true),
        };
        let mut rest: Vec<(String, String)> =
            query.into_iter().filter(|(k, _)| k != "lang").collect();
        rest.push(("lang".into(), lang.other().code().into()));
        let qs: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(rest)
            .finish();
        let p = viewer.principal.as_ref();
        Self {
            lang,
            t: lang.msg(),
            territory: state.config.territory_name.clone(),
            user_name: p.map(|p| p.display_name.clone()),
            can_manage: p.is_some_and(|p| {
                p.administered_organizations().next().is_some()
                    || p.has_role(trama_core::auth::Role::TerritoryAdmin)
            }),
            csrf,
            switch_url: format!("{}?{qs}", uri.path()),
            switch_name: lang.other().name(),
            set_csrf,
            set_lang: from_query.is_some(),
        }
    }

    /// Renders a template into a response, with the cookies this layout needs set.
    pub fn render(&self, status: StatusCode, t: &impl Template) -> Response {
        let html = match t.render() {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "template failed");
                return (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response();
            }
        };
        let mut res = (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response();
        let h = res.headers_mut();
        if self.set_csrf {
            h.append(
                header::SET_COOKIE,
                set_cookie(CSRF_COOKIE, &self.csrf, None, false),
            );
        }
        if self.set_lang {
            h.append(
                header::SET_COOKIE,
                set_cookie(LANG_COOKIE, self.lang.code(), Some(365 * 24 * 3600), false),
            );
        }
        h.insert("content-security-policy", HeaderValue::from_static(CSP));
        h.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
        res
    }
}

/// Scripts and styles come only from this server; map tiles from anywhere over https.
const CSP: &str = "default-src 'self'; img-src 'self' data: https:; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'";

/// Checks a form post. The browser must not say it came from another site, and the `csrf`
/// field must be, for someone signed in, their session's own token (from the session's row:
/// a token seen before login, or another session's, does not do); for anyone else, the value
/// of the `trama_csrf` cookie (double submit: the login and sign-up forms).
pub fn form_csrf_ok(viewer: &Viewer, headers: &HeaderMap, form: &[(String, String)]) -> bool {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return false;
    }
    let given = form
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    if given.is_empty() {
        return false;
    }
    match &viewer.via {
        Some(Via::Session { csrf, .. }) => constant_time_eq(csrf, given),
        _ => matches!(cookie(headers, CSRF_COOKIE), Some(c) if constant_time_eq(c, given)),
    }
}

/// A fresh double-submit cookie, set at login and logout: whatever value the cookie had
/// before (one an attacker may have planted) is worth nothing afterwards.
pub fn fresh_csrf_cookie() -> HeaderValue {
    set_cookie(CSRF_COOKIE, &random_token(), None, false)
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub l: &'a Layout,
    pub heading: &'a str,
    pub text: &'a str,
}

use crate::policy::Routes;
/// The HTML 404 page (for addresses outside the APIs).
pub(crate) use crate::web::form::login_redirect;

pub fn not_found_page(req: &Request) -> Response {
    let headers = req.headers();
    let lang = cookie(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(Lang::from_accept_language)
        })
        .unwrap_or(Lang::It);
    let l = Layout {
        lang,
        t: lang.msg(),
        territory: String::new(),
        user_name: None,
        can_manage: false,
        csrf: String::new(),
        switch_url: format!("{}?lang={}", req.uri().path(), lang.other().code()),
        switch_name: lang.other().name(),
        set_csrf: false,
        set_lang: false,
    };
    l.render(
        StatusCode::NOT_FOUND,
        &MessagePage {
            l: &l,
            heading: l.t.not_found_heading,
            text: l.t.not_found_text,
        },
    )
}
