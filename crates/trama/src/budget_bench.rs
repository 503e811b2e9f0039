//! `trama bench-budgets`: the figures of docs/PERFORMANCE.md for care budgets (issue 5):
//! booking throughput under concurrency, the consolidated view of a person with five years of
//! history inside a city-sized table, and the municipality's dashboard over a city-scale year.
//! Everything goes through the services the API calls, each step by whose job it is (the
//! funders' staff grant, the person books, the cooperative bills), so the figures are the
//! API's less HTTP.

use anyhow::{Context, Result};
use std::sync::Arc;
use std::time::Instant;
use trama_core::budget::booking::IdempotencyKey;
use uuid::Uuid;

use trama_core::auth::{Principal, Role, RoleGrant};
use trama_core::budget::booking::{GrantForm, NewBooking};
use trama_core::budget::control;
use trama_core::budget::programme::{BasisPoints, FunderKind, IseeBand, ProgrammeRules, YearMonth};
use trama_core::clock::FixedClock;
use trama_core::hsds::Organization;
use trama_core::ids::{AllocationId, BookingId, FunderId, OrganizationId, ProgrammeId, UserId};
use trama_core::money::Cents;
use trama_server::AppState;
use trama_server::accounts::service::{self as accounts, NewUser};
use trama_server::budgets::service as budgets;
use trama_server::directory::service as directory;
use trama_server::register::service as register;

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn month(s: &str) -> YearMonth {
    YearMonth::parse("month", s).expect("valid")
}

fn months(from: &str, n: usize) -> Vec<YearMonth> {
    let mut v = vec![month(from)];
    while v.len() < n {
        let next = v.last().expect("not empty").next();
        v.push(next);
    }
    v
}

/// The bench's people and organisations, each acting through the services with their roles.
struct Bench {
    state: AppState,
    /// Staff of the bench's funders (they have no organisation: the territory admin).
    admin: Principal,
    /// The cooperative that delivers and bills.
    provider: Principal,
    cooperative: OrganizationId,
}

impl Bench {
    async fn account(state: &AppState, name: String, roles: &[RoleGrant]) -> Result<Principal> {
        let id = accounts::create_account(
            state,
            &NewUser {
                email: None,
                display_name: name,
                password_hash: None,
                locale: "it".into(),
            },
            roles,
        )
        .await?;
        accounts::principal(state, id)
            .await?
            .context("the account just created")
    }

    /// A beneficiary, who books and plans for themselves.
    async fn person(&self, i: usize) -> Result<Principal> {
        Self::account(
            &self.state,
            format!("Beneficiario {i}"),
            &[RoleGrant::new(Role::Citizen, None)?],
        )
        .await
    }

    async fn funder(&self, name: &str, kind: FunderKind) -> Result<FunderId> {
        let req = budgets::FunderRequest {
            name: name.into(),
            kind: kind.as_str().into(),
            organization_id: None,
        };
        Ok(budgets::create_funder(&self.state, &self.admin, &req).await?)
    }

    async fn programme(&self, funder: FunderId, rules: &ProgrammeRules) -> Result<ProgrammeId> {
        let req = budgets::ProgrammeRequest {
            funder_id: funder.to_string(),
            rules: serde_json::to_value(rules)?,
            amount_per_beneficiary: 1_000_000_000_000,
        };
        Ok(budgets::create_programme(&self.state, &self.admin, &req).await?)
    }

    async fn grant(
        &self,
        programme: ProgrammeId,
        person: UserId,
        amount: i64,
        expires: &str,
        area: Option<String>,
    ) -> Result<AllocationId> {
        let form = GrantForm {
            programme_id: programme.to_string(),
            amount,
            decision_reference: "bench".into(),
            expires: expires.into(),
            area_code: area,
        };
        let request = Uuid::now_v7().to_string();
        let key = IdempotencyKey::parse("key", &request)?;
        let a = budgets::grant(&self.state, &self.admin, person, &form, &request, &key).await?;
        Ok(AllocationId::parse("allocation_id", &a.id)?)
    }

    /// Books and delivers in full: the person books, the cooperative bills.
    async fn book_and_deliver(
        &self,
        person: &Principal,
        allocation: AllocationId,
        category: &str,
        month: YearMonth,
        amount: i64,
    ) -> Result<()> {
        let req = NewBooking {
            allocation,
            amount: Cents(amount),
            category: category.into(),
            month,
            provider: Some(self.cooperative),
            service: None,
        };
        let request = Uuid::now_v7().to_string();
        let key = IdempotencyKey::parse("key", &request)?;
        let b = budgets::book(&self.state, person, &req, &request, &key).await?;
        let b = BookingId::parse("booking_id", &b.id)?;
        let right = budgets::deliverable(&self.state, &self.provider, b).await?;
        budgets::deliver(&self.state, &self.provider, right, Cents(amount), &key).await?;
        Ok(())
    }
}

pub async fn run(state: &AppState, people: usize, concurrent: usize) -> Result<()> {
    // The dashboard's "today", as when these figures were first taken.
    let mut state = state.clone();
    state.clock = FixedClock::at(time::macros::datetime!(2026-11-04 10:00 UTC));
    println!("backend: {}", register::backend_name(&state));
    // The city's Municipi (allocations are counted by area) and a cooperative that delivers.
    if directory::areas(&state, "municipio").await?.is_empty() {
        directory::import_areas(&state, &trama_core::areas::milano_municipi()).await?;
    }
    let cooperative = OrganizationId::new();
    directory::import_organization_kinds(
        &state,
        &[(
            Organization {
                id: cooperative.0,
                name: "Cooperativa (bench)".into(),
                description: "Assistenza domiciliare".into(),
                ..Default::default()
            },
            Some("social_cooperative".into()),
        )],
    )
    .await?;
    let admin = Bench::account(
        &state,
        "Territorio (bench)".into(),
        &[RoleGrant::new(Role::TerritoryAdmin, None)?],
    )
    .await?;
    let provider = Bench::account(
        &state,
        "Cooperativa (bench)".into(),
        &[RoleGrant::new(Role::OrganizationAdmin, Some(cooperative))?],
    )
    .await?;
    let bench = Arc::new(Bench {
        state,
        admin,
        provider,
        cooperative,
    });
    let funder = bench
        .funder("Comune (bench)", FunderKind::Municipal)
        .await?;
    let rules = ProgrammeRules {
        name: "SAD (bench)".into(),
        funder_kind: FunderKind::Municipal,
        categories: vec!["C".into(), "D".into()],
        valid_from: month("2020-01"),
        valid_to: month("2030-12"),
        monthly_cap: None,
        copay_bands: vec![IseeBand {
            isee_max: None,
            copay: BasisPoints::new("copay", 2_000)?,
        }],
        combinable: true,
        individual_reports: false,
    };
    let programme = bench.programme(funder, &rules).await?;

    // 1. Booking throughput: `concurrent` tasks book and deliver against one allocation.
    let who = Arc::new(bench.person(0).await?);
    let a = bench
        .grant(programme, who.user_id, 1_000_000_000_000, "2030-12", None)
        .await?;
    let per_task = 10_000 / concurrent.max(1);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrent {
        let (b, who) = (bench.clone(), who.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_task {
                b.book_and_deliver(&who, a, "C1", month("2026-03"), 2_500)
                    .await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = t.elapsed().as_secs_f64();
    let n = per_task * concurrent;
    println!(
        "bookings: {n} booked and delivered by {concurrent} concurrent clients against one allocation: {secs:.2} s, {:.0} bookings/s ({:.0} money-moving transactions/s)",
        n as f64 / secs,
        2.0 * n as f64 / secs
    );

    // 2. A city-sized table: `people` beneficiaries with a year of monthly bookings each from
    //    the municipal programme; one in three also has a regional allocation paying nursing
    //    (C2) each month, so the dashboard must look at them for double funding; one in fifty
    //    of those is paid twice for the same home care (C1); one in ten has a plan.
    let region = bench
        .funder("Regione (bench)", FunderKind::Regional)
        .await?;
    let regional = bench
        .programme(
            region,
            &ProgrammeRules {
                name: "FNA (bench)".into(),
                funder_kind: FunderKind::Regional,
                copay_bands: vec![],
                ..rules.clone()
            },
        )
        .await?;
    let year = months("2025-12", 12);
    let t = Instant::now();
    let mut handles = Vec::new();
    let chunk = people.div_ceil(concurrent.max(1));
    for c in 0..concurrent {
        let b = bench.clone();
        let year = year.clone();
        let lo = c * chunk;
        let hi = ((c + 1) * chunk).min(people);
        handles.push(tokio::spawn(async move {
            let mut n = 0usize;
            for i in lo..hi {
                let p = b.person(i + 1).await?;
                let area = || Some(format!("{}", i % 9 + 1));
                let a = b
                    .grant(programme, p.user_id, 600_000, "2026-12", area())
                    .await?;
                for (k, m) in year.iter().enumerate() {
                    let category = if k % 3 == 0 { "D1" } else { "C1" };
                    let amount = 20_000 + (i as i64 % 7) * 1_000;
                    b.book_and_deliver(&p, a, category, *m, amount).await?;
                    n += 1;
                }
                if i % 3 == 0 {
                    let r = b
                        .grant(regional, p.user_id, 600_000, "2026-12", area())
                        .await?;
                    for m in &year {
                        let category = if i % 150 == 0 { "C1" } else { "C2" };
                        b.book_and_deliver(&p, r, category, *m, 15_000).await?;
                        n += 1;
                    }
                }
                if i % 10 == 0 {
                    budgets::create_plan(&b.state, &p, p.user_id, bench_plan(&year)).await?;
                }
            }
            Ok::<_, anyhow::Error>(n)
        }));
    }
    let mut city_bookings = 0;
    for h in handles {
        city_bookings += h.await??;
    }
    println!(
        "city: {people} beneficiaries, {city_bookings} bookings delivered over a year, loaded in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // 3. One person with five years of history among them: four allocations a year, five
    //    services a month.
    let rossi = bench.person(people + 1).await?;
    let mut allocations = Vec::new();
    for y in 2022..2027 {
        for _ in 0..4 {
            allocations.push(
                bench
                    .grant(
                        programme,
                        rossi.user_id,
                        2_000_000,
                        &format!("{y}-12"),
                        Some("6".into()),
                    )
                    .await?,
            );
        }
    }
    let mut history = 0;
    for (k, m) in months("2022-01", 60).into_iter().enumerate() {
        let a = allocations[(k / 12) * 4 + k % 4];
        for s in ["C1", "C2", "C4", "D1", "C3"] {
            bench.book_and_deliver(&rossi, a, s, m, 5_000).await?;
            history += 1;
        }
    }
    let mut lat = Vec::with_capacity(1_000);
    for _ in 0..1_000 {
        let t = Instant::now();
        // `GET /api/people/{id}/budget` for the person: consent facts, allocations, bookings,
        // help received and given.
        let (view, facts) = budgets::read_budget(&bench.state, &rossi, rossi.user_id).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(view.allocations.len() == 20 && view.bookings.len() == history);
        std::hint::black_box((view, facts));
    }
    println!(
        "consolidated view of one person with five years ({} allocations, {history} bookings) among {city_bookings}: p50 {:.2} ms, p99 {:.2} ms",
        allocations.len(),
        percentile(&mut lat, 0.5),
        percentile(&mut lat, 0.99)
    );

    // 4. The dashboard over the city-scale year: `GET /api/budget/dashboard` for the
    //    territory admin (every funder), the year's months.
    let (from, to) = (year[0], *year.last().expect("twelve months"));
    let mut lat = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let t = Instant::now();
        let d = budgets::dashboard(&bench.state, &bench.admin, from, to, 30).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        last = Some(d);
    }
    let d = last.context("five runs")?;
    let booked: usize = d.totals.iter().map(|t| t.bookings as usize).sum();
    println!(
        "dashboard over {booked} bookings of {from}..{to} ({} total rows; alerts: {} double funding, {} beyond plan, {} expiring): median of 5 {:.0} ms, worst {:.0} ms",
        d.totals.len(),
        d.double_funding.len(),
        d.beyond_plan.len(),
        d.expiring_unused.len(),
        percentile(&mut lat.clone(), 0.5),
        percentile(&mut lat, 1.0)
    );
    // The same figures as the pure functions over every booking (the dashboard before it
    // was summed by the database), and how long that takes.
    let t = Instant::now();
    let facts: Vec<_> = budgets::spend_facts(&bench.state)
        .await?
        .into_iter()
        .filter(|f| f.month >= from && f.month <= to && f.held.0 + f.spent.0 > 0)
        .collect();
    let naive = control::double_funding(&facts);
    let naive_ms = t.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        naive.len() == d.double_funding.len(),
        "the database's double funding differs from the rule over every booking"
    );
    anyhow::ensure!(
        control::totals(&facts)
            .iter()
            .map(|t| t.spent.0)
            .sum::<i64>()
            == d.spent,
        "the database's totals differ from the rule over every booking"
    );
    println!(
        "check: the same totals and double funding from all {} bookings read one by one ({naive_ms:.0} ms for that read)",
        facts.len()
    );
    let (unbalanced, drift) = budgets::book_problems(&bench.state).await?;
    anyhow::ensure!(unbalanced == 0 && drift == 0, "the book does not balance");
    println!("book: every transaction balanced, every balance equals its postings");
    Ok(())
}

/// A plan of home care, twenty hours a month at 20 euros, for the bench's people with one.
fn bench_plan(year: &[YearMonth]) -> trama_core::budget::plan::Plan {
    use trama_core::budget::plan::{Plan, PlanItem};
    Plan {
        goals: vec!["Restare a casa".into()],
        items: vec![PlanItem {
            category: "C1".into(),
            description: "Assistenza domiciliare".into(),
            service_id: None,
            provider_organization_id: None,
            unit_cost: Cents(1_000),
            per_month: 20,
            from: year[0],
            to: *year.last().expect("a year"),
        }],
        review_on: time::macros::date!(2026 - 06 - 30),
        agreement: None,
    }
}
