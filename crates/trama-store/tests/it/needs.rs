//! Needs, offers and matches on both databases: places are taken atomically, the lifecycle is
//! applied in transactions, confirmed help leaves contribution events behind.

use time::OffsetDateTime;
use trama_core::auth::Email;
use trama_core::geo::Coordinates;
use trama_core::ids::{NeedId, OfferId, OrganizationId, UserId};
use trama_core::matching::lifecycle::{MatchEvent, MatchState, NeedState, Side};
use trama_core::matching::model::{Urgency, WeekWindow};
use trama_core::needs::{NewNeed, NewOffer, PublicArea};
use trama_core::taxonomy::term_id;
use trama_store::{MatchChange, NeedRecord, NewMatch, NewUser, Store, StoreError};

use crate::both;

pub async fn person(store: &Store, name: &str) -> UserId {
    store
        .create_user(&NewUser {
            email: Some(
                Email::parse(&format!(
                    "{}@example.it",
                    name.to_lowercase().replace(' ', ".")
                ))
                .unwrap(),
            ),
            display_name: name.into(),
            password_hash: None,
            locale: "it".into(),
        })
        .await
        .unwrap()
}

fn area() -> PublicArea {
    PublicArea {
        kind: "nil".into(),
        code: "52".into(),
        name: "Giambellino".into(),
    }
}

pub async fn need(store: &Store, requester: UserId, people: u8, recurring: bool) -> NeedId {
    let tuesday = WeekWindow::on_day("w", 1, 9 * 60, 12 * 60).unwrap();
    store
        .create_need(&NeedRecord {
            need: NewNeed {
                category: term_id("H1"),
                description: "Spesa del martedì".into(),
                address: "Via Giambellino 58".into(),
                point: Coordinates::new(45.4531, 9.1402).unwrap(),
                windows: vec![tuesday],
                recurring,
                date: (!recurring).then_some(time::macros::date!(2030 - 12 - 03)),
                until: None,
                duration_minutes: 90,
                urgency: Urgency::Normal,
                languages: vec!["it".into()],
                skills: vec![],
                people,
                on_behalf_of: None,
                campaign: None,
            },
            requester,
            entered_by: requester,
            organization: None,
            area: area(),
            municipio: Some("6".into()),
        })
        .await
        .unwrap()
}

pub async fn offer(store: &Store, owner: UserId, capacity: u16) -> OfferId {
    store
        .create_offer(
            owner,
            &NewOffer {
                categories: vec![term_id("H1"), term_id("H2")],
                description: "Spesa e compagnia".into(),
                point: Coordinates::new(45.4560, 9.1380).unwrap(),
                radius_km: 1.0,
                availability: vec![WeekWindow::on_day("a", 1, 8 * 60, 13 * 60).unwrap()],
                hours_per_week: 4.0,
                capacity,
                languages: vec!["it".into()],
                skills: vec![],
                organization: None,
            },
            &area(),
        )
        .await
        .unwrap()
}

fn change(event: MatchEvent, actor: UserId) -> MatchChange {
    MatchChange {
        event,
        actor,
        on_behalf_of: None,
        next_at: Some(OffsetDateTime::now_utc()),
        minutes: None,
        note: None,
        scope: "milano".into(),
    }
}

both!(
    two_volunteers_race_for_one_place,
    |store: Store| async move {
        store.seed_taxonomies().await.unwrap();
        let anna = person(&store, "Anna Rossi").await;
        for people in [1u8, 2] {
            let n = need(&store, anna, people, true).await;
            let mut offers = Vec::new();
            for i in 0..12 {
                let v = person(&store, &format!("Volontario {people} {i}")).await;
                offers.push(offer(&store, v, 1).await);
            }
            // Twelve volunteers press "accept" at the same moment.
            let mut tasks = Vec::new();
            for o in offers {
                let s = store.clone();
                tasks.push(tokio::spawn(async move {
                    s.create_match(&NewMatch {
                        need: n,
                        offer: o,
                        state: MatchState::AcceptedByVolunteer,
                        score: 80,
                        distance_km: 0.4,
                        origin: "volunteer".into(),
                        actor: None,
                        on_behalf_of: None,
                        waiting_limit: None,
                    })
                    .await
                }));
            }
            let mut won = 0;
            for t in tasks {
                match t.await.unwrap() {
                    Ok(_) => won += 1,
                    Err(StoreError::Conflict { field, .. }) => assert_eq!(field, "need"),
                    Err(e) => panic!("unexpected error {e}"),
                }
            }
            assert_eq!(won, people as usize, "exactly as many winners as places");
            let row = store.need(n).await.unwrap().unwrap();
            assert_eq!(row.covered, people);
            assert_eq!(row.state, NeedState::Matched);
        }
    }
);

both!(
    a_match_is_accepted_done_and_confirmed,
    |store: Store| async move {
        store.seed_taxonomies().await.unwrap();
        let anna = person(&store, "Anna Rossi").await;
        let marco = person(&store, "Marco Verdi").await;
        let n = need(&store, anna, 1, false).await;
        let o = offer(&store, marco, 2).await;
        let m = store
            .create_match(&NewMatch {
                need: n,
                offer: o,
                state: MatchState::Proposed,
                score: 90,
                distance_km: 0.35,
                origin: "engine".into(),
                actor: None,
                on_behalf_of: None,
                waiting_limit: None,
            })
            .await
            .unwrap();
        // The same pair cannot be matched twice while live.
        let again = store
            .create_match(&NewMatch {
                need: n,
                offer: o,
                state: MatchState::Proposed,
                score: 90,
                distance_km: 0.35,
                origin: "engine".into(),
                actor: None,
                on_behalf_of: None,
                waiting_limit: None,
            })
            .await;
        assert!(matches!(again, Err(StoreError::Conflict { .. })));

        // An illegal step is refused and changes nothing.
        let e = store
            .apply_match_event(m.id, &change(MatchEvent::Done(Side::Volunteer), marco))
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{e}");

        for (ev, who) in [
            (MatchEvent::Accept(Side::Volunteer), marco),
            (MatchEvent::Accept(Side::Requester), anna),
            (MatchEvent::Schedule, marco),
            (MatchEvent::Done(Side::Volunteer), marco),
        ] {
            store
                .apply_match_event(m.id, &change(ev, who))
                .await
                .unwrap();
        }
        let mut last = change(MatchEvent::Done(Side::Requester), anna);
        last.minutes = Some(75);
        let out = store.apply_match_event(m.id, &last).await.unwrap();
        assert_eq!(out.after, MatchState::Confirmed);
        assert_eq!(out.contributions.len(), 2);
        assert!(
            !out.row.live,
            "a one-off match frees its places once confirmed"
        );
        assert_eq!(
            store.need(n).await.unwrap().unwrap().state,
            NeedState::Fulfilled
        );
        assert_eq!(store.offer(o).await.unwrap().unwrap().active, 0);
        assert_eq!(store.minutes_given(marco).await.unwrap(), 75);
        let events = store.contributions_of(marco).await.unwrap();
        assert_eq!(events.len(), 2);
        assert!(
            events
                .iter()
                .any(|e| e["action"] == "work" && e["effortQuantity"]["hasNumericalValue"] == 1.25)
        );
        assert_eq!(store.pending_contributions(10).await.unwrap().len(), 2);
        let history = store.match_history(m.id).await.unwrap();
        assert_eq!(history.len(), 6);
        assert_eq!(history.last().unwrap().to_state, "confirmed");
        assert_eq!(store.previous_offers_of(anna).await.unwrap(), vec![o]);
    }
);

both!(
    a_declined_match_reopens_its_need,
    |store: Store| async move {
        store.seed_taxonomies().await.unwrap();
        let anna = person(&store, "Anna Rossi").await;
        let marco = person(&store, "Marco Verdi").await;
        let n = need(&store, anna, 1, true).await;
        let o = offer(&store, marco, 1).await;
        let new = |state| NewMatch {
            need: n,
            offer: o,
            state,
            score: 70,
            distance_km: 0.4,
            origin: "volunteer".into(),
            actor: Some(marco),
            on_behalf_of: None,
            waiting_limit: None,
        };
        let m = store
            .create_match(&new(MatchState::AcceptedByVolunteer))
            .await
            .unwrap();
        assert_eq!(
            store.need(n).await.unwrap().unwrap().state,
            NeedState::Matched
        );
        store
            .apply_match_event(m.id, &change(MatchEvent::Decline(Side::Requester), anna))
            .await
            .unwrap();
        let row = store.need(n).await.unwrap().unwrap();
        assert_eq!((row.state, row.covered), (NeedState::Open, 0));
        assert_eq!(store.offer(o).await.unwrap().unwrap().active, 0);
        // The same pair may be matched again once the first match ended.
        store
            .create_match(&new(MatchState::AcceptedByVolunteer))
            .await
            .unwrap();
        // A full offer cannot take another need.
        let n2 = need(&store, anna, 1, true).await;
        let e = store
            .create_match(&NewMatch {
                need: n2,
                ..new(MatchState::Proposed)
            })
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Conflict { ref field, .. } if field == "offer"),
            "{e}"
        );
        // ... and the failed attempt did not take a place in the need.
        assert_eq!(store.need(n2).await.unwrap().unwrap().covered, 0);
        let areas = store.open_needs_by_area(None).await.unwrap();
        assert_eq!(areas.len(), 1);
        assert_eq!((areas[0].code.as_str(), areas[0].open), ("52", 1));
        assert_eq!(areas[0].center, None, "one need alone never gets a marker");
    }
);

both!(hubs_rooms_and_double_booking, |store: Store| async move {
    use trama_core::hsds::{Location, Organization};
    store.seed_taxonomies().await.unwrap();
    let org = OrganizationId::new();
    let loc = trama_core::ids::LocationId::new();
    let mut o: Organization = serde_json::from_value(serde_json::json!({"id": org.to_string(), "name": "Rete Case di Quartiere", "description": "Hub"})).unwrap();
    o.services = vec![];
    store.put_organizations(&[(o, None)]).await.unwrap();
    let l: Location = serde_json::from_value(serde_json::json!({
        "id": loc.to_string(), "organization_id": org.to_string(), "location_type": "physical",
        "name": "Casa di quartiere Giambellino", "latitude": 45.4525, "longitude": 9.1390
    }))
    .unwrap();
    store.put_locations(&[l]).await.unwrap();
    store
        .put_hub(&trama_store::HubRecord {
            location: loc,
            functions: vec!["social_centre".into(), "library".into()],
            capacity: 60,
            opening_hours: vec![WeekWindow::on_day("h", 1, 9 * 60, 13 * 60).unwrap()],
            help_desk: "Sportello martedì mattina".into(),
        })
        .await
        .unwrap();
    let room = store.add_room(loc, "Sala grande", 30, 60).await.unwrap();
    let hubs = store.hubs(None).await.unwrap();
    assert_eq!(hubs.len(), 1);
    assert_eq!(hubs[0].rooms.len(), 1);
    assert_eq!(hubs[0].organization, org);
    let who = person(&store, "Ahmed Benali").await;
    let start = time::macros::datetime!(2030-12-03 09:00 UTC);
    let end = start + time::Duration::hours(1);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.book_slot(room, start, end, who, "Corso di italiano")
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ok, 1, "one slot, one booking");
    assert_eq!(store.bookings(room, start, end).await.unwrap().len(), 1);
});

both!(
    assisted_people_campaigns_notifications,
    |store: Store| async move {
        store.seed_taxonomies().await.unwrap();
        let op = person(&store, "Operatrice Sportello").await;
        let org = OrganizationId::new();
        let lucia = store
            .register_assisted(
                "Lucia Ferri",
                "it",
                op,
                org,
                "Prot. 2026/1187",
                Some("02 1234567"),
            )
            .await
            .unwrap();
        let a = store.assisted(lucia).await.unwrap().unwrap();
        assert_eq!(a.consent_reference, "Prot. 2026/1187");
        assert!(store.user(lucia).await.unwrap().unwrap().email.is_none());
        assert_eq!(store.assisted_people(&[org]).await.unwrap().len(), 1);
        store
            .audit(&trama_store::AuditEntry {
                at: OffsetDateTime::now_utc(),
                actor_id: Some(op),
                action: "need.create".into(),
                subject_type: "need".into(),
                subject_id: Some("x".into()),
                detail: None,
                on_behalf_of: Some(lucia),
            })
            .await
            .unwrap();
        let seen = store.audit_about_person(lucia, 10).await.unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].actor_id, Some(op));

        let c = store
            .create_campaign(&trama_store::NewCampaign {
                name: "Ondata di calore luglio".into(),
                kind: "heatwave".into(),
                description: "Telefonate e spesa per gli anziani soli".into(),
                categories: vec![term_id("H1"), term_id("H2")],
                created_by: op,
                starts_on: time::macros::date!(2026 - 07 - 01),
                ends_on: None,
                areas: vec!["3".into()],
            })
            .await
            .unwrap();
        assert_eq!(store.campaign_counts(c).await.unwrap().needs, 0);
        assert_eq!(store.campaigns().await.unwrap().len(), 1);
        let row = store.campaign(c).await.unwrap().unwrap();
        assert_eq!(
            (row.starts_on, row.ends_on, row.areas.as_slice()),
            (
                time::macros::date!(2026 - 07 - 01),
                None,
                ["3".to_string()].as_slice()
            )
        );
        assert!(store.close_campaign(c).await.unwrap());
        let row = store.campaign(c).await.unwrap().unwrap();
        // Closing keeps the days it was planned for.
        assert_eq!((row.state.as_str(), row.ends_on), ("closed", None));
        assert!(!store.close_campaign(c).await.unwrap());

        // Notifications: mailed only to people who have an address.
        store
            .notify(
                op,
                "match",
                "match",
                "m1",
                "Nuovo abbinamento",
                "New match",
                true,
            )
            .await
            .unwrap();
        store
            .notify(
                lucia,
                "match",
                "match",
                "m1",
                "Nuovo abbinamento",
                "New match",
                true,
            )
            .await
            .unwrap();
        let pending = store.pending_emails(10).await.unwrap();
        assert_eq!(pending.len(), 1);
        store.mark_emailed(pending[0].id, "sent").await.unwrap();
        assert!(store.pending_emails(10).await.unwrap().is_empty());
        assert_eq!(store.unread_notifications(op).await.unwrap(), 1);
        assert_eq!(store.mark_notifications_read(op, None).await.unwrap(), 1);
        assert_eq!(store.unread_notifications(op).await.unwrap(), 0);
    }
);

// The offer index's change log is pruned; an index still behind the pruned versions reloads in
// full (the `*` row left in their place) instead of missing the offers made meanwhile.
both!(
    pruned_change_logs_never_leave_an_index_stale,
    |store: Store| async move {
        store.seed_taxonomies().await.unwrap();
        assert_eq!(store.warm_offer_index().await.unwrap(), 0);
        for i in 0..4 {
            let v = person(&store, &format!("Volontaria {i}")).await;
            offer(&store, v, 1).await;
        }
        let removed = store.prune_change_logs(1).await.unwrap();
        assert!(removed >= 3, "{removed}");
        // Again: nothing more to forget, and the marker moves on without a conflict.
        store.prune_change_logs(1).await.unwrap();
        assert_eq!(store.warm_offer_index().await.unwrap(), 4);
        let v = person(&store, "Volontaria 5").await;
        offer(&store, v, 1).await;
        assert_eq!(store.warm_offer_index().await.unwrap(), 5);
    }
);
