//! `trama bench-budgets`: the figures of docs/PERFORMANCE.md for care budgets (issue 5):
//! booking throughput under concurrency, the consolidated view of a person with five years of
//! history inside a city-sized table, and the municipality's dashboard over a city-scale year.

use anyhow::{Context, Result};
use std::time::Instant;

use trama_core::budget::control;
use trama_core::budget::programme::{BasisPoints, FunderKind, IseeBand, ProgrammeRules, YearMonth};
use trama_core::ids::UserId;
use trama_core::money::Cents;
use trama_store::{NewBudgetBooking, NewUser, Store};

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

async fn person(store: &Store, i: usize) -> Result<UserId> {
    Ok(store
        .create_user(&NewUser {
            email: None,
            display_name: format!("Beneficiario {i}"),
            password_hash: None,
            locale: "it".into(),
        })
        .await?)
}

pub async fn run(store: &Store, people: usize, concurrent: usize) -> Result<()> {
    println!("backend: {}", store.backend().name());
    let funder = store
        .create_funder("Comune (bench)", FunderKind::Municipal, None)
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
    let programme = store
        .create_programme(funder, &rules, Cents(1_000_000_000_000))
        .await?;

    // 1. Booking throughput: `concurrent` tasks book and deliver against one allocation.
    let who = person(store, 0).await?;
    let a = store
        .grant_allocation(
            &trama_store::NewAllocation {
                programme,
                beneficiary: who,
                decision_ref: "bench",
                amount: Cents(1_000_000_000_000),
                expires: month("2030-12"),
                area_code: None,
            },
            None,
        )
        .await?;
    let per_task = 10_000 / concurrent.max(1);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrent {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_task {
                let b = s
                    .hold_booking(
                        &NewBudgetBooking {
                            allocation: a.id,
                            provider_id: None,
                            service_id: None,
                            category: "C1".into(),
                            month: month("2026-03"),
                            amount: Cents(2_500),
                        },
                        None,
                    )
                    .await?;
                s.deliver_booking(b.id, Cents(2_500), None).await?;
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
    let region = store
        .create_funder("Regione (bench)", FunderKind::Regional, None)
        .await?;
    let regional = store
        .create_programme(
            region,
            &ProgrammeRules {
                name: "FNA (bench)".into(),
                funder_kind: FunderKind::Regional,
                copay_bands: vec![],
                ..rules.clone()
            },
            Cents(1_000_000_000_000),
        )
        .await?;
    let year = months("2025-12", 12);
    let t = Instant::now();
    let mut handles = Vec::new();
    let chunk = people.div_ceil(concurrent.max(1));
    for c in 0..concurrent {
        let s = store.clone();
        let year = year.clone();
        let lo = c * chunk;
        let hi = ((c + 1) * chunk).min(people);
        handles.push(tokio::spawn(async move {
            let mut n = 0usize;
            for i in lo..hi {
                let p = person(&s, i + 1).await?;
                let a = s
                    .grant_allocation(
                        &trama_store::NewAllocation {
                            programme,
                            beneficiary: p,
                            decision_ref: "bench",
                            amount: Cents(600_000),
                            expires: month("2026-12"),
                            area_code: Some(&format!("{}", i % 9 + 1)),
                        },
                        None,
                    )
                    .await?;
                for (k, m) in year.iter().enumerate() {
                    let b = s
                        .hold_booking(
                            &NewBudgetBooking {
                                allocation: a.id,
                                provider_id: None,
                                service_id: None,
                                category: if k % 3 == 0 { "D1" } else { "C1" }.into(),
                                month: *m,
                                amount: Cents(20_000 + (i as i64 % 7) * 1_000),
                            },
                            None,
                        )
                        .await?;
                    s.deliver_booking(b.id, b.amount, None).await?;
                    n += 1;
                }
                if i % 3 == 0 {
                    let r = s
                        .grant_allocation(
                            &trama_store::NewAllocation {
                                programme: regional,
                                beneficiary: p,
                                decision_ref: "bench",
                                amount: Cents(600_000),
                                expires: month("2026-12"),
                                area_code: Some(&format!("{}", i % 9 + 1)),
                            },
                            None,
                        )
                        .await?;
                    for m in &year {
                        let b = s
                            .hold_booking(
                                &NewBudgetBooking {
                                    allocation: r.id,
                                    provider_id: None,
                                    service_id: None,
                                    category: if i % 150 == 0 { "C1" } else { "C2" }.into(),
                                    month: *m,
                                    amount: Cents(15_000),
                                },
                                None,
                            )
                            .await?;
                        s.deliver_booking(b.id, b.amount, None).await?;
                        n += 1;
                    }
                }
                if i % 10 == 0 {
                    s.create_plan(p, p, &bench_plan(&year)).await?;
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
    let rossi = person(store, people + 1).await?;
    let mut allocations = Vec::new();
    for y in 2022..2027 {
        for _ in 0..4 {
            allocations.push(
                store
                    .grant_allocation(
                        &trama_store::NewAllocation {
                            programme,
                            beneficiary: rossi,
                            decision_ref: "bench",
                            amount: Cents(2_000_000),
                            expires: month(&format!("{y}-12")),
                            area_code: Some("6"),
                        },
                        None,
                    )
                    .await?,
            );
        }
    }
    let mut history = 0;
    for (k, m) in months("2022-01", 60).into_iter().enumerate() {
        let a = &allocations[(k / 12) * 4 + k % 4];
        for s in 0..5 {
            let b = store
                .hold_booking(
                    &NewBudgetBooking {
                        allocation: a.id,
                        provider_id: None,
                        service_id: None,
                        category: ["C1", "C2", "C4", "D1", "C3"][s].into(),
                        month: m,
                        amount: Cents(5_000),
                    },
                    None,
                )
                .await?;
            store.deliver_booking(b.id, b.amount, None).await?;
            history += 1;
        }
    }
    let mut lat = Vec::with_capacity(1_000);
    for _ in 0..1_000 {
        let t = Instant::now();
        // What `GET /api/people/{id}/budget` reads: consent facts, allocations, bookings, help.
        let facts = store.budget_facts(rossi).await?;
        let allocs = store.allocations_of(rossi).await?;
        let bookings = store.budget_bookings_of(rossi).await?;
        let help = store.help_received(rossi).await?;
        let given = store.minutes_given(rossi).await?;
        std::hint::black_box((facts, &allocs, &bookings, help, given));
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(allocs.len() == 20 && bookings.len() == history);
    }
    println!(
        "consolidated view of one person with five years ({} allocations, {history} bookings) among {city_bookings}: p50 {:.2} ms, p99 {:.2} ms",
        allocations.len(),
        percentile(&mut lat, 0.5),
        percentile(&mut lat, 0.99)
    );

    // 4. The dashboard over the city-scale year: what `GET /api/budget/dashboard` reads for
    //    the territory admin (every funder), the year's months.
    let funders: Vec<_> = store.funders().await?.into_iter().map(|f| f.id).collect();
    let (from, to) = (year[0], *year.last().expect("twelve months"));
    let mut lat = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let t = Instant::now();
        let d = store
            .budget_dashboard(&funders, from, to, time::macros::date!(2026 - 11 - 04), 30)
            .await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        last = Some(d);
    }
    let d = last.context("five runs")?;
    let total = d.total();
    println!(
        "dashboard over {} bookings of {from}..{to} ({} total rows; alerts: {} double funding, {} beyond plan, {} expiring): median of 5 {:.0} ms, worst {:.0} ms",
        total.bookings,
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
    let facts: Vec<_> = store
        .spend_facts()
        .await?
        .into_iter()
        .filter(|f| f.month >= from && f.month <= to && f.held.0 + f.spent.0 > 0)
        .collect();
    let naive = control::double_funding(&facts);
    let naive_ms = t.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        naive == d.double_funding,
        "the database's double funding differs from the rule over every booking"
    );
    anyhow::ensure!(
        control::totals(&facts)
            .iter()
            .map(|t| t.spent.0)
            .sum::<i64>()
            == total.spent.0,
        "the database's totals differ from the rule over every booking"
    );
    println!(
        "check: the same totals and double funding from all {} bookings read one by one ({naive_ms:.0} ms for that read)",
        facts.len()
    );
    let (unbalanced, drift) = store.budget_book_problems().await?;
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
