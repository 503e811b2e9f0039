//! Time is set, not waited for: the store and the server tell time by one injected clock.

use axum::http::StatusCode;
use serde_json::json;
use time::macros::datetime;
use trama_core::clock::FixedClock;

use crate::{TestApp, both};

/// Anna's weekly shopping, proposed to Eve's offer: the match waits for Eve's answer.
pub(crate) struct Proposal {
    pub(crate) anna: String,
    pub(crate) eve: String,
    pub(crate) need_id: String,
    pub(crate) match_id: String,
}

impl Proposal {
    pub(crate) async fn new(app: &TestApp) -> Self {
        let (_, anna) = app.user_with_token("anna@example.it", &[]).await;
        let (_, eve) = app.user_with_token("eve@example.it", &[]).await;
        let need = json!({
            "category": "H1", "description": "Spesa settimanale", "address": "Via Prova 1",
            "lat": 45.4631, "lon": 9.1862,
            "windows": [{"day": "tue", "from": "09:00", "to": "12:00"}],
            "recurring": true, "duration_minutes": 60, "urgency": "normal",
            "languages": ["it"], "people": 1
        });
        let r = app.send("POST", "/api/needs", Some(&anna), &need).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let need_id = r.json()["id"].as_str().unwrap().to_string();
        let offer = json!({
            "categories": ["H1"], "description": "Faccio la spesa",
            "lat": 45.4640, "lon": 9.1870, "radius_km": 3.0,
            "availability": [{"day": "tue", "from": "08:00", "to": "13:00"}],
            "hours_per_week": 4, "capacity": 2, "languages": ["it"]
        });
        let r = app.send("POST", "/api/offers", Some(&eve), &offer).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let offer_id = r.json()["id"].as_str().unwrap().to_string();
        let r = app
            .send(
                "POST",
                &format!("/api/needs/{need_id}/propose"),
                Some(&anna),
                &json!({"offer_id": offer_id}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text());
        let match_id = r.json()["id"].as_str().unwrap().to_string();
        Self {
            anna,
            eve,
            need_id,
            match_id,
        }
    }
}

// A request to a volunteer nobody answers expires after `matching.proposal_ttl_hours`, and the need opens
// again: tried by moving the clock two days on, not by sleeping for them.
both!(
    a_proposal_nobody_answers_expires_by_the_clock,
    |app: TestApp| async move {
        let clock = FixedClock::at(datetime!(2026-03-02 09:00 UTC));
        let app = app.with_clock(clock.clone());
        let Proposal {
            anna,
            need_id,
            match_id,
            ..
        } = Proposal::new(&app).await;
        let ttl = time::Duration::hours(app.state.config.matching.proposal_ttl_hours.max(1));
        // An hour before the deadline nothing expires; an hour after it, the proposal does.
        clock.advance(ttl - time::Duration::hours(1));
        assert_eq!(app.store().expire_stale_proposals(ttl).await.unwrap(), 0);
        let m = app
            .get_auth(&format!("/api/matches/{match_id}"), &anna)
            .await
            .json();
        assert_eq!(m["state"], "accepted_by_requester", "{m}");
        clock.advance(time::Duration::hours(2));
        assert_eq!(app.store().expire_stale_proposals(ttl).await.unwrap(), 1);
        let m = app
            .get_auth(&format!("/api/matches/{match_id}"), &anna)
            .await
            .json();
        assert_eq!(m["state"], "expired", "{m}");
        let n = app
            .get_auth(&format!("/api/needs/{need_id}"), &anna)
            .await
            .json();
        assert_eq!(n["state"], "open", "{n}");
    }
);

// A room's slot that has begun is neither free nor bookable, on the page and in the API.
both!(
    a_slot_that_has_begun_is_not_free,
    |app: TestApp| async move {
        use trama_core::auth::{Role, RoleGrant};
        // Tuesday 2030-12-03, 10:30 in Milan (09:30 UTC).
        let app = app.with_clock(FixedClock::at(datetime!(2030-12-03 09:30 UTC)));
        let (org, loc) = app.hub_place().await;
        let (_, manager) = app
            .user_with_token(
                "hub@rete.it",
                &[RoleGrant::new(Role::HubManager, Some(org)).unwrap()],
            )
            .await;
        let hub = json!({"functions": ["social_centre"], "capacity": 60, "help_desk": "",
        "opening_hours": [{"day": "tue", "from": "09:00", "to": "13:00"}]});
        let r = app
            .send("PUT", &format!("/api/hubs/{loc}"), Some(&manager), &hub)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = app
            .send(
                "POST",
                &format!("/api/hubs/{loc}/rooms"),
                Some(&manager),
                &json!({"name": "Sala grande", "capacity": 30, "slot_minutes": 60}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let room = r.json()["id"].as_str().unwrap().to_string();
        let slots = app
            .get(&format!("/api/rooms/{room}/slots?date=2030-12-03"))
            .await
            .json();
        let states: Vec<(bool, bool)> = slots
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["free"].as_bool().unwrap(), s["past"].as_bool().unwrap()))
            .collect();
        // 9:00 is over, 10:00 has begun, 11:00 and 12:00 are still to come.
        assert_eq!(
            states,
            [(false, true), (false, true), (true, false), (true, false)],
            "{slots}"
        );
        let page = app
            .get_auth(&format!("/hub/sale/{room}?data=2030-12-03"), &manager)
            .await
            .text();
        assert_eq!(page.matches("<td>Passata</td>").count(), 2, "{page}");
        assert_eq!(page.matches("<td>Libera</td>").count(), 2, "{page}");
    }
);

// The help is confirmed as given only once the appointment has begun: hours given tomorrow
// are not in the register today.
both!(
    help_is_confirmed_once_it_was_due,
    |app: TestApp| async move {
        let clock = FixedClock::at(datetime!(2026-03-02 09:00 UTC));
        let app = app.with_clock(clock.clone());
        let Proposal {
            anna,
            eve,
            match_id,
            ..
        } = Proposal::new(&app).await;
        let event = |who: &str, body: serde_json::Value| {
            let (app, who, uri) = (
                &app,
                who.to_string(),
                format!("/api/matches/{match_id}/events"),
            );
            async move { app.send("POST", &uri, Some(&who), &body).await }
        };
        let r = event(&eve, json!({"event": "accept"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        // Tuesday at 9:00 in Milan.
        let r = event(
            &eve,
            json!({"event": "schedule", "next_at": "2026-03-03T09:00:00+01:00"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        for (who, ev) in [(&eve, "done"), (&anna, "done"), (&anna, "no_show")] {
            let v = event(who, json!({"event": ev}))
                .await
                .assert_error(StatusCode::CONFLICT, "conflict");
            assert!(
                v["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("before the appointment"),
                "{v}"
            );
        }
        // Tuesday at 9:00 it is due.
        clock.advance(time::Duration::hours(23));
        for who in [&eve, &anna] {
            let r = event(who, json!({"event": "done"})).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        }
    }
);
