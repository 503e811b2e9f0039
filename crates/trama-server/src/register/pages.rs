//! The contribution register in the browser: the public log, the flows, one's contributions.

use super::words::{Words, words};
use crate::policy::Routes;
use crate::register::service::MyContributions;
use crate::register::service::compute_flows;
use crate::register::service::contributions_of;
use crate::register::service::statement_of;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::form::Page;
use crate::web::form::SignedPage;
use crate::web::form::query_pairs;
use crate::web::form::{PageError, PageResult};
use crate::web::i18n::Lang;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use trama_core::taxonomy::{AIUTI, SeedTerm};
use trama_ledger::EconomicEvent;
use trama_ledger::accounting::{FlowRow, all_credits};

/// The pages of this feature, each with its policy (docs/SECURITY.md).
pub fn routes() -> Routes {
    use crate::web::policies as may;
    Routes::pages()
        .get("/registro", register_page, may::anyone())
        .get("/registro/flussi", flows_page, may::anyone())
        .get("/io/contributi", mine_page, may::own())
        .get(
            "/io/contributi/estratto.json",
            statement_download,
            may::own(),
        )
}

/// A resource kind in words.
pub(crate) fn resource_label(iri: &str, lang: Lang) -> String {
    let en = lang == Lang::En;
    if let Some(code) = iri.strip_prefix("urn:trama:taxonomy:") {
        return AIUTI
            .iter()
            .find(|t: &&SeedTerm| t.code == code)
            .map(|t| if en { t.en } else { t.it }.to_string())
            .unwrap_or_else(|| code.to_string());
    }
    if let Some(kind) = iri.strip_prefix("urn:trama:resource:") {
        let known = [
            ("energy", "Energia", "Energy"),
            ("food", "Cibo recuperato", "Rescued food"),
            ("waste-sorted", "Rifiuti differenziati", "Sorted waste"),
            ("water", "Acqua", "Water"),
            ("mobility", "Mobilità condivisa", "Shared mobility"),
        ];
        return known
            .iter()
            .find(|k| k.0 == kind)
            .map(|k| if en { k.2 } else { k.1 }.to_string())
            .unwrap_or_else(|| kind.to_string());
    }
    iri.to_string()
}

pub(crate) fn action_label(a: &str, lang: Lang) -> &'static str {
    let it = [
        ("work", "lavoro", "work"),
        ("deliverService", "servizio reso", "service delivered"),
        ("produce", "produzione", "produced"),
        ("consume", "consumo", "consumed"),
        ("transfer", "trasferimento", "transferred"),
        ("use", "uso", "used"),
    ];
    it.iter()
        .find(|x| x.0 == a)
        .map(|x| if lang == Lang::En { x.2 } else { x.1 })
        .unwrap_or("altro")
}

/// A quantity as the page's language writes it ("152,50" in Italian, "152.50" in English).
pub(crate) fn number(x: f64, lang: Lang) -> String {
    let s = if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    };
    if lang == Lang::It {
        s.replace('.', ",")
    } else {
        s
    }
}

pub(crate) struct EntryLine {
    index: u64,
    action: &'static str,
    resource: String,
    quantity: String,
    when: String,
    area: String,
}

#[derive(Template)]
#[template(path = "registro.html")]
pub(crate) struct ContributionRegisterPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    checkpoint: String,
    key: String,
    url: String,
    size: u64,
    hours: String,
    people: u64,
    latest: Vec<EntryLine>,
}

pub(crate) fn entry_line(index: u64, e: &EconomicEvent, lang: Lang) -> EntryLine {
    let q = e.resource_quantity.or(e.effort_quantity);
    EntryLine {
        index,
        action: action_label(e.action.name(), lang),
        resource: e
            .resource_conforms_to
            .as_deref()
            .map(|r| resource_label(r, lang))
            .unwrap_or_default(),
        quantity: q
            .map(|m| format!("{} {}", number(m.value, lang), m.unit.symbol()))
            .unwrap_or_default(),
        when: e.has_point_in_time.get(..10).unwrap_or("").to_string(),
        area: e
            .at_location
            .as_deref()
            .map(|a| a.trim_start_matches("urn:trama:area:").to_string())
            .unwrap_or_default(),
    }
}

/// `/registro`: the public register.
pub async fn register_page(State(state): State<AppState>, page: Page) -> PageResult {
    let Page { l, .. } = page;
    let w = words(l.lang);
    let checkpoint = state.register.latest_checkpoint().await?;
    let key = state.register.verifier().await?.encode();
    let (size, _) = state.register.signed_head().await?;
    let events = state.register.all_events().await?;
    let (by, total) = all_credits(events.iter());
    let from = size.saturating_sub(20);
    let latest = (from..size)
        .rev()
        .filter_map(|i| events.get(i as usize).map(|e| entry_line(i, e, l.lang)))
        .collect();
    let base = state
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", state.config.listen));
    Ok(l.render(
        StatusCode::OK,
        &ContributionRegisterPage {
            l: &l,
            w,
            checkpoint,
            key,
            url: format!("{}/register", base.trim_end_matches('/')),
            size,
            hours: number(total.hours_given, l.lang),
            people: by.values().filter(|c| c.hours_given > 0.0).count() as u64,
            latest,
        },
    ))
}

pub(crate) struct Bar {
    x: f64,
    w: f64,
    y: f64,
    h: f64,
    class: &'static str,
    label: String,
}

#[derive(Template)]
#[template(path = "flussi.html")]
pub(crate) struct FlowsPage<'a> {
    l: &'a Layout,
    w: &'static Words,
    /// (value, label, selected)
    choices: Vec<(String, String, bool)>,
    chosen_label: String,
    unit: String,
    bars: Vec<Bar>,
    /// (x, label) of each month on the axis
    months: Vec<(f64, String)>,
    max_label: String,
    rows: Vec<FlowLine>,
}

pub(crate) struct FlowLine {
    resource: String,
    unit: String,
    period: String,
    inflow: String,
    outflow: String,
    transferred: String,
    activity: String,
    balance: String,
}

pub(crate) fn chart(
    rows: &[&FlowRow],
    w: &Words,
    lang: Lang,
) -> (Vec<Bar>, Vec<(f64, String)>, f64) {
    let max = rows
        .iter()
        .flat_map(|r| [r.inflow, r.outflow, r.transferred, r.activity])
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let (left, width, top, height) = (50.0, 540.0, 20.0, 220.0);
    let n = rows.len().max(1) as f64;
    let slot = width / n;
    let bw = (slot / 5.0).min(24.0);
    let mut bars = Vec::new();
    let mut months = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let x0 = left + i as f64 * slot + (slot - 4.0 * bw) / 2.0;
        for (k, (v, class, name)) in [
            (r.inflow, "bar-in", w.inflow),
            (r.outflow, "bar-out", w.outflow),
            (r.transferred, "bar-move", w.transferred),
            (r.activity, "bar-act", w.activity),
        ]
        .into_iter()
        .enumerate()
        {
            let h = v / max * height;
            bars.push(Bar {
                x: x0 + k as f64 * bw,
                w: (bw - 1.0).max(1.0),
                y: top + height - h,
                h,
                class,
                label: format!("{} {}: {}", r.period, name, number(v, lang)),
            });
        }
        // "2026-03" as "03/26", short enough for twelve months side by side.
        let short = match (r.period.get(5..7), r.period.get(2..4)) {
            (Some(m), Some(y)) => format!("{m}/{y}"),
            _ => r.period.clone(),
        };
        months.push((left + i as f64 * slot + slot / 2.0, short));
    }
    (bars, months, max)
}

/// `/registro/flussi`: flows per resource kind and month, chart and table.
pub async fn flows_page(State(state): State<AppState>, page: Page) -> PageResult {
    let Page { l, uri, .. } = page;
    let w = words(l.lang);
    let all = compute_flows(&state).await?;
    let mut kinds: Vec<(String, String)> = Vec::new();
    for r in &all {
        let k = (r.resource.clone(), r.unit.name().to_string());
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    let asked = query_pairs(&uri).get("risorsa").cloned();
    let chosen = asked
        .and_then(|a| {
            kinds
                .iter()
                .find(|k| format!("{}|{}", k.0, k.1) == a)
                .cloned()
        })
        .or_else(|| kinds.first().cloned());
    let selected: Vec<&FlowRow> = match &chosen {
        Some((res, unit)) => all
            .iter()
            .filter(|r| &r.resource == res && r.unit.name() == unit)
            .collect(),
        None => Vec::new(),
    };
    let (bars, months, max) = chart(&selected, w, l.lang);
    let unit = selected
        .first()
        .map(|r| r.unit.symbol().to_string())
        .unwrap_or_default();
    let rows = all
        .iter()
        .map(|r| FlowLine {
            resource: resource_label(&r.resource, l.lang),
            unit: r.unit.symbol().to_string(),
            period: r.period.clone(),
            inflow: number(r.inflow, l.lang),
            outflow: number(r.outflow, l.lang),
            transferred: number(r.transferred, l.lang),
            activity: number(r.activity, l.lang),
            balance: number(r.balance(), l.lang),
        })
        .collect();
    Ok(l.render(
        StatusCode::OK,
        &FlowsPage {
            l: &l,
            w,
            choices: kinds
                .iter()
                .map(|k| {
                    let v = format!("{}|{}", k.0, k.1);
                    let sel = chosen.as_ref() == Some(k);
                    let unit = trama_ledger::Unit::parse(&k.1)
                        .map(|u| u.symbol())
                        .unwrap_or("");
                    (v, format!("{} ({unit})", resource_label(&k.0, l.lang)), sel)
                })
                .collect(),
            chosen_label: chosen
                .as_ref()
                .map(|k| resource_label(&k.0, l.lang))
                .unwrap_or_default(),
            unit,
            bars,
            months,
            max_label: number(max, l.lang),
            rows,
        },
    ))
}

#[derive(Template)]
#[template(path = "contributi.html")]
pub(crate) struct MinePage<'a> {
    l: &'a Layout,
    w: &'static Words,
    mine: MyContributions,
    given: String,
    received: String,
    balance: String,
    /// (label, hours)
    by_area: Vec<(String, String)>,
    by_kind: Vec<(String, String)>,
    lines: Vec<(String, String, String, String, String)>,
}

pub(crate) fn sums(
    items: impl Iterator<Item = (String, f64)>,
    lang: Lang,
) -> Vec<(String, String)> {
    let mut m: std::collections::BTreeMap<String, f64> = Default::default();
    for (k, v) in items {
        *m.entry(k).or_default() += v;
    }
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
    v.into_iter().map(|(k, h)| (k, number(h, lang))).collect()
}

/// `/io/contributi`: my contributions.
pub async fn mine_page(State(state): State<AppState>, signed: SignedPage) -> PageResult {
    let SignedPage { l, ref p, .. } = signed;
    let w = words(l.lang);
    let mine = contributions_of(&state, p).await?;
    let given_items = mine.entries.iter().filter(|e| e.direction == "given");
    let by_area = sums(
        given_items
            .clone()
            .map(|e| (e.area.clone().unwrap_or_else(|| "—".into()), e.hours)),
        l.lang,
    );
    let by_kind = sums(
        given_items.map(|e| {
            (
                e.resource
                    .as_deref()
                    .map(|r| resource_label(r, l.lang))
                    .unwrap_or_default(),
                e.hours,
            )
        }),
        l.lang,
    );
    let lines = mine
        .entries
        .iter()
        .take(200)
        .map(|e| {
            (
                e.at.get(..10).unwrap_or("").to_string(),
                e.resource
                    .as_deref()
                    .map(|r| resource_label(r, l.lang))
                    .unwrap_or_default(),
                number(e.hours, l.lang),
                e.area.clone().unwrap_or_default(),
                if e.direction == "given" {
                    w.given
                } else {
                    w.received
                }
                .to_string(),
            )
        })
        .collect();
    Ok(l.render(
        StatusCode::OK,
        &MinePage {
            l: &l,
            w,
            given: number(mine.hours_given, l.lang),
            received: number(mine.hours_received, l.lang),
            balance: number(mine.balance, l.lang),
            by_area,
            by_kind,
            lines,
            mine,
        },
    ))
}

/// `/io/contributi/estratto.json`: the statement, for download.
pub async fn statement_download(State(state): State<AppState>, signed: SignedPage) -> PageResult {
    Ok(match statement_of(&state, &signed.p).await {
        Ok(st) => {
            let mut res = axum::Json(st).into_response();
            res.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"estratto-trama.json\""),
            );
            res
        }
        Err(e) => return Err(PageError::from(e)),
    })
}
