//! Time is set, not waited for: the store and the server tell time by one injected clock.

use axum::http::StatusCode;
use serde_json::json;
use time::macros::datetime;
use trama_core::clock::FixedClock;

use crate::{TestApp, both};

// A request to a volunteer nobody answers expires after `matching.proposal_ttl_hours`, and the need opens
// again: tried by moving the clock two days on, not by sleeping for them.
both!(
    a_proposal_nobody_answers_expires_by_the_clock,
    |app: TestApp| async move {
        let clock = FixedClock::at(datetime!(2026-03-02 09:00 UTC));
        let app = app.with_clock(clock.clone());
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
