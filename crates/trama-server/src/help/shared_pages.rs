//! Shared services at the desk (`/sportello/condivisi`): the groups of open needs one visit can
//! serve, when, and what each person pays at the rate the operator sets. Every need shown is a
//! full read of someone's request, audited as the desk's reads are (`hubs::service`).

use super::pages::{NeedLine, need_line, windows_text};
use super::words::{SharedWords, shared_words, words};
use crate::budgets::pages::euro;
use crate::error::ApiError;
use crate::hubs::service::shared_services;
use crate::policy::Routes;
use crate::state::AppState;
use crate::web::form::{PageResult, SignedPage, query_pairs};
use crate::web::i18n::Lang;
use askama::Template;
use axum::extract::State;
use trama_core::FieldError;
use trama_core::money::Cents;

/// The pages of this feature, each with its policy (docs/SECURITY.md).
pub fn routes() -> Routes {
    use crate::web::policies as may;
    Routes::pages().get("/sportello/condivisi", shared_page, may::desk())
}

/// One proposal: each member with their share, when they can be served, what it costs.
pub struct SharedCard {
    pub members: Vec<(NeedLine, String)>,
    pub together: String,
    pub minutes: u16,
    pub total: String,
    pub separate: String,
    /// What sharing saves, when it does.
    pub saving: Option<String>,
}

#[derive(Template)]
#[template(path = "shared_services.html")]
pub(crate) struct SharedPage<'a> {
    l: &'a crate::web::Layout,
    w: &'static SharedWords,
    cards: Vec<SharedCard>,
    rate: String,
    extra: String,
    error: Option<(String, String)>,
}

/// The rate and surcharge as typed in the page's query (`tariffa`, `maggiorazione`): euros as
/// people write them, a whole percentage; blank means the default.
fn pricing_typed(rate: &str, extra: &str) -> Result<(Option<f64>, Option<u32>), FieldError> {
    let rate = match rate.trim() {
        "" => None,
        r => Some(Cents::parse_euros("hourly_rate", r)?.to_decimal()),
    };
    let extra = match extra.trim() {
        "" => None,
        e => {
            let v: i64 = trama_core::bounded::number("extra_percent", e)?;
            Some(trama_core::bounded::within("extra_percent", v, 0, 100)? as u32)
        }
    };
    trama_core::matching::shared::pricing(rate, extra)?;
    Ok((rate, extra))
}

pub async fn shared_page(State(state): State<AppState>, signed: SignedPage) -> PageResult {
    let SignedPage { l, ref p, uri, .. } = signed;
    let q = query_pairs(&uri);
    let typed = |k: &str| q.get(k).cloned().unwrap_or_default();
    let (rate_typed, extra_typed) = (typed("tariffa"), typed("maggiorazione"));
    let (pricing, error) = match pricing_typed(&rate_typed, &extra_typed) {
        Ok(p) => (p, None),
        Err(e) => {
            // The form's own names, so the message links to the field.
            let field = if e.field == "hourly_rate" {
                "tariffa"
            } else {
                "maggiorazione"
            };
            (
                (None, None),
                Some((field.to_string(), crate::web::say::field_error(l.lang, &e))),
            )
        }
    };
    let groups = shared_services(&state, p, pricing.0, pricing.1)
        .await
        .map_err(ApiError::from)?;
    let cards = groups
        .iter()
        .map(|g| {
            let saving = g.separate_cents - g.total_cents;
            SharedCard {
                members: g
                    .needs
                    .iter()
                    .zip(&g.shares_cents)
                    .map(|(n, s)| (need_line(l.lang, n), euro(*s, l.lang)))
                    .collect(),
                together: windows_text(words(l.lang), &g.windows),
                minutes: g.duration_minutes,
                total: euro(g.total_cents, l.lang),
                separate: euro(g.separate_cents, l.lang),
                saving: (saving > 0).then(|| euro(saving, l.lang)),
            }
        })
        .collect();
    // What was typed stays in the form, mistakes included; blank shows the default.
    let shown_rate = if rate_typed.trim().is_empty() {
        match l.lang {
            Lang::It => "22,00".to_string(),
            Lang::En => "22.00".to_string(),
        }
    } else {
        rate_typed
    };
    let shown_extra = if extra_typed.trim().is_empty() {
        "25".to_string()
    } else {
        extra_typed
    };
    let status = crate::web::form_status(&error);
    Ok(l.render(
        status,
        &SharedPage {
            l: &l,
            w: shared_words(l.lang),
            cards,
            rate: shown_rate,
            extra: shown_extra,
            error,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_read_as_people_type_them() {
        assert_eq!(pricing_typed("", "").unwrap(), (None, None));
        assert_eq!(
            pricing_typed("24,50", "10").unwrap(),
            (Some(24.5), Some(10))
        );
        assert_eq!(pricing_typed("abc", "").unwrap_err().field, "hourly_rate");
        assert_eq!(pricing_typed("0", "").unwrap_err().field, "hourly_rate");
        assert_eq!(pricing_typed("", "101").unwrap_err().field, "extra_percent");
        assert_eq!(pricing_typed("", "-1").unwrap_err().field, "extra_percent");
    }
}
