//! "I miei dati" (`/io/dati`): export and erasure in the browser.

use crate::error::ApiError;
use crate::policy::Routes;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::form::field;
use crate::web::form::{Page, SignedForm};
use crate::web::form::{PageError, PageResult};
use crate::web::i18n::Lang;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

/// The pages of this feature, each with its policy (docs/SECURITY.md).
pub fn routes() -> Routes {
    use crate::web::policies as may;
    Routes::pages().get("/io/dati", page, may::own()).post(
        "/io/dati/cancella",
        erase_submit,
        may::own(),
    )
}

pub struct Words {
    pub title: &'static str,
    pub intro: &'static str,
    pub export_heading: &'static str,
    pub export_text: &'static str,
    pub export_button: &'static str,
    pub erase_heading: &'static str,
    pub erase_text: &'static str,
    pub password: &'static str,
    pub erase_button: &'static str,
    pub erased_heading: &'static str,
    pub kept_heading: &'static str,
    pub wrong_password: &'static str,
}

pub(crate) const IT: Words = Words {
    title: "I miei dati",
    intro: "Hai diritto di sapere che cosa Trama conserva su di te, di portarlo altrove e di chiederne la cancellazione (GDPR, artt. 15, 17 e 20).",
    export_heading: "Scarica i tuoi dati",
    export_text: "Un file JSON con il tuo account, le tue richieste e offerte, gli abbinamenti, le notifiche, il tuo budget di cura e il piano, i consensi, i tuoi contributi nel registro e chi ha consultato i tuoi dati.",
    export_button: "Scarica i miei dati (JSON)",
    erase_heading: "Cancella il mio account",
    erase_text: "Il tuo nome, la tua email, le descrizioni e gli indirizzi delle tue richieste, le offerte, il piano e i consensi vengono cancellati. Le voci del registro pubblico restano, ma nessuno potrà più collegarle a te. Le prenotazioni pagate con denaro pubblico restano per il tempo previsto dalla legge, senza nome. Non si può annullare.",
    password: "La tua password, per confermare",
    erase_button: "Cancella definitivamente il mio account",
    erased_heading: "Cancellato",
    kept_heading: "Conservato, e perché",
    wrong_password: "Password non corretta: nulla è stato cancellato.",
};

pub(crate) const EN: Words = Words {
    title: "My data",
    intro: "You have the right to know what Trama keeps about you, to take it elsewhere and to have it erased (GDPR, Art. 15, 17 and 20).",
    export_heading: "Download your data",
    export_text: "A JSON file with your account, your requests and offers, matches, notifications, your care budget and plan, consents, your contributions in the register and who looked at your data.",
    export_button: "Download my data (JSON)",
    erase_heading: "Erase my account",
    erase_text: "Your name, your e-mail, the descriptions and addresses of your requests, your offers, plan and consents are erased. The public register's entries stay, but nobody can link them to you any more. Bookings paid with public money stay for as long as the law requires, without a name. It cannot be undone.",
    password: "Your password, to confirm",
    erase_button: "Erase my account for good",
    erased_heading: "Erased",
    kept_heading: "Kept, and why",
    wrong_password: "Wrong password: nothing was erased.",
};

pub(crate) fn words(lang: Lang) -> &'static Words {
    if lang == Lang::En { &EN } else { &IT }
}

#[derive(Template)]
#[template(path = "privacy.html")]
pub(crate) struct PrivacyPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    error: Option<String>,
    /// After erasure: (what was erased, what was kept and why).
    done: Option<(Vec<String>, Vec<String>)>,
}

pub async fn page(page: Page) -> Response {
    let Page { l, .. } = page;
    l.render(
        StatusCode::OK,
        &PrivacyPage {
            l: &l,
            w: words(l.lang),
            error: None,
            done: None,
        },
    )
}

pub async fn erase_submit(
    State(state): State<AppState>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let Page { l, .. } = page;
    let p = &p;
    let w = words(l.lang);
    Ok(
        match crate::accounts::service::erase(&state, p, field(&form, "password"))
            .await
            .map_err(ApiError::from)
        {
            Ok(v) => {
                let r = &v.erased;
                let erased = vec![
                    format!("account: name, e-mail, password, {} roles", r.roles_deleted),
                    format!(
                        "{} needs wiped, {} offers withdrawn",
                        r.needs_wiped, r.offers_wiped
                    ),
                    format!("{} plans, {} consents", r.plans_deleted, r.consents_deleted),
                    format!(
                        "{} sessions, {} tokens, {} notifications",
                        r.sessions_deleted, r.tokens_deleted, r.notifications_deleted
                    ),
                ];
                l.render(
                    StatusCode::OK,
                    &PrivacyPage {
                        l: &l,
                        w,
                        error: None,
                        done: Some((erased, v.kept)),
                    },
                )
            }
            Err(ApiError::BadCredentials) => l.render(
                StatusCode::UNAUTHORIZED,
                &PrivacyPage {
                    l: &l,
                    w,
                    error: Some(w.wrong_password.into()),
                    done: None,
                },
            ),
            Err(e) => return Err(PageError::from(e)),
        },
    )
}
