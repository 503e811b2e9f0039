//! The demo territory's care budgets: the funders of a Milanese person's help (the
//! municipality, the region, INPS, the health authority, a company's welfare plan, a community
//! foundation), their programmes with believable rules, and a year of home care, meals and
//! day-centre bookings paid from beneficiaries' allocations and delivered by the demo
//! cooperative. Mr. Rossi's story (issue 5) is in it: 82, after a fall, followed by the demo case
//! manager with his consent, with a municipal home-care allowance, the regional fund, his
//! daughter's company welfare credits and a plan. One beneficiary's home care is paid by two
//! programmes in the same month, so the dashboard has something to warn about.
//!
//! Everything goes through the same store calls as the API (grants, holds, deliveries with
//! their postings and register events). Loaded once: a territory that has funders is left as
//! it is.

use anyhow::{Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use trama_core::auth::{Email, Role};
use trama_core::budget::plan::{Agreement, Plan, PlanItem};
use trama_core::budget::programme::{BasisPoints, FunderKind, IseeBand, ProgrammeRules, YearMonth};
use trama_core::ids::{OrganizationId, ProgrammeId, UserId};
use trama_core::money::Cents;
use trama_store::{NewBudgetBooking, NewUser, Store};

fn month(s: &str) -> YearMonth {
    YearMonth::parse("month", s).expect("a valid demo month")
}

fn bp(v: u16) -> BasisPoints {
    BasisPoints::new("copay", v).expect("a valid demo rate")
}

fn rules(
    name: &str,
    kind: FunderKind,
    categories: &[&str],
    cap: Option<i64>,
    bands: Vec<IseeBand>,
    combinable: bool,
) -> ProgrammeRules {
    ProgrammeRules {
        name: name.into(),
        funder_kind: kind,
        categories: categories.iter().map(|c| c.to_string()).collect(),
        valid_from: month("2025-01"),
        valid_to: month("2026-12"),
        monthly_cap: cap.map(Cents),
        copay_bands: bands,
        combinable,
        individual_reports: false,
    }
}

const FIRST: &[&str] = &[
    "Giuseppe", "Rosa", "Carla", "Franco", "Angela", "Luigi", "Teresa", "Bruno", "Giovanna",
    "Sergio", "Adele", "Renato", "Wanda", "Ettore", "Lina", "Dario",
];
const LAST: &[&str] = &[
    "Colombo",
    "Brambilla",
    "Fumagalli",
    "Sala",
    "Cattaneo",
    "Galli",
    "Mauri",
    "Villa",
    "Pozzi",
    "Riva",
    "Ferrario",
    "Longoni",
];

async fn person(store: &Store, name: &str) -> Result<UserId> {
    Ok(store
        .create_user(&NewUser {
            email: None,
            display_name: name.into(),
            password_hash: None,
            locale: "it".into(),
        })
        .await?)
}

async fn demo_user(store: &Store, email: &str) -> Result<UserId> {
    Ok(store
        .user_by_email(&Email::parse(email)?)
        .await?
        .with_context(|| format!("the demo user {email} is missing"))?
        .id)
}

/// The months from December 2025 to November 2026: the demo's year of bookings.
fn year() -> Vec<YearMonth> {
    let mut v = vec![month("2025-12")];
    while v.len() < 12 {
        let next = v.last().expect("not empty").next();
        v.push(next);
    }
    v
}

pub async fn load(store: &Store, seed: u64) -> Result<String> {
    if !store.funders().await?.is_empty() {
        return Ok("Care budgets: already loaded.".into());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6275_6467_6574);
    let cooperative: Option<OrganizationId> = store
        .grants(demo_user(store, "fornitore@demo.trama.it").await?)
        .await?
        .into_iter()
        .find(|g| g.role == Role::OrganizationAdmin)
        .and_then(|g| g.organization_id);
    let provider_user = demo_user(store, "fornitore@demo.trama.it").await?;
    let case_manager = demo_user(store, "casemanager@demo.trama.it").await?;
    let municipality_org = store
        .grants(case_manager)
        .await?
        .into_iter()
        .find_map(|g| g.organization_id);

    let isee = vec![
        IseeBand {
            isee_max: Some(Cents(800_000)),
            copay: bp(0),
        },
        IseeBand {
            isee_max: Some(Cents(2_000_000)),
            copay: bp(2_000),
        },
        IseeBand {
            isee_max: None,
            copay: bp(5_000),
        },
    ];
    let comune = store
        .create_funder("Comune di Milano", FunderKind::Municipal, municipality_org)
        .await?;
    let regione = store
        .create_funder("Regione Lombardia", FunderKind::Regional, None)
        .await?;
    let inps = store
        .create_funder("INPS", FunderKind::National, None)
        .await?;
    let ats = store
        .create_funder(
            "ATS Città Metropolitana di Milano",
            FunderKind::HealthAuthority,
            None,
        )
        .await?;
    let azienda = store
        .create_funder(
            "Brambilla Meccanica S.p.A. – piano welfare",
            FunderKind::CorporateWelfare,
            None,
        )
        .await?;
    let fondazione = store
        .create_funder(
            "Fondazione di Comunità Milano",
            FunderKind::CommunityFund,
            None,
        )
        .await?;
    let sad = store
        .create_programme(
            comune,
            &rules(
                "SAD – assistenza domiciliare comunale",
                FunderKind::Municipal,
                &["C1", "C4"],
                Some(60_000),
                isee,
                true,
            ),
            Cents(360_000),
        )
        .await?;
    let fna = store
        .create_programme(
            regione,
            &rules(
                "FNA – Misura B2 non autosufficienza",
                FunderKind::Regional,
                &["C1", "D1"],
                Some(40_000),
                vec![],
                false,
            ),
            Cents(240_000),
        )
        .await?;
    let hcp = store
        .create_programme(
            inps,
            &rules(
                "Home Care Premium",
                FunderKind::National,
                &["C1", "C2", "C3"],
                Some(30_000),
                vec![],
                true,
            ),
            Cents(180_000),
        )
        .await?;
    let adi = store
        .create_programme(
            ats,
            &rules(
                "ADI – assistenza domiciliare integrata",
                FunderKind::HealthAuthority,
                &["C2"],
                None,
                vec![],
                true,
            ),
            Cents(300_000),
        )
        .await?;
    let welfare = store
        .create_programme(
            azienda,
            &rules(
                "Crediti welfare per i familiari",
                FunderKind::CorporateWelfare,
                &["C", "D"],
                None,
                vec![],
                true,
            ),
            Cents(100_000),
        )
        .await?;
    let _community = store
        .create_programme(
            fondazione,
            &rules(
                "Fondo anziani soli",
                FunderKind::CommunityFund,
                &["C3", "C4", "C5"],
                Some(10_000),
                vec![],
                true,
            ),
            Cents(50_000),
        )
        .await?;

    // Mr. Rossi, with the case manager's caseload and his consent, his allocations and plan.
    // Mr. Rossi can sign in (beneficiario@demo.trama.it) to see his budget.
    let rossi = demo_user(store, "beneficiario@demo.trama.it").await?;
    if let Some(org) = municipality_org {
        store
            .record_consent(&trama_store::ConsentRecord {
                person: rossi,
                case_manager,
                organization: org,
                purpose: trama_core::budget::consent::Purpose::CareBudget,
                channel: trama_core::budget::consent::Channel::Desk,
                reference: "Prot. 2026/4411".into(),
                recorded_by: case_manager,
                state: trama_core::budget::consent::ConsentState::Active,
            })
            .await?;
        // The Comune lets its social services' case managers grant home care (SAD) to the
        // people they follow, within the programme's rules.
        store
            .delegate_programme(
                sad,
                org,
                "Delibera G.C. 2026/1187",
                demo_user(store, "territorio@demo.trama.it").await?,
            )
            .await?;
    }
    // The Municipio whose services decided an allocation, when the territory has Municipi.
    let municipi: Vec<String> = store
        .areas("municipio")
        .await?
        .into_iter()
        .map(|a| a.code)
        .collect();
    let area = |n: usize| -> Option<String> {
        (!municipi.is_empty()).then(|| municipi[n % municipi.len()].clone())
    };
    let rossi_area = municipi.iter().find(|c| c.as_str() == "6").cloned();
    let grant = |p: ProgrammeId,
                 person: UserId,
                 amount: i64,
                 decision: String,
                 expires: &str,
                 area: Option<String>| {
        let expires = month(expires);
        async move {
            store
                .grant_allocation(
                    &trama_store::NewAllocation {
                        programme: p,
                        beneficiary: person,
                        decision_ref: &decision,
                        amount: Cents(amount),
                        expires,
                        area_code: area.as_deref(),
                    },
                    None,
                )
                .await
        }
    };
    let rossi_sad = grant(
        sad,
        rossi,
        360_000,
        "Det. Municipio 6 n. 118/2026".into(),
        "2026-12",
        rossi_area.clone(),
    )
    .await?;
    grant(
        fna,
        rossi,
        240_000,
        "DGR Lombardia XII/1669, dom. 2026/311".into(),
        "2026-12",
        rossi_area.clone(),
    )
    .await?;
    grant(
        welfare,
        rossi,
        100_000,
        "Piano welfare 2026, figlia Anna Rossi".into(),
        "2026-12",
        rossi_area.clone(),
    )
    .await?;
    store
        .create_plan(
            rossi,
            case_manager,
            &Plan {
                goals: vec![
                    "Restare a casa in sicurezza dopo la caduta".into(),
                    "Riprendere a uscire una volta a settimana".into(),
                ],
                items: vec![
                    PlanItem {
                        category: "C1".into(),
                        description: "Assistenza domiciliare, tre volte a settimana".into(),
                        service_id: None,
                        provider_organization_id: cooperative.map(|o| o.to_string()),
                        unit_cost: Cents(2_200),
                        per_month: 13,
                        from: month("2026-11"),
                        to: month("2027-02"),
                    },
                    PlanItem {
                        category: "C4".into(),
                        description: "Pasti a domicilio, cinque giorni".into(),
                        service_id: None,
                        provider_organization_id: None,
                        unit_cost: Cents(700),
                        per_month: 22,
                        from: month("2026-11"),
                        to: month("2027-02"),
                    },
                    PlanItem {
                        category: "D1".into(),
                        description: "Centro diurno il venerdì".into(),
                        service_id: None,
                        provider_organization_id: None,
                        unit_cost: Cents(3_800),
                        per_month: 4,
                        from: month("2026-11"),
                        to: month("2027-02"),
                    },
                ],
                review_on: time::macros::date!(2027 - 03 - 01),
                agreement: Some(Agreement {
                    parties: vec![
                        "Mario Rossi".into(),
                        "Anna Rossi (figlia)".into(),
                        "Municipio 6 – servizio sociale".into(),
                        "Cooperativa Sociale Il Melograno".into(),
                    ],
                    reference: "PAI 2026/311".into(),
                    signed_on: time::macros::date!(2026 - 10 - 28),
                }),
            },
        )
        .await?;
    // November's home care, booked and delivered.
    let b = store
        .hold_booking(
            &NewBudgetBooking {
                allocation: rossi_sad.id,
                provider_id: cooperative.map(|o| o.to_string()),
                service_id: None,
                category: "C1".into(),
                month: month("2026-11"),
                amount: Cents(28_600),
            },
            None,
        )
        .await?;
    store.deliver_booking(b.id, Cents(28_600), None).await?;

    // A year of home care, meals and day centre for forty beneficiaries.
    let mut bookings = 0;
    let mut people = 0;
    for i in 0..40 {
        let name = format!(
            "{} {}",
            FIRST[rng.random_range(0..FIRST.len())],
            LAST[rng.random_range(0..LAST.len())]
        );
        let who = person(store, &name).await?;
        people += 1;
        let (programme, category, monthly, total) = match i % 4 {
            0 => (sad, "C1", rng.random_range(150..=280) * 100, 360_000),
            1 => (fna, "D1", rng.random_range(120..=200) * 100, 240_000),
            2 => (hcp, "C1", rng.random_range(100..=250) * 100, 180_000),
            _ => (adi, "C2", rng.random_range(180..=300) * 100, 300_000),
        };
        // Some allocations end in December with money left: the dashboard warns of them.
        let a = grant(
            programme,
            who,
            total,
            format!("Decreto demo {}/2026", 200 + i),
            "2026-12",
            area(i),
        )
        .await?;
        for m in year() {
            let amount = monthly.min(a.rules.monthly_cap.map_or(i64::MAX, |c| c.0));
            let b = store
                .hold_booking(
                    &NewBudgetBooking {
                        allocation: a.id,
                        provider_id: cooperative.map(|o| o.to_string()),
                        service_id: None,
                        category: category.into(),
                        month: m,
                        amount: Cents(amount),
                    },
                    None,
                )
                .await;
            let Ok(b) = b else { break };
            // The cooperative bills one open month for more than was booked: refused, and
            // kept for the dashboard's control.
            if i == 1 && m == month("2026-11") {
                store
                    .record_billing_exception(b.id, Cents(amount * 6 / 5), provider_user)
                    .await?;
            }
            // Most months are delivered in full; a few less (a missed visit); November is
            // still open.
            if m != month("2026-11") {
                let delivered = if rng.random_range(0..10) == 0 {
                    amount * 3 / 4
                } else {
                    amount
                };
                store.deliver_booking(b.id, Cents(delivered), None).await?;
                if delivered < amount {
                    store.cancel_booking(b.id, None).await?;
                }
            }
            bookings += 1;
        }
        // The first beneficiary's home care in October is also booked from the regional
        // fund: the same need paid twice, for the dashboard to flag.
        if i == 0 {
            let twice = grant(
                fna,
                who,
                240_000,
                "DGR demo 2026/9".into(),
                "2026-12",
                area(i),
            )
            .await?;
            let b = store
                .hold_booking(
                    &NewBudgetBooking {
                        allocation: twice.id,
                        provider_id: cooperative.map(|o| o.to_string()),
                        service_id: None,
                        category: "C1".into(),
                        month: month("2026-10"),
                        amount: Cents(20_000),
                    },
                    None,
                )
                .await?;
            store.deliver_booking(b.id, Cents(20_000), None).await?;
            bookings += 1;
        }
    }
    let (unbalanced, drift) = store.budget_book_problems().await?;
    anyhow::ensure!(
        unbalanced == 0 && drift == 0,
        "the demo's book does not balance ({unbalanced} transactions, {drift} allocations)"
    );
    Ok(format!(
        "Care budgets: 6 funders, 6 programmes, Mario Rossi's allocations and plan, {people} beneficiaries with {bookings} bookings over a year."
    ))
}
