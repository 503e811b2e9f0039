//! Care budgets in the browser: one's own budget, the case manager's caseload and a person's
//! plan, the funder's dashboard, the provider's bookings.

use super::words::{Words, words};
use crate::auth::random_token;
use crate::budgets::service::BookingView;
use crate::budgets::service::DashboardView;
use crate::budgets::service::FundingView;
use crate::budgets::service::PersonBudgetView;
use crate::budgets::service::ProviderBookingView;
use crate::error::ApiError;
use crate::policy::Routes;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::form::SignedPage;
use crate::web::form::field;
use crate::web::form::query_pairs;
use crate::web::form::{Opt, fields, opts};
use crate::web::form::{Page, SignedForm};
use crate::web::form::{PageError, PageResult};
use crate::web::i18n::Lang;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use trama_core::auth::{Principal, Role};
use trama_core::budget::access::{self, BudgetView};
use trama_core::budget::booking::BookingForm;
use trama_core::budget::booking::IdempotencyKey;
use trama_core::budget::programme::YearMonth;
use trama_core::budget::programme::{FunderKind, ProgrammeForm};
use trama_core::ids::{BookingId, UserId};
use trama_core::money::Cents;
use trama_core::taxonomy::NOMENCLATORE;

/// The pages of this feature, each with its policy (docs/SECURITY.md).
pub fn routes() -> Routes {
    use crate::policy::Scope;
    use crate::web::policies as may;
    Routes::pages()
        .get("/io/budget", mine, may::own())
        .post("/io/budget/consensi/{cm}/revoca", revoke_submit, may::own())
        .post(
            "/io/budget/consensi/{cm}/conferma",
            confirm_submit,
            may::own(),
        )
        .get(
            "/sportello/budget",
            caseload,
            may::signed(
                Scope::Caseload,
                "case managers: the names of the people they follow with consent",
            ),
        )
        .post(
            "/sportello/budget/consensi",
            follow_submit,
            may::signed(
                Scope::Organisation,
                "case managers: record a consent at their desk (it waits for the person)",
            ),
        )
        .get("/sportello/budget/persone/{id}", person, may::caseload())
        .get("/sportello/budget/persone/{id}/piano", plan_form, may::caseload())
        .post(
            "/sportello/budget/persone/{id}/piano",
            plan_submit,
            may::caseload(),
        )
        .post(
            "/sportello/budget/persone/{id}/prenota",
            book_submit,
            may::caseload(),
        )
        .post(
            "/sportello/budget/persone/{id}/assegna",
            grant_submit,
            may::signed(
                Scope::Funder,
                "the funder's staff, or case managers it delegated, for people they follow with consent",
            ),
        )
        .post(
            "/sportello/budget/prenotazioni/{id}/annulla",
            cancel_submit,
            may::caseload(),
        )
        .get(
            "/budget/cruscotto",
            dashboard,
            may::signed(
                Scope::Funder,
                "funders' admins (theirs), the territory admin and auditors; aggregates",
            ),
        )
        .get(
            "/budget/programmi",
            programmes,
            may::signed(
                Scope::Funder,
                "funders' admins (theirs), the territory admin and auditors; no personal data",
            ),
        )
        .post(
            "/budget/finanziatori",
            funder_submit,
            may::signed(Scope::Territory, "the territory admin records funders"),
        )
        .post(
            "/budget/programmi",
            programme_submit,
            may::signed(Scope::Territory, "the territory admin records programmes"),
        )
        .get(
            "/gestione/prenotazioni",
            provider,
            may::signed(Scope::Organisation, "providers' admins and operators"),
        )
        .post(
            "/gestione/prenotazioni/{id}/consegna",
            deliver_submit,
            may::signed(Scope::Organisation, "providers' admins and operators"),
        )
}

/// An amount in euros as people read it: `€ 1.234,56` in Italian, `€1,234.56` in English.
pub fn euro(cents: i64, lang: Lang) -> String {
    let neg = cents < 0;
    let c = cents.unsigned_abs();
    let (units, rest) = (c / 100, c % 100);
    let digits = units.to_string();
    let (thousands, decimal) = match lang {
        Lang::It => ('.', ','),
        Lang::En => (',', '.'),
    };
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(thousands);
        }
        grouped.push(ch);
    }
    let sign = if neg { "-" } else { "" };
    match lang {
        // A no-break space: the sign stays with its amount in a narrow table cell.
        Lang::It => format!("{sign}€\u{a0}{grouped}{decimal}{rest:02}"),
        Lang::En => format!("{sign}€{grouped}{decimal}{rest:02}"),
    }
}

/// A category of the nomenclature in words: `C1 · Assistenza domiciliare (SAD)`.
pub fn category_label(code: &str, lang: Lang) -> String {
    let top = code.split('.').take(1).collect::<String>();
    let term = NOMENCLATORE
        .iter()
        .find(|t| t.code == code)
        .or_else(|| NOMENCLATORE.iter().find(|t| t.code == top));
    match term {
        Some(t) => format!("{code} · {}", if lang == Lang::En { t.en } else { t.it }),
        None => code.to_string(),
    }
}

/// Why the funding engine left an allocation out of a line, in words.
pub(crate) fn reason_words(code: &str, lang: Lang) -> &'static str {
    let it = lang == Lang::It;
    match code {
        "category_not_covered" if it => "non paga questo servizio",
        "category_not_covered" => "does not pay for this service",
        "outside_validity" if it => "non vale in questi mesi",
        "outside_validity" => "not valid in these months",
        "no_saving" if it => "compartecipazione del 100%: nessun risparmio",
        "no_saving" => "100 % co-payment: it saves nothing",
        "excluded" if it => "esclusa dal case manager",
        "excluded" => "excluded by the case manager",
        "not_combinable_with" if it => "non cumulabile con",
        "not_combinable_with" => "does not combine with",
        "exhausted" if it => "esaurita",
        "exhausted" => "nothing left",
        "monthly_cap_reached" if it => "massimale mensile raggiunto",
        "monthly_cap_reached" => "monthly cap reached",
        "others_cheaper" if it => "altre misure costano meno alla persona",
        "others_cheaper" => "other programmes cost the person less",
        _ => "",
    }
}

/// The person's page with these (line, allocation) exclusions.
pub(crate) fn with_exclusions(
    base: &str,
    excluded: impl Iterator<Item = (usize, String)>,
) -> String {
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(excluded.map(|(l, a)| ("escludi", format!("{l}:{a}"))))
        .finish();
    if q.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{q}")
    }
}

/// This month in the territory's own time (not UTC: on the night of the 31st it is still the
/// 31st in Milan).
pub(crate) fn this_month(state: &AppState) -> YearMonth {
    let d = state.now_local().date();
    YearMonth::new("month", d.year() as u16, d.month() as u8).expect("a month of this era")
}

/// One bar of a horizontal stacked bar chart: a label and its segments (x, width, class,
/// tooltip), drawn on a 600-wide canvas with 200 for the labels.
pub struct Bar {
    pub y: f64,
    pub label: String,
    pub segments: Vec<(f64, f64, &'static str, String)>,
}

/// A segment of a bar to lay out: its value (cents), CSS class and tooltip.
pub(crate) type Segment = (i64, &'static str, String);

/// Lays out bars of (label, segments) scaled to the largest total.
pub(crate) fn bars(rows: Vec<(String, Vec<Segment>)>) -> Vec<Bar> {
    let max = rows
        .iter()
        .map(|(_, s)| s.iter().map(|x| x.0.max(0)).sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    rows.into_iter()
        .enumerate()
        .map(|(i, (label, segs))| {
            let mut x = 200.0;
            let segments = segs
                .into_iter()
                .map(|(v, class, tip)| {
                    let w = v.max(0) as f64 / max * 390.0;
                    let s = (x, w, class, tip);
                    x += w;
                    s
                })
                .collect();
            Bar {
                y: 10.0 + i as f64 * 34.0,
                label,
                segments,
            }
        })
        .collect()
}

/// A chart label of at most 30 characters, with an ellipsis when cut.
pub(crate) fn short(s: &str) -> String {
    if s.chars().count() <= 30 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(29).collect::<String>().trim_end())
    }
}

pub(crate) fn chart_height(n: usize) -> usize {
    20 + n * 34
}

/// The role-dependent ways out of "my budget".
pub(crate) struct Links {
    workspace: bool,
    dashboard: bool,
    provider: bool,
}

/// The budget pages one may reach from one's own: those of one's workplaces, so a link never
/// leads to a refusal (an organisation's admin reaches the dashboard only for a funder).
pub(crate) fn links(places: &[trama_core::workplaces::Workplace]) -> Links {
    use trama_core::workplaces::Workplace as W;
    Links {
        workspace: places.contains(&W::Caseload),
        dashboard: places.contains(&W::Dashboard),
        provider: places.contains(&W::Bookings),
    }
}

// ---------------------------------------------------------------------------------------
// My budget

pub struct AllocationLine {
    pub programme: String,
    pub funder: String,
    pub decision: String,
    pub granted: String,
    pub available: String,
    pub held: String,
    pub spent: String,
    pub expires: String,
    pub categories: String,
}

pub struct BookingLine {
    pub id: String,
    pub month: String,
    pub category: String,
    pub programme: String,
    pub amount: String,
    pub held: String,
    pub spent: String,
    pub state: &'static str,
    pub cancellable: bool,
}

pub struct LookLine {
    pub at: String,
    pub who: String,
    pub what: &'static str,
}

/// What a person's budget comes to, as the allocations partial shows it: the totals, each
/// allocation (table and chart) and the help received and given in time.
pub(crate) struct BudgetFigures {
    granted: String,
    available: String,
    held: String,
    spent: String,
    allocations: Vec<AllocationLine>,
    bars: Vec<Bar>,
    chart_h: usize,
    hours_received: String,
    hours_given: String,
    credits: String,
    volunteers: Vec<(String, String)>,
}

impl BudgetFigures {
    fn of(v: &PersonBudgetView, w: &'static Words, lang: Lang) -> Self {
        let bars = allocation_bars(v, w, lang);
        Self {
            granted: euro(v.granted, lang),
            available: euro(v.available, lang),
            held: euro(v.held, lang),
            spent: euro(v.spent, lang),
            allocations: allocation_lines(v, lang),
            chart_h: chart_height(bars.len()),
            bars,
            hours_received: hours_text(v.hours_received, lang),
            hours_given: hours_text(v.hours_given, lang),
            credits: hours_text(v.hours_given - v.hours_received, lang),
            volunteers: v
                .volunteers
                .iter()
                .map(|h| (h.name.clone(), hours_text(h.hours, lang)))
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "budget_mine.html")]
pub(crate) struct MinePage<'a> {
    l: &'a Layout,
    w: &'static Words,
    fig: BudgetFigures,
    bookings: Vec<BookingLine>,
    followers: Vec<FollowerLine>,
    looks: Vec<LookLine>,
    workspace: bool,
    dashboard: bool,
    provider: bool,
}

pub(crate) fn allocation_lines(v: &PersonBudgetView, lang: Lang) -> Vec<AllocationLine> {
    v.allocations
        .iter()
        .map(|a| AllocationLine {
            programme: a.programme.clone(),
            funder: a.funder.clone(),
            decision: a.decision_reference.clone(),
            granted: euro(a.granted, lang),
            available: euro(a.available, lang),
            held: euro(a.held, lang),
            spent: euro(a.spent, lang),
            expires: crate::web::i18n::month_text(&a.expires, lang),
            categories: a
                .categories
                .iter()
                .map(|c| category_label(c, lang))
                .collect::<Vec<_>>()
                .join("; "),
        })
        .collect()
}

pub(crate) fn allocation_bars(v: &PersonBudgetView, w: &Words, lang: Lang) -> Vec<Bar> {
    bars(
        v.allocations
            .iter()
            .map(|a| {
                (
                    short(&a.programme),
                    vec![
                        (
                            a.spent,
                            "bar-out",
                            format!("{}: {} {}", a.programme, w.spent, euro(a.spent, lang)),
                        ),
                        (
                            a.held,
                            "bar-move",
                            format!("{}: {} {}", a.programme, w.held, euro(a.held, lang)),
                        ),
                        (
                            a.available,
                            "bar-in",
                            format!(
                                "{}: {} {}",
                                a.programme,
                                w.available,
                                euro(a.available, lang)
                            ),
                        ),
                    ],
                )
            })
            .collect(),
    )
}

pub(crate) fn booking_lines(v: &PersonBudgetView, w: &Words, lang: Lang) -> Vec<BookingLine> {
    v.bookings
        .iter()
        .map(|b: &BookingView| BookingLine {
            id: b.id.clone(),
            month: crate::web::i18n::month_text(&b.month, lang),
            category: category_label(&b.category, lang),
            programme: v
                .allocations
                .iter()
                .find(|a| a.id == b.allocation_id)
                .map(|a| a.programme.clone())
                .unwrap_or_default(),
            amount: euro(b.amount, lang),
            held: euro(b.held, lang),
            spent: euro(b.spent, lang),
            state: match b.state.as_str() {
                "held" => w.state_held,
                "delivered" => w.state_delivered,
                _ => w.state_cancelled,
            },
            cancellable: b.state == "held" && b.held > 0,
        })
        .collect()
}

pub(crate) fn hours_text(h: f64, lang: Lang) -> String {
    let s = format!("{h:.1}");
    if lang == Lang::It {
        s.replace('.', ",")
    } else {
        s
    }
}

pub async fn mine(State(state): State<AppState>, signed: SignedPage) -> PageResult {
    let SignedPage { l, p, places, .. } = signed;
    mine_page(&state, &l, &p, &places)
        .await
        .map_err(PageError::from)
}

pub(crate) async fn mine_page(
    state: &AppState,
    l: &Layout,
    p: &Principal,
    places: &[trama_core::workplaces::Workplace],
) -> Result<Response, ApiError> {
    let w = words(l.lang);
    let (v, _) = crate::budgets::service::read_budget(state, p, p.user_id).await?;
    let followers = crate::budgets::service::consents_of(state, p.user_id)
        .await?
        .into_iter()
        .map(|c| FollowerLine {
            id: c.case_manager.to_string(),
            name: c.case_manager_name,
            reference: c.reference,
            how: if c.channel == "online" {
                w.consent_online
            } else {
                w.consent_desk
            },
            pending: c.state == trama_core::budget::consent::ConsentState::Pending,
        })
        .collect();
    let mut looks = Vec::new();
    let mut names: std::collections::HashMap<UserId, String> = Default::default();
    for e in crate::accounts::service::who_looked(state, p.user_id, 100).await? {
        let what = match e.action.as_str() {
            "budget.read" => w.look_read,
            "budget.provider_read" => w.look_provider,
            "budget.book" => w.look_book,
            "budget.cancel" => w.look_cancel,
            "budget.grant" => w.look_grant,
            "budget.plan" => w.look_plan,
            "budget.funding" => w.look_funding,
            "budget.follow" | "budget.consent" => w.look_follow,
            "budget.consent_revoked" => w.look_revoked,
            // Any other action on the budget is listed too, never hidden.
            a if a.starts_with("budget.") => w.look_other,
            _ => continue,
        };
        let who = match e.actor_id {
            // Each actor's name read once, however often they looked.
            Some(a) => match names.get(&a) {
                Some(n) => n.clone(),
                None => {
                    let n = crate::budgets::service::actor_name(state, a)
                        .await?
                        .unwrap_or_else(|| a.to_string());
                    names.insert(a, n.clone());
                    n
                }
            },
            None => "—".into(),
        };
        looks.push(LookLine {
            at: e
                .at
                .format(time::macros::format_description!(
                    "[year]-[month]-[day] [hour]:[minute]"
                ))
                .unwrap_or_default(),
            who,
            what,
        });
    }
    let links = links(places);
    Ok(l.render(
        StatusCode::OK,
        &MinePage {
            l,
            w,
            fig: BudgetFigures::of(&v, w, l.lang),
            bookings: booking_lines(&v, w, l.lang),
            followers,
            looks,
            workspace: links.workspace,
            dashboard: links.dashboard,
            provider: links.provider,
        },
    ))
}

/// A consent about the person, on their page.
pub struct FollowerLine {
    pub id: String,
    pub name: String,
    pub reference: String,
    pub how: &'static str,
    pub pending: bool,
}

/// The person confirms, from their page, a consent recorded at a desk.
pub async fn confirm_submit(
    State(state): State<AppState>,
    Path(cm): Path<String>,
    SignedForm { p, .. }: SignedForm,
) -> PageResult {
    let p = &p;
    let cm = UserId::parse("case_manager", &cm).map_err(ApiError::InvalidParameter)?;
    let c = crate::budgets::service::consent_between(&state, p.user_id, cm).await?;
    let Some(c) = c.filter(|c| c.state != trama_core::budget::consent::ConsentState::Revoked)
    else {
        return Err(ApiError::NotFound("no consent waiting for you".into()).into());
    };
    crate::budgets::service::give_consent(
        &state,
        p,
        cm,
        c.organization,
        trama_core::budget::consent::Purpose::CareBudget,
    )
    .await?;
    Ok(Redirect::to("/io/budget").into_response())
}

/// The person ends a case manager's consent from their page.
pub async fn revoke_submit(
    State(state): State<AppState>,
    Path(cm): Path<String>,
    SignedForm { p, .. }: SignedForm,
) -> PageResult {
    let p = &p;
    let cm = UserId::parse("case_manager", &cm).map_err(ApiError::InvalidParameter)?;
    crate::budgets::service::revoke(&state, p, p.user_id, cm).await?;
    Ok(Redirect::to("/io/budget").into_response())
}

// ---------------------------------------------------------------------------------------
// The case manager's workspace

#[derive(Template)]
#[template(path = "budget_caseload.html")]
pub(crate) struct CaseloadPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    people: Vec<(String, String, String)>,
    /// People the case manager's organisations registered at the desk and who are not in the
    /// caseload yet: (id, name).
    desk_people: Vec<(String, String)>,
    /// A consent just recorded waits for the person, who had withdrawn it.
    pending: bool,
}

pub(crate) async fn caseload_page(
    state: &AppState,
    l: &Layout,
    p: &Principal,
    pending: bool,
) -> Result<Response, ApiError> {
    let w = words(l.lang);
    if !trama_core::budget::access::keeps_caseload(p) {
        return Err(ApiError::Forbidden(w.only_case_managers.into()));
    }
    let people: Vec<(String, String, String)> = crate::budgets::service::caseload(state, p.user_id)
        .await?
        .into_iter()
        .map(|(id, name, consent)| (id.to_string(), name, consent))
        .collect();
    let orgs: Vec<_> = p
        .grants
        .iter()
        .filter(|g| g.role == Role::CaseManager)
        .filter_map(|g| g.organization_id)
        .collect();
    let desk_people = crate::help::service::assisted_people(state, &orgs)
        .await?
        .into_iter()
        .filter(|a| !people.iter().any(|x| x.0 == a.user.to_string()))
        .map(|a| (a.user.to_string(), a.display_name))
        .collect();
    Ok(l.render(
        StatusCode::OK,
        &CaseloadPage {
            l,
            w,
            people,
            desk_people,
            pending,
        },
    ))
}

/// The case manager takes a person into the caseload: by their e-mail, or among the people
/// her organisation registered at the desk, with the reference of the signed consent.
pub async fn follow_submit(
    State(state): State<AppState>,
    SignedForm { p, form, .. }: SignedForm,
) -> PageResult {
    let p = &p;
    let res = async {
        // The signed form's reference first: a desk without it learns nothing, not even
        // whether the e-mail has an account.
        let reference =
            trama_core::budget::consent::ConsentReference::parse(field(&form, "consent_reference"))
                .map_err(ApiError::InvalidBody)?;
        let email = field(&form, "email").trim();
        let chosen = field(&form, "person").trim();
        let person = if !chosen.is_empty() {
            UserId::parse("person", chosen).map_err(ApiError::InvalidBody)?
        } else if !email.is_empty() {
            let e = trama_core::auth::Email::parse(email).map_err(ApiError::InvalidBody)?;
            match crate::accounts::service::account_by_email(&state, &e).await? {
                Some(id) => id,
                // The same answer as for an account: the consent waits for the person, and
                // whether an address has an account here is not for the desk to learn.
                None => return Ok(None),
            }
        } else {
            return Err(ApiError::InvalidBody(trama_core::FieldError::new(
                "email",
                "the person's e-mail, or a person registered at the desk",
            )));
        };
        let desk = crate::budgets::service::DeskConsent {
            case_manager: None,
            organization: None,
            purpose: trama_core::budget::consent::Purpose::CareBudget,
            reference,
        };
        let c = crate::budgets::service::follow(&state, p, person, &desk).await?;
        Ok(Some((person, c.state)))
    }
    .await;
    Ok(match res {
        Ok(Some((person, trama_core::budget::consent::ConsentState::Active))) => {
            Redirect::to(&format!("/sportello/budget/persone/{person}")).into_response()
        }
        // Waits for the person to confirm it: the caseload says so.
        Ok(_) => Redirect::to("/sportello/budget?in_attesa=1").into_response(),
        Err(e) => return Err(PageError::from(e)),
    })
}

pub async fn caseload(State(state): State<AppState>, signed: SignedPage) -> PageResult {
    let SignedPage { l, ref p, uri, .. } = signed;
    let pending = uri.query().is_some_and(|q| q.contains("in_attesa=1"));
    caseload_page(&state, &l, p, pending)
        .await
        .map_err(PageError::from)
}

/// A share of the funding proposal the case manager can book in one click.
pub struct ProposalRow {
    pub category: String,
    pub category_code: String,
    /// `YYYY-MM`, as the booking form sends it.
    pub month: String,
    /// The same month in words, as the page shows it.
    pub month_words: String,
    pub programme: String,
    pub allocation_id: String,
    pub programme_pays: i64,
    pub programme_pays_text: String,
    pub copay: String,
    pub provider: String,
    pub booked: bool,
    /// The same page with this allocation excluded from this line.
    pub exclude_url: String,
}

pub struct ProposalLine {
    pub category: String,
    pub cost: String,
    pub public_pays: String,
    pub self_pay: String,
    pub out_of_pocket: String,
    /// Why an allocation was not used: (programme, reason).
    pub not_used: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "budget_person.html")]
pub(crate) struct PersonPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    person_id: String,
    name: String,
    read_only: bool,
    fig: BudgetFigures,
    bookings: Vec<BookingLine>,
    plan_goals: Vec<String>,
    plan_review: String,
    plan_agreement: String,
    has_plan: bool,
    totals: Option<(String, String, String, String)>,
    lines: Vec<ProposalLine>,
    rows: Vec<ProposalRow>,
    /// The overrides in force: (what, the page without it).
    exclusions: Vec<(String, String)>,
    reset_url: String,
    key: String,
    notice: Option<String>,
    /// The programmes the reader may grant from: (id, "name: € left, months").
    grantable: Vec<(String, String)>,
    /// The Municipi a grant's spending may be counted in: (code, name).
    municipi: Vec<(String, String)>,
    /// The month a new allocation expires by default (the year's end).
    grant_expires: String,
    /// What the grant form was given, and why it was refused, when it is shown again.
    grant: GrantTyped,
}

/// The idempotency key a money-moving form carries in its hidden `key` field.
fn form_key(form: &crate::web::form::Form) -> Result<IdempotencyKey, ApiError> {
    IdempotencyKey::parse("key", field(form, "key")).map_err(ApiError::InvalidBody)
}

pub async fn person(
    State(state): State<AppState>,
    signed: SignedPage,
    Path(id): Path<String>,
) -> PageResult {
    let SignedPage { l, ref p, uri, .. } = signed;
    let notice = query_pairs(&uri).get("fatto").map(|_| ());
    // The case manager's overrides: `escludi=LINE:ALLOCATION`, repeated (a malformed one is
    // refused, never dropped: the totals would silently include what she excluded).
    let excluded: Result<Vec<(usize, String)>, _> = uri
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k == "escludi")
        .take(50)
        .map(|(_, v)| {
            trama_core::budget::funding::parse_exclusion("escludi", &v)
                .map(|(line, a)| (line, a.to_string()))
        })
        .collect();
    let excluded = match excluded {
        Ok(x) => x,
        Err(e) => return Err(PageError::from(ApiError::InvalidParameter(e))),
    };
    person_page(&state, &l, p, &id, notice, &excluded, None)
        .await
        .map_err(PageError::from)
}

/// A grant the form asked for and could not make: the reason, and what was typed.
#[derive(Default)]
pub struct GrantTyped {
    pub programme: String,
    pub amount: String,
    pub decision: String,
    pub expires: String,
    pub area: String,
    pub error: Option<String>,
}

pub(crate) async fn person_page(
    state: &AppState,
    l: &Layout,
    p: &Principal,
    id: &str,
    notice: Option<()>,
    excluded: &[(usize, String)],
    retry: Option<(StatusCode, GrantTyped)>,
) -> Result<Response, ApiError> {
    let w = words(l.lang);
    let (status, grant) = retry.unwrap_or((StatusCode::OK, GrantTyped::default()));
    let person = UserId::parse("id", id).map_err(ApiError::InvalidParameter)?;
    // Audited, and not found for anyone without access.
    let (v, facts) = crate::budgets::service::read_budget(state, p, person).await?;
    let name = crate::budgets::service::person_name(state, &facts).await?;
    let read_only = access::budget_view(p, &facts) != BudgetView::Full
        || !access::may(p, &facts, access::BudgetAction::Book);
    let plan = crate::budgets::service::current_plan(state, &facts).await?;
    let (mut lines, mut rows, mut totals) = (Vec::new(), Vec::new(), None);
    let mut exclusions: Vec<(String, String)> = Vec::new();
    let base = format!("/sportello/budget/persone/{person}");
    let l_lang = l.lang;
    let (mut goals, mut review, mut agreement) = (Vec::new(), String::new(), String::new());
    if let Some(plan) = &plan {
        goals = plan.plan.goals.clone();
        review = crate::web::i18n::date_words(plan.plan.review_on, l.lang);
        agreement = plan
            .plan
            .agreement
            .as_ref()
            .map(|a| {
                format!(
                    "{} ({}, {})",
                    a.parties.join(", "),
                    a.reference,
                    crate::web::i18n::date_words(a.signed_on, l.lang)
                )
            })
            .unwrap_or_default();
        let f: FundingView = crate::budgets::service::propose(
            state,
            p,
            &facts,
            person,
            plan.plan.funding_lines(),
            None,
            &excluded
                .iter()
                .map(|(line, a)| crate::budgets::service::ExclusionRequest {
                    line: *line,
                    allocation_id: a.clone(),
                })
                .collect::<Vec<_>>(),
        )
        .await?;
        totals = Some((
            euro(f.total_cost, l.lang),
            euro(f.public_pays, l.lang),
            euro(f.copay, l.lang),
            euro(f.out_of_pocket, l.lang),
        ));
        let programme_of = |aid: &str| {
            v.allocations
                .iter()
                .find(|a| a.id == aid)
                .map(|a| a.programme.clone())
                .unwrap_or_default()
        };
        for (i, (line, a)) in excluded.iter().enumerate() {
            let rest = excluded
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != i)
                .map(|(_, e)| e.clone());
            exclusions.push((
                format!(
                    "{} — {}",
                    f.lines
                        .get(*line)
                        .map(|l| category_label(&l.category, l_lang))
                        .unwrap_or_default(),
                    programme_of(a)
                ),
                with_exclusions(&base, rest),
            ));
        }
        for line in &f.lines {
            let item = plan.plan.items.get(line.line);
            let provider = item
                .and_then(|i| i.provider_organization_id.clone())
                .unwrap_or_default();
            lines.push(ProposalLine {
                category: category_label(&line.category, l.lang),
                cost: euro(line.cost, l.lang),
                public_pays: euro(line.shares.iter().map(|s| s.programme_pays).sum(), l.lang),
                self_pay: euro(line.self_pay, l.lang),
                out_of_pocket: euro(line.out_of_pocket, l.lang),
                not_used: line
                    .not_used
                    .iter()
                    .map(|n| {
                        let mut why = reason_words(&n.reason, l.lang).to_string();
                        if let Some(other) = &n.with_allocation_id {
                            why = format!("{why} {}", programme_of(other));
                        }
                        (n.programme.clone(), why)
                    })
                    .collect(),
            });
            for s in &line.shares {
                if s.programme_pays <= 0 {
                    continue;
                }
                // Booked already, from whichever allocation: the service of that month is
                // not to be booked twice.
                let booking = v.bookings.iter().find(|b| {
                    b.month == s.month && b.category == line.category && b.state != "cancelled"
                });
                // A booked month shows what was booked (its programme and amount), not what
                // the proposal, computed again on what is left, would take now.
                let (programme, pays) = match booking {
                    Some(b) => (programme_of(&b.allocation_id), b.amount),
                    None => (programme_of(&s.allocation_id), s.programme_pays),
                };
                let booked = booking.is_some();
                rows.push(ProposalRow {
                    category: category_label(&line.category, l.lang),
                    category_code: line.category.clone(),
                    month: s.month.clone(),
                    month_words: crate::web::i18n::month_text(&s.month, l.lang),
                    programme,
                    allocation_id: s.allocation_id.clone(),
                    programme_pays: s.programme_pays,
                    programme_pays_text: euro(pays, l.lang),
                    copay: euro(s.copay, l.lang),
                    provider: provider.clone(),
                    booked,
                    exclude_url: with_exclusions(
                        &base,
                        excluded
                            .iter()
                            .cloned()
                            .chain([(line.line, s.allocation_id.clone())]),
                    ),
                });
            }
        }
        rows.sort_by(|a, b| (&a.month, &a.category).cmp(&(&b.month, &b.category)));
    }
    let grantable = crate::budgets::service::grantable(state, p, person)
        .await?
        .into_iter()
        .map(|g| {
            (
                g.programme.to_string(),
                format!(
                    "{}: {} {} ({} – {})",
                    g.name,
                    euro(g.left.0, l.lang),
                    if l.lang == Lang::En {
                        "left"
                    } else {
                        "disponibili"
                    },
                    crate::web::i18n::month_name(g.valid_from, l.lang),
                    crate::web::i18n::month_name(g.valid_to, l.lang)
                ),
            )
        })
        .collect();
    let municipi = crate::budgets::service::grant_areas(state)
        .await?
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect();
    let grant_expires = if grant.expires.is_empty() {
        format!("{}-12", this_month(state).year())
    } else {
        grant.expires.clone()
    };
    Ok(l.render(
        status,
        &PersonPage {
            l,
            w,
            person_id: person.to_string(),
            name,
            read_only,
            fig: BudgetFigures::of(&v, w, l.lang),
            bookings: booking_lines(&v, w, l.lang),
            has_plan: plan.is_some(),
            plan_goals: goals,
            plan_review: review,
            plan_agreement: agreement,
            totals,
            lines,
            rows,
            exclusions,
            reset_url: base.clone(),
            key: random_token(),
            notice: notice.map(|_| w.done.to_string()),
            grantable,
            municipi,
            grant_expires,
            grant,
        },
    ))
}

/// Grants the person an allocation from a programme the reader may grant from, with the
/// funder's decision (the form of the person's file).
pub async fn grant_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let person = UserId::parse("id", &id).map_err(ApiError::InvalidParameter)?;
    let Page { l, .. } = page;
    let mut typed = GrantTyped {
        programme: field(&form, "programme_id").to_string(),
        amount: field(&form, "amount").to_string(),
        decision: field(&form, "decision_reference").to_string(),
        expires: field(&form, "expires").to_string(),
        area: field(&form, "area_code").trim().to_string(),
        error: None,
    };
    let granted = async {
        let amount = Cents::parse_euros("amount", &typed.amount).map_err(ApiError::InvalidBody)?;
        let asked = trama_core::budget::booking::GrantForm {
            programme_id: typed.programme.clone(),
            amount: amount.0,
            decision_reference: typed.decision.clone(),
            expires: typed.expires.clone(),
            area_code: (!typed.area.is_empty()).then(|| typed.area.clone()),
        };
        let key = form_key(&form)?;
        crate::budgets::service::grant(&state, &p, person, &asked, &asked.fingerprint(), &key)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match granted {
        Ok(_) => Ok(
            Redirect::to(&format!("/sportello/budget/persone/{person}?fatto=1")).into_response(),
        ),
        // What the case manager can put right is shown on the file, the form as she typed it.
        Err(
            e @ (ApiError::InvalidBody(_) | ApiError::InvalidReference(_) | ApiError::Conflict(_)),
        ) => {
            typed.error = Some(crate::web::say::api_error(l.lang, &e));
            Ok(person_page(&state, &l, &p, &id, None, &[], Some((e.status(), typed))).await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Books one share of the proposal (or any booking the form describes).
pub async fn book_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { p, form, .. }: SignedForm,
) -> PageResult {
    let p = &p;
    let amount = match trama_core::bounded::number::<i64>("amount", field(&form, "amount")) {
        Ok(a) => a,
        Err(e) => return Err(PageError::from(ApiError::InvalidBody(e))),
    };
    let provider = field(&form, "provider").trim();
    let asked = BookingForm {
        allocation_id: field(&form, "allocation_id").trim().into(),
        amount,
        category: field(&form, "category").trim().into(),
        month: field(&form, "month").trim().into(),
        provider_organization_id: (!provider.is_empty()).then(|| provider.to_string()),
        service_id: None,
    };
    let req = match asked.parse() {
        Ok(r) => r,
        Err(e) => return Err(PageError::from(ApiError::InvalidBody(e))),
    };
    let key = match form_key(&form) {
        Ok(k) => k,
        Err(e) => return Err(PageError::from(e)),
    };
    Ok(
        match crate::budgets::service::book(&state, p, &req, &req.fingerprint(), &key).await {
            Ok(_) => {
                Redirect::to(&format!("/sportello/budget/persone/{id}?fatto=1")).into_response()
            }
            Err(e) => return Err(PageError::from(e)),
        },
    )
}

/// Cancels a booking from the person's file.
pub async fn cancel_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { p, form, .. }: SignedForm,
) -> PageResult {
    let p = &p;
    let back = field(&form, "back").to_string();
    let res = async {
        let booking = BookingId::parse("id", &id).map_err(ApiError::InvalidParameter)?;
        let right = crate::budgets::service::cancellable(&state, p, booking).await?;
        crate::budgets::service::cancel(&state, p, right, &form_key(&form)?)
            .await
            .map_err(ApiError::from)
    }
    .await;
    Ok(match res {
        // Back to a page of ours only.
        Ok(_) if back.starts_with("/sportello/budget/persone/") || back == "/io/budget" => {
            Redirect::to(&format!("{back}?fatto=1")).into_response()
        }
        Ok(_) => Redirect::to("/io/budget").into_response(),
        Err(e) => return Err(PageError::from(e)),
    })
}

// ---------------------------------------------------------------------------------------
// The funder's dashboard

pub struct MonthColumn {
    pub x: f64,
    pub w: f64,
    pub spent_y: f64,
    pub spent_h: f64,
    pub held_y: f64,
    pub held_h: f64,
    pub label: String,
    pub tip: String,
}

pub struct SumLine {
    pub name: String,
    pub held: String,
    pub spent: String,
    pub bookings: u64,
}

pub struct AlertLine {
    pub what: String,
    pub month: String,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "budget_dashboard.html")]
pub(crate) struct DashboardPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    from: String,
    to: String,
    days: i64,
    held: String,
    spent: String,
    columns: Vec<MonthColumn>,
    max_label: String,
    programme_bars: Vec<Bar>,
    programme_h: usize,
    /// The tables under the charts: (title, id, rows).
    tables: Vec<(&'static str, &'static str, Vec<SumLine>)>,
    double_funding: Vec<AlertLine>,
    expiring: Vec<AlertLine>,
    expiring_total: String,
    beyond_plan: Vec<AlertLine>,
    billed_beyond: Vec<AlertLine>,
    statements: Vec<(String, String)>,
}

pub async fn dashboard(State(state): State<AppState>, signed: SignedPage) -> PageResult {
    let SignedPage { l, ref p, uri, .. } = signed;
    let q = query_pairs(&uri);
    let year = this_month(&state).year();
    let res = async {
        let from = q
            .get("dal")
            .cloned()
            .unwrap_or_else(|| format!("{year}-01"));
        let to = q.get("al").cloned().unwrap_or_else(|| format!("{year}-12"));
        let (from, to) = crate::budgets::service::report_period(Some(&from), Some(&to))?;
        let days = crate::budgets::service::within_days(q.get("giorni").map(String::as_str))?;
        let d = crate::budgets::service::dashboard(&state, p, from, to, days).await?;
        Ok::<_, ApiError>(dashboard_page(&l, d))
    }
    .await;
    res.map_err(PageError::from)
}

/// Held, spent and bookings of the dashboard's totals, summed by a key.
pub(crate) type Sums<K> = std::collections::BTreeMap<K, (i64, i64, u64)>;

pub(crate) fn sums<K: Ord>(
    totals: &[crate::budgets::service::TotalView],
    key: impl Fn(&crate::budgets::service::TotalView) -> K,
) -> Sums<K> {
    let mut m: Sums<K> = Default::default();
    for t in totals {
        let e = m.entry(key(t)).or_default();
        e.0 += t.held;
        e.1 += t.spent;
        e.2 += u64::from(t.bookings);
    }
    m
}

/// The rows of a table under the charts.
pub(crate) fn sum_lines<K>(m: &Sums<K>, name: impl Fn(&K) -> String, lang: Lang) -> Vec<SumLine> {
    m.iter()
        .map(|(k, (h, s, n))| SumLine {
            name: name(k),
            held: euro(*h, lang),
            spent: euro(*s, lang),
            bookings: *n,
        })
        .collect()
}

pub(crate) fn dashboard_page(l: &Layout, d: DashboardView) -> Response {
    let w = words(l.lang);
    let lang = l.lang;
    let programme_name = |id: &str| {
        d.programmes
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    // One sum per grouping, drawn in the charts and listed in the tables.
    let months = sums(&d.totals, |t| t.month.clone());
    let per_programme = sums(&d.totals, |t| programme_name(&t.programme_id));
    let by_month = sum_lines(&months, |m| m.clone(), lang);
    let by_programme = sum_lines(&per_programme, |k| k.clone(), lang);
    // The monthly chart: spent below, held above it.
    let max = months
        .values()
        .map(|(h, s, _)| s + h)
        .max()
        .unwrap_or(0)
        .max(1);
    let n = months.len().max(1) as f64;
    let slot = 540.0 / n;
    let columns = months
        .iter()
        .enumerate()
        .map(|(i, (m, (h, s, _)))| {
            let spent_h = *s as f64 / max as f64 * 220.0;
            let held_h = *h as f64 / max as f64 * 220.0;
            MonthColumn {
                x: 50.0 + i as f64 * slot + slot * 0.15,
                w: slot * 0.7,
                spent_y: 240.0 - spent_h,
                spent_h,
                held_y: 240.0 - spent_h - held_h,
                held_h,
                label: m.get(5..).unwrap_or(m).to_string(),
                tip: format!(
                    "{m}: {} {}, {} {}",
                    w.spent,
                    euro(*s, lang),
                    w.held,
                    euro(*h, lang)
                ),
            }
        })
        .collect();
    let programme_bars = bars(
        per_programme
            .iter()
            .map(|(name, (h, s, _))| {
                (
                    short(name),
                    vec![
                        (
                            *s,
                            "bar-out",
                            format!("{name}: {} {}", w.spent, euro(*s, lang)),
                        ),
                        (
                            *h,
                            "bar-move",
                            format!("{name}: {} {}", w.held, euro(*h, lang)),
                        ),
                    ],
                )
            })
            .collect(),
    );
    let by_category = sum_lines(
        &sums(&d.totals, |t| t.category.clone()),
        |c| category_label(c, lang),
        lang,
    );
    let by_area = d
        .by_area
        .iter()
        .map(|a| SumLine {
            name: match (&a.area_name, &a.area_code) {
                (Some(n), _) => n.clone(),
                (None, Some(c)) => c.clone(),
                (None, None) => w.no_area.into(),
            },
            held: euro(a.held, lang),
            spent: euro(a.spent, lang),
            bookings: a.bookings,
        })
        .collect();
    let names = |ids: &[String]| {
        ids.iter()
            .map(|i| programme_name(i))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let double_funding = d
        .double_funding
        .iter()
        .map(|x| AlertLine {
            what: format!(
                "{} — {}",
                category_label(&x.category, lang),
                names(&x.programme_ids)
            ),
            month: crate::web::i18n::month_text(&x.month, lang),
            amount: euro(x.amount, lang),
        })
        .collect();
    let expiring = d
        .expiring_unused
        .iter()
        .map(|x| AlertLine {
            what: programme_name(&x.programme_id),
            month: crate::web::i18n::month_text(&x.expires, lang),
            amount: euro(x.available, lang),
        })
        .collect();
    let beyond_plan = d
        .beyond_plan
        .iter()
        .map(|x| AlertLine {
            what: format!(
                "{} — {} {}",
                category_label(&x.category, lang),
                w.planned,
                euro(x.planned, lang)
            ),
            month: crate::web::i18n::month_text(&x.month, lang),
            amount: euro(x.booked, lang),
        })
        .collect();
    let billed_beyond = d
        .billed_beyond
        .iter()
        .map(|x| AlertLine {
            what: format!(
                "{} — {} — {} {}",
                category_label(&x.category, lang),
                programme_name(&x.programme_id),
                w.booked,
                euro(x.held, lang)
            ),
            month: crate::web::i18n::month_text(&x.month, lang),
            amount: euro(x.billed, lang),
        })
        .collect();
    let statements = d
        .funders
        .iter()
        .map(|f| {
            (
                format!(
                    "/api/funders/{}/statement.csv?from={}&to={}",
                    f.id, d.from, d.to
                ),
                f.name.clone(),
            )
        })
        .collect();
    l.render(
        StatusCode::OK,
        &DashboardPage {
            l,
            w,
            from: d.from.clone(),
            to: d.to.clone(),
            days: d.within_days,
            held: euro(d.held, lang),
            spent: euro(d.spent, lang),
            columns,
            max_label: euro(max, lang),
            programme_h: chart_height(programme_bars.len()),
            programme_bars,
            tables: vec![
                (w.by_programme, "by-programme", by_programme),
                (w.by_area, "by-area", by_area),
                (w.by_category, "by-category", by_category),
                (w.by_month, "by-month", by_month),
            ],
            double_funding,
            expiring_total: euro(d.expiring_unused.iter().map(|e| e.available).sum(), lang),
            expiring,
            beyond_plan,
            billed_beyond,
            statements,
        },
    )
}

// ---------------------------------------------------------------------------------------
// The provider's bookings

pub struct ProviderLine {
    pub id: String,
    pub person: String,
    pub category: String,
    pub month: String,
    pub amount: String,
    pub held: String,
    pub held_plain: String,
    pub spent: String,
    pub state: &'static str,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "budget_provider.html")]
pub(crate) struct ProviderPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    lines: Vec<ProviderLine>,
    key: String,
    notice: bool,
}

pub async fn provider(State(state): State<AppState>, signed: SignedPage) -> PageResult {
    let SignedPage { l, ref p, uri, .. } = signed;
    let w = words(l.lang);
    let notice = query_pairs(&uri).contains_key("fatto");
    Ok(
        match crate::budgets::service::provider_bookings(&state, p).await {
            Ok(list) => l.render(
                StatusCode::OK,
                &ProviderPage {
                    l: &l,
                    w,
                    lines: list
                        .into_iter()
                        .map(|b: ProviderBookingView| ProviderLine {
                            open: b.state == "held" && b.held > 0,
                            id: b.id,
                            person: b.person_name,
                            category: category_label(&b.category, l.lang),
                            month: b.month,
                            amount: euro(b.amount, l.lang),
                            held: euro(b.held, l.lang),
                            held_plain: format!("{}", Cents(b.held)),
                            spent: euro(b.spent, l.lang),
                            state: match b.state.as_str() {
                                "held" => w.state_held,
                                "delivered" => w.state_delivered,
                                _ => w.state_cancelled,
                            },
                        })
                        .collect(),
                    key: random_token(),
                    notice,
                },
            ),
            Err(e) => return Err(PageError::from(e)),
        },
    )
}

/// The provider marks a booking delivered, for the amount typed (euros).
pub async fn deliver_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { p, form, .. }: SignedForm,
) -> PageResult {
    let p = &p;
    let booking = BookingId::parse("id", &id).map_err(ApiError::InvalidParameter)?;
    // Who may bill comes before what was typed.
    let right = crate::budgets::service::deliverable(&state, p, booking).await?;
    let amount =
        Cents::parse_euros("amount", field(&form, "amount")).map_err(ApiError::InvalidBody)?;
    crate::budgets::service::deliver(&state, p, right, amount, &form_key(&form)?).await?;
    Ok(Redirect::to("/gestione/prenotazioni?fatto=1").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_are_written_and_read_as_people_do() {
        assert_eq!(euro(123_456, Lang::It), "€\u{a0}1.234,56");
        assert_eq!(euro(123_456, Lang::En), "€1,234.56");
        assert_eq!(euro(5, Lang::It), "€\u{a0}0,05");
        assert_eq!(
            Cents::parse_euros("amount", &euro(123_456, Lang::It)),
            Ok(Cents(123_456))
        );
        assert_eq!(euro(-100_000_000, Lang::En), "-€1,000,000.00");
    }

    #[test]
    fn categories_are_named_in_both_languages() {
        assert!(category_label("C1", Lang::It).contains("SAD"));
        assert!(category_label("C1", Lang::En).contains("Home care"));
        assert!(category_label("C1.2", Lang::It).starts_with("C1.2 · "));
        assert_eq!(category_label("Z9", Lang::It), "Z9");
    }
}

// ---------------------------------------------------------------------------------------
// The territory's funders and programmes

/// A funder's kind in words.
fn funder_kind_label(kind: FunderKind, lang: Lang) -> &'static str {
    let en = lang == Lang::En;
    match kind {
        FunderKind::National => {
            if en {
                "national (INPS, national funds)"
            } else {
                "nazionale (INPS, fondi nazionali)"
            }
        }
        FunderKind::Regional => {
            if en {
                "regional"
            } else {
                "regionale"
            }
        }
        FunderKind::Municipal => {
            if en {
                "municipal social services"
            } else {
                "servizi sociali del Comune"
            }
        }
        FunderKind::HealthAuthority => {
            if en {
                "health authority (ATS/ASST)"
            } else {
                "sanità (ATS/ASST)"
            }
        }
        FunderKind::CorporateWelfare => {
            if en {
                "corporate welfare"
            } else {
                "welfare aziendale"
            }
        }
        FunderKind::CommunityFund => {
            if en {
                "community or foundation fund"
            } else {
                "fondo di comunità o fondazione"
            }
        }
        FunderKind::FamilySelf => {
            if en {
                "the person or their family"
            } else {
                "la persona o la famiglia"
            }
        }
    }
}

/// The words of the funders' and programmes' page.
pub(crate) struct ProgrammesWords {
    heading: &'static str,
    intro: &'static str,
    fix: &'static str,
    no_funders: &'static str,
    no_programmes: &'static str,
    programme: &'static str,
    months: &'static str,
    pays_for: &'static str,
    cap: &'static str,
    cap_hint: &'static str,
    copay: &'static str,
    copay_hint: &'static str,
    isee_up_to: &'static str,
    share: &'static str,
    new_funder: &'static str,
    funder: &'static str,
    funder_name: &'static str,
    funder_kind: &'static str,
    funder_org: &'static str,
    funder_org_hint: &'static str,
    territory_itself: &'static str,
    save_funder: &'static str,
    new_programme: &'static str,
    from: &'static str,
    to: &'static str,
    per_person: &'static str,
    combinable: &'static str,
    individual: &'static str,
    save_programme: &'static str,
}

fn programmes_words(lang: Lang) -> ProgrammesWords {
    if lang == Lang::En {
        ProgrammesWords {
            heading: "Funders and programmes",
            intro: "Who pays for care budgets in the territory, and the rules of each programme: what it pays for, in which months, how much, and the co-payment by ISEE.",
            fix: "Please correct this",
            no_funders: "No funder yet: record the first one below.",
            no_programmes: "No programme yet.",
            programme: "Programme",
            months: "Months",
            pays_for: "Pays for",
            cap: "Most a month for one person (€)",
            cap_hint: "Leave it blank for no monthly cap.",
            copay: "Co-payment by ISEE",
            copay_hint: "One row per band, in increasing ISEE; leave the ISEE of the last band blank for any ISEE above. No rows: no co-payment.",
            isee_up_to: "ISEE up to (€)",
            share: "the person pays",
            new_funder: "Record a funder",
            funder: "Funder",
            funder_name: "Name",
            funder_kind: "Kind",
            funder_org: "Organisation that acts for it",
            funder_org_hint: "Its admins see the funder's figures and record its allocations.",
            territory_itself: "the territory itself",
            save_funder: "Save the funder",
            new_programme: "Record a programme",
            from: "First month",
            to: "Last month",
            per_person: "Granted to one person (€)",
            combinable: "It may pay for a service together with another programme",
            individual: "Its rules let the funder see the people it pays for by name",
            save_programme: "Save the programme",
        }
    } else {
        ProgrammesWords {
            heading: "Enti finanziatori e programmi",
            intro: "Chi paga i budget di cura nel territorio, e le regole di ogni programma: che cosa paga, in quali mesi, quanto, e la compartecipazione secondo l'ISEE.",
            fix: "Correggi questo campo",
            no_funders: "Nessun ente finanziatore ancora: registra il primo qui sotto.",
            no_programmes: "Nessun programma ancora.",
            programme: "Programma",
            months: "Mesi",
            pays_for: "Che cosa paga",
            cap: "Massimo al mese per una persona (€)",
            cap_hint: "Lascia vuoto se non c'è un tetto mensile.",
            copay: "Compartecipazione secondo l'ISEE",
            copay_hint: "Una riga per fascia, in ordine di ISEE crescente; lascia vuoto l'ISEE dell'ultima fascia per «qualunque ISEE oltre». Nessuna riga: nessuna compartecipazione.",
            isee_up_to: "ISEE fino a (€)",
            share: "la persona paga",
            new_funder: "Registra un ente finanziatore",
            funder: "Ente finanziatore",
            funder_name: "Nome",
            funder_kind: "Tipo",
            funder_org: "Organizzazione che agisce per l'ente",
            funder_org_hint: "I suoi amministratori vedono i numeri dell'ente e registrano le sue assegnazioni.",
            territory_itself: "il territorio stesso",
            save_funder: "Salva l'ente",
            new_programme: "Registra un programma",
            from: "Primo mese",
            to: "Ultimo mese",
            per_person: "Assegnato a una persona (€)",
            combinable: "Può pagare un servizio insieme a un altro programma (cumulabile)",
            individual: "Le sue regole permettono all'ente di vedere per nome le persone che sostiene",
            save_programme: "Salva il programma",
        }
    }
}

pub struct ProgrammeLine {
    pub name: String,
    pub months: String,
    pub categories: String,
    pub cap: String,
    pub copay: String,
}

pub struct FunderLine {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub programmes: Vec<ProgrammeLine>,
}

#[derive(Template)]
#[template(path = "budget_programmes.html")]
pub(crate) struct ProgrammesPage<'a> {
    l: &'a Layout,
    w: ProgrammesWords,
    notice: Option<&'static str>,
    error: Option<String>,
    funders: Vec<FunderLine>,
    may_edit: bool,
    funder_name: String,
    kinds: Vec<Opt>,
    orgs: Vec<Opt>,
    form: ProgrammeForm,
    form_funder: String,
    categories: Vec<Opt>,
    bands: Vec<(String, String)>,
}

/// What the funder form was given, kept when it is shown again.
#[derive(Default)]
struct FunderTyped {
    name: String,
    kind: String,
    organization: String,
}

async fn programmes_render(
    state: &AppState,
    l: &Layout,
    p: &Principal,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
    typed: (FunderTyped, ProgrammeForm, String),
) -> Result<Response, ApiError> {
    let funders = crate::budgets::service::visible_funders(state, p).await?;
    let programmes = crate::budgets::service::programmes(state).await?;
    let lines = funders
        .iter()
        .map(|f| FunderLine {
            id: f.id.to_string(),
            name: f.name.clone(),
            kind: funder_kind_label(f.kind, l.lang),
            programmes: programmes
                .iter()
                .filter(|pr| pr.funder_id == f.id)
                .map(|pr| ProgrammeLine {
                    name: pr.name.clone(),
                    months: format!(
                        "{} – {}",
                        crate::web::i18n::month_name(pr.rules.valid_from, l.lang),
                        crate::web::i18n::month_name(pr.rules.valid_to, l.lang)
                    ),
                    categories: pr
                        .rules
                        .categories
                        .iter()
                        .map(|c| category_label(c, l.lang))
                        .collect::<Vec<_>>()
                        .join("; "),
                    cap: pr
                        .rules
                        .monthly_cap
                        .map(|c| euro(c.0, l.lang))
                        .unwrap_or_else(|| "—".into()),
                    copay: if pr.rules.copay_bands.is_empty() {
                        "—".into()
                    } else {
                        pr.rules
                            .copay_bands
                            .iter()
                            .map(|b| {
                                let share = format!("{} %", f64::from(b.copay.get()) / 100.0)
                                    .replace('.', if l.lang == Lang::En { "." } else { "," });
                                match b.isee_max {
                                    Some(m) => format!("ISEE ≤ {}: {share}", euro(m.0, l.lang)),
                                    None if l.lang == Lang::En => {
                                        format!("any other ISEE: {share}")
                                    }
                                    None => format!("ogni altro ISEE: {share}"),
                                }
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    },
                })
                .collect(),
        })
        .collect();
    let may_edit = trama_core::budget::access::may_manage_funder(p, None);
    let (funder, form, form_funder) = typed;
    let orgs = if may_edit {
        let (_, list) = crate::directory::service::list_organizations(
            state,
            None,
            trama_core::hsds::PageRequest {
                page: 1,
                per_page: trama_core::hsds::PageRequest::MAX_PER_PAGE,
            },
        )
        .await?;
        let mut list: Vec<(String, String)> = list
            .into_iter()
            .map(|o| (o.id.to_string(), o.name))
            .collect();
        list.sort_by(|a, b| a.1.cmp(&b.1));
        opts(list, &funder.organization)
    } else {
        vec![]
    };
    let kind = if funder.kind.is_empty() {
        "municipal".to_string()
    } else {
        funder.kind.clone()
    };
    let kinds = opts(
        FunderKind::ALL.iter().map(|k| {
            (
                k.as_str().to_string(),
                funder_kind_label(*k, l.lang).to_string(),
            )
        }),
        &kind,
    );
    let categories = trama_core::taxonomy::NOMENCLATORE
        .iter()
        .filter(|t| t.parent.is_some())
        .map(|t| Opt {
            value: t.code.to_string(),
            label: category_label(t.code, l.lang),
            selected: form.categories.iter().any(|c| c == t.code),
        })
        .collect();
    let mut bands = form.bands.clone();
    bands.resize(4, (String::new(), String::new()));
    let page = ProgrammesPage {
        l,
        w: programmes_words(l.lang),
        notice,
        error,
        funders: lines,
        may_edit,
        funder_name: funder.name,
        kinds,
        orgs,
        form,
        form_funder,
        categories,
        bands,
    };
    Ok(l.render(status, &page))
}

/// A new programme's form: this year, no co-payment rows but one.
fn programme_form_default(state: &AppState) -> ProgrammeForm {
    let year = this_month(state).year();
    ProgrammeForm {
        valid_from: format!("{year}-01"),
        valid_to: format!("{year}-12"),
        ..Default::default()
    }
}

pub async fn programmes(State(state): State<AppState>, signed: SignedPage) -> PageResult {
    let SignedPage { l, ref p, uri, .. } = signed;
    let w = programmes_words(l.lang);
    let notice = query_pairs(&uri)
        .get("fatto")
        .map(|what| match what.as_str() {
            "ente" => w.save_funder,
            _ => w.save_programme,
        });
    let notice = notice.map(|_| {
        if l.lang == Lang::En {
            "Saved."
        } else {
            "Salvato."
        }
    });
    Ok(programmes_render(
        &state,
        &l,
        p,
        StatusCode::OK,
        notice,
        None,
        (
            FunderTyped::default(),
            programme_form_default(&state),
            String::new(),
        ),
    )
    .await?)
}

pub async fn funder_submit(
    State(state): State<AppState>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let Page { l, .. } = page;
    let typed = FunderTyped {
        name: field(&form, "name").to_string(),
        kind: field(&form, "kind").to_string(),
        organization: field(&form, "organization_id").to_string(),
    };
    let req = crate::budgets::service::FunderRequest {
        name: typed.name.clone(),
        kind: typed.kind.clone(),
        organization_id: Some(typed.organization.clone()).filter(|o| !o.trim().is_empty()),
    };
    match crate::budgets::service::create_funder(&state, &p, &req)
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => Ok(Redirect::to("/budget/programmi?fatto=ente").into_response()),
        Err(e @ (ApiError::InvalidBody(_) | ApiError::InvalidReference(_))) => {
            Ok(programmes_render(
                &state,
                &l,
                &p,
                e.status(),
                None,
                Some(crate::web::say::api_error(l.lang, &e)),
                (typed, programme_form_default(&state), String::new()),
            )
            .await?)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn programme_submit(
    State(state): State<AppState>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let Page { l, .. } = page;
    // Row by row; a row the browser sent only half of is kept half empty, and named.
    let (maxes, shares) = (fields(&form, "isee_max"), fields(&form, "copay"));
    let bands: Vec<(String, String)> = (0..maxes.len().max(shares.len()))
        .map(|i| {
            (
                maxes.get(i).cloned().unwrap_or_default(),
                shares.get(i).cloned().unwrap_or_default(),
            )
        })
        .collect();
    let typed = ProgrammeForm {
        name: field(&form, "name").to_string(),
        categories: fields(&form, "categories"),
        valid_from: field(&form, "valid_from").to_string(),
        valid_to: field(&form, "valid_to").to_string(),
        monthly_cap: field(&form, "monthly_cap").to_string(),
        amount_per_beneficiary: field(&form, "amount_per_beneficiary").to_string(),
        bands,
        combinable: !field(&form, "combinable").is_empty(),
        individual_reports: !field(&form, "individual_reports").is_empty(),
    };
    let funder = field(&form, "funder_id").to_string();
    match crate::budgets::service::create_programme_from_form(&state, &p, &funder, &typed)
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => Ok(Redirect::to("/budget/programmi?fatto=programma").into_response()),
        Err(e @ (ApiError::InvalidBody(_) | ApiError::InvalidReference(_))) => {
            Ok(programmes_render(
                &state,
                &l,
                &p,
                e.status(),
                None,
                Some(crate::web::say::api_error(l.lang, &e)),
                (FunderTyped::default(), typed, funder),
            )
            .await?)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------
// The personal plan (budget di salute), written by the case manager

#[derive(Template)]
#[template(path = "plan_form.html")]
pub(crate) struct PlanFormPage<'a> {
    l: &'a Layout,
    person_id: String,
    heading: String,
    intro: &'static str,
    back: &'static str,
    error: Option<String>,
    f: trama_core::budget::plan::PlanForm,
    categories: Vec<(&'static str, String)>,
    w_goals: &'static str,
    w_one_a_line: &'static str,
    w_services: &'static str,
    w_category: &'static str,
    w_description: &'static str,
    w_unit_cost: &'static str,
    w_per_month: &'static str,
    w_from: &'static str,
    w_to: &'static str,
    w_review: &'static str,
    w_agreement: &'static str,
    w_agreement_hint: &'static str,
    w_parties: &'static str,
    w_reference: &'static str,
    w_signed_on: &'static str,
    w_save: &'static str,
}

fn plan_form_render(
    l: &Layout,
    person: UserId,
    name: &str,
    status: StatusCode,
    error: Option<String>,
    mut f: trama_core::budget::plan::PlanForm,
) -> Response {
    let en = l.lang == Lang::En;
    let pick = |it: &'static str, e: &'static str| if en { e } else { it };
    f.items.resize(f.items.len().max(2) + 2, Default::default());
    let page = PlanFormPage {
        l,
        person_id: person.to_string(),
        heading: format!("{} {name}", pick("Il piano di", "The plan of")),
        intro: pick(
            "Il budget di salute: gli obiettivi, i servizi con il loro costo e i mesi, quando rivederlo, e l'accordo firmato. Salvare un piano lo rende quello in vigore; i precedenti restano nella storia.",
            "The health budget: the goals, the services with their cost and months, when to review it, and the signed agreement. Saving a plan makes it the one in force; earlier ones stay in the history.",
        ),
        back: pick("Torna alla scheda", "Back to the file"),
        error,
        f,
        categories: trama_core::taxonomy::NOMENCLATORE
            .iter()
            .filter(|t| t.parent.is_some())
            .map(|t| (t.code, category_label(t.code, l.lang)))
            .collect(),
        w_goals: pick("Obiettivi", "Goals"),
        w_one_a_line: pick("Uno per riga.", "One a line."),
        w_services: pick("Servizi", "Services"),
        w_category: pick("Tipo di servizio", "Kind of service"),
        w_description: pick("Che cosa, in parole", "What, in words"),
        w_unit_cost: pick("Costo unitario (€)", "Unit cost (€)"),
        w_per_month: pick("Quante volte al mese", "Times a month"),
        w_from: pick("Dal mese", "From month"),
        w_to: pick("Al mese", "To month"),
        w_review: pick("Da rivedere il", "Review on"),
        w_agreement: pick("Accordo firmato", "Signed agreement"),
        w_agreement_hint: pick(
            "Lascia vuoto finché l'accordo non è firmato.",
            "Leave it blank until the agreement is signed.",
        ),
        w_parties: pick("Chi ha firmato (uno per riga)", "Who signed (one a line)"),
        w_reference: pick("Protocollo", "Reference"),
        w_signed_on: pick("Firmato il", "Signed on"),
        w_save: pick("Salva il piano", "Save the plan"),
    };
    l.render(status, &page)
}

pub async fn plan_form(
    State(state): State<AppState>,
    signed: SignedPage,
    Path(id): Path<String>,
) -> PageResult {
    let SignedPage { l, ref p, .. } = signed;
    let person = UserId::parse("id", &id).map_err(ApiError::InvalidParameter)?;
    crate::budgets::service::may_write_plan(&state, p, person).await?;
    // Audited, as every read of the file.
    let (_, facts) = crate::budgets::service::read_budget(&state, p, person).await?;
    let name = crate::budgets::service::person_name(&state, &facts).await?;
    let f = match crate::budgets::service::current_plan(&state, &facts).await? {
        Some(row) => trama_core::budget::plan::PlanForm::of(&row.plan),
        None => trama_core::budget::plan::PlanForm::default(),
    };
    Ok(plan_form_render(&l, person, &name, StatusCode::OK, None, f))
}

pub async fn plan_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { page, p, form }: SignedForm,
) -> PageResult {
    let Page { l, .. } = page;
    let person = UserId::parse("id", &id).map_err(ApiError::InvalidParameter)?;
    crate::budgets::service::may_write_plan(&state, &p, person).await?;
    let col = |k: &str| fields(&form, k);
    let (cats, descs, costs, counts, froms, tos) = (
        col("category"),
        col("description"),
        col("unit_cost"),
        col("per_month"),
        col("from"),
        col("to"),
    );
    let rows = [&cats, &descs, &costs, &counts, &froms, &tos]
        .iter()
        .map(|c| c.len())
        .max()
        .unwrap_or(0);
    let at = |c: &Vec<String>, i: usize| c.get(i).cloned().unwrap_or_default();
    let typed = trama_core::budget::plan::PlanForm {
        goals: field(&form, "goals").to_string(),
        items: (0..rows)
            .map(|i| trama_core::budget::plan::PlanItemForm {
                category: at(&cats, i),
                description: at(&descs, i),
                unit_cost: at(&costs, i),
                per_month: at(&counts, i),
                from: at(&froms, i),
                to: at(&tos, i),
            })
            .collect(),
        review_on: field(&form, "review_on").to_string(),
        parties: field(&form, "parties").to_string(),
        reference: field(&form, "reference").to_string(),
        signed_on: field(&form, "signed_on").to_string(),
    };
    let saved = match typed.parse() {
        Ok(plan) => crate::budgets::service::create_plan(&state, &p, person, plan)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(ApiError::InvalidBody(e)),
    };
    match saved {
        Ok(_) => Ok(
            Redirect::to(&format!("/sportello/budget/persone/{person}?fatto=1")).into_response(),
        ),
        Err(e @ (ApiError::InvalidBody(_) | ApiError::InvalidReference(_))) => {
            let (_, facts) = crate::budgets::service::read_budget(&state, &p, person).await?;
            let name = crate::budgets::service::person_name(&state, &facts).await?;
            Ok(plan_form_render(
                &l,
                person,
                &name,
                e.status(),
                Some(crate::web::say::api_error(l.lang, &e)),
                typed,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
