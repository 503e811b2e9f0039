//! The penetration test's lower findings, each on both databases. Every test here failed on
//! the code the penetration test tried.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::{TestApp, both};

fn need_body() -> Value {
    json!({
        "category": "H1", "description": "Spesa", "address": "Via Prova 1",
        "lat": 45.46, "lon": 9.18, "recurring": true,
        "windows": [{"day": "tue", "from": "09:00", "to": "12:00"}]
    })
}

fn offer_body() -> Value {
    json!({
        "categories": ["H1"], "lat": 45.46, "lon": 9.18, "radius_km": 3, "hours_per_week": 2,
        "availability": [{"day": "tue", "from": "08:00", "to": "13:00"}]
    })
}

// 6. A time window ends after it starts.
both!(windows_end_after_they_start, |app: TestApp| async move {
    let (_, t) = app.user_with_token("anna@example.it", &[]).await;
    let mut need = need_body();
    need["windows"] = json!([{"day": "tue", "from": "12:00", "to": "09:00"}]);
    let v = app
        .send("POST", "/api/needs", Some(&t), &need)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!(v["error"]["field"], "windows[0].to");
    need["windows"] = json!([{"day": "tue", "from": "10:00", "to": "10:00"}]);
    app.send("POST", "/api/needs", Some(&t), &need)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let mut offer = offer_body();
    offer["availability"] = json!([
        {"day": "mon", "from": "08:00", "to": "10:00"},
        {"day": "tue", "from": "18:00", "to": "08:00"}
    ]);
    let v = app
        .send("POST", "/api/offers", Some(&t), &offer)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!(v["error"]["field"], "availability[1].to");
    // Until midnight is fine.
    need["windows"] = json!([{"day": "tue", "from": "20:00", "to": "24:00"}]);
    let r = app.send("POST", "/api/needs", Some(&t), &need).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
});

// 7. The HSDS boolean flags take true or false, nothing else.
both!(hsds_flags_are_booleans, |app: TestApp| async move {
    for (uri, field) in [
        ("/hsds/services?full=", "full"),
        ("/hsds/services?minimal=", "minimal"),
        ("/hsds/services?full=yes", "full"),
        ("/hsds/services?minimal=1", "minimal"),
        ("/hsds/services?open_now=", "open_now"),
        ("/hsds/organizations?full_service=", "full_service"),
        (
            "/hsds/organizations/00000000-0000-0000-0000-000000000000?full_service=",
            "full_service",
        ),
        ("/hsds/service_at_locations?full=", "full"),
        ("/hsds/taxonomy_terms?top_only=", "top_only"),
    ] {
        let v = app
            .get(uri)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
        assert_eq!(v["error"]["field"], field, "{uri}");
    }
    for uri in [
        "/hsds/services?full=true",
        "/hsds/services?minimal=false",
        "/hsds/services?full=TRUE&open_now=false",
        "/hsds/taxonomy_terms?top_only=true",
    ] {
        assert_eq!(app.get(uri).await.status, StatusCode::OK, "{uri}");
    }
});
