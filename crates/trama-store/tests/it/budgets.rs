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
        monthly_cap: Some(Cents(60_000)),
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
            programme,
            rossi,
            "Det. 2026/118",
            Cents(amount),
            month("2026-12"),
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
        provider_id: Some("coop-il-melograno".into()),
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
        let a = allocation(&store, 200_000).await;
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
