//! Issue 12, the penetration test's findings: each one, on both databases. Every test here
//! failed on the code the penetration test tried.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use trama_core::auth::Role;
use trama_core::ids::{OrganizationId, UserId};

use crate::{Reply, TestApp, both, grant};

fn need_at(lat: f64, lon: f64) -> Value {
    json!({
        "category": "H1",
        "description": "Spesa settimanale",
        "address": "Via della Prova 1",
        "lat": lat, "lon": lon,
        "windows": [{"day": "tue", "from": "09:00", "to": "12:00"}],
        "recurring": true, "duration_minutes": 60, "urgency": "normal",
        "languages": ["it"], "people": 1
    })
}

fn offer_at(lat: f64, lon: f64) -> Value {
    json!({
        "categories": ["H1"],
        "description": "Faccio la spesa",
        "lat": lat, "lon": lon, "radius_km": 3.0,
        "availability": [{"day": "tue", "from": "08:00", "to": "13:00"}],
        "hours_per_week": 4, "capacity": 2, "languages": ["it"]
    })
}

async fn created_id(r: Reply) -> String {
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

/// Rebuilds the app with other settings over the same database.
fn reconfigure(app: &mut TestApp, f: impl FnOnce(&mut trama_server::Config)) {
    let mut config = (*app.state.config).clone();
    f(&mut config);
    let state = trama_server::AppState::new(app.state.store.clone(), config, None).unwrap();
    app.router = trama_server::router(state.clone());
    app.state = state;
}

// 1. Suggestions: nothing computed from an exact point reaches the other party.
both!(
    suggestions_cannot_locate_a_need_or_a_volunteer,
    |app: TestApp| async move {
        let mut app = app;
        // Two people ask for help from two homes 500 m apart, in the same ~1 km² cell.
        let (_, anna) = app.user_with_token("anna@example.it", &[]).await;
        let (_, bruno) = app.user_with_token("bruno@example.it", &[]).await;
        let n_anna = created_id(
            app.send("POST", "/api/needs", Some(&anna), &need_at(45.4631, 9.1862))
                .await,
        )
        .await;
        let n_bruno = created_id(
            app.send(
                "POST",
                "/api/needs",
                Some(&bruno),
                &need_at(45.4669, 9.1818),
            )
            .await,
        )
        .await;
        // An attacker places offers around them and reads the suggestions of each.
        let (_, eve) = app.user_with_token("eve@example.it", &[]).await;
        let probes = [
            (45.4661, 9.1862),
            (45.4631, 9.1902),
            (45.4601, 9.1832),
            (45.4700, 9.1700),
            (45.4500, 9.2000),
        ];
        let mut seen = 0;
        for (lat, lon) in probes {
            let offer = created_id(
                app.send("POST", "/api/offers", Some(&eve), &offer_at(lat, lon))
                    .await,
            )
            .await;
            let r = app
                .get_auth(&format!("/api/offers/{offer}/suggestions"), &eve)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            let list = r.json();
            let distance = |need: &str| {
                list.as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["need"]["id"] == need)
                    .map(|s| s["distance_km"].as_f64().unwrap())
            };
            let (a, b) = (distance(&n_anna), distance(&n_bruno));
            // Both or neither are suggested, at the same distance: the answers depend on the
            // cell only, so no number of probes tells the two homes apart.
            assert_eq!(a, b, "probe at {lat},{lon}: {list}");
            if let Some(d) = a {
                seen += 1;
                assert_eq!(d * 2.0, (d * 2.0).round(), "half kilometres only: {d}");
                let s = list.to_string();
                assert!(
                    !s.contains("45.4631") && !s.contains("Via della Prova"),
                    "{s}"
                );
            }
        }
        assert!(seen >= 3, "the probes near the cell see the needs");
        // A sixth offer is one too many: nobody holds a field of probes.
        app.send("POST", "/api/offers", Some(&eve), &offer_at(45.46, 9.18))
            .await
            .assert_error(StatusCode::CONFLICT, "conflict");

        // The reverse: two volunteers 500 m apart; a need posted by the attacker.
        let (_, v1) = app.user_with_token("v1@example.it", &[]).await;
        let (_, v2) = app.user_with_token("v2@example.it", &[]).await;
        let o1 = created_id(
            app.send("POST", "/api/offers", Some(&v1), &offer_at(45.4631, 9.1862))
                .await,
        )
        .await;
        let o2 = created_id(
            app.send("POST", "/api/offers", Some(&v2), &offer_at(45.4669, 9.1818))
                .await,
        )
        .await;
        let (_, mallory) = app.user_with_token("mallory@example.it", &[]).await;
        for (lat, lon) in [(45.4661, 9.1862), (45.4601, 9.1832), (45.4650, 9.1950)] {
            let n = created_id(
                app.send("POST", "/api/needs", Some(&mallory), &need_at(lat, lon))
                    .await,
            )
            .await;
            let list = app
                .get_auth(&format!("/api/needs/{n}/suggestions?k=50"), &mallory)
                .await
                .json();
            let d = |o: &str| {
                list.as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["offer_id"] == o)
                    .map(|s| s["distance_km"].as_f64().unwrap())
            };
            assert!(d(&o1).is_some(), "{list}");
            assert_eq!(d(&o1), d(&o2), "need at {lat},{lon}: {list}");
        }
        // Ten open requests per person at most.
        for i in 3..10 {
            let r = app
                .send(
                    "POST",
                    "/api/needs",
                    Some(&mallory),
                    &need_at(45.46 + i as f64 * 0.001, 9.18),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "need {i}: {}", r.text());
        }
        app.send("POST", "/api/needs", Some(&mallory), &need_at(45.47, 9.18))
            .await
            .assert_error(StatusCode::CONFLICT, "conflict");

        // And suggestion lists are counted: past the hourly allowance, 429.
        reconfigure(&mut app, |c| c.matching.suggestions_per_hour = 2);
        let uri = format!("/api/offers/{o1}/suggestions");
        assert_eq!(app.get_auth(&uri, &v1).await.status, StatusCode::OK);
        assert_eq!(app.get_auth(&uri, &v1).await.status, StatusCode::OK);
        app.get_auth(&uri, &v1)
            .await
            .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    }
);

/// A person who can sign in, with a token; a case manager of `org`.
async fn people(app: &TestApp, org: OrganizationId) -> (UserId, String, UserId, String) {
    let (rossi, rossi_t) = app
        .user_with_token("rossi@example.it", &[grant(Role::Citizen, None)])
        .await;
    let (cm, cm_t) = app
        .user_with_token("cm@example.it", &[grant(Role::CaseManager, Some(org))])
        .await;
    (rossi, rossi_t, cm, cm_t)
}

// 2. Consent is the person's act.
both!(
    a_case_manager_cannot_grant_herself_consent,
    |app: TestApp| async move {
        let org = OrganizationId::new();
        let (rossi, rossi_t, cm, cm_t) = people(&app, org).await;
        let (_, op_t) = app
            .user_with_token("op@example.it", &[grant(Role::Operator, Some(org))])
            .await;
        let (_, op_elsewhere) = app
            .user_with_token(
                "op2@example.it",
                &[grant(Role::Operator, Some(OrganizationId::new()))],
            )
            .await;
        let consent = format!("/api/people/{rossi}/budget/consent");
        let budget = format!("/api/people/{rossi}/budget");
        let mine = |state: &'static str| {
            let app = &app;
            let rossi_t = rossi_t.clone();
            async move {
                let v = app
                    .get_auth("/api/me/budget/consents", &rossi_t)
                    .await
                    .json();
                assert_eq!(v[0]["state"], state, "{v}");
                v
            }
        };
        // The case manager records "a consent" at her desk: Mr. Rossi can sign in, so it
        // waits for him; it opens nothing, and he is told.
        let r = app
            .send(
                "POST",
                &consent,
                Some(&cm_t),
                &json!({"consent_reference": "Prot. 2026/4411"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = r.json();
        assert_eq!(
            (&v["state"], &v["channel"], &v["purpose"]),
            (&json!("pending"), &json!("desk"), &json!("care_budget"))
        );
        assert_eq!(v["organization_id"], org.to_string());
        app.get_auth(&budget, &cm_t)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        let told = app.get_auth("/api/notifications", &rossi_t).await.text();
        assert!(told.contains("Prot. 2026/4411"), "{told}");
        let v = mine("pending").await;
        assert_eq!(v[0]["case_manager_id"], cm.to_string(), "{v}");
        // He confirms it: now she follows him.
        let r = app
            .send(
                "POST",
                "/api/me/budget/consents",
                Some(&rossi_t),
                &json!({"case_manager_id": cm.to_string()}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["state"], "active");
        assert_eq!(app.get_auth(&budget, &cm_t).await.status, StatusCode::OK);

        // He withdraws it. She records it again, withdraws her own record, records it once
        // more: every time it waits for him (the penetration test's second try).
        let r = app
            .send(
                "DELETE",
                &format!("{consent}/{cm}"),
                Some(&rossi_t),
                &json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        for attempt in 0..2 {
            let r = app
                .send(
                    "POST",
                    &consent,
                    Some(&cm_t),
                    &json!({"consent_reference": format!("Prot. fake {attempt}")}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            assert_eq!(r.json()["state"], "pending", "attempt {attempt}");
            app.get_auth(&budget, &cm_t)
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found");
            app.send(
                "POST",
                &format!("/api/people/{rossi}/budget/funding"),
                Some(&cm_t),
                &json!({"lines": [{"category": "C1", "months": [{"month": "2026-03", "cost": 1}]}]}),
            )
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
            let r = app
                .send(
                    "DELETE",
                    &format!("{consent}/{cm}"),
                    Some(&cm_t),
                    &json!({}),
                )
                .await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        }
        let r = app
            .send(
                "POST",
                &consent,
                Some(&cm_t),
                &json!({"consent_reference": "Prot. fake 3"}),
            )
            .await;
        assert_eq!(r.json()["state"], "pending", "{}", r.text());
        mine("pending").await;
        app.get_auth(&budget, &cm_t)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        // Only his own act opens it again.
        let r = app
            .send(
                "POST",
                "/api/me/budget/consents",
                Some(&rossi_t),
                &json!({"case_manager_id": cm.to_string()}),
            )
            .await;
        assert_eq!(r.json()["state"], "active", "{}", r.text());
        assert_eq!(app.get_auth(&budget, &cm_t).await.status, StatusCode::OK);

        // Someone who cannot sign in (registered at a desk) acts through the signed form:
        // it counts at once.
        let r = app
            .send(
                "POST",
                "/api/people",
                Some(&op_t),
                &json!({"display_name": "Lucia Ferri", "consent_reference": "Prot. 2026/1187"}),
            )
            .await;
        let lucia = created_id(r).await;
        let r = app
            .send(
                "POST",
                &format!("/api/people/{lucia}/budget/consent"),
                Some(&cm_t),
                &json!({"consent_reference": "Prot. 2026/1188"}),
            )
            .await;
        assert_eq!(r.json()["state"], "active", "{}", r.text());
        // She cannot read a notice, so the desk that registered her, who knows her, is told.
        let told = app.get_auth("/api/notifications", &op_t).await.text();
        assert!(
            told.contains("Lucia Ferri") && told.contains("Prot. 2026/1188"),
            "{told}"
        );

        // An operator of the organisation may record it for its case manager; an operator
        // of another may not; citizens may not.
        let for_cm = json!({"consent_reference": "Prot. 1", "case_manager_id": cm.to_string()});
        let r = app.send("POST", &consent, Some(&op_t), &for_cm).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        app.send("POST", &consent, Some(&op_elsewhere), &for_cm)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        app.send("POST", &consent, Some(&rossi_t), &for_cm)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        // Bad input: no reference, an unknown purpose, an unknown case manager.
        for body in [
            json!({"consent_reference": " "}),
            json!({"consent_reference": "x", "purpose": "marketing"}),
            json!({"consent_reference": "x", "case_manager_id": "nope"}),
        ] {
            let r = app.send("POST", &consent, Some(&cm_t), &body).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{body}: {}",
                r.text()
            );
        }
        app.send(
            "POST",
            &format!("/api/people/{}/budget/consent", UserId::new()),
            Some(&cm_t),
            &json!({"consent_reference": "x"}),
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
        // Anonymous: 401.
        app.send("POST", &consent, None, &json!({"consent_reference": "x"}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        app.get("/api/me/budget/consents")
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
);

async fn programme(app: &TestApp, admin: &str, funder_org: Option<OrganizationId>) -> String {
    let r = app
        .send(
            "POST",
            "/api/funders",
            Some(admin),
            &json!({"name": "Brambilla welfare", "kind": "corporate_welfare",
                    "organization_id": funder_org.map(|o| o.to_string())}),
        )
        .await;
    let funder = created_id(r).await;
    let rules = json!({"name": "Crediti welfare", "funder_kind": "corporate_welfare",
        "categories": ["C"], "valid_from": "2026-01", "valid_to": "2026-12",
        "monthly_cap": 60000, "copay_bands": [], "combinable": true});
    created_id(
        app.send(
            "POST",
            "/api/programmes",
            Some(admin),
            &json!({"funder_id": funder, "rules": rules, "amount_per_beneficiary": 100000}),
        )
        .await,
    )
    .await
}

// 3. Granting is the funder's decision, within the programme's rules.
both!(
    only_the_funder_or_its_delegates_grant_within_the_rules,
    |app: TestApp| async move {
        let comune = app.organisation("Comune").await;
        let company = app.organisation("Brambilla Meccanica").await;
        let (rossi, rossi_t, _, cm_t) = people(&app, comune).await;
        let (_, ta) = app
            .user_with_token("ta@example.it", &[grant(Role::TerritoryAdmin, None)])
            .await;
        let (_, hr) = app
            .user_with_token(
                "hr@brambilla.it",
                &[grant(Role::OrganizationAdmin, Some(company))],
            )
            .await;
        let (_, cm2_t) = app
            .user_with_token("cm2@example.it", &[grant(Role::CaseManager, Some(comune))])
            .await;
        // A funder must be an organisation the directory knows.
        app.send(
            "POST",
            "/api/funders",
            Some(&ta),
            &json!({"name": "X", "kind": "municipal", "organization_id": OrganizationId::new().to_string()}),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference");
        let prog = programme(&app, &ta, Some(company)).await;
        app.follow(rossi, &rossi_t, &cm_t).await;
        let grants = format!("/api/people/{rossi}/allocations");
        let body = |amount: i64, expires: &str| json!({"programme_id": prog, "amount": amount, "decision_reference": "Piano 2026/3", "expires": expires});
        // The case manager, with consent, but no delegation; the territory admin, who is not
        // the company: refused.
        for t in [&cm_t, &ta] {
            app.send("POST", &grants, Some(t), &body(1000, "2026-12"))
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        // The company's own staff: within what the programme gives one person.
        let r = app
            .send("POST", &grants, Some(&hr), &body(60000, "2026-12"))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let v = app
            .send("POST", &grants, Some(&hr), &body(50000, "2026-12"))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(v["error"]["field"], "amount");
        for (amount, expires, field) in [
            (0, "2026-12", "amount"),
            (-5, "2026-12", "amount"),
            (10, "2001-01", "expires"),
        ] {
            let v = app
                .send("POST", &grants, Some(&hr), &body(amount, expires))
                .await
                .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
            assert_eq!(v["error"]["field"], field, "{v}");
        }
        // The company delegates to the Comune; only the company does.
        let delegations = format!("/api/programmes/{prog}/delegations");
        let deleg =
            json!({"organization_id": comune.to_string(), "decision_reference": "Accordo 2026/1"});
        for t in [&cm_t, &ta] {
            app.send("POST", &delegations, Some(t), &deleg)
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        // A delegation names the decision that makes it.
        let mut undecided = deleg.clone();
        undecided["decision_reference"] = json!(" ");
        let v = app
            .send("POST", &delegations, Some(&hr), &undecided)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(v["error"]["field"], "decision_reference", "{v}");
        let r = app.send("POST", &delegations, Some(&hr), &deleg).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        let listed = app.get_auth(&delegations, &hr).await.json();
        assert_eq!(listed[0]["organization_id"], comune.to_string(), "{listed}");
        // Now the case manager who follows Rossi grants what is left, and not a cent more;
        // her colleague, without his consent, cannot.
        app.send("POST", &grants, Some(&cm2_t), &body(1000, "2026-12"))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        let r = app
            .send("POST", &grants, Some(&cm_t), &body(40000, "2026-12"))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        app.send("POST", &grants, Some(&cm_t), &body(1, "2026-12"))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        // Every grant names its decision and is audited under the person.
        let audit = app.store().audit_about_person(rossi, 100).await.unwrap();
        let grants_seen: Vec<_> = audit
            .iter()
            .filter(|e| e.action == "budget.grant")
            .map(|e| e.detail.clone().unwrap_or_default())
            .collect();
        assert_eq!(grants_seen.len(), 2, "{grants_seen:?}");
        assert!(grants_seen.iter().all(|d| d.contains("Piano 2026/3")));
        assert!(grants_seen.iter().any(|d| d.contains("delegated")));
        // The delegation ends: the case manager can no longer grant.
        let r = app
            .send(
                "DELETE",
                &format!("{delegations}/{comune}"),
                Some(&hr),
                &json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());

        // Two grants at once for someone new: the programme's limit holds.
        let (bianchi, _) = app
            .user_with_token("bianchi@example.it", &[grant(Role::Citizen, None)])
            .await;
        let uri = format!("/api/people/{bianchi}/allocations");
        let both_bodies = (body(60000, "2026-12"), body(60000, "2026-12"));
        let (a, b) = tokio::join!(
            app.send("POST", &uri, Some(&hr), &both_bodies.0),
            app.send("POST", &uri, Some(&hr), &both_bodies.1)
        );
        let mut codes = [a.status.as_u16(), b.status.as_u16()];
        codes.sort();
        assert_eq!(codes[0], 201, "{} {}", a.text(), b.text());
        assert!(matches!(codes[1], 409 | 422), "{} {}", a.text(), b.text());
        let granted: i64 = app
            .store()
            .allocations_of(bianchi)
            .await
            .unwrap()
            .iter()
            .map(|a| a.granted.0)
            .sum();
        assert_eq!(granted, 60000);
    }
);

async fn book(app: &TestApp, token: &str, key: &str, body: &Value) -> Reply {
    app.request(
        Request::post("/api/budget/bookings")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header("Idempotency-Key", key)
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

// 4. The monthly cap holds at booking; and the low findings about bookings.
both!(
    bookings_respect_the_monthly_cap_and_real_providers,
    |app: TestApp| async move {
        let company = app.organisation("Brambilla Meccanica").await;
        let coop = app.organisation("Cooperativa").await;
        let (rossi, rossi_t, _, _) = people(&app, OrganizationId::new()).await;
        let (_, ta) = app
            .user_with_token("ta@example.it", &[grant(Role::TerritoryAdmin, None)])
            .await;
        let (_, hr) = app
            .user_with_token(
                "hr@brambilla.it",
                &[grant(Role::OrganizationAdmin, Some(company))],
            )
            .await;
        let coop_t = app.org_admin("coop@example.it", coop).await;
        let prog = programme(&app, &ta, Some(company)).await;
        let r = app
            .send(
                "POST",
                &format!("/api/people/{rossi}/allocations"),
                Some(&hr),
                &json!({"programme_id": prog, "amount": 100000, "decision_reference": "Piano 1", "expires": "2026-12"}),
            )
            .await;
        let alloc = created_id(r).await;
        let line = |amount: i64, month: &str, provider: String| {
            json!({"allocation_id": alloc, "amount": amount, "category": "C1", "month": month,
                   "provider_organization_id": provider})
        };
        let r = book(
            &app,
            &rossi_t,
            "k1",
            &line(50000, "2026-03", coop.to_string()),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let booking = r.json()["id"].as_str().unwrap().to_string();
        // 50,000 + 20,000 > the 60,000 a month the programme pays.
        book(
            &app,
            &rossi_t,
            "k2",
            &line(20000, "2026-03", coop.to_string()),
        )
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
        let r = book(
            &app,
            &rossi_t,
            "k3",
            &line(20000, "2026-04", coop.to_string()),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        // A provider nobody knows would hold the money forever.
        book(
            &app,
            &rossi_t,
            "k4",
            &line(100, "2026-05", OrganizationId::new().to_string()),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference");
        // Delivered, the booking cannot be cancelled any more.
        let r = app
            .request(
                Request::post(format!("/api/budget/bookings/{booking}/delivery"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::AUTHORIZATION, format!("Bearer {coop_t}"))
                    .header("Idempotency-Key", "d1")
                    .body(Body::from(json!({"amount": 50000}).to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = app
            .request(
                Request::post(format!("/api/budget/bookings/{booking}/cancel"))
                    .header(header::AUTHORIZATION, format!("Bearer {rossi_t}"))
                    .header("Idempotency-Key", "c1")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        r.assert_error(StatusCode::CONFLICT, "conflict");
        let mine = app.get_auth("/api/me/budget", &rossi_t).await.json();
        assert!(mine.to_string().contains("\"delivered\""), "{mine}");

        // Care received appears in the register under a pseudonym of its own: not the one
        // the same person has for neighbourly help (statements, time credits).
        use trama_server::register::log::Purpose;
        let reg = app.state.register.clone();
        assert_eq!(reg.take_contributions().await.unwrap(), 2);
        reg.checkpoint().await.unwrap();
        let person = format!("urn:trama:person:{rossi}");
        let care = reg.agent_iri(&person, Purpose::Care).await.unwrap();
        let help = reg.agent_iri(&person, Purpose::Help).await.unwrap();
        assert_ne!(care, help);
        let entries = app.get("/register/entries").await.text();
        assert!(entries.contains(&care), "{entries}");
        assert!(!entries.contains(&help), "{entries}");
        assert!(!entries.contains(&rossi.to_string()), "{entries}");
        // Erasure forgets both links.
        let r = app
            .send("DELETE", "/api/me/pseudonym", Some(&rossi_t), &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        for agent in [person.clone(), format!("{person}#care")] {
            assert_eq!(app.store().register_pseudonym(&agent).await.unwrap(), None);
        }
    }
);

// 6. The desk's list of needs: every full read is the person's to see.
both!(desk_list_reads_are_audited, |app: TestApp| async move {
    let hub = OrganizationId::new();
    let (_, operator) = app
        .user_with_token("op@hub.it", &[grant(Role::Operator, Some(hub))])
        .await;
    let r = app
        .send(
            "POST",
            "/api/people",
            Some(&operator),
            &json!({"display_name": "Lucia Ferri", "consent_reference": "Prot. 2026/1187"}),
        )
        .await;
    let lucia = created_id(r).await;
    let mut body = need_at(45.4531, 9.1402);
    body["on_behalf_of"] = json!(lucia);
    created_id(app.send("POST", "/api/needs", Some(&operator), &body).await).await;
    let lucia = UserId::parse("id", &lucia).unwrap();
    let before = app.store().audit_about_person(lucia, 100).await.unwrap();
    let reads =
        |v: &[trama_store::AuditEntry]| v.iter().filter(|e| e.action == "need.read").count();
    let list = app.get_auth("/api/needs?scope=desk", &operator).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.text().contains("Via della Prova"),
        "the desk sees the address"
    );
    let after = app.store().audit_about_person(lucia, 100).await.unwrap();
    assert_eq!(reads(&after), reads(&before) + 1, "{after:?}");
});

// 8. The signed register refuses false attributions, impossible dates and empty flows.
both!(
    the_register_refuses_false_attributions,
    |app: TestApp| async move {
        let mine = app.organisation("Emporio solidale").await;
        let other = app.organisation("Banco alimentare").await;
        let admin = app.org_admin("emporio@example.it", mine).await;
        let flow = |provider: String, at: &str, quantity: f64| {
            json!({"action": "transfer", "resource": "food", "quantity": quantity, "unit": "kilogram",
                   "provider_organization": provider, "at": at})
        };
        let ok = app
            .send(
                "POST",
                "/api/register/flows",
                Some(&admin),
                &flow(mine.to_string(), "2026-03-01T10:00:00Z", 120.0),
            )
            .await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text());
        app.send(
            "POST",
            "/api/register/flows",
            Some(&admin),
            &flow(other.to_string(), "2026-03-01T10:00:00Z", 120.0),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
        app.send(
            "POST",
            "/api/register/flows",
            Some(&admin),
            &flow(
                OrganizationId::new().to_string(),
                "2026-03-01T10:00:00Z",
                1.0,
            ),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference");
        for (at, q, field) in [
            ("0000-01-01T00:00:00Z", 1.0, "at"),
            ("9999-12-31T00:00:00Z", 1.0, "at"),
            ("2026-03-01T10:00:00Z", 0.0, "quantity"),
        ] {
            let r = app
                .send(
                    "POST",
                    "/api/register/flows",
                    Some(&admin),
                    &flow(mine.to_string(), at, q),
                )
                .await;
            assert!(
                matches!(r.status.as_u16(), 400 | 422),
                "{at} {q}: {} {}",
                r.status,
                r.text()
            );
            assert_eq!(r.json()["error"]["field"], field, "{}", r.text());
        }
        // No free text in a record nobody can erase (the second round got a phone number,
        // an e-mail and an address past a screen).
        let mut with_note = flow(mine.to_string(), "2026-03-01T10:00:00Z", 1.0);
        with_note["note"] = json!("Consegnato a Maria Bianchi, via Roma 3");
        let v = app
            .send("POST", "/api/register/flows", Some(&admin), &with_note)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(v["error"]["field"], "note", "{v}");
        // Nor free text disguised as the resource's IRI.
        for (resource, ok) in [
            ("tel:0248791187", false),
            ("https://example.org/maria-bianchi", false),
            ("urn:maria:bianchi", false),
            ("urn:trama:resource:MarioRossi123", false),
            ("urn:trama:taxonomy:0248791187", false),
            ("mario-rossi", false),
            ("urn:trama:resource:food", true),
            ("food", true),
            ("urn:trama:taxonomy:H1", true),
        ] {
            let mut f = flow(mine.to_string(), "2026-03-01T10:00:00Z", 1.0);
            f["resource"] = json!(resource);
            let r = app
                .send("POST", "/api/register/flows", Some(&admin), &f)
                .await;
            if ok {
                assert_eq!(r.status, StatusCode::CREATED, "{resource}: {}", r.text());
            } else {
                let v = r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
                assert_eq!(v["error"]["field"], "resource", "{v}");
            }
        }
        // The CSV import, all or nothing, names the line at fault.
        let csv = format!(
            "action,resource,quantity,unit,provider_organization,receiver_organization,at,note\n\
             transfer,food,10,kilogram,{mine},,2026-03-02T10:00:00Z,\n\
             transfer,food,10,kilogram,{other},,2026-03-02T10:00:00Z,\n"
        );
        let r = app
            .request(
                Request::post("/api/register/flows/import")
                    .header(header::CONTENT_TYPE, "text/csv")
                    .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                    .body(Body::from(csv))
                    .unwrap(),
            )
            .await;
        let v = r.assert_error(StatusCode::FORBIDDEN, "forbidden");
        assert!(v.to_string().contains("line 3"), "{v}");
    }
);

// Low findings on the public surface.
both!(public_surface_is_tight, |app: TestApp| async move {
    // JSON answers say what they are and may not be sniffed.
    let r = app.get("/api/nothing-here").await;
    assert_eq!(r.headers.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(
        app.get("/hsds/services").await.headers["x-content-type-options"],
        "nosniff"
    );
    // A field the body should not have is named once.
    let (_, t) = app.user_with_token("x@example.it", &[]).await;
    let v = app
        .send("POST", "/api/offers", Some(&t), &json!({"a": 1}))
        .await
        .json();
    let msg = v["error"]["message"].as_str().unwrap_or("");
    assert_eq!(v["error"]["code"], "invalid_body", "{v}");
    assert!(!msg.contains(": a: ") && !msg.starts_with("a: a:"), "{v}");
    // /metrics is not for everyone.
    assert!(matches!(
        app.get("/metrics").await.status.as_u16(),
        401 | 404
    ));
    // The register's entries from beyond its end, and a tile under a second name.
    app.get("/register/entries?from=9223372036854775808")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
    let r = app.get("/register/tile/0/x000/000").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
});

// GDPR self-service: everything about me, and erasure that keeps only what the law requires.
both!(export_and_erasure, |app: TestApp| async move {
    let comune = app.organisation("Comune").await;
    let company = app.organisation("Brambilla Meccanica").await;
    let coop = app.organisation("Cooperativa").await;
    let (rossi, rossi_t, _, cm_t) = people(&app, comune).await;
    let (_, ta) = app
        .user_with_token("ta@example.it", &[grant(Role::TerritoryAdmin, None)])
        .await;
    let (_, hr) = app
        .user_with_token(
            "hr@brambilla.it",
            &[grant(Role::OrganizationAdmin, Some(company))],
        )
        .await;
    let prog = programme(&app, &ta, Some(company)).await;
    app.follow(rossi, &rossi_t, &cm_t).await;
    let alloc = created_id(
        app.send(
            "POST",
            &format!("/api/people/{rossi}/allocations"),
            Some(&hr),
            &json!({"programme_id": prog, "amount": 50000, "decision_reference": "Piano 4", "expires": "2026-12"}),
        )
        .await,
    )
    .await;
    let r = book(
        &app,
        &rossi_t,
        "e1",
        &json!({"allocation_id": alloc, "amount": 10000, "category": "C1", "month": "2026-05",
                "provider_organization_id": coop.to_string()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    created_id(
        app.send(
            "POST",
            "/api/needs",
            Some(&rossi_t),
            &need_at(45.4631, 9.1862),
        )
        .await,
    )
    .await;
    created_id(
        app.send(
            "POST",
            "/api/offers",
            Some(&rossi_t),
            &offer_at(45.4631, 9.1862),
        )
        .await,
    )
    .await;
    assert_eq!(
        app.get_auth(&format!("/api/people/{rossi}/budget"), &cm_t)
            .await
            .status,
        StatusCode::OK
    );

    // The export: everything about me, including who looked.
    app.get("/api/me/export")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let r = app.get_auth("/api/me/export", &rossi_t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let doc = r.json();
    assert_eq!(doc["account"]["email"], "rossi@example.it");
    assert_eq!(doc["needs"][0]["address"], "Via della Prova 1", "{doc}");
    assert_eq!(doc["offers"].as_array().unwrap().len(), 1);
    assert_eq!(doc["consents"][0]["reference"], "Prot. 2026/4411");
    assert_eq!(
        doc["care_budget"]["allocations"][0]["granted"], 50000,
        "{doc}"
    );
    assert!(
        doc["who_looked_at_my_data"]
            .to_string()
            .contains("budget.read"),
        "{doc}"
    );
    // Someone else's export is theirs only.
    let other = app.get_auth("/api/me/export", &cm_t).await.json();
    assert!(!other.to_string().contains("Via della Prova"), "{other}");

    // Erasure needs the password; a wrong one erases nothing.
    app.send(
        "DELETE",
        "/api/me",
        Some(&rossi_t),
        &json!({"password": "nope"}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    app.send("DELETE", "/api/me", Some(&rossi_t), &json!({}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!(
        app.get_auth("/api/me", &rossi_t).await.status,
        StatusCode::OK
    );
    let r = app
        .send(
            "DELETE",
            "/api/me",
            Some(&rossi_t),
            &json!({"password": "password-for-tests"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["erased"]["needs_wiped"], 1, "{v}");
    assert_eq!(v["erased"]["offers_wiped"], 1, "{v}");
    assert_eq!(v["erased"]["consents_deleted"], 1, "{v}");
    assert_eq!(v["erased"]["allocations_kept"], 1, "{v}");
    assert_eq!(v["erased"]["bookings_kept"], 1, "{v}");
    assert!(v["kept"].to_string().contains("10 years"), "{v}");
    // The account no longer signs in, its token is gone, its name and e-mail are gone.
    app.get_auth("/api/me", &rossi_t)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let r = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            &json!({"email": "rossi@example.it", "password": "password-for-tests"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let u = app.store().user(rossi).await.unwrap().unwrap();
    assert_eq!((u.email, u.password_hash), (None, None));
    assert_eq!(u.display_name, trama_store::ERASED_NAME);
    // The case manager lost access with the consent; the need keeps no address.
    app.get_auth(&format!("/api/people/{rossi}/budget"), &cm_t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let needs = app
        .store()
        .needs(&trama_store::NeedFilter {
            requester: Some(rossi),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(needs[0].address, "");
    assert_eq!(needs[0].state.as_str(), "cancelled");
    // The accounting records stay, nameless.
    assert_eq!(app.store().allocations_of(rossi).await.unwrap().len(), 1);
    // Nobody follows, grants to or books for an erased person (the second round's finding:
    // with no password left, a desk record counted at once and the balance could be spent).
    app.send(
        "POST",
        &format!("/api/people/{rossi}/budget/consent"),
        Some(&cm_t),
        &json!({"consent_reference": "Prot. dopo"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.send(
        "POST",
        &format!("/api/people/{rossi}/allocations"),
        Some(&hr),
        &json!({"programme_id": prog, "amount": 100, "decision_reference": "Piano 6", "expires": "2026-12"}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference");
    // Nor anyone who can neither sign in nor was registered at a desk.
    let nobody = app
        .store()
        .create_user(&trama_store::NewUser {
            email: None,
            display_name: "Senza accesso".into(),
            password_hash: None,
            locale: "it".into(),
        })
        .await
        .unwrap();
    app.send(
        "POST",
        &format!("/api/people/{nobody}/budget/consent"),
        Some(&cm_t),
        &json!({"consent_reference": "Prot. 10"}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference");
    // Retention: the audit trail older than its days goes.
    let (audit, _) = app.store().apply_retention(0, 0).await.unwrap();
    assert!(audit > 0);
});

// The independent tester's findings, after the first round of fixes.
both!(
    the_area_markers_give_no_point_away,
    |app: TestApp| async move {
        // Three needs in one cell, at points an attacker chose: the marker is the cell's centre,
        // whatever the points (their average, rounded, could be steered across a line).
        let mut ids = Vec::new();
        for (i, (lat, lon)) in [(45.4101, 9.1799), (45.4173, 9.1734), (45.4119, 9.1711)]
            .into_iter()
            .enumerate()
        {
            let (_, t) = app.user_with_token(&format!("p{i}@example.it"), &[]).await;
            ids.push(
                created_id(
                    app.send("POST", "/api/needs", Some(&t), &need_at(lat, lon))
                        .await,
                )
                .await,
            );
        }
        let areas = app.get("/api/needs/areas").await.json();
        let cell = areas
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["open"] == 3)
            .unwrap_or_else(|| panic!("{areas}"))
            .clone();
        let c = (
            cell["center"][0].as_f64().unwrap(),
            cell["center"][1].as_f64().unwrap(),
        );
        assert!(
            (c.0 - 45.415).abs() < 1e-9 && (c.1 - 9.175).abs() < 1e-9,
            "the cell's centre, not the needs' average rounded (45.41, 9.17): {cell}"
        );
        let text = areas.to_string();
        for exact in [
            "45.4101", "45.4173", "45.4119", "9.1799", "9.1734", "9.1711",
        ] {
            assert!(!text.contains(exact), "{text}");
        }
    }
);

both!(
    one_volunteer_cannot_empty_the_board,
    |app: TestApp| async move {
        let (eve, offer) = roomy_volunteer(&app).await;
        let mut codes = Vec::new();
        for (need, _) in people_asking(&app, 5, 0.0005).await {
            let r = app
                .send(
                    "POST",
                    &format!("/api/needs/{need}/accept"),
                    Some(&eve),
                    &json!({"offer_id": offer}),
                )
                .await;
            codes.push(r.status.as_u16());
        }
        assert_eq!(
            codes,
            [201, 201, 201, 409, 409],
            "three taken and waiting at most"
        );
    }
);

both!(a_grant_moves_money_once, |app: TestApp| async move {
    let company = app.organisation("Brambilla Meccanica").await;
    let (rossi, _, _, _) = people(&app, OrganizationId::new()).await;
    let (_, ta) = app
        .user_with_token("ta@example.it", &[grant(Role::TerritoryAdmin, None)])
        .await;
    let (_, hr) = app
        .user_with_token(
            "hr@brambilla.it",
            &[grant(Role::OrganizationAdmin, Some(company))],
        )
        .await;
    let prog = programme(&app, &ta, Some(company)).await;
    let uri = format!("/api/people/{rossi}/allocations");
    let body = |amount: i64| json!({"programme_id": prog, "amount": amount, "decision_reference": "Piano 5", "expires": "2026-12"});
    let with_key = |key: Option<&'static str>, b: Value| {
        let app = &app;
        let uri = uri.clone();
        let hr = hr.clone();
        async move {
            let mut r = Request::post(uri)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {hr}"));
            if let Some(k) = key {
                r = r.header("Idempotency-Key", k);
            }
            app.request(r.body(Body::from(b.to_string())).unwrap())
                .await
        }
    };
    with_key(None, body(500))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
    let first = with_key(Some("g-1"), body(500)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let again = with_key(Some("g-1"), body(500)).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    assert_eq!(first.json()["id"], again.json()["id"]);
    with_key(Some("g-1"), body(600))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
    let (a, b) = tokio::join!(
        with_key(Some("g-2"), body(700)),
        with_key(Some("g-2"), body(700))
    );
    assert!(
        a.status.is_success() || b.status.is_success(),
        "{} {}",
        a.text(),
        b.text()
    );
    let granted: Vec<i64> = app
        .store()
        .allocations_of(rossi)
        .await
        .unwrap()
        .iter()
        .map(|a| a.granted.0)
        .collect();
    assert_eq!(granted.iter().sum::<i64>(), 1200, "{granted:?}");
});

// The second round's sign-up finding: signing up again for an address not yet confirmed
// must not set its password.
both!(
    a_second_sign_up_takes_no_account_over,
    |app: TestApp| async move {
        let sign_up = |password: &'static str, name: &'static str| {
            let app = &app;
            async move {
                let r = app
                .send(
                    "POST",
                    "/api/auth/signup",
                    None,
                    &json!({"email": "vittima@example.org", "password": password, "display_name": name}),
                )
                .await;
                assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
            }
        };
        sign_up("Victim-Password-2026", "Vittoria").await;
        // The fourth round: the squatter's sign-up also named the account ("Scrivi a
        // truffa@example.com"); the name must be the confirming sign-up's.
        sign_up("Attacker-Password-2026", "Scrivi a truffa@example.com").await;
        // Two links reached the owner's mailbox: the newest, asked for by the attacker, does
        // not confirm with the owner's password (nor would it set the attacker's); the
        // owner's does.
        let tokens = app.verification_tokens("vittima@example.org").await;
        assert_eq!(tokens.len(), 2);
        let verify = |token: String| {
            let app = &app;
            async move {
                app.send(
                    "POST",
                    "/api/auth/verify",
                    None,
                    &json!({"token": token, "password": "Victim-Password-2026"}),
                )
                .await
            }
        };
        verify(tokens[0].clone())
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        let r = verify(tokens[1].clone()).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        let login = |password: &'static str| {
            let app = &app;
            async move {
                app.send(
                    "POST",
                    "/api/auth/login",
                    None,
                    &json!({"email": "vittima@example.org", "password": password}),
                )
                .await
                .status
            }
        };
        assert_eq!(
            login("Attacker-Password-2026").await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(login("Victim-Password-2026").await, StatusCode::OK);
        let email = trama_core::auth::Email::parse("vittima@example.org").unwrap();
        let me = app.store().user_by_email(&email).await.unwrap().unwrap();
        assert_eq!(me.display_name, "Vittoria");
    }
);

// The second round's race: the cap on taken requests holds under parallel takes, and one
// volunteer cannot flood a person by taking, being declined and taking again.
both!(
    the_cap_on_taken_requests_holds_in_parallel,
    |app: TestApp| async move {
        let (eve, offer) = roomy_volunteer(&app).await;
        let needs = people_asking(&app, 10, 0.0003).await;
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (n, _)) in needs.iter().enumerate() {
            let router = app.router.clone();
            let req = Request::post(format!("/api/needs/{n}/accept"))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {eve}"))
                .body(Body::from(json!({"offer_id": offer}).to_string()))
                .unwrap();
            tasks.spawn(async move {
                use tower::ServiceExt;
                (i, router.oneshot(req).await.unwrap().status().as_u16())
            });
        }
        let mut codes = vec![0u16; needs.len()];
        while let Some(r) = tasks.join_next().await {
            let (i, c) = r.unwrap();
            codes[i] = c;
        }
        assert_eq!(codes.iter().filter(|c| **c == 201).count(), 3, "{codes:?}");
        assert!(codes.iter().all(|c| matches!(c, 201 | 409)), "{codes:?}");

        // Taken, declined, taken again, declined: the third take of the same request is refused.
        let (need, person) = needs
            .iter()
            .zip(&codes)
            .find(|(_, c)| **c == 201)
            .map(|(n, _)| n.clone())
            .unwrap();
        for round in 0..2 {
            let matches = app.get_auth("/api/matches", &person).await.json();
            let live = matches
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["need_id"] == need && x["state"] == "accepted_by_volunteer")
                .unwrap_or_else(|| panic!("round {round}: {matches}"))
                .clone();
            let r = app
                .send(
                    "POST",
                    &format!("/api/matches/{}/events", live["id"].as_str().unwrap()),
                    Some(&person),
                    &json!({"event": "decline"}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            let again = app
                .send(
                    "POST",
                    &format!("/api/needs/{need}/accept"),
                    Some(&eve),
                    &json!({"offer_id": offer}),
                )
                .await;
            let expected = if round == 0 { 201 } else { 409 };
            assert_eq!(
                again.status.as_u16(),
                expected,
                "round {round}: {}",
                again.text()
            );
        }
    }
);

// Issue 13's corrupt rows: a stored id that is not one is an error, never a silent nil id.
both!(a_corrupt_id_is_an_error, |app: TestApp| async move {
    let (me, t) = app.user_with_token("c@example.it", &[]).await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.url).await.unwrap();
    sqlx::query(
        "INSERT INTO notifications (id, user_id, at, kind, subject_type, subject_id, text_it, text_en, email_state) \
         VALUES ('not-an-id', $1, 1, 'x', 'x', 'x', 'x', 'x', 'none')",
    )
    .bind(me.to_string())
    .execute(&pool)
    .await
    .unwrap();
    let e = app.store().notifications(me, 10).await.unwrap_err();
    assert!(
        matches!(e, trama_store::StoreError::CorruptId { .. }),
        "{e}"
    );
    app.get_auth("/api/notifications", &t)
        .await
        .assert_error(StatusCode::INTERNAL_SERVER_ERROR, "internal");
    // A grant whose organisation is not an id must not be read as a territory-wide grant:
    // the operator of a corrupt organisation would become an operator of everything.
    let (op, op_t) = app.user_with_token("op@example.it", &[]).await;
    sqlx::query(
        "INSERT INTO role_grants (user_id, role, organization_id, created_at) VALUES ($1, 'operator', 'corrupt', 1)",
    )
    .bind(op.to_string())
    .execute(&pool)
    .await
    .unwrap();
    let e = app.store().grants(op).await.unwrap_err();
    assert!(
        matches!(e, trama_store::StoreError::CorruptId { .. }),
        "{e}"
    );
    let r = app.get_auth("/api/people", &op_t).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text());
});

/// Eve, with an offer roomy enough (50 places, 60 hours a week) that only the caps stop her.
async fn roomy_volunteer(app: &TestApp) -> (String, String) {
    let (_, eve) = app.user_with_token("eve@example.it", &[]).await;
    let mut offer = offer_at(45.4631, 9.1862);
    offer["capacity"] = json!(50);
    offer["hours_per_week"] = json!(60);
    let offer = created_id(app.send("POST", "/api/offers", Some(&eve), &offer).await).await;
    (eve, offer)
}

/// `n` people, each asking for help a little further north (`step` degrees apart): their
/// needs' ids and their tokens.
async fn people_asking(app: &TestApp, n: usize, step: f64) -> Vec<(String, String)> {
    let mut needs = Vec::new();
    for i in 0..n {
        let (_, t) = app.user_with_token(&format!("n{i}@example.it"), &[]).await;
        let at = need_at(45.4631 + i as f64 * step, 9.1862);
        let need = created_id(app.send("POST", "/api/needs", Some(&t), &at).await).await;
        needs.push((need, t));
    }
    needs
}
