//! The web UI: server-rendered HTML in Italian and English, usable without JavaScript. The map
//! is an SVG drawn here, replaced by Leaflet when scripts and Leaflet are available; the list
//! always carries the same information.

mod assets;
pub mod form;
pub mod i18n;
pub mod map;
pub mod menu;
pub mod say;

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
    Routes::pages()
        .merge(crate::directory::pages::routes())
        .merge(crate::directory::manage_pages::routes())
        .merge(crate::accounts::pages::routes())
        .merge(crate::help::pages::routes())
        .merge(crate::help::shared_pages::routes())
        .merge(crate::hubs::pages::routes())
        .merge(crate::campaigns::pages::routes())
        .merge(crate::register::pages::routes())
        .merge(crate::accounts::privacy_pages::routes())
        .merge(crate::budgets::pages::routes())
        .get("/static/{*path}", assets::serve, policies::anyone())
        .get("/favicon.ico", assets::favicon, policies::anyone())
}

/// The policies the pages share (docs/SECURITY.md), named once.
pub(crate) mod policies {
    use crate::policy::{PUBLIC, Policy, Scope, Who};

    pub fn anyone() -> Policy {
        PUBLIC
    }

    pub fn parties() -> Policy {
        Policy::new(
            Who::Anyone,
            Scope::Parties,
            "public facts; more to the parties (the handler decides)",
        )
    }

    pub fn signed(scope: Scope, note: &'static str) -> Policy {
        Policy::new(Who::SignedIn, scope, note)
    }

    pub fn own() -> Policy {
        signed(Scope::Own, "one's own")
    }

    pub fn org() -> Policy {
        signed(
            Scope::Organisation,
            "the admins of the organisation; the territory admin",
        )
    }

    pub fn acts() -> Policy {
        signed(Scope::Parties, "the parties of the need or match")
    }

    pub fn desk() -> Policy {
        signed(
            Scope::Organisation,
            "operators: the people their organisation follows (full reads audited)",
        )
        .audited()
    }

    pub fn caseload() -> Policy {
        signed(
            Scope::Caseload,
            "case managers: the people they follow with consent (audited)",
        )
        .audited()
    }
}

/// What every page's frame needs.
pub struct Layout {
    pub lang: Lang,
    pub t: &'static Msg,
    pub territory: String,
    pub user_name: Option<String>,
    /// The menu: public places and those the reader's roles open.
    pub menu: Vec<menu::MenuLink>,
    pub csrf: String,
    /// The current address with the other language chosen.
    pub switch_url: String,
    pub switch_name: &'static str,
    set_csrf: bool,
    set_lang: bool,
}

/// The page's language: asked in the address (`?lang=`), else chosen before (the cookie),
/// else the browser's, else Italian.
fn negotiated_lang(asked: Option<Lang>, headers: &HeaderMap) -> Lang {
    asked
        .or_else(|| cookie(headers, LANG_COOKIE).and_then(Lang::parse))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(Lang::from_accept_language)
        })
        .unwrap_or(Lang::It)
}

/// A form page's status: 200 when first shown, 422 when shown again with the problem found in
/// what was typed.
pub fn form_status<E>(error: &Option<E>) -> StatusCode {
    if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

impl Layout {
    /// The frame of a page for a reader whose roles open `places` (see
    /// `accounts::service::workplaces`; none for someone not signed in).
    pub fn new(
        state: &AppState,
        headers: &HeaderMap,
        uri: &Uri,
        viewer: &Viewer,
        places: &[trama_core::workplaces::Workplace],
    ) -> Self {
        let query: Vec<(String, String)> = uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let from_query = query
            .iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(v));
        let lang = negotiated_lang(from_query, headers);
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
            menu: menu::menu(places, lang, uri.path(), p.is_some()),
            csrf,
            switch_url: format!("{}?{qs}", uri.path()),
            switch_name: lang.other().name(),
            set_csrf,
            set_lang: from_query.is_some(),
        }
    }

    /// Renders a template into a response, with the cookies this layout needs set.
    /// A form page: 200 when first shown, 422 when shown again with what was typed and the
    /// problem found in it.
    pub fn render_form<E>(&self, error: &Option<E>, t: &impl Template) -> Response {
        self.render(form_status(error), t)
    }

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
    bare_message(req, StatusCode::NOT_FOUND, |t| {
        (t.not_found_heading, t.not_found_text)
    })
}

/// The HTML 405 page: an address opened with a method it does not take (`GET` of a form's
/// target).
pub fn method_not_allowed_page(req: &Request) -> Response {
    bare_message(req, StatusCode::METHOD_NOT_ALLOWED, |t| {
        (t.wrong_method_heading, t.wrong_method_text)
    })
}

/// A page in words for a request no handler took (no session read, no cookie set).
fn bare_message(
    req: &Request,
    status: StatusCode,
    words: impl Fn(&'static Msg) -> (&'static str, &'static str),
) -> Response {
    let headers = req.headers();
    let asked = req.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v))
    });
    let lang = negotiated_lang(asked, headers);
    let l = Layout {
        lang,
        t: lang.msg(),
        territory: String::new(),
        user_name: None,
        menu: menu::menu(&[], lang, req.uri().path(), false),
        csrf: String::new(),
        switch_url: format!("{}?lang={}", req.uri().path(), lang.other().code()),
        switch_name: lang.other().name(),
        set_csrf: false,
        set_lang: false,
    };
    let (heading, text) = words(l.t);
    l.render(
        status,
        &MessagePage {
            l: &l,
            heading,
            text,
        },
    )
}
