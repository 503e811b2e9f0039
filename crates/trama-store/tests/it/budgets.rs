//! Care budgets on both databases: a booking is held, delivered and released through balanced
//! postings; a thousand concurrent bookings against one budget never overspend it; a call
//! repeated with its idempotency key moves the money once.

use trama_core::budget::programme::{BasisPoints, FunderKind, IseeBand, ProgrammeRules, YearMonth};
use trama_core::ids::{AllocationId, BookingId};
use trama_core::money::Cents;
use trama_store::{Idempotency, NewBudgetBooking, Store, StoreError};

use crate::both;
use crate::needs::person;

fn month(s: &str) -> YearMonth {
    YearMonth::parse("month", s).unwrap()
}

async fn allocation(store: &Store, amount: i64) -> AllocationId {
    allocation_capped(store, amount, Some(60_000)).await
}

/// An allocation of `amount` from a programme paying at most `cap` a month.
async fn allocation_capped(store: &Store, amount: i64, cap: Option<i64>) -> AllocationId {
    let funder = store
        .create_funder("Comune di Milano", FunderKind::Municipal, None)
        .await
        .unwrap();
    let rules = ProgrammeRules {
        name: "Servizio di assistenza domiciliare".into(),
        funder_kind: FunderKind::Municipal,
        categories: vec!["A1".into()],
        valid_from: month("2026-01"),
        valid_to: month("2026-12"),
        monthly_cap: cap.map(Cents),
        copay_bands: vec![IseeBand {
            isee_max: None,
            copay: BasisPoints::new("copay", 2_000).unwrap(),
        }],
        combinable: true,
        individual_reports: false,
    };
    let programme = store
        .create_programme(funder, &rules, Cents(amount))
        .await
        .unwrap();
    let rossi = person(
        store,
        &format!("Mario Rossi {}", uuid::Uuid::new_v4().simple()),
    )
    .await;
    let a = store
        .grant_allocation(
            &trama_store::NewAllocation {
                programme,
                beneficiary: rossi,
                decision_ref: &trama_core::bounded::BoundedText::parse("d", "Det. 2026/118", 200)
                    .unwrap(),
                amount: Cents(amount),
                expires: month("2026-12"),
                area_code: Some("6"),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (a.granted, a.available, a.held, a.spent),
        (Cents(amount), Cents(amount), Cents(0), Cents(0))
    );
    assert_eq!(a.rules, rules);
    a.id
}

fn booking(allocation: AllocationId, amount: i64) -> NewBudgetBooking {
    NewBudgetBooking {
        allocation,
        // The cooperative that delivers (an organisation id, as the server always gives).
        provider_id: Some("0190a6c4-0000-7000-8000-00000000c00b".into()),
        service_id: None,
        category: "A1.1".into(),
        month: month("2026-03"),
        amount: Cents(amount),
    }
}

both!(
    a_booking_is_held_delivered_and_released,
    |store: Store| async move {
        let a = allocation(&store, 100_000).await;
        let b = store.hold_booking(&booking(a, 30_000), None).await.unwrap();
        assert_eq!((b.held, b.state.as_str()), (Cents(30_000), "held"));
        let b = store
            .deliver_booking(b.id, Cents(20_000), None)
            .await
            .unwrap();
        assert_eq!(
            (b.held, b.spent, b.state.as_str()),
            (Cents(10_000), Cents(20_000), "held")
        );
        // Billed beyond what is booked: refused, nothing moves.
        match store.deliver_booking(b.id, Cents(10_001), None).await {
            Err(StoreError::Conflict { field, .. }) => assert_eq!(field, "amount"),
            other => panic!("expected a conflict, got {other:?}"),
        }
        let b = store.cancel_booking(b.id, None).await.unwrap();
        assert_eq!(
            (b.held, b.spent, b.state.as_str()),
            (Cents(0), Cents(20_000), "cancelled")
        );
        assert!(store.cancel_booking(b.id, None).await.is_err());
        let row = store.allocation(a).await.unwrap().unwrap();
        assert_eq!(
            (row.available, row.held, row.spent),
            (Cents(80_000), Cents(0), Cents(20_000))
        );
        // Beyond what is available: a conflict naming the amount.
        match store.hold_booking(&booking(a, 80_001), None).await {
            Err(StoreError::Conflict { field, reason }) => {
                assert_eq!(field, "amount");
                assert!(reason.contains("800.00"), "{reason}");
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert!(matches!(
            store
                .hold_booking(&booking(AllocationId::new(), 1), None)
                .await,
            Err(StoreError::Reference { .. })
        ));
        assert!(matches!(
            store
                .deliver_booking(BookingId::new(), Cents(1), None)
                .await,
            Err(StoreError::Reference { .. })
        ));
        assert_eq!(store.budget_book_problems().await.unwrap(), (0, 0));
    }
);

both!(
    a_thousand_concurrent_bookings_never_overspend,
    |store: Store| async move {
        // 1,000 bookings of 7.00 € at once against 2,000.00 €: exactly 285 fit
        // (285 × 7.00 = 1,995.00), whatever the order they arrive in.
        let a = allocation_capped(&store, 200_000, None).await;
        let mut tasks = Vec::new();
        for _ in 0..1000 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.hold_booking(&booking(a, 700), None).await
            }));
        }
        let (mut ok, mut refused) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(StoreError::Conflict { field, .. }) if field == "amount" => refused += 1,
                Err(e) => panic!("a booking failed otherwise: {e}"),
            }
        }
        assert_eq!((ok, refused), (285, 715));
        let row = store.allocation(a).await.unwrap().unwrap();
        assert_eq!((row.available, row.held), (Cents(500), Cents(199_500)));
        assert_eq!(store.budget_book_problems().await.unwrap(), (0, 0));
    }
);

both!(
    a_thousand_concurrent_bookings_never_pass_the_monthly_cap,
    |store: Store| async move {
        // The same thousand bookings, in one month of a programme that pays at most 600.00 €
        // a month: exactly 85 fit (85 × 7.00 = 595.00), the month's cap counted where the
        // money moves.
        let a = allocation_capped(&store, 200_000, Some(60_000)).await;
        let mut tasks = Vec::new();
        for _ in 0..1000 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.hold_booking(&booking(a, 700), None).await
            }));
        }
        let (mut ok, mut refused) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(StoreError::Conflict { field, reason }) if field == "amount" => {
                    assert!(reason.contains("a month"), "{reason}");
                    refused += 1
                }
                Err(e) => panic!("a booking failed otherwise: {e}"),
            }
        }
        assert_eq!((ok, refused), (85, 915));
        let row = store.allocation(a).await.unwrap().unwrap();
        assert_eq!((row.available, row.held), (Cents(140_500), Cents(59_500)));
        assert_eq!(store.budget_book_problems().await.unwrap(), (0, 0));
    }
);

both!(
    a_repeated_call_moves_the_money_once,
    |store: Store| async move {
        let a = allocation(&store, 50_000).await;
        let key = |k: &'static str, request: &'static str| Idempotency {
            actor: "casemanager",
            key: k,
            request,
        };
        // The same call sent eight times at once (a client retrying): one booking.
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.hold_booking(&booking(a, 10_000), Some(key("k-1", "hold 10000")))
                    .await
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap().unwrap().id);
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "every retry answers with the same booking");
        let row = store.allocation(a).await.unwrap().unwrap();
        assert_eq!(row.held, Cents(10_000));
        // The same key for another request is refused.
        match store
            .hold_booking(&booking(a, 5_000), Some(key("k-1", "hold 5000")))
            .await
        {
            Err(StoreError::Conflict { field, .. }) => assert_eq!(field, "Idempotency-Key"),
            other => panic!("expected a conflict, got {other:?}"),
        }
        // A delivery repeated with its key spends once.
        for _ in 0..3 {
            let b = store
                .deliver_booking(ids[0], Cents(4_000), Some(key("k-2", "deliver 4000")))
                .await
                .unwrap();
            assert_eq!(b.spent, Cents(4_000));
        }
        let row = store.allocation(a).await.unwrap().unwrap();
        assert_eq!((row.held, row.spent), (Cents(6_000), Cents(4_000)));
        assert_eq!(store.budget_book_problems().await.unwrap(), (0, 0));
    }
);

both!(
    the_dashboard_sums_and_warns_from_the_database,
    |store: Store| async move {
        use trama_core::budget::control;
        let rules = |name: &str, kind| ProgrammeRules {
            name: name.into(),
            funder_kind: kind,
            categories: vec!["A".into(), "B".into()],
            valid_from: month("2026-01"),
            valid_to: month("2027-12"),
            monthly_cap: None,
            copay_bands: vec![],
            combinable: true,
            individual_reports: false,
        };
        let comune = store
            .create_funder("Comune", FunderKind::Municipal, None)
            .await
            .unwrap();
        let regione = store
            .create_funder("Regione", FunderKind::Regional, None)
            .await
            .unwrap();
        let sad = store
            .create_programme(
                comune,
                &rules("SAD", FunderKind::Municipal),
                Cents(1_000_000_000_000),
            )
            .await
            .unwrap();
        let fna = store
            .create_programme(
                regione,
                &rules("FNA", FunderKind::Regional),
                Cents(1_000_000_000_000),
            )
            .await
            .unwrap();
        let anna = person(&store, "Anna Verdi").await;
        let bruno = person(&store, "Bruno Neri").await;
        let grant = |p, who, area: &'static str| {
            let store = store.clone();
            async move {
                store
                    .grant_allocation(
                        &trama_store::NewAllocation {
                            programme: p,
                            beneficiary: who,
                            decision_ref: &trama_core::bounded::BoundedText::parse(
                                "d", "Det.", 200,
                            )
                            .unwrap(),
                            amount: Cents(100_000),
                            expires: month("2026-12"),
                            area_code: Some(area),
                        },
                        None,
                    )
                    .await
                    .unwrap()
                    .id
            }
        };
        let (anna_sad, anna_fna, bruno_sad) = (
            grant(sad, anna, "6").await,
            grant(fna, anna, "6").await,
            grant(sad, bruno, "3").await,
        );
        let book = |a, category: &str, m: &str, amount| NewBudgetBooking {
            allocation: a,
            provider_id: Some("0190a6c4-0000-7000-8000-00000000c00b".into()),
            service_id: None,
            category: category.into(),
            month: month(m),
            amount: Cents(amount),
        };
        // Anna's home care in March is paid by both programmes; her B2 is another need.
        let b = store
            .hold_booking(&book(anna_sad, "A1.1", "2026-03", 30_000), None)
            .await
            .unwrap();
        store
            .deliver_booking(b.id, Cents(30_000), None)
            .await
            .unwrap();
        let twice = store
            .hold_booking(&book(anna_fna, "A1.1.2", "2026-03", 10_000), None)
            .await
            .unwrap();
        store
            .hold_booking(&book(anna_fna, "B2", "2026-03", 5_000), None)
            .await
            .unwrap();
        // Bruno's booking is partly delivered, then cancelled: what it spent still counts.
        let b = store
            .hold_booking(&book(bruno_sad, "A1.1", "2026-03", 20_000), None)
            .await
            .unwrap();
        store
            .deliver_booking(b.id, Cents(15_000), None)
            .await
            .unwrap();
        store.cancel_booking(b.id, None).await.unwrap();
        // Outside the period.
        store
            .hold_booking(&book(bruno_sad, "A1.1", "2027-01", 5_000), None)
            .await
            .unwrap();
        // The provider bills 120.00 for a booking of 100.00: kept once, however often sent.
        assert_eq!(
            store
                .record_billing_exception(twice.id, Cents(12_000), anna)
                .await
                .unwrap(),
            Some(Cents(10_000))
        );
        store
            .record_billing_exception(twice.id, Cents(12_000), anna)
            .await
            .unwrap();
        assert_eq!(
            store
                .record_billing_exception(twice.id, Cents(9_000), anna)
                .await
                .unwrap(),
            None,
            "within what is held is no exception"
        );

        let today = time::macros::date!(2026 - 12 - 04);
        let d = store
            .budget_dashboard(
                &[comune, regione],
                month("2026-01"),
                month("2026-12"),
                today,
                30,
            )
            .await
            .unwrap();
        let total = d.total();
        assert_eq!(
            (total.held, total.spent, total.bookings),
            (Cents(15_000), Cents(45_000), 4)
        );
        let by_area = d.sum_by(|t| t.area.clone());
        assert_eq!(by_area[&Some("6".to_string())].spent, Cents(30_000));
        assert_eq!(by_area[&Some("6".to_string())].held, Cents(15_000));
        assert_eq!(by_area[&Some("3".to_string())].spent, Cents(15_000));
        assert_eq!(d.double_funding.len(), 1, "{:?}", d.double_funding);
        assert_eq!(
            (
                d.double_funding[0].person,
                d.double_funding[0].category.as_str(),
                d.double_funding[0].amount,
                d.double_funding[0].programmes.len()
            ),
            (anna, "A1.1", Cents(40_000), 2)
        );
        assert_eq!(d.billed_beyond.len(), 1, "{:?}", d.billed_beyond);
        assert_eq!(
            (d.billed_beyond[0].held, d.billed_beyond[0].billed),
            (Cents(10_000), Cents(12_000))
        );
        // All three allocations end in 27 days with money left.
        assert_eq!(d.expiring_unused.len(), 3);
        // The same alerts as the rule applied to every booking of the period.
        let facts: Vec<_> = store
            .spend_facts()
            .await
            .unwrap()
            .into_iter()
            .filter(|f| f.month <= month("2026-12"))
            .collect();
        assert_eq!(control::double_funding(&facts), d.double_funding);
        assert_eq!(
            control::totals(&facts)
                .iter()
                .map(|t| (t.held.0, t.spent.0))
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1)),
            (15_000, 45_000)
        );

        // The region sees its own programme only: no double funding among one programme.
        let r = store
            .budget_dashboard(&[regione], month("2026-01"), month("2026-12"), today, 0)
            .await
            .unwrap();
        assert_eq!(
            (r.total().held, r.total().spent, r.double_funding.len()),
            (Cents(15_000), Cents(0), 0)
        );
        assert!(r.expiring_unused.is_empty(), "27 days is beyond 0");
        let next_year = store
            .budget_dashboard(&[comune], month("2027-01"), month("2027-12"), today, 30)
            .await
            .unwrap();
        assert_eq!(next_year.total().held, Cents(5_000));
        assert!(next_year.billed_beyond.is_empty());
        assert!(
            store
                .budget_dashboard(&[], month("2026-01"), month("2026-12"), today, 30)
                .await
                .unwrap()
                .totals
                .is_empty()
        );
    }
);

// The store's book follows the rule of `trama_core::budget::Book`: the same operations, in the
// same order, are accepted or refused alike and leave the same balances.
both!(
    the_store_keeps_the_book_the_core_describes,
    |store: Store| async move {
        use trama_core::budget::{Account, Book};
        let a = allocation_capped(&store, 100_000, None).await;
        let mut book = Book::new();
        book.grant(a, Cents(100_000)).unwrap();
        let mut bookings: Vec<BookingId> = Vec::new();
        let mut seed: u64 = 7;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for step in 0..60 {
            let op = next(3);
            let amount = Cents(1 + next(40_000) as i64);
            match (op, bookings.is_empty()) {
                (0, _) | (_, true) => {
                    let stored = store.hold_booking(&booking(a, amount.0), None).await;
                    match stored {
                        Ok(b) => {
                            book.hold(a, b.id, amount).unwrap_or_else(|e| {
                                panic!("step {step}: the store held {amount}, the book: {e}")
                            });
                            bookings.push(b.id);
                        }
                        Err(StoreError::Conflict { .. }) => assert!(
                            book.hold(a, BookingId::new(), amount).is_err(),
                            "step {step}: the store refused {amount}, the book would hold it"
                        ),
                        Err(e) => panic!("step {step}: {e}"),
                    }
                }
                (1, false) => {
                    let b = bookings[next(bookings.len() as u64) as usize];
                    let stored = store.deliver_booking(b, amount, None).await;
                    let core = book.spend(b, amount);
                    assert_eq!(stored.is_ok(), core.is_ok(), "step {step}: spend {amount}");
                }
                (_, false) => {
                    let b = bookings[next(bookings.len() as u64) as usize];
                    let stored = store.cancel_booking(b, None).await;
                    let core = book.release(b);
                    // Cancelling twice: the store refuses, the book has nothing left to release.
                    if stored.is_ok() {
                        assert!(core.is_ok(), "step {step}: release");
                    }
                }
            }
            let row = store.allocation(a).await.unwrap().unwrap();
            assert_eq!(
                (row.available, row.held, row.spent),
                (
                    book.balance(Account::Available(a)),
                    book.balance(Account::Held(a)),
                    book.balance(Account::Spent(a)),
                ),
                "step {step}"
            );
        }
        assert_eq!(store.budget_book_problems().await.unwrap(), (0, 0));
    }
);
