//! The demo territory's care budgets: the funders of a Milanese person's help (the
//! municipality, the region, INPS, the health authority, a company's welfare plan, a community
//! foundation), their programmes with believable rules, and a year of home care, meals and
//! day-centre bookings paid from beneficiaries' allocations and delivered by the demo
//! cooperative. Mr. Rossi's story (issue 5) is in it: 82, after a fall, followed by the demo case
//! manager with his consent, with a municipal home-care allowance, the regional fund, his
//! daughter's company welfare credits and a plan. One beneficiary's home care is paid by two
//! programmes in the same month, so the dashboard has something to warn about.
//!
//! Everything goes through the services the API and the pages call, each step by the person
//! whose job it is (the funders' staff, the case manager, the cooperative, Mr. Rossi), so the
//! demo obeys every rule a user does. Loaded once: a territory that has funders is left as it
//! is.

use anyhow::{Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use trama_core::budget::booking::IdempotencyKey;
use trama_core::budget::consent::ConsentReference;

use trama_core::auth::{Email, Principal, Role, RoleGrant};
use trama_core::budget::booking::{GrantForm, NewBooking};
use trama_core::budget::consent::Purpose;
use trama_core::budget::plan::{Agreement, Plan, PlanItem};
use trama_core::budget::programme::{BasisPoints, FunderKind, IseeBand, ProgrammeRules, YearMonth};
use trama_core::ids::{AllocationId, BookingId, FunderId, OrganizationId, ProgrammeId, UserId};
use trama_core::money::Cents;
use trama_server::AppState;
use trama_server::accounts::service as accounts;
use trama_server::accounts::service::NewUser;
use trama_server::budgets::service as budgets;
use trama_server::directory::service as directory;
use trama_server::help::service as help;
use trama_server::service_error::ServiceError;

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

/// The demo's actors: who does what, each with their own roles, through the services.
struct Actors<'a> {
    state: &'a AppState,
    /// The territory admin: staff of the funders without an organisation of their own.
    admin: Principal,
    /// The Comune's social services director (no login): the Comune's own staff.
    comune_staff: Principal,
    case_manager: Principal,
    operator: Principal,
    provider: Principal,
    keys: std::cell::Cell<u64>,
}

impl Actors<'_> {
    /// A fresh idempotency key: each of the demo's calls is a new one.
    fn key(&self) -> IdempotencyKey {
        self.keys.set(self.keys.get() + 1);
        IdempotencyKey::parse("key", &format!("demo-{}", self.keys.get()))
            .expect("demo-N is a short ASCII key")
    }

    /// A person registered at the hub's desk (no login), whom the case manager follows with
    /// the consent signed there.
    async fn person(&self, name: &str, reference: &str) -> Result<UserId> {
        let id = help::register_person(
            self.state,
            &self.operator,
            &help::PersonRequest {
                display_name: name.into(),
                consent_reference: reference.into(),
                phone: None,
                organization_id: None,
                locale: Some("it".into()),
            },
        )
        .await?;
        budgets::follow(
            self.state,
            &self.case_manager,
            id,
            &budgets::DeskConsent {
                case_manager: None,
                organization: None,
                purpose: Purpose::CareBudget,
                reference: ConsentReference::parse(reference)?,
            },
        )
        .await?;
        Ok(id)
    }

    async fn grant(
        &self,
        by: &Principal,
        programme: ProgrammeId,
        person: UserId,
        amount: i64,
        decision: &str,
        area: Option<String>,
    ) -> Result<budgets::AllocationView> {
        let form = GrantForm {
            programme_id: programme.to_string(),
            amount,
            decision_reference: decision.into(),
            expires: "2026-12".into(),
            area_code: area,
        };
        let request = format!("grant {person} {programme} {amount}");
        Ok(budgets::grant(self.state, by, person, &form, &request, &self.key()).await?)
    }

    async fn book(
        &self,
        allocation: &budgets::AllocationView,
        provider: Option<OrganizationId>,
        category: &str,
        month: YearMonth,
        amount: i64,
    ) -> Result<BookingId, ServiceError> {
        let req = NewBooking {
            allocation: AllocationId::parse("allocation_id", &allocation.id)
                .map_err(ServiceError::InvalidBody)?,
            amount: Cents(amount),
            category: category.into(),
            month,
            provider,
            service: None,
        };
        let request = format!("book {} {month} {amount}", allocation.id);
        let b = budgets::book(self.state, &self.case_manager, &req, &request, &self.key()).await?;
        BookingId::parse("booking_id", &b.id).map_err(ServiceError::InvalidBody)
    }

    /// The provider bills what it delivered: a bill beyond the booking is refused and kept.
    async fn deliver(&self, booking: BookingId, amount: i64) -> Result<(), ServiceError> {
        let right = budgets::deliverable(self.state, &self.provider, booking).await?;
        budgets::deliver(
            self.state,
            &self.provider,
            right,
            Cents(amount),
            &self.key(),
        )
        .await
        .map(|_| ())
    }
}

async fn demo_user(state: &AppState, email: &str) -> Result<Principal> {
    let id = accounts::account_by_email(state, &Email::parse(email)?)
        .await?
        .with_context(|| format!("the demo user {email} is missing"))?;
    accounts::principal(state, id)
        .await?
        .with_context(|| format!("the demo user {email} is missing"))
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

pub async fn load(state: &AppState, seed: u64) -> Result<String> {
    let admin = demo_user(state, "territorio@demo.trama.it").await?;
    if !budgets::visible_funders(state, &admin).await?.is_empty() {
        return Ok("Care budgets: already loaded.".into());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6275_6467_6574);
    let provider = demo_user(state, "fornitore@demo.trama.it").await?;
    let cooperative: Option<OrganizationId> = provider
        .grants
        .iter()
        .find(|g| g.role == Role::OrganizationAdmin)
        .and_then(|g| g.organization_id);
    let case_manager = demo_user(state, "casemanager@demo.trama.it").await?;
    let municipality_org = case_manager.grants.iter().find_map(|g| g.organization_id);
    // The Comune's own staff: its social services' director, who cannot sign in.
    let director = accounts::create_account(
        state,
        &NewUser {
            email: None,
            display_name: "Dirigente Servizi Sociali – Comune di Milano".into(),
            password_hash: None,
            locale: "it".into(),
        },
        &[RoleGrant::new(Role::OrganizationAdmin, municipality_org)?],
    )
    .await?;
    let a = Actors {
        state,
        comune_staff: accounts::principal(state, director)
            .await?
            .context("the director")?,
        case_manager,
        operator: demo_user(state, "operatore@demo.trama.it").await?,
        provider,
        admin,
        keys: std::cell::Cell::new(0),
    };

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
    let funder = |name: &str, kind: FunderKind, org: Option<OrganizationId>| {
        let req = budgets::FunderRequest {
            name: name.into(),
            kind: kind.as_str().into(),
            organization_id: org.map(|o| o.to_string()),
        };
        let admin = &a.admin;
        async move { budgets::create_funder(state, admin, &req).await }
    };
    let programme = |funder: FunderId, rules: ProgrammeRules, per_beneficiary: i64| {
        let req = budgets::ProgrammeRequest {
            funder_id: funder.to_string(),
            rules: serde_json::to_value(&rules).expect("rules are JSON"),
            amount_per_beneficiary: per_beneficiary,
        };
        let admin = &a.admin;
        async move { budgets::create_programme(state, admin, &req).await }
    };
    let comune = funder("Comune di Milano", FunderKind::Municipal, municipality_org).await?;
    let regione = funder("Regione Lombardia", FunderKind::Regional, None).await?;
    let inps = funder("INPS", FunderKind::National, None).await?;
    let ats = funder(
        "ATS Città Metropolitana di Milano",
        FunderKind::HealthAuthority,
        None,
    )
    .await?;
    let azienda = funder(
        "Brambilla Meccanica S.p.A. – piano welfare",
        FunderKind::CorporateWelfare,
        None,
    )
    .await?;
    let fondazione = funder(
        "Fondazione di Comunità Milano",
        FunderKind::CommunityFund,
        None,
    )
    .await?;
    let sad = programme(
        comune,
        rules(
            "SAD – assistenza domiciliare comunale",
            FunderKind::Municipal,
            &["C1", "C4"],
            Some(60_000),
            isee,
            true,
        ),
        // Up to €4,200 a person: Mr. Rossi's €3,600 leave €600 his case manager may still
        // grant (the file's "Assegna un budget").
        420_000,
    )
    .await?;
    let fna = programme(
        regione,
        rules(
            "FNA – Misura B2 non autosufficienza",
            FunderKind::Regional,
            &["C1", "D1"],
            Some(40_000),
            vec![],
            false,
        ),
        240_000,
    )
    .await?;
    let hcp = programme(
        inps,
        rules(
            "Home Care Premium",
            FunderKind::National,
            &["C1", "C2", "C3"],
            Some(30_000),
            vec![],
            true,
        ),
        180_000,
    )
    .await?;
    let adi = programme(
        ats,
        rules(
            "ADI – assistenza domiciliare integrata",
            FunderKind::HealthAuthority,
            &["C2"],
            None,
            vec![],
            true,
        ),
        300_000,
    )
    .await?;
    let welfare = programme(
        azienda,
        rules(
            "Crediti welfare per i familiari",
            FunderKind::CorporateWelfare,
            &["C", "D"],
            None,
            vec![],
            true,
        ),
        100_000,
    )
    .await?;
    let _community = programme(
        fondazione,
        rules(
            "Fondo anziani soli",
            FunderKind::CommunityFund,
            &["C3", "C4", "C5"],
            Some(10_000),
            vec![],
            true,
        ),
        50_000,
    )
    .await?;

    // The Comune lets its social services' case managers grant home care (SAD) to the people
    // they follow, within the programme's rules: its director's decision.
    if let Some(org) = municipality_org {
        budgets::delegate(
            state,
            &a.comune_staff,
            sad,
            &budgets::DelegationRequest {
                organization_id: org.to_string(),
                decision_reference: "Delibera G.C. 2026/1187".into(),
            },
        )
        .await?;
    }

    // Mr. Rossi (beneficiario@demo.trama.it): the case manager records at her desk the consent
    // he signed, and he confirms it when he signs in.
    let rossi = demo_user(state, "beneficiario@demo.trama.it").await?;
    budgets::follow(
        state,
        &a.case_manager,
        rossi.user_id,
        &budgets::DeskConsent {
            case_manager: None,
            organization: None,
            purpose: Purpose::CareBudget,
            reference: ConsentReference::parse("Prot. 2026/4411")?,
        },
    )
    .await?;
    budgets::give_consent(
        state,
        &rossi,
        a.case_manager.user_id,
        municipality_org,
        Purpose::CareBudget,
    )
    .await?;
    // The Municipio whose services decided an allocation, when the territory has Municipi.
    let municipi: Vec<String> = directory::areas(state, "municipio")
        .await?
        .into_iter()
        .map(|a| a.code)
        .collect();
    let area = |n: usize| -> Option<String> {
        (!municipi.is_empty()).then(|| municipi[n % municipi.len()].clone())
    };
    let rossi_area = municipi.iter().find(|c| c.as_str() == "6").cloned();
    let rossi_id = rossi.user_id;
    let rossi_sad = a
        .grant(
            &a.case_manager,
            sad,
            rossi_id,
            360_000,
            "Det. Municipio 6 n. 118/2026",
            rossi_area.clone(),
        )
        .await?;
    a.grant(
        &a.admin,
        fna,
        rossi_id,
        240_000,
        "DGR Lombardia XII/1669, dom. 2026/311",
        rossi_area.clone(),
    )
    .await?;
    a.grant(
        &a.admin,
        welfare,
        rossi_id,
        100_000,
        "Piano welfare 2026, figlia Anna Rossi",
        rossi_area.clone(),
    )
    .await?;
    budgets::create_plan(
        state,
        &a.case_manager,
        rossi_id,
        Plan {
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
    let b = a
        .book(&rossi_sad, cooperative, "C1", month("2026-11"), 28_600)
        .await?;
    a.deliver(b, 28_600).await?;

    // A year of home care, meals and day centre for forty beneficiaries.
    let mut bookings = 0;
    let mut people = 0;
    for i in 0..40 {
        let name = format!(
            "{} {}",
            FIRST[rng.random_range(0..FIRST.len())],
            LAST[rng.random_range(0..LAST.len())]
        );
        let who = a.person(&name, &format!("Prot. 2026/{}", 5000 + i)).await?;
        people += 1;
        let (programme, category, monthly, total) = match i % 4 {
            0 => (sad, "C1", rng.random_range(150..=280) * 100, 360_000),
            1 => (fna, "D1", rng.random_range(120..=200) * 100, 240_000),
            2 => (hcp, "C1", rng.random_range(100..=250) * 100, 180_000),
            _ => (adi, "C2", rng.random_range(180..=300) * 100, 300_000),
        };
        // The Comune's SAD is granted by the case manager it delegated; the other funders
        // grant themselves (their staff: here the territory admin).
        let by = if programme == sad {
            &a.case_manager
        } else {
            &a.admin
        };
        // Some allocations end in December with money left: the dashboard warns of them.
        let alloc = a
            .grant(
                by,
                programme,
                who,
                total,
                &format!("Decreto demo {}/2026", 200 + i),
                area(i),
            )
            .await?;
        for m in year() {
            let amount = monthly.min(alloc.monthly_cap.unwrap_or(i64::MAX));
            // The year's last months may find the allocation spent: the booking is refused.
            let Ok(b) = a.book(&alloc, cooperative, category, m, amount).await else {
                break;
            };
            // The cooperative bills one open month for more than was booked: refused, and
            // kept for the dashboard's control.
            if i == 1 && m == month("2026-11") {
                let refused = a.deliver(b, amount * 6 / 5).await;
                anyhow::ensure!(
                    matches!(refused, Err(ServiceError::Conflict(_))),
                    "a bill beyond the booking was not refused: {refused:?}"
                );
            }
            // Most months are delivered in full; a few less (a missed visit), and the rest
            // is released; November is still open.
            if m != month("2026-11") {
                let delivered = if rng.random_range(0..10) == 0 {
                    amount * 3 / 4
                } else {
                    amount
                };
                a.deliver(b, delivered).await?;
                if delivered < amount {
                    let right = budgets::cancellable(state, &a.case_manager, b).await?;
                    budgets::cancel(state, &a.case_manager, right, &a.key()).await?;
                }
            }
            bookings += 1;
        }
        // The first beneficiary's home care in October is also booked from the regional
        // fund: the same need paid twice, for the dashboard to flag.
        if i == 0 {
            let twice = a
                .grant(&a.admin, fna, who, 240_000, "DGR demo 2026/9", area(i))
                .await?;
            let b = a
                .book(&twice, cooperative, "C1", month("2026-10"), 20_000)
                .await?;
            a.deliver(b, 20_000).await?;
            bookings += 1;
        }
    }
    let (unbalanced, drift) = budgets::book_problems(state).await?;
    anyhow::ensure!(
        unbalanced == 0 && drift == 0,
        "the demo's book does not balance ({unbalanced} transactions, {drift} allocations)"
    );
    Ok(format!(
        "Care budgets: 6 funders, 6 programmes, Mario Rossi's allocations and plan, {people} beneficiaries with {bookings} bookings over a year."
    ))
}
