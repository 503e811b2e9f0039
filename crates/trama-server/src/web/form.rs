//! What every HTML form shares: reading the form, signing in first, checking the CSRF token,
//! rendering an error page that keeps what was typed.

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::i18n::Lang;
use crate::web::{Layout, MessagePage, form_csrf_ok};
use axum::extract::{FromRequest, FromRequestParts, RawForm, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use trama_core::auth::Principal;

/// Every value a form gave for a field that may repeat (checkboxes, multiple selects).
pub(crate) fn fields(f: &Form, k: &str) -> Vec<String> {
    f.iter()
        .filter(|(key, _)| key == k)
        .map(|(_, v)| v.clone())
        .collect()
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub(crate) fn opts(items: impl IntoIterator<Item = (String, String)>, selected: &str) -> Vec<Opt> {
    items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == selected,
            value,
            label,
        })
        .collect()
}

pub(crate) fn not_found(l: &Layout) -> Response {
    l.render(
        StatusCode::NOT_FOUND,
        &MessagePage {
            l,
            heading: l.t.not_found_heading,
            text: l.t.not_found_text,
        },
    )
}

pub(crate) fn refuse(l: &Layout, status: StatusCode, text: &str) -> Response {
    l.render(
        status,
        &MessagePage {
            l,
            heading: l.t.refused_heading,
            text,
        },
    )
}

pub(crate) fn login_redirect(uri: &Uri) -> Response {
    let next = form_urlencoded::Serializer::new(String::new())
        .append_pair("next", uri.path())
        .finish();
    Redirect::to(&format!("/accedi?{next}")).into_response()
}

/// The signed-in poster of a form and its fields, or the response that refuses it (a login
/// redirect, or 403 when the CSRF check fails).
fn signed_form<'v>(
    l: &Layout,
    viewer: &'v Viewer,
    headers: &HeaderMap,
    raw: &[u8],
) -> Result<(&'v Principal, Form), Box<Response>> {
    // Not signed in: sign in, then home. A form's own address does not open by itself (it
    // would be a 405 after signing in), so it is not where to return.
    let Some(p) = viewer.principal.as_ref() else {
        return Err(Box::new(Redirect::to("/accedi?next=%2Fio").into_response()));
    };
    let form = parse_form(raw);
    if !form_csrf_ok(viewer, headers, &form) {
        return Err(Box::new(message(
            l,
            StatusCode::FORBIDDEN,
            l.t.refused_heading,
            l.t.csrf_text,
        )));
    }
    // The same rule as the API's writes: an auditor changes nothing.
    if p.is_auditor_only() {
        return Err(Box::new(message(
            l,
            StatusCode::FORBIDDEN,
            l.t.refused_heading,
            l.t.auditor_text,
        )));
    }
    Ok((p, form))
}

pub fn message(l: &Layout, status: StatusCode, heading: &str, text: &str) -> Response {
    l.render(status, &MessagePage { l, heading, text })
}

/// Errors a page shows in words rather than as JSON.
pub fn error_page(l: &Layout, e: impl Into<ApiError>) -> Response {
    let e: ApiError = e.into();
    error_page_of(l, &e)
}

fn error_page_of(l: &Layout, e: &ApiError) -> Response {
    let status = e.status();
    let heading = if l.lang == Lang::En {
        "Something is wrong"
    } else {
        "Qualcosa non va"
    };
    message(l, status, heading, &crate::web::say::api_error(l.lang, e))
}

/// What a page handler answers. `?` on any error ends in the error page, in the reader's
/// language and the page's own frame (menu, territory): [`render_page_errors`] draws it.
/// A form that must keep what was typed re-renders itself instead (see the service form).
pub type PageResult = Result<Response, PageError>;

/// An error a page handler gives up with.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

/// The error a page handler returned, carried on its response to [`render_page_errors`].
#[derive(Clone)]
struct PageFailure(std::sync::Arc<ApiError>);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut r = self.0.status().into_response();
        r.extensions_mut()
            .insert(PageFailure(std::sync::Arc::new(self.0)));
        r
    }
}

/// The layer that turns a page handler's [`PageError`] into the error page: it frames it as
/// the page would have been (the reader's language, menu and territory), which the handler
/// need not build first.
pub async fn render_page_errors(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let (headers, uri) = (req.headers().clone(), req.uri().clone());
    let mut res = next.run(req).await;
    let Some(PageFailure(e)) = res.extensions_mut().remove::<PageFailure>() else {
        return res;
    };
    let (mut parts, ()) = Request::new(()).into_parts();
    parts.headers = headers;
    parts.uri = uri;
    match Page::from_request_parts(&mut parts, &state).await {
        Ok(page) => error_page_of(&page.l, &e),
        // The frame itself failed (the database is down): the bare status and the envelope.
        Err(frame) => frame.into_response(),
    }
}

pub type Form = Vec<(String, String)>;

pub fn parse_form(raw: &[u8]) -> Form {
    form_urlencoded::parse(raw).into_owned().collect()
}

pub fn field<'a>(f: &'a Form, k: &str) -> &'a str {
    f.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

pub fn query_pairs(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// A page being answered: its frame (language, CSRF token, who is signed in) and the request's
/// viewer, headers and address, taken from the request once for every page handler.
pub struct Page {
    pub l: Layout,
    pub viewer: Viewer,
    pub headers: HeaderMap,
    pub uri: Uri,
    /// The reader's workplaces (read once for the menu; none when not signed in).
    pub places: Vec<trama_core::workplaces::Workplace>,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let viewer = Viewer::from_request_parts(parts, state).await?;
        let places = match &viewer.principal {
            Some(p) => crate::accounts::service::workplaces(state, p).await?,
            None => Vec::new(),
        };
        let l = Layout::new(state, &parts.headers, &parts.uri, &viewer, &places);
        Ok(Self {
            l,
            viewer,
            headers: parts.headers.clone(),
            uri: parts.uri.clone(),
            places,
        })
    }
}

/// A page only a signed-in person may open: its frame, the reader and the address. Anyone
/// not signed in is sent to the sign-in page (coming back here after), before the handler runs.
pub struct SignedPage {
    pub l: Layout,
    pub p: Principal,
    pub uri: Uri,
    pub headers: HeaderMap,
    /// The reader's workplaces (read once for the menu).
    pub places: Vec<trama_core::workplaces::Workplace>,
}

impl FromRequestParts<AppState> for SignedPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let page = Page::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Page {
            l,
            viewer,
            headers,
            uri,
            places,
        } = page;
        match viewer.principal {
            Some(p) => Ok(Self {
                l,
                p,
                uri,
                headers,
                places,
            }),
            None => Err(login_redirect(&uri)),
        }
    }
}

/// A form posted by someone signed in, with the right CSRF token and the right to change
/// things (an auditor has none): the page, the poster and the form's fields. Anyone else gets
/// the sign-in page or a 403 page, before the handler runs.
pub struct SignedForm {
    pub page: Page,
    pub p: Principal,
    pub form: Form,
}

impl FromRequest<AppState> for SignedForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let page = Page::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        // What the framework refuses (no form, too large) is said in the page's language too.
        let RawForm(raw) = RawForm::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|r| {
                let e = match r.status() {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                        ApiError::UnsupportedMediaType("application/x-www-form-urlencoded")
                    }
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                    _ => ApiError::InvalidBody(trama_core::FieldError::new("form", r.body_text())),
                };
                error_page(&page.l, e)
            })?;
        let (p, form) = signed_form(&page.l, &page.viewer, &page.headers, &raw)
            .map(|(p, form)| (p.clone(), form))
            .map_err(|r| *r)?;
        Ok(Self { page, p, form })
    }
}
