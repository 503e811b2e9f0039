//! Care budgets over HTTP, on both databases: each role against each budget endpoint, consent
//! that opens and closes a case manager's access, reads audited under the person, bookings
//! with idempotency keys that never overspend.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use trama_core::auth::{Role, RoleGrant};
use trama_core::ids::OrganizationId;

use crate::{Reply, TestApp, both};

pub(crate) async fn send_key(
    app: &TestApp,
    uri: &str,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> Reply {
    post_raw(app, uri, token, key, &body.to_string()).await
}

/// The people of a care-budget test: the territory admin, Mr. Rossi, his case manager and
/// another, an auditor, a stranger, a provider's admin and another organisation's.
pub(crate) struct Cast {
    pub(crate) provider_org: OrganizationId,
    pub(crate) other_org: OrganizationId,
    pub(crate) admin: String,
    pub(crate) rossi: trama_core::ids::UserId,
    pub(crate) rossi_t: String,
    pub(crate) cm: trama_core::ids::UserId,
    pub(crate) cm_t: String,
    pub(crate) other_cm_t: String,
    pub(crate) auditor: String,
    pub(crate) stranger: String,
    pub(crate) provider: String,
    pub(crate) other_provider: String,
}

impl Cast {
    pub(crate) async fn new(app: &TestApp) -> Self {
        let provider_org = app.organisation("Cooperativa").await;
        let other_org = app.organisation("Regione Lombardia").await;
        let grant = |r: Role, o: Option<OrganizationId>| RoleGrant::new(r, o).unwrap();
        let (_, admin) = app
            .user_with_token(
                "territorio@example.it",
                &[grant(Role::TerritoryAdmin, None)],
            )
            .await;
        let (rossi, rossi_t) = app
            .user_with_token("rossi@example.it", &[grant(Role::Citizen, None)])
            .await;
        let (cm, cm_t) = app
            .user_with_token(
                "cm@example.it",
                &[grant(Role::CaseManager, Some(OrganizationId::new()))],
            )
            .await;
        let (_, other_cm_t) = app
            .user_with_token(
                "cm2@example.it",
                &[grant(Role::CaseManager, Some(OrganizationId::new()))],
            )
            .await;
        let (_, auditor) = app
            .user_with_token("revisore@example.it", &[grant(Role::Auditor, None)])
            .await;
        let (_, stranger) = app
            .user_with_token("vicino@example.it", &[grant(Role::Volunteer, None)])
            .await;
        let provider = app.org_admin("coop@example.it", provider_org).await;
        let other_provider = app.org_admin("altra@example.it", other_org).await;
        Self {
            provider_org,
            other_org,
            admin,
            rossi,
            rossi_t,
            cm,
            cm_t,
            other_cm_t,
            auditor,
            stranger,
            provider,
            other_provider,
        }
    }
}

/// Everything a care-budget test starts from: the roles, a municipal funder and its home-care
/// programme, Mr. Rossi following his case manager with consent, and 1,000.00 granted to him
/// (counted in Municipio 6). Each field is what the tests call it.
pub(crate) struct BudgetWorld {
    pub(crate) cast: Cast,
    pub(crate) funder: String,
    pub(crate) programme: String,
    pub(crate) rules: Value,
    pub(crate) allocation: String,
    pub(crate) person_budget: String,
    pub(crate) consent: String,
}

impl BudgetWorld {
    pub(crate) async fn new(app: &TestApp) -> Self {
        let cast = Cast::new(app).await;
        let (admin, rossi, rossi_t, cm_t) = (&cast.admin, cast.rossi, &cast.rossi_t, &cast.cm_t);
        let r = app
            .send(
                "POST",
                "/api/funders",
                Some(admin),
                &json!({"name": "Comune di Milano", "kind": "municipal"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let funder = r.json()["id"].as_str().unwrap().to_string();
        let rules = json!({
            "name": "Servizio di assistenza domiciliare", "funder_kind": "municipal",
            "categories": ["A1"], "valid_from": "2026-01", "valid_to": "2026-12",
            "monthly_cap": 60000, "copay_bands": [{"isee_max": null, "copay": 2000}],
            "combinable": true
        });
        let r = app
            .send(
                "POST",
                "/api/programmes",
                Some(admin),
                &json!({"funder_id": funder, "rules": rules, "amount_per_beneficiary": 100000}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let programme = r.json()["id"].as_str().unwrap().to_string();
        app.follow(rossi, rossi_t, cm_t).await;
        app.store().put_areas(&[municipio_6()]).await.unwrap();
        let r = app
            .send(
                "POST",
                &format!("/api/people/{rossi}/allocations"),
                Some(admin),
                &json!({"programme_id": programme, "amount": 100000,
                        "decision_reference": "Det. 2026/118", "expires": "2026-12",
                        "area_code": "6"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let allocation = r.json()["id"].as_str().unwrap().to_string();
        Self {
            cast,
            funder,
            programme,
            rules,
            allocation,
            person_budget: format!("/api/people/{rossi}/budget"),
            consent: format!("/api/people/{rossi}/budget/consent"),
        }
    }
}

fn municipio_6() -> trama_core::areas::Area {
    trama_core::areas::Area {
        kind: "municipio".into(),
        code: "6".into(),
        name: "Municipio 6".into(),
        parent_code: None,
        population: None,
        centroid: None,
        polygons: vec![],
        facts: None,
    }
}

/// Mr. Rossi's personal plan, written by his case manager with the family.
fn rossi_plan() -> Value {
    json!({
        "goals": ["Restare a casa in sicurezza dopo la caduta"],
        "items": [{"category": "A1.1", "description": "Assistenza domiciliare", "unit_cost": 2500,
                   "per_month": 10, "from": "2026-03", "to": "2026-04"}],
        "review_on": "2026-06-01",
        "agreement": {"parties": ["Mario Rossi", "Anna Rossi (figlia)", "Municipio 6"],
                      "reference": "PAI 2026/311", "signed_on": "2026-02-20"}
    })
}

// Setting a budget up: funders and programmes are the territory admin's; a case manager sees
// nothing and grants nothing before the person's consent; an allocation is counted in a
// Municipio the territory knows.
both!(
    setting_up_a_budget_takes_the_right_roles_and_consent,
    |app: TestApp| async move {
        let Cast {
            admin,
            rossi,
            rossi_t,
            cm_t,
            auditor,
            stranger,
            provider,
            ..
        } = Cast::new(&app).await;

        // Funders and programmes: the territory admin only.
        let funder_body = json!({"name": "Comune di Milano", "kind": "municipal"});
        for t in [&rossi_t, &cm_t, &auditor, &provider] {
            app.send("POST", "/api/funders", Some(t), &funder_body)
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        app.send(
            "POST",
            "/api/funders",
            Some(&admin),
            &json!({"name": "X", "kind": "alien"}),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        let r = app
            .send("POST", "/api/funders", Some(&admin), &funder_body)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let funder = r.json()["id"].as_str().unwrap().to_string();
        let rules = json!({
            "name": "Servizio di assistenza domiciliare", "funder_kind": "municipal",
            "categories": ["A1"], "valid_from": "2026-01", "valid_to": "2026-12",
            "monthly_cap": 60000, "copay_bands": [{"isee_max": null, "copay": 2000}],
            "combinable": true
        });
        let prog_body =
            json!({"funder_id": funder, "rules": rules, "amount_per_beneficiary": 100000});
        app.send("POST", "/api/programmes", Some(&cm_t), &prog_body)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        let bad_rules =
            json!({"funder_id": funder, "rules": {"name": "x"}, "amount_per_beneficiary": 1});
        app.send("POST", "/api/programmes", Some(&admin), &bad_rules)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        let r = app
            .send("POST", "/api/programmes", Some(&admin), &prog_body)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let programme = r.json()["id"].as_str().unwrap().to_string();

        // Without consent, the case manager sees nothing, not even that a budget exists.
        let person_budget = format!("/api/people/{rossi}/budget");
        app.get_auth(&person_budget, &cm_t)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        let grant_body = json!({"programme_id": programme, "amount": 100000, "decision_reference": "Det. 2026/118", "expires": "2026-12"});
        app.send(
            "POST",
            &format!("/api/people/{rossi}/allocations"),
            Some(&cm_t),
            &grant_body,
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
        // Consent needs its reference; citizens cannot take people into a caseload.
        let consent = format!("/api/people/{rossi}/budget/consent");
        app.send(
            "POST",
            &consent,
            Some(&cm_t),
            &json!({"consent_reference": " "}),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        app.send(
            "POST",
            &consent,
            Some(&stranger),
            &json!({"consent_reference": "x"}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
        // Recorded at the desk, it waits for Mr. Rossi; he confirms it.
        app.follow(rossi, &rossi_t, &cm_t).await;
        // The Municipio an allocation is counted in must be one the territory knows.
        app.store()
            .put_areas(&[trama_core::areas::Area {
                kind: "municipio".into(),
                code: "6".into(),
                name: "Municipio 6".into(),
                parent_code: None,
                population: None,
                centroid: None,
                polygons: vec![],
                facts: None,
            }])
            .await
            .unwrap();
        let mut unknown_area = grant_body.clone();
        unknown_area["area_code"] = json!("60");
        app.send(
            "POST",
            &format!("/api/people/{rossi}/allocations"),
            Some(&admin),
            &unknown_area,
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference");
        let mut grant_body = grant_body;
        grant_body["area_code"] = json!("6");
        let r = app
            .send(
                "POST",
                &format!("/api/people/{rossi}/allocations"),
                Some(&admin),
                &grant_body,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let _allocation = r.json()["id"].as_str().unwrap().to_string();
        assert_eq!(r.json()["available"], 100000);
        assert_eq!(r.json()["area_code"], "6");
    }
);

// The funding engine over HTTP, and a personal plan funded from the allocations.
both!(funding_a_plan_over_http, |app: TestApp| async move {
    let BudgetWorld {
        cast:
            Cast {
                rossi,
                rossi_t,
                cm_t,
                other_cm_t,
                stranger,
                provider,
                ..
            },
        allocation,
        ..
    } = BudgetWorld::new(&app).await;
    // The funding engine over HTTP: home care in March and April, a day centre the
    // programme does not pay for. 20 % co-payment (no ISEE declared: the last band).
    let plan = json!({"lines": [
        {"category": "A1.1", "months": [{"month": "2026-03", "cost": 50000}]},
        {"category": "A1.1", "months": [{"month": "2026-04", "cost": 70000}]},
        {"category": "B2", "months": [{"month": "2026-03", "cost": 20000}]}
    ]});
    let funding = format!("/api/people/{rossi}/budget/funding");
    for t in [&other_cm_t, &provider, &stranger] {
        app.send("POST", &funding, Some(t), &plan)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
    let r = app.send("POST", &funding, Some(&cm_t), &plan).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let f = r.json();
    assert_eq!(
        [
            &f["total_cost"],
            &f["public_pays"],
            &f["copay"],
            &f["self_pay"],
            &f["out_of_pocket"]
        ],
        [
            &json!(140000),
            &json!(96000),
            &json!(24000),
            &json!(20000),
            &json!(44000)
        ],
        "{f}"
    );
    assert_eq!(f["lines"][0]["shares"][0]["programme_pays"], 40000, "{f}");
    assert_eq!(f["lines"][0]["shares"][0]["copay_rate"], 2000, "{f}");
    assert_eq!(
        f["lines"][2]["not_used"][0]["reason"], "category_not_covered",
        "{f}"
    );
    // The case manager leaves the programme out of April: the person pays all of it.
    let mut over = plan.clone();
    over["excluded"] = json!([{"line": 1, "allocation_id": allocation}]);
    let f = app.send("POST", &funding, Some(&cm_t), &over).await.json();
    assert_eq!(
        (
            f["lines"][1]["self_pay"].as_i64(),
            f["lines"][1]["not_used"][0]["reason"].as_str()
        ),
        (Some(70000), Some("excluded")),
        "{f}"
    );
    let mut bad = plan.clone();
    bad["excluded"] = json!([{"line": 0, "allocation_id": uuid::Uuid::new_v4().to_string()}]);
    app.send("POST", &funding, Some(&cm_t), &bad)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference");
    app.send("POST", &funding, Some(&cm_t), &json!({"lines": []}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    app.send(
        "POST",
        &funding,
        Some(&cm_t),
        &json!({"lines": [{"category": "A1", "months": [{"month": "2026-13", "cost": 1}]}]}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");

    // A personal plan, written by the case manager with the family, funded from it.
    let plan = rossi_plan();
    let plans = format!("/api/people/{rossi}/plans");
    app.send("POST", &plans, Some(&provider), &plan)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let mut bad_plan = plan.clone();
    bad_plan["goals"] = json!([]);
    app.send("POST", &plans, Some(&cm_t), &bad_plan)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let r = app.send("POST", &plans, Some(&cm_t), &plan).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let plan_id = r.json()["id"].as_str().unwrap().to_string();
    // Who may comes before what was sent: someone without access learns nothing from a body.
    let raw = |uri: String, token: &str| {
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from("{not json"))
            .unwrap()
    };
    app.request(raw(plans.clone(), &provider))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.request(raw(format!("{plans}/{plan_id}/funding"), &provider))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    // A plan is named by its id; anything else is the caller's mistake.
    app.send(
        "POST",
        &format!("{plans}/bad/funding"),
        Some(&cm_t),
        &json!({}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
    let listed = app.get_auth(&plans, &rossi_t).await.json();
    assert_eq!(
        listed[0]["plan"]["agreement"]["reference"], "PAI 2026/311",
        "{listed}"
    );
    app.get_auth(&plans, &stranger)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let f = app
        .send(
            "POST",
            &format!("{plans}/{plan_id}/funding"),
            Some(&cm_t),
            &json!({}),
        )
        .await
        .json();
    assert_eq!(
        (
            f["total_cost"].as_i64(),
            f["public_pays"].as_i64(),
            f["out_of_pocket"].as_i64()
        ),
        (Some(50000), Some(40000), Some(10000)),
        "{f}"
    );
    // Each proposal is in the person's activity.
    let activity = app.get_auth("/api/me/activity", &rossi_t).await.json();
    let fundings = activity
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "budget.funding")
        .count();
    assert_eq!(
        fundings, 3,
        "the case manager's three funding proposals: {activity}"
    );
});

// Who reads a budget, and that the person sees who did.
both!(
    budget_reads_are_audited_under_the_person,
    |app: TestApp| async move {
        let BudgetWorld {
            cast:
                Cast {
                    rossi_t,
                    cm_t,
                    other_cm_t,
                    auditor,
                    stranger,
                    provider,
                    ..
                },
            person_budget,
            ..
        } = BudgetWorld::new(&app).await;
        // Reads: the person, the case manager (audited), the auditor (read-only, audited);
        // another case manager, a provider, a stranger: 404.
        let mine = app.get_auth("/api/me/budget", &rossi_t).await;
        assert_eq!(mine.status, StatusCode::OK);
        assert_eq!(
            (
                mine.json()["available"].as_i64(),
                mine.json()["access"].as_str()
            ),
            (Some(100000), Some("full"))
        );
        let r = app.get_auth(&person_budget, &cm_t).await;
        assert_eq!(
            (r.status, r.json()["access"].as_str()),
            (StatusCode::OK, Some("full"))
        );
        let r = app.get_auth(&person_budget, &auditor).await;
        assert_eq!(
            (r.status, r.json()["access"].as_str()),
            (StatusCode::OK, Some("read_only"))
        );
        for t in [&other_cm_t, &provider, &stranger] {
            app.get_auth(&person_budget, t)
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found");
        }
        // "Who looked at my file": both reads are in the person's activity, the case
        // manager's own page view is not.
        let activity = app.get_auth("/api/me/activity", &rossi_t).await.json();
        let reads = activity
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["action"] == "budget.read")
            .count();
        assert_eq!(reads, 2, "{activity}");
    }
);

// Bookings with idempotency keys, delivery and the register, cancellation; then the funder's
// control over them, reports on individuals, and consent withdrawn.
both!(
    bookings_are_delivered_controlled_and_reported,
    |app: TestApp| async move {
        let BudgetWorld {
            cast:
                Cast {
                    provider_org,
                    other_org,
                    admin,
                    rossi,
                    rossi_t,
                    cm,
                    cm_t,
                    other_cm_t,
                    auditor,
                    stranger,
                    provider,
                    other_provider,
                    ..
                },
            funder,
            programme,
            rules,
            allocation,
            person_budget,
            consent,
            ..
        } = BudgetWorld::new(&app).await;
        let r = app
            .send(
                "POST",
                &format!("/api/people/{rossi}/plans"),
                Some(&cm_t),
                &rossi_plan(),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        // Bookings: an Idempotency-Key is required; a retry answers the same booking.
        let book = json!({"allocation_id": allocation, "amount": 30000, "category": "A1.1", "month": "2026-03",
                          "provider_organization_id": provider_org.to_string()});
        send_key(&app, "/api/budget/bookings", &rossi_t, None, &book)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
        let first = send_key(&app, "/api/budget/bookings", &rossi_t, Some("b-1"), &book).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
        let again = send_key(&app, "/api/budget/bookings", &rossi_t, Some("b-1"), &book).await;
        assert_eq!(again.json()["id"], first.json()["id"]);
        let booking = first.json()["id"].as_str().unwrap().to_string();
        // Rules of the programme: another category, a month outside, more than is left.
        let mut wrong = book.clone();
        wrong["category"] = json!("C3");
        send_key(&app, "/api/budget/bookings", &rossi_t, Some("b-2"), &wrong)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        let mut wrong = book.clone();
        wrong["month"] = json!("2027-01");
        send_key(&app, "/api/budget/bookings", &rossi_t, Some("b-3"), &wrong)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        let mut wrong = book.clone();
        wrong["amount"] = json!(70001);
        send_key(&app, "/api/budget/bookings", &rossi_t, Some("b-4"), &wrong)
            .await
            .assert_error(StatusCode::CONFLICT, "conflict");
        // Not the person's case manager, a provider: the allocation is not theirs. The
        // auditor changes nothing.
        for t in [&other_cm_t, &provider, &stranger] {
            send_key(&app, "/api/budget/bookings", t, Some("b-x"), &book)
                .await
                .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference");
        }
        send_key(&app, "/api/budget/bookings", &auditor, Some("b-x"), &book)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");

        // The provider's list: its bookings with the person's name and nothing of their budget.
        let list = app
            .get_auth("/api/budget/provider-bookings", &provider)
            .await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text());
        let rows = list.json();
        assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
        assert_eq!(rows[0]["person_name"], "rossi@example.it");
        for hidden in ["allocation", "isee", "funder", "programme", "available"] {
            assert!(
                !list.text().contains(hidden),
                "the provider sees {hidden}: {}",
                list.text()
            );
        }
        assert_eq!(
            app.get_auth("/api/budget/provider-bookings", &other_provider)
                .await
                .json(),
            json!([])
        );
        for t in [&rossi_t, &cm_t, &stranger] {
            app.get_auth("/api/budget/provider-bookings", t)
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }

        // Delivery: the provider of the booking only; beyond what is held, a conflict.
        let deliver = format!("/api/budget/bookings/{booking}/delivery");
        for t in [&other_provider, &rossi_t, &cm_t] {
            send_key(&app, &deliver, t, Some("d-x"), &json!({"amount": 1}))
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found");
        }
        send_key(&app, &deliver, &auditor, Some("d-x"), &json!({"amount": 1}))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        send_key(
            &app,
            &deliver,
            &provider,
            Some("d-0"),
            &json!({"amount": 30001}),
        )
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
        let r = send_key(
            &app,
            &deliver,
            &provider,
            Some("d-0b"),
            &json!({"amount": 30001}),
        )
        .await;
        assert!(
            r.text().contains("recorded for the funder's control"),
            "{}",
            r.text()
        );
        for _ in 0..2 {
            let r = send_key(
                &app,
                &deliver,
                &provider,
                Some("d-1"),
                &json!({"amount": 20000}),
            )
            .await;
            assert_eq!(
                (r.status, r.json()["spent"].as_i64()),
                (StatusCode::OK, Some(20000)),
                "{}",
                r.text()
            );
        }
        // The spend reaches the register: euros transferred by the funder to the provider and
        // the service delivered to the person, who appears only as a pseudonym.
        assert_eq!(
            app.state.register.take_contributions().await.unwrap(),
            2,
            "transfer and deliverService"
        );
        app.state.register.checkpoint().await.unwrap();
        let entries = app.get("/register/entries").await.json();
        let text = entries.to_string();
        let list = entries["entries"].as_array().unwrap();
        assert!(
            list.iter().any(|e| e["event"]["action"] == "transfer"
                && e["event"]["resourceQuantity"]["hasNumericalValue"] == 200.0
                && e["event"]["resourceQuantity"]["hasUnit"] == "euro"),
            "{text}"
        );
        assert!(
            list.iter().any(|e| e["event"]["action"] == "deliverService"
                && e["event"]["receiver"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("urn:trama:pseudonym:"))),
            "{text}"
        );
        assert!(
            !text.contains(&rossi.to_string()),
            "the person's id is in the public register"
        );

        // Cancelling releases the rest; the budget moved by exactly what was delivered.
        let cancel = format!("/api/budget/bookings/{booking}/cancel");
        send_key(&app, &cancel, &stranger, Some("c-x"), &json!({}))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        let r = send_key(&app, &cancel, &cm_t, Some("c-1"), &json!({})).await;
        assert_eq!(
            (r.status, r.json()["state"].as_str()),
            (StatusCode::OK, Some("cancelled")),
            "{}",
            r.text()
        );
        let mine = app.get_auth("/api/me/budget", &rossi_t).await.json();
        assert_eq!(
            (
                mine["available"].as_i64(),
                mine["held"].as_i64(),
                mine["spent"].as_i64()
            ),
            (Some(80000), Some(0), Some(20000))
        );
        assert_eq!(app.store().budget_book_problems().await.unwrap(), (0, 0));

        // Expenditure control. A regional fund (acted for by another organisation) also pays
        // Mr. Rossi's home care in March: the dashboard flags it, names nobody, and shows the
        // regional allocation about to expire (it ends next month).
        let r = app
            .send("POST", "/api/funders", Some(&admin), &json!({"name": "Regione Lombardia FNA", "kind": "regional", "organization_id": other_org.to_string()}))
            .await;
        let fna = r.json()["id"].as_str().unwrap().to_string();
        let mut rules2 = rules.clone();
        rules2["name"] = json!("Fondo non autosufficienza");
        rules2["valid_to"] = json!("2030-12");
        rules2["copay_bands"] = json!([]);
        let r = app
            .send(
                "POST",
                "/api/programmes",
                Some(&admin),
                &json!({"funder_id": fna, "rules": rules2, "amount_per_beneficiary": 50000}),
            )
            .await;
        let fna_programme = r.json()["id"].as_str().unwrap().to_string();
        let next = {
            let d = time::OffsetDateTime::now_utc().date();
            let (y, m) = if d.month() == time::Month::December {
                (d.year() + 1, 1)
            } else {
                (d.year(), d.month() as u8 + 1)
            };
            format!("{y}-{m:02}")
        };
        let r = app
            .send("POST", &format!("/api/people/{rossi}/allocations"), Some(&other_provider),
                  &json!({"programme_id": fna_programme, "amount": 50000, "decision_reference": "DGR 2026/7", "expires": next}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let fna_allocation = r.json()["id"].as_str().unwrap().to_string();
        let twice = json!({"allocation_id": fna_allocation, "amount": 10000, "category": "A1.1", "month": "2026-03"});
        let r = send_key(&app, "/api/budget/bookings", &cm_t, Some("b-fna"), &twice).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let d = app
            .get_auth(
                "/api/budget/dashboard?within_days=100&from=2026-01&to=2026-12",
                &admin,
            )
            .await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text());
        let dash = d.json();
        // The plan foresees 250.00 of home care in March; 300.00 is booked.
        assert_eq!(
            dash["beyond_plan"],
            json!([{"category": "A1.1", "month": "2026-03", "planned": 25000, "booked": 30000}]),
            "{dash}"
        );
        assert_eq!(
            (dash["spent"].as_i64(), dash["held"].as_i64()),
            (Some(20000), Some(10000)),
            "{dash}"
        );
        assert_eq!(
            dash["double_funding"].as_array().unwrap().len(),
            1,
            "{dash}"
        );
        assert_eq!(
            (
                dash["double_funding"][0]["category"].as_str(),
                dash["double_funding"][0]["amount"].as_i64()
            ),
            (Some("A1.1"), Some(30000))
        );
        assert!(
            dash["expiring_unused"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["allocation_id"] == fna_allocation.as_str()),
            "{dash}"
        );
        assert!(
            !d.text().contains(&rossi.to_string()),
            "the dashboard names a person"
        );
        // The bill of 300.01 for a booking of 300.00 is there once, however often sent.
        assert_eq!(
            dash["billed_beyond"],
            json!([{"booking_id": booking, "programme_id": programme,
                    "provider_id": dash["billed_beyond"][0]["provider_id"],
                    "category": "A1.1", "month": "2026-03", "held": 30000, "billed": 30001}]),
            "{dash}"
        );
        // By area: the municipal allocation is counted in Municipio 6, the regional one in
        // none (it was granted without an area).
        let areas = dash["by_area"].as_array().unwrap();
        assert!(
            areas.iter().any(|a| a["area_code"] == "6"
                && a["area_name"] == "Municipio 6"
                && a["spent"] == 20000),
            "{dash}"
        );
        // Another period has nothing; a period the wrong way round is the client's mistake.
        let empty = app
            .get_auth("/api/budget/dashboard?from=2027-01&to=2027-12", &admin)
            .await
            .json();
        assert_eq!(
            (empty["held"].as_i64(), empty["spent"].as_i64()),
            (Some(0), Some(0))
        );
        assert!(empty["billed_beyond"].as_array().unwrap().is_empty());
        for bad in ["from=2026-12&to=2026-01", "from=2026-13", "to=march"] {
            app.get_auth(&format!("/api/budget/dashboard?{bad}"), &admin)
                .await
                .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
        }
        let soon = app
            .get_auth("/api/budget/dashboard?within_days=0", &admin)
            .await
            .json();
        assert!(
            !soon["expiring_unused"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["allocation_id"] == fna_allocation.as_str())
        );
        app.get_auth("/api/budget/dashboard?within_days=-1", &admin)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
        assert_eq!(
            app.get_auth("/api/budget/dashboard", &auditor).await.status,
            StatusCode::OK
        );
        for t in [&rossi_t, &cm_t, &stranger] {
            app.get_auth("/api/budget/dashboard", t)
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        // The regional fund's own admins see their funder only, and its CSV statement.
        let theirs = app
            .get_auth("/api/budget/dashboard", &other_provider)
            .await
            .json();
        assert_eq!(theirs["funders"].as_array().unwrap().len(), 1, "{theirs}");
        assert_eq!(
            (theirs["held"].as_i64(), theirs["spent"].as_i64()),
            (Some(10000), Some(0))
        );
        let csv = app
            .get_auth(
                &format!("/api/funders/{fna}/statement.csv"),
                &other_provider,
            )
            .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(
            csv.text()
                .starts_with("funder,programme,area,category,month,bookings,held_eur,spent_eur"),
            "{}",
            csv.text()
        );
        assert!(
            csv.text()
                .contains("Fondo non autosufficienza,,A1.1,2026-03,1,100.00,0.00"),
            "{}",
            csv.text()
        );
        app.get_auth(
            &format!("/api/funders/{funder}/statement.csv"),
            &other_provider,
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

        // Reports on individuals: only where the programme's rules say so, for the funder's
        // own admins and auditors; every read is in the person's activity.
        let report = format!("/api/programmes/{fna_programme}/beneficiaries");
        app.get_auth(&report, &other_provider)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        app.get_auth(
            &format!("/api/programmes/{programme}/beneficiaries"),
            &admin,
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
        for t in [&stranger, &cm_t, &provider] {
            app.get_auth(&report, t)
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found");
        }
        let r = app.get_auth(&report, &auditor).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()[0]["name"], "rossi@example.it", "{}", r.text());
        let mut rules3 = rules2.clone();
        rules3["name"] = json!("Voucher B1 (rendicontazione nominativa)");
        rules3["individual_reports"] = json!(true);
        let r = app
            .send(
                "POST",
                "/api/programmes",
                Some(&admin),
                &json!({"funder_id": fna, "rules": rules3, "amount_per_beneficiary": 10000}),
            )
            .await;
        let b1 = r.json()["id"].as_str().unwrap().to_string();
        let r = app
            .send("POST", &format!("/api/people/{rossi}/allocations"), Some(&other_provider),
                  &json!({"programme_id": b1, "amount": 10000, "decision_reference": "Voucher 2026/55", "expires": "2026-12"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let r = app
            .get_auth(
                &format!("/api/programmes/{b1}/beneficiaries"),
                &other_provider,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            (
                r.json()[0]["name"].as_str(),
                r.json()[0]["granted"].as_i64()
            ),
            (Some("rossi@example.it"), Some(10000)),
            "{}",
            r.text()
        );
        let activity = app.get_auth("/api/me/activity", &rossi_t).await.json();
        assert!(
            activity
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "budget.read"
                    && e["detail"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("programme report"))),
            "{activity}"
        );

        // The person ends the consent: the case manager loses access at once.
        let r = app
            .send(
                "DELETE",
                &format!("{consent}/{cm}"),
                Some(&rossi_t),
                &json!(null),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        app.get_auth(&person_budget, &cm_t)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        app.send(
            "DELETE",
            &format!("{consent}/{cm}"),
            Some(&rossi_t),
            &json!(null),
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
);

both!(
    plans_and_bookings_name_services_of_the_directory,
    |app: TestApp| async move {
        let (org, token, locs) = crate::hsds::provider(&app).await;
        let service = app
            .send(
                "POST",
                "/api/services",
                Some(&token),
                &crate::hsds::service_body(&org, "Assistenza domiciliare Duomo", "C1", locs[0]),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let grant = |r: Role, o: Option<OrganizationId>| RoleGrant::new(r, o).unwrap();
        let (rossi, rossi_t) = app
            .user_with_token("rossi@example.it", &[grant(Role::Citizen, None)])
            .await;
        let (_, cm_t) = app
            .user_with_token(
                "cm@example.it",
                &[grant(Role::CaseManager, Some(OrganizationId::new()))],
            )
            .await;
        let (_, admin) = app
            .user_with_token(
                "territorio@example.it",
                &[grant(Role::TerritoryAdmin, None)],
            )
            .await;
        app.follow(rossi, &rossi_t, &cm_t).await;
        let funder = app
            .send(
                "POST",
                "/api/funders",
                Some(&admin),
                &json!({"name": "Comune", "kind": "municipal"}),
            )
            .await
            .json()["id"]
            .clone();
        let rules = json!({"name": "SAD", "funder_kind": "municipal", "categories": ["C1"],
            "valid_from": "2026-01", "valid_to": "2026-12", "copay_bands": [], "combinable": true});
        let programme = app
            .send(
                "POST",
                "/api/programmes",
                Some(&admin),
                &json!({"funder_id": funder, "rules": rules, "amount_per_beneficiary": 100000}),
            )
            .await
            .json()["id"]
            .clone();
        let allocation = app
            .send("POST", &format!("/api/people/{rossi}/allocations"), Some(&admin),
                  &json!({"programme_id": programme, "amount": 100000, "decision_reference": "Det. 1", "expires": "2026-12"}))
            .await
            .json()["id"]
            .clone();

        // A plan's service from the directory: its organisation becomes the provider.
        let item = |service: &str, provider: Option<String>| {
            json!({"goals": ["Restare a casa"], "review_on": "2026-06-01",
                   "items": [{"category": "C1", "description": "SAD", "service_id": service,
                              "provider_organization_id": provider, "unit_cost": 2000,
                              "per_month": 10, "from": "2026-03", "to": "2026-03"}]})
        };
        let plans = format!("/api/people/{rossi}/plans");
        let r = app
            .send("POST", &plans, Some(&cm_t), &item(&service, None))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(
            r.json()["plan"]["items"][0]["provider_organization_id"],
            org.id.to_string()
        );
        let unknown = uuid::Uuid::now_v7().to_string();
        let e = app
            .send("POST", &plans, Some(&cm_t), &item(&unknown, None))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference");
        assert_eq!(e["error"]["field"], "items[0].service_id", "{e}");
        app.send(
            "POST",
            &plans,
            Some(&cm_t),
            &item(&service, Some(OrganizationId::new().to_string())),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");

        // The same for a booking.
        let book = |service: &str| {
            json!({"allocation_id": allocation, "amount": 20000, "category": "C1",
                   "month": "2026-03", "service_id": service})
        };
        let r = send_key(
            &app,
            "/api/budget/bookings",
            &cm_t,
            Some("k1"),
            &book(&service),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.json()["provider_id"], org.id.to_string());
        send_key(
            &app,
            "/api/budget/bookings",
            &cm_t,
            Some("k2"),
            &book(&unknown),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference");
        send_key(
            &app,
            "/api/budget/bookings",
            &cm_t,
            Some("k3"),
            &book("not-an-id"),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    }
);

/// A POST with a raw body and an optional key, by bearer token.
async fn post_raw(app: &TestApp, uri: &str, token: &str, key: Option<&str>, body: &str) -> Reply {
    let mut b = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(k) = key {
        b = b.header("Idempotency-Key", k);
    }
    app.request(b.body(Body::from(body.to_string())).unwrap())
        .await
}

// The fifth round (an independent tester on the restructured handlers): who may act comes
// before what was sent on deliveries, cancellations and delegations; a budget of nobody is
// not found, even for an auditor; a negative ISEE, an unknown or a missing field is named; a
// retry written differently is the same booking.
both!(
    who_may_comes_before_what_was_sent_on_money_routes,
    |app: TestApp| async move {
        let w = BudgetWorld::new(&app).await;
        let c = &w.cast;
        let book = json!({"allocation_id": w.allocation, "amount": 1000, "category": "A1",
                          "month": "2026-03", "provider_organization_id": c.provider_org.to_string()});
        let r = send_key(&app, "/api/budget/bookings", &c.rossi_t, Some("k-1"), &book).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let booking = r.json()["id"].as_str().unwrap().to_string();
        // The same booking retried with the provider's id in capitals: the same call.
        let mut shouted = book.clone();
        shouted["provider_organization_id"] = json!(c.provider_org.to_string().to_uppercase());
        let again = send_key(
            &app,
            "/api/budget/bookings",
            &c.rossi_t,
            Some("k-1"),
            &shouted,
        )
        .await;
        assert_eq!(again.json()["id"], json!(booking), "{}", again.text());

        // Someone who may not bill a booking learns nothing from what they send.
        let delivery = format!("/api/budget/bookings/{booking}/delivery");
        for (key, body) in [
            (Some("d-1"), "{bad"),
            (Some("d-2"), r#"{"amount":"ten"}"#),
            (None, r#"{"amount":1}"#),
        ] {
            post_raw(&app, &delivery, &c.other_provider, key, body)
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found");
        }
        // The provider is told what is wrong.
        post_raw(&app, &delivery, &c.provider, Some("d-3"), "{bad")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "malformed_json");
        // Cancelling: a stranger without a key is not told about the key.
        post_raw(
            &app,
            &format!("/api/budget/bookings/{booking}/cancel"),
            &c.stranger,
            None,
            "",
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
        // Delegating: only the funder's staff learn what is wrong with a delegation.
        let delegations = format!("/api/programmes/{}/delegations", w.programme);
        post_raw(&app, &delegations, &c.provider, None, "{bad")
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        post_raw(&app, &delegations, &c.admin, None, "{bad")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "malformed_json");

        // Nobody's budget is not found, even for the auditor, who reads every budget.
        let nobody = trama_core::ids::UserId::new();
        app.get_auth(&format!("/api/people/{nobody}/budget"), &c.auditor)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        let funding = format!("/api/people/{}/budget/funding", c.rossi);
        let line = json!([{"category": "A1", "months": [{"month": "2026-03", "cost": 1000}]}]);
        let r = app
            .send(
                "POST",
                &funding,
                Some(&c.cm_t),
                &json!({"lines": line, "isee": -1}),
            )
            .await;
        assert_eq!(r.json()["error"]["field"], "isee", "{}", r.text());
        let r = app
            .send(
                "POST",
                &funding,
                Some(&c.cm_t),
                &json!({"lines": line, "isee_cents": 1}),
            )
            .await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert!(r.text().contains("isee_cents"), "{}", r.text());
        // A missing field is named.
        let mut no_amount = book.clone();
        no_amount.as_object_mut().unwrap().remove("amount");
        let r = send_key(
            &app,
            "/api/budget/bookings",
            &c.rossi_t,
            Some("k-2"),
            &no_amount,
        )
        .await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(r.json()["error"]["field"], "amount", "{}", r.text());
    }
);

// The territory admin records a funder and a programme in the web forms (rules in plain
// fields, never JSON); a mistake is shown again with what was typed; other roles cannot.
both!(
    funders_and_programmes_are_set_up_in_forms,
    |app: TestApp| async move {
        use crate::web::sign_in;
        use crate::{get_with, post_form};
        use trama_core::money::Cents;
        let org = app.organisation("Comune di Milano").await;
        app.user_with_token(
            "territorio@example.it",
            &[RoleGrant::new(Role::TerritoryAdmin, None).unwrap()],
        )
        .await;
        app.user_with_token(
            "revisore@example.it",
            &[RoleGrant::new(Role::Auditor, None).unwrap()],
        )
        .await;
        app.user_with_token("cittadino@example.it", &[]).await;
        let csrf = "c".repeat(43);
        let (admin, token) = sign_in(&app, "territorio@example.it", &csrf).await;
        let page = get_with(&app, "/budget/programmi", &admin).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        assert!(page.text().contains("Nessun ente finanziatore ancora"));

        // The funder.
        let r = post_form(
            &app,
            "/budget/finanziatori",
            &admin,
            &[
                ("csrf", &token),
                ("name", "Comune di Milano – Area Welfare"),
                ("kind", "municipal"),
                ("organization_id", &org.to_string()),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let funders = app.store().funders().await.unwrap();
        assert_eq!(funders.len(), 1);
        assert_eq!(funders[0].organization_id, Some(org));
        let funder = funders[0].id.to_string();
        // A kind that does not exist: named, the name kept.
        let r = post_form(
            &app,
            "/budget/finanziatori",
            &admin,
            &[
                ("csrf", &token),
                ("name", "Fondazione X"),
                ("kind", "lottery"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert!(r.text().contains(r#"value="Fondazione X""#), "{}", r.text());

        // The programme, with two co-payment bands and a monthly cap.
        let programme = |amount: &'static str| {
            vec![
                ("csrf", token.clone()),
                ("funder_id", funder.clone()),
                ("name", "Servizio di assistenza domiciliare".to_string()),
                ("categories", "C3".to_string()),
                ("valid_from", "2026-01".to_string()),
                ("valid_to", "2026-12".to_string()),
                ("amount_per_beneficiary", amount.to_string()),
                ("monthly_cap", "600".to_string()),
                ("isee_max", "15.000".to_string()),
                ("copay", "0".to_string()),
                ("isee_max", String::new()),
                ("copay", "20".to_string()),
                ("combinable", "on".to_string()),
            ]
        };
        // Two ISEE thresholds and one share: the row left half empty is named, not dropped.
        let mut half = programme("3.000,00");
        half.push(("isee_max", "30.000".to_string()));
        let half: Vec<(&str, &str)> = half.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = post_form(&app, "/budget/programmi", &admin, &half).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        // A comma followed by three digits is never a thousand times the amount.
        let comma = programme("0,555");
        let comma: Vec<(&str, &str)> = comma.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = post_form(&app, "/budget/programmi", &admin, &comma).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        let bad: Vec<(&str, String)> = programme("zero euro");
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = post_form(&app, "/budget/programmi", &admin, &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert!(r.text().contains(r#"value="zero euro""#), "{}", r.text());
        assert!(r.text().contains("Servizio di assistenza domiciliare"));
        assert!(app.store().programmes().await.unwrap().is_empty());
        let good = programme("3.000,00");
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = post_form(&app, "/budget/programmi", &admin, &good).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let saved = app.store().programmes().await.unwrap();
        assert_eq!(saved.len(), 1);
        let rules = &saved[0].rules;
        assert_eq!(rules.categories, vec!["C3".to_string()]);
        assert_eq!(rules.monthly_cap, Some(Cents(60_000)));
        assert_eq!(rules.copay_bands.len(), 2);
        assert_eq!(rules.copay_bands[1].copay.get(), 2000);
        assert!(rules.combinable && !rules.individual_reports);
        let page = get_with(&app, "/budget/programmi", &admin).await.text();
        assert!(page.contains("gennaio 2026 – dicembre 2026"), "{page}");
        assert!(page.contains("€\u{a0}600,00"), "{page}");

        // An auditor reads the page without the forms; a citizen is refused; neither records.
        let (aud, aud_t) = sign_in(&app, "revisore@example.it", &csrf).await;
        let page = get_with(&app, "/budget/programmi", &aud).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            !page.text().contains("/budget/finanziatori"),
            "no forms for an auditor"
        );
        let r = post_form(
            &app,
            "/budget/finanziatori",
            &aud,
            &[("csrf", &aud_t), ("name", "Y"), ("kind", "municipal")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let (cit, cit_t) = sign_in(&app, "cittadino@example.it", &csrf).await;
        assert_eq!(
            get_with(&app, "/budget/programmi", &cit).await.status,
            StatusCode::FORBIDDEN
        );
        let r = post_form(&app, "/budget/programmi", &cit, &[("csrf", &cit_t)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Anonymous: the sign-in page.
        assert_eq!(
            app.get("/budget/programmi").await.status,
            StatusCode::SEE_OTHER
        );
    }
);

// A case manager whose organisation the funder delegated grants, from the person's file, an
// allocation with the funder's decision; a case manager without the delegation sees no form
// and is refused; mistakes are named.
both!(
    an_allocation_is_granted_from_the_persons_file,
    |app: TestApp| async move {
        use crate::web::sign_in;
        use crate::{get_with, post_form};
        let municipio = app.organisation("Comune di Milano, Municipio 6").await;
        let (_, admin) = app
            .user_with_token(
                "territorio@example.it",
                &[RoleGrant::new(Role::TerritoryAdmin, None).unwrap()],
            )
            .await;
        let (rossi, rossi_t) = app
            .user_with_token(
                "rossi@example.it",
                &[RoleGrant::new(Role::Citizen, None).unwrap()],
            )
            .await;
        let (_, cm_t) = app
            .user_with_token(
                "cm@example.it",
                &[RoleGrant::new(Role::CaseManager, Some(municipio)).unwrap()],
            )
            .await;
        let (_, other_t) = app
            .user_with_token(
                "altra@example.it",
                &[RoleGrant::new(Role::CaseManager, Some(OrganizationId::new())).unwrap()],
            )
            .await;
        app.follow(rossi, &rossi_t, &cm_t).await;
        app.follow(rossi, &rossi_t, &other_t).await;
        let f = app
            .send(
                "POST",
                "/api/funders",
                Some(&admin),
                &json!({"name": "Comune di Milano", "kind": "municipal"}),
            )
            .await
            .json();
        let rules = json!({"name": "Servizio di assistenza domiciliare", "funder_kind": "municipal",
            "categories": ["C3"], "valid_from": "2026-01", "valid_to": "2026-12",
            "copay_bands": [], "combinable": true});
        let programme = app
            .send(
                "POST",
                "/api/programmes",
                Some(&admin),
                &json!({"funder_id": f["id"], "rules": rules, "amount_per_beneficiary": 300000}),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = app
        .send(
            "POST",
            &format!("/api/programmes/{programme}/delegations"),
            Some(&admin),
            &json!({"organization_id": municipio.to_string(), "decision_reference": "Delibera 2026/12"}),
        )
        .await;
        assert!(r.status.is_success(), "{}", r.text());

        let csrf = "c".repeat(43);
        let (cm, token) = sign_in(&app, "cm@example.it", &csrf).await;
        let file = format!("/sportello/budget/persone/{rossi}");
        let page = get_with(&app, &file, &cm).await.text();
        assert!(page.contains("Assegna un budget"), "{page}");
        assert!(page.contains("€\u{a0}3.000,00 disponibili"), "{page}");
        let key = page
            .split(r#"name="key" value=""#)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string();
        let grant = format!("{file}/assegna");
        let form = |amount: &'static str, decision: &'static str| {
            vec![
                ("csrf", token.clone()),
                ("key", key.clone()),
                ("programme_id", programme.clone()),
                ("amount", amount.to_string()),
                ("decision_reference", decision.to_string()),
                ("expires", "2026-12".to_string()),
            ]
        };
        // Without the decision; more than the programme gives one person.
        for (amount, decision) in [("1.000", ""), ("5.000", "Det. 2026/118")] {
            let f = form(amount, decision);
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = post_form(&app, &grant, &cm, &f).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
            // His file again, the form as she typed it, the reason beside it.
            let html = r.text();
            assert!(html.contains("Assegna un budget"), "{html}");
            assert!(html.contains(&format!(r#"value="{amount}""#)), "{html}");
            assert!(html.contains(r#"role="alert""#), "{html}");
        }
        let f = form("1.000,00", "Det. 2026/118");
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = post_form(&app, &grant, &cm, &f).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let mine = app.get_auth("/api/me/budget", &rossi_t).await.json();
        let allocations = mine["allocations"].as_array().unwrap();
        assert_eq!(allocations.len(), 1, "{mine}");
        assert_eq!(allocations[0]["granted"], 100000);
        assert_eq!(allocations[0]["decision_reference"], "Det. 2026/118");

        // The other case manager follows him too, but her organisation has no delegation.
        let (other, other_token) = sign_in(&app, "altra@example.it", &csrf).await;
        let page = get_with(&app, &file, &other).await.text();
        assert!(!page.contains("Assegna un budget"), "{page}");
        let f: Vec<(&str, String)> = form("500", "Det. X")
            .into_iter()
            .map(|(k, v)| {
                if k == "csrf" {
                    (k, other_token.clone())
                } else {
                    (k, v)
                }
            })
            .collect();
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = post_form(&app, &grant, &other, &f).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    }
);

// The case manager writes a person's plan (budget di salute) in a form: goals one a line,
// services row by row, the review date, the signed agreement; a mistake keeps what was typed;
// someone who does not follow the person cannot.
both!(a_plan_is_written_in_a_form, |app: TestApp| async move {
    use crate::web::sign_in;
    use crate::{get_with, post_form};
    let (rossi, rossi_t) = app
        .user_with_token(
            "rossi@example.it",
            &[RoleGrant::new(Role::Citizen, None).unwrap()],
        )
        .await;
    let (_, cm_t) = app
        .user_with_token(
            "cm@example.it",
            &[RoleGrant::new(Role::CaseManager, Some(OrganizationId::new())).unwrap()],
        )
        .await;
    app.user_with_token(
        "estranea@example.it",
        &[RoleGrant::new(Role::CaseManager, Some(OrganizationId::new())).unwrap()],
    )
    .await;
    app.follow(rossi, &rossi_t, &cm_t).await;
    let csrf = "c".repeat(43);
    let (cm, token) = sign_in(&app, "cm@example.it", &csrf).await;
    let file = format!("/sportello/budget/persone/{rossi}");
    assert!(
        get_with(&app, &file, &cm)
            .await
            .text()
            .contains(&format!("{file}/piano"))
    );
    let url = format!("{file}/piano");
    let page = get_with(&app, &url, &cm).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let plan = |cost: &'static str| {
        vec![
            ("csrf", token.clone()),
            (
                "goals",
                "Restare a casa in sicurezza\nUscire una volta a settimana".to_string(),
            ),
            ("category", "C1".to_string()),
            ("description", "Assistenza domiciliare".to_string()),
            ("unit_cost", cost.to_string()),
            ("per_month", "10".to_string()),
            ("from", "2026-03".to_string()),
            ("to", "2026-12".to_string()),
            ("category", String::new()),
            ("description", String::new()),
            ("unit_cost", String::new()),
            ("per_month", String::new()),
            ("from", String::new()),
            ("to", String::new()),
            ("review_on", "2026-06-01".to_string()),
            ("parties", "Mario Rossi\nMunicipio 6".to_string()),
            ("reference", "PAI 2026/311".to_string()),
            ("signed_on", "2026-02-20".to_string()),
        ]
    };
    let bad = plan("tanto");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post_form(&app, &url, &cm, &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains(r#"value="tanto""#), "{}", r.text());
    assert!(
        r.text().contains("Uscire una volta a settimana"),
        "{}",
        r.text()
    );
    let good = plan("25,00");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post_form(&app, &url, &cm, &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let plans = app
        .get_auth(&format!("/api/people/{rossi}/plans"), &cm_t)
        .await
        .json();
    assert_eq!(plans[0]["plan"]["items"][0]["unit_cost"], 2500, "{plans}");
    assert_eq!(plans[0]["plan"]["goals"].as_array().unwrap().len(), 2);
    let file_page = get_with(&app, &file, &cm).await.text();
    assert!(
        file_page.contains("1 giugno 2026"),
        "the review date in words: {file_page}"
    );
    // Someone who does not follow him: neither the form nor the saving.
    let (other, other_t) = sign_in(&app, "estranea@example.it", &csrf).await;
    assert!(matches!(
        get_with(&app, &url, &other).await.status,
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
    let mut theirs = plan("25,00");
    theirs[0].1 = other_t.clone();
    let theirs: Vec<(&str, &str)> = theirs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post_form(&app, &url, &other, &theirs).await;
    assert!(
        matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        r.status
    );
});
