//! Signing in, signing up, confirming and signing out in the browser.

use crate::accounts::api::session_cookie;
use crate::accounts::service::open_session;
use crate::accounts::service::verify_account;
use crate::auth::{ClientAddr, SESSION_COOKIE, Via, Viewer, client_key, set_cookie};
use crate::error::ApiError;
use crate::policy::Routes;
use crate::state::AppState;
use crate::web::form::Page;
use crate::web::form::field;
use crate::web::form::parse_form;
use crate::web::form::query_pairs;
use crate::web::form::refuse;
use crate::web::{Layout, MessagePage, form_csrf_ok};
use askama::Template;
use axum::extract::{RawForm, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use trama_core::workplaces::Workplace;

/// The pages of this feature, each with its policy (docs/SECURITY.md).
pub fn routes() -> Routes {
    use crate::web::policies as may;
    Routes::pages()
        .get("/accedi", login_form, may::anyone())
        .post("/accedi", login_submit, may::anyone())
        .get("/registrati", signup_form, may::anyone())
        .post("/registrati", signup_submit, may::anyone())
        .get("/verifica", verify_page, may::anyone())
        .get("/password-dimenticata", forgot_form, may::anyone())
        .post("/password-dimenticata", forgot_submit, may::anyone())
        .get("/password-nuova", reset_form, may::anyone())
        .post("/password-nuova", reset_submit, may::anyone())
        .post("/verifica", verify_submit, may::anyone())
        .post("/esci", logout, may::anyone())
        .get("/io", my_home, may::own())
        .get("/io/profilo", profile, may::own())
        .post("/io/profilo", profile_submit, may::own())
        .post("/io/profilo/password", password_submit, may::own())
}

/// `/io`: one's home, the first of the places one's roles open (the case manager's caseload,
/// the operator's desk, the volunteer's help…); signing in lands here.
pub async fn my_home(signed: crate::web::form::SignedPage) -> Response {
    // The page read the person's workplaces for the menu already.
    let home = signed.places.first().copied().unwrap_or(Workplace::MyData);
    Redirect::to(crate::web::menu::href(home)).into_response()
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage<'a> {
    l: &'a Layout,
    email: String,
    error: Option<String>,
    next: String,
}

/// Where to go after signing in: a path on this site, or one's home (`/io`). Browsers drop tabs and
/// newlines from a `Location` and read `\` as `/`, so `/\t/evil.example` would leave the site:
/// only visible ASCII is kept, never two leading slashes or a backslash, and the whole must
/// be a valid path and query.
pub fn safe_next(s: &str) -> String {
    let ok = s.starts_with('/')
        && !s.starts_with("//")
        && s.len() <= 2048
        && s.chars().all(|c| c.is_ascii_graphic())
        && !s.contains('\\')
        && s.parse::<axum::http::uri::PathAndQuery>().is_ok();
    // Anywhere else: one's home.
    if ok { s.to_string() } else { "/io".into() }
}

pub async fn login_form(page: Page) -> Response {
    let Page { l, uri, .. } = page;
    let next = safe_next(
        query_pairs(&uri)
            .get("next")
            .map(String::as_str)
            .unwrap_or("/io"),
    );
    l.render(
        StatusCode::OK,
        &LoginPage {
            l: &l,
            email: String::new(),
            error: None,
            next,
        },
    )
}

pub async fn login_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
    uri: Uri,
    RawForm(raw): RawForm,
) -> Response {
    // Someone signing in or up has no places yet: the page's menu is the public one.
    let l = Layout::new(&state, &headers, &uri, &viewer, &[]);
    let f = parse_form(&raw);
    if !form_csrf_ok(&viewer, &headers, &f) {
        return refuse(&l, StatusCode::FORBIDDEN, l.t.csrf_text);
    }
    // No page asked for: the person's home.
    let next = match field(&f, "next") {
        "" => "/io".to_string(),
        asked => safe_next(asked),
    };
    let client = client_key(&headers, peer, state.config.behind_proxy);
    match open_session(&state, field(&f, "email"), field(&f, "password"), &client)
        .await
        .map_err(ApiError::from)
    {
        Ok((_, secret, _)) => {
            let mut res = Redirect::to(&next).into_response();
            res.headers_mut()
                .append(header::SET_COOKIE, session_cookie(&state, &secret));
            // From now on the forms carry the new session's token; the anonymous cookie is
            // drawn anew, so a value planted before the login is worth nothing.
            res.headers_mut()
                .append(header::SET_COOKIE, crate::web::fresh_csrf_cookie());
            res
        }
        Err(e) => {
            let status = e.status();
            let msg = match &e {
                ApiError::Unverified => l.t.unverified_text.to_string(),
                _ => crate::web::say::api_error(l.lang, &e),
            };
            l.render(
                status,
                &LoginPage {
                    l: &l,
                    email: field(&f, "email").to_string(),
                    error: Some(msg),
                    next,
                },
            )
        }
    }
}

#[derive(Template)]
#[template(path = "signup.html")]
pub(crate) struct SignupPage<'a> {
    l: &'a Layout,
    email: String,
    name: String,
    error: Option<String>,
}

pub async fn signup_form(page: Page) -> Response {
    let Page { l, .. } = page;
    l.render(
        StatusCode::OK,
        &SignupPage {
            l: &l,
            email: String::new(),
            name: String::new(),
            error: None,
        },
    )
}

pub async fn signup_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
    uri: Uri,
    RawForm(raw): RawForm,
) -> Response {
    // Someone signing in or up has no places yet: the page's menu is the public one.
    let l = Layout::new(&state, &headers, &uri, &viewer, &[]);
    let f = parse_form(&raw);
    if !form_csrf_ok(&viewer, &headers, &f) {
        return refuse(&l, StatusCode::FORBIDDEN, l.t.csrf_text);
    }
    let form = trama_core::auth::SignupForm {
        email: field(&f, "email").into(),
        password: field(&f, "password").into(),
        display_name: field(&f, "display_name").into(),
        locale: Some(l.lang.code().into()),
    };
    let client = client_key(&headers, peer, state.config.behind_proxy);
    // The same page for a new address and a taken one: the mail says which it was.
    match crate::accounts::service::signup(&state, &form, &client)
        .await
        .map_err(ApiError::from)
    {
        Ok(()) => l.render(
            StatusCode::OK,
            &MessagePage {
                l: &l,
                heading: l.t.signup_sent_heading,
                text: l.t.signup_sent_text,
            },
        ),
        Err(e) => l.render(
            e.status(),
            &SignupPage {
                l: &l,
                email: form.email.clone(),
                name: form.display_name.clone(),
                error: Some(crate::web::say::api_error(l.lang, &e)),
            },
        ),
    }
}

/// `GET /verifica?token=...`: the link mailed at sign-up confirms the address.
/// The link in the mail opens a page with a button: opening the link alone (as a mail scanner
/// does) confirms nothing; the person's click (a POST) does.
pub async fn verify_page(page: Page) -> Response {
    let Page { l, uri, .. } = page;
    let token = query_pairs(&uri).remove("token").unwrap_or_default();
    l.render(
        StatusCode::OK,
        &VerifyPage {
            l: &l,
            token: token.chars().take(200).collect(),
        },
    )
}

#[derive(Template)]
#[template(path = "verify.html")]
pub(crate) struct VerifyPage<'a> {
    l: &'a Layout,
    token: String,
}

pub async fn verify_submit(
    State(state): State<AppState>,
    page: Page,
    RawForm(raw): RawForm,
) -> Response {
    let Page {
        l, viewer, headers, ..
    } = page;
    let f = parse_form(&raw);
    if !form_csrf_ok(&viewer, &headers, &f) {
        return refuse(&l, StatusCode::FORBIDDEN, l.t.csrf_text);
    }
    match verify_account(&state, field(&f, "token"), field(&f, "password"))
        .await
        .map_err(ApiError::from)
    {
        Ok(()) => l.render(
            StatusCode::OK,
            &MessagePage {
                l: &l,
                heading: l.t.verified_heading,
                text: l.t.verified_text,
            },
        ),
        Err(ApiError::InvalidBody(_)) => {
            refuse(&l, StatusCode::BAD_REQUEST, l.t.verify_failed_text)
        }
        Err(e) => crate::web::form::error_page(&l, e),
    }
}

/// The words of the two password pages.
pub(crate) struct PasswordWords {
    heading: &'static str,
    text: &'static str,
    button: &'static str,
    new_password: &'static str,
    password_hint: &'static str,
}

fn forgot_words(l: &Layout) -> PasswordWords {
    if l.lang.code() == "en" {
        PasswordWords {
            heading: "Forgot your password?",
            text: "Write the address you sign in with: if it has an account here, we mail it a link to choose a new password (valid for 2 hours).",
            button: "Send me the link",
            new_password: "",
            password_hint: "",
        }
    } else {
        PasswordWords {
            heading: "Password dimenticata?",
            text: "Scrivi l'indirizzo con cui accedi: se ha un account qui, gli mandiamo un link per scegliere una nuova password (vale 2 ore).",
            button: "Mandami il link",
            new_password: "",
            password_hint: "",
        }
    }
}

fn reset_words(l: &Layout) -> PasswordWords {
    if l.lang.code() == "en" {
        PasswordWords {
            heading: "Choose a new password",
            text: "Every session open with the old password will be closed.",
            button: "Save the new password",
            new_password: "New password",
            password_hint: "At least 10 characters; a few words of your own make a good one.",
        }
    } else {
        PasswordWords {
            heading: "Scegli una nuova password",
            text: "Ogni accesso aperto con la vecchia password verrà chiuso.",
            button: "Salva la nuova password",
            new_password: "Nuova password",
            password_hint: "Almeno 10 caratteri; qualche parola tua va bene.",
        }
    }
}

#[derive(Template)]
#[template(path = "password.html")]
pub(crate) struct PasswordPage<'a> {
    l: &'a Layout,
    w: PasswordWords,
    email: String,
    /// Empty on the page that asks for the link.
    token: String,
    error: Option<String>,
}

pub async fn forgot_form(page: Page) -> Response {
    let Page { l, .. } = page;
    let w = forgot_words(&l);
    l.render(
        StatusCode::OK,
        &PasswordPage {
            l: &l,
            w,
            email: String::new(),
            token: String::new(),
            error: None,
        },
    )
}

pub async fn forgot_submit(
    State(state): State<AppState>,
    page: Page,
    ClientAddr(peer): ClientAddr,
    RawForm(raw): RawForm,
) -> Response {
    let Page {
        l, viewer, headers, ..
    } = page;
    let f = parse_form(&raw);
    if !form_csrf_ok(&viewer, &headers, &f) {
        return refuse(&l, StatusCode::FORBIDDEN, l.t.csrf_text);
    }
    let client = client_key(&headers, peer, state.config.behind_proxy);
    let email = field(&f, "email");
    // The same page whether the address has an account or not.
    match crate::accounts::service::request_password_reset(&state, email, &client)
        .await
        .map_err(ApiError::from)
    {
        Ok(()) => l.render(
            StatusCode::OK,
            &MessagePage {
                l: &l,
                heading: l.t.signup_sent_heading,
                text: if l.lang.code() == "en" {
                    "If the address has an account here, we have just written to it: open the link in the message within 2 hours. Nothing arrives? Look in the spam folder, or ask again."
                } else {
                    "Se l'indirizzo ha un account qui, gli abbiamo appena scritto: apri il link del messaggio entro 2 ore. Non arriva nulla? Guarda nella posta indesiderata, o chiedi di nuovo."
                },
            },
        ),
        Err(e) => {
            let w = forgot_words(&l);
            l.render(
                e.status(),
                &PasswordPage {
                    l: &l,
                    w,
                    email: email.to_string(),
                    token: String::new(),
                    error: Some(crate::web::say::api_error(l.lang, &e)),
                },
            )
        }
    }
}

pub async fn reset_form(page: Page) -> Response {
    let Page { l, uri, .. } = page;
    let token: String = query_pairs(&uri)
        .remove("token")
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    if token.trim().is_empty() {
        return Redirect::to("/password-dimenticata").into_response();
    }
    let w = reset_words(&l);
    l.render(
        StatusCode::OK,
        &PasswordPage {
            l: &l,
            w,
            email: String::new(),
            token,
            error: None,
        },
    )
}

pub async fn reset_submit(
    State(state): State<AppState>,
    page: Page,
    RawForm(raw): RawForm,
) -> Response {
    let Page {
        l, viewer, headers, ..
    } = page;
    let f = parse_form(&raw);
    if !form_csrf_ok(&viewer, &headers, &f) {
        return refuse(&l, StatusCode::FORBIDDEN, l.t.csrf_text);
    }
    let token = field(&f, "token");
    // A link without its token has nothing to reset: ask for a new one.
    if token.trim().is_empty() {
        return Redirect::to("/password-dimenticata").into_response();
    }
    match crate::accounts::service::reset_password(&state, token, field(&f, "password"))
        .await
        .map_err(ApiError::from)
    {
        Ok(()) => l.render(
            StatusCode::OK,
            &MessagePage {
                l: &l,
                heading: reset_words(&l).heading,
                text: if l.lang.code() == "en" {
                    "Your new password is saved and every open session is closed. Sign in with it."
                } else {
                    "La nuova password è salvata e ogni accesso aperto è chiuso. Accedi con la nuova password."
                },
            },
        ),
        Err(e) => {
            let w = reset_words(&l);
            l.render(
                e.status(),
                &PasswordPage {
                    l: &l,
                    w,
                    email: String::new(),
                    token: token.chars().take(200).collect(),
                    error: Some(crate::web::say::api_error(l.lang, &e)),
                },
            )
        }
    }
}

pub async fn logout(State(state): State<AppState>, page: Page, RawForm(raw): RawForm) -> Response {
    let Page {
        l, viewer, headers, ..
    } = page;
    if !form_csrf_ok(&viewer, &headers, &parse_form(&raw)) {
        return refuse(&l, StatusCode::FORBIDDEN, l.t.csrf_text);
    }
    if let Some(Via::Session { token_hash, .. }) = &viewer.via
        && let Err(e) = crate::accounts::service::close_session(&state, token_hash).await
    {
        return crate::web::form::error_page(&l, e);
    }
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), state.config.secure_cookies()),
    );
    res.headers_mut()
        .append(header::SET_COOKIE, crate::web::fresh_csrf_cookie());
    res
}

/// The words of the profile page.
pub(crate) struct ProfileWords {
    heading: &'static str,
    about: &'static str,
    name: &'static str,
    language: &'static str,
    save: &'static str,
    password: &'static str,
    password_text: &'static str,
    current: &'static str,
    new: &'static str,
    change: &'static str,
    my_data: &'static str,
    saved: &'static str,
    changed: &'static str,
}

fn profile_words(l: &Layout) -> ProfileWords {
    if l.lang.code() == "en" {
        ProfileWords {
            heading: "My profile",
            about: "Your name and language",
            name: "The name others see",
            language: "Language of pages and mails",
            save: "Save",
            password: "Change the password",
            password_text: "Every other open session ends; this one stays.",
            current: "Current password",
            new: "New password (at least 10 characters)",
            change: "Change the password",
            my_data: "My data and my rights",
            saved: "Saved.",
            changed: "Password changed; the other sessions are closed.",
        }
    } else {
        ProfileWords {
            heading: "Il mio profilo",
            about: "Il tuo nome e la tua lingua",
            name: "Il nome che vedono gli altri",
            language: "Lingua delle pagine e delle e-mail",
            save: "Salva",
            password: "Cambia la password",
            password_text: "Gli altri accessi aperti si chiudono; questo resta.",
            current: "Password attuale",
            new: "Nuova password (almeno 10 caratteri)",
            change: "Cambia la password",
            my_data: "I miei dati e i miei diritti",
            saved: "Salvato.",
            changed: "Password cambiata; gli altri accessi sono chiusi.",
        }
    }
}

#[derive(Template)]
#[template(path = "profile.html")]
pub(crate) struct ProfilePage<'a> {
    l: &'a Layout,
    w: ProfileWords,
    email: String,
    name: String,
    locale: String,
    notice: Option<&'static str>,
    error: Option<String>,
    /// An auditor changes nothing here either: the page says how to change a password.
    read_only: bool,
}

async fn profile_render(
    state: &AppState,
    l: &Layout,
    p: &trama_core::auth::Principal,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
    typed: Option<(String, String)>,
) -> crate::web::form::PageResult {
    let u = crate::accounts::service::user(state, p.user_id)
        .await?
        .ok_or(ApiError::Internal)?;
    let (name, locale) = typed.unwrap_or((u.display_name, u.locale));
    Ok(l.render(
        status,
        &ProfilePage {
            l,
            w: profile_words(l),
            email: u.email.unwrap_or_default(),
            name,
            locale,
            notice,
            error,
            read_only: p.is_auditor_only(),
        },
    ))
}

pub async fn profile(
    State(state): State<AppState>,
    signed: crate::web::form::SignedPage,
) -> crate::web::form::PageResult {
    let crate::web::form::SignedPage { l, ref p, uri, .. } = signed;
    let w = profile_words(&l);
    let notice = match query_pairs(&uri).get("fatto").map(String::as_str) {
        Some("password") => Some(w.changed),
        Some(_) => Some(w.saved),
        None => None,
    };
    profile_render(&state, &l, p, StatusCode::OK, notice, None, None).await
}

pub async fn profile_submit(
    State(state): State<AppState>,
    crate::web::form::SignedForm { page, p, form }: crate::web::form::SignedForm,
) -> crate::web::form::PageResult {
    let Page { l, .. } = page;
    let asked = trama_core::auth::ProfileForm {
        display_name: field(&form, "display_name").to_string(),
        locale: field(&form, "locale").to_string(),
    };
    match crate::accounts::service::update_profile(&state, &p, &asked)
        .await
        .map_err(ApiError::from)
    {
        Ok(()) => {
            // The pages follow the language chosen, as the mails do.
            let mut res = Redirect::to("/io/profilo?fatto=1").into_response();
            if let Some(lang) = crate::web::i18n::Lang::parse(asked.locale.trim()) {
                res.headers_mut().append(
                    header::SET_COOKIE,
                    crate::auth::set_cookie(
                        crate::auth::LANG_COOKIE,
                        lang.code(),
                        Some(365 * 24 * 3600),
                        false,
                    ),
                );
            }
            Ok(res)
        }
        Err(e @ ApiError::InvalidBody(_)) => {
            profile_render(
                &state,
                &l,
                &p,
                e.status(),
                None,
                Some(crate::web::say::api_error(l.lang, &e)),
                Some((asked.display_name, asked.locale)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn password_submit(
    State(state): State<AppState>,
    crate::web::form::SignedForm { page, p, form }: crate::web::form::SignedForm,
) -> crate::web::form::PageResult {
    let keep = match &page.viewer.via {
        Some(Via::Session { token_hash, .. }) => Some(token_hash.clone()),
        _ => None,
    };
    let Page { l, .. } = page;
    match crate::accounts::service::change_password(
        &state,
        &p,
        field(&form, "current_password"),
        field(&form, "new_password"),
        keep.as_deref(),
    )
    .await
    .map_err(ApiError::from)
    {
        Ok(()) => Ok(Redirect::to("/io/profilo?fatto=password").into_response()),
        Err(e @ (ApiError::InvalidBody(_) | ApiError::RateLimited(_))) => {
            profile_render(
                &state,
                &l,
                &p,
                e.status(),
                None,
                Some(crate::web::say::api_error(l.lang, &e)),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
