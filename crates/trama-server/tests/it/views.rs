//! The JSON views as clients see them, snapshot-tested (ids and times redacted): a change to
//! what a view shows, or hides, is a reviewed change of the snapshot. The same snapshot holds
//! for SQLite and PostgreSQL.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::budgets::{BudgetWorld, Cast};
use crate::{TestApp, both};

/// The value with every UUID and every RFC 3339 time replaced by a placeholder.
fn redacted(v: Value) -> Value {
    fn is_uuid(s: &str) -> bool {
        uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
    }
    fn is_time(s: &str) -> bool {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
    }
    match v {
        Value::String(s) if is_uuid(&s) => Value::String("[id]".into()),
        Value::String(s) if is_time(&s) => Value::String("[time]".into()),
        Value::String(s) => {
            // Ids inside addresses and IRIs (`/api/needs/<id>`, `urn:...:<id>`).
            let mut out = s.clone();
            for w in s.split(|c: char| !(c.is_ascii_hexdigit() || c == '-')) {
                if is_uuid(w) {
                    out = out.replace(w, "[id]");
                }
            }
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(redacted).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, redacted(v))).collect()),
        other => other,
    }
}

both!(help_views_are_stable, |app: TestApp| async move {
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
    let offer_id = r.json()["id"].as_str().unwrap().to_string();
    let need_path = format!("/api/needs/{need_id}");
    // The person who asked sees it all; anyone else, the public facts only.
    insta::assert_json_snapshot!(
        "need_as_its_owner",
        redacted(app.get_auth(&need_path, &anna).await.json())
    );
    insta::assert_json_snapshot!("need_as_anyone", redacted(app.get(&need_path).await.json()));
    insta::assert_json_snapshot!(
        "offer_as_its_owner",
        redacted(
            app.get_auth(&format!("/api/offers/{offer_id}"), &eve)
                .await
                .json()
        )
    );
    let r = app
        .send(
            "POST",
            &format!("/api/needs/{need_id}/propose"),
            Some(&anna),
            &json!({"offer_id": offer_id}),
        )
        .await;
    let match_id = r.json()["id"].as_str().unwrap().to_string();
    // Before the volunteer accepts, the match shows the cell, not the place.
    insta::assert_json_snapshot!(
        "match_as_the_volunteer",
        redacted(
            app.get_auth(&format!("/api/matches/{match_id}"), &eve)
                .await
                .json()
        )
    );
});

both!(budget_views_are_stable, |app: TestApp| async move {
    let BudgetWorld {
        cast:
            Cast {
                rossi_t,
                provider_org,
                cm_t,
                ..
            },
        allocation,
        person_budget,
        ..
    } = BudgetWorld::new(&app).await;
    let r = crate::budgets::send_key(
        &app,
        "/api/budget/bookings",
        &rossi_t,
        Some("views-1"),
        &json!({"allocation_id": allocation, "amount": 30000, "category": "A1.1",
                "month": "2026-03", "provider_organization_id": provider_org.to_string()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    insta::assert_json_snapshot!("booking", redacted(r.json()));
    insta::assert_json_snapshot!(
        "budget_as_the_person",
        redacted(app.get_auth("/api/me/budget", &rossi_t).await.json())
    );
    insta::assert_json_snapshot!(
        "budget_as_the_case_manager",
        redacted(app.get_auth(&person_budget, &cm_t).await.json())
    );
});
