//! The penetration test's lower findings, each on both databases. Every test here failed on
//! the code the penetration test tried.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use trama_core::auth::Role;
use trama_core::ids::OrganizationId;

use crate::{Reply, TestApp, both, get_with, grant, post_form, set_cookie};

/// Rebuilds the app with other settings over the same database.
fn reconfigure(app: &mut TestApp, f: impl FnOnce(&mut trama_server::Config)) {
    let mut config = (*app.state.config).clone();
    f(&mut config);
    let state = trama_server::AppState::new(app.state.store.clone(), config, None).unwrap();
    app.router = trama_server::router(state.clone());
    app.state = state;
}

fn signup_body(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password, "display_name": "Giulia"})
}

async fn login(app: &TestApp, email: &str, password: &str) -> Reply {
    app.send(
        "POST",
        "/api/auth/login",
        None,
        &json!({"email": email, "password": password}),
    )
    .await
}

async fn raw_pool(app: &TestApp) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&app.url).await.unwrap()
}

// 1a, 1c. The same answer for a new address and a taken one; the taken one's owner is told;
// nobody signs in before following the link mailed to the address.
both!(
    sign_up_tells_nothing_and_waits_for_the_mail,
    |app: TestApp| async move {
        let (owner, _) = app.user_with_token("presa@example.it", &[]).await;
        let fresh = app
            .send(
                "POST",
                "/api/auth/signup",
                None,
                &signup_body("nuova@example.it", "una password lunga"),
            )
            .await;
        let taken = app
            .send(
                "POST",
                "/api/auth/signup",
                None,
                &signup_body("Presa@Example.it", "una password lunga"),
            )
            .await;
        assert_eq!(fresh.status, StatusCode::ACCEPTED, "{}", fresh.text());
        assert_eq!(
            (taken.status, &taken.body),
            (fresh.status, &fresh.body),
            "a taken address answers exactly like a new one"
        );
        // The taken account is untouched, and its owner is told (in the app and by mail).
        assert_eq!(
            login(&app, "presa@example.it", "password-for-tests")
                .await
                .status,
            StatusCode::OK
        );
        login(&app, "presa@example.it", "una password lunga")
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
        let told = app.store().notifications(owner, 10).await.unwrap();
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].kind, "account.exists");
        assert!(
            told[0].text_it.contains("ha già uno"),
            "{}",
            told[0].text_it
        );

        // The form says the same for both.
        let csrf = "c".repeat(43);
        let cookies = format!("trama_csrf={csrf}");
        let mut pages = vec![];
        for email in ["altra@example.it", "presa@example.it"] {
            let r = post_form(
                &app,
                "/registrati",
                &cookies,
                &[
                    ("csrf", &csrf),
                    ("email", email),
                    ("display_name", "Anna"),
                    ("password", "una password lunga"),
                ],
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            assert!(r.text().contains("Controlla la tua e-mail"), "{}", r.text());
            assert!(
                set_cookie(&r, "trama_session").is_none(),
                "nobody is signed in"
            );
            pages.push(r.text());
        }
        assert_eq!(pages[0], pages[1]);

        // Not before the address is confirmed: 403 unverified (only with the right password).
        login(&app, "nuova@example.it", "una password lunga")
            .await
            .assert_error(StatusCode::FORBIDDEN, "unverified");
        login(&app, "nuova@example.it", "un'altra password")
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
        let r = post_form(
            &app,
            "/accedi",
            &cookies,
            &[
                ("csrf", &csrf),
                ("email", "nuova@example.it"),
                ("password", "una password lunga"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(
            r.text().contains("conferma il tuo indirizzo"),
            "{}",
            r.text()
        );

        // The link travels by mail; the database keeps only its SHA-256, and once the mail
        // has left, not even the mail's words hold it.
        let token = app.verification_token("nuova@example.it").await;
        let pool = raw_pool(&app).await;
        let hashes: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM account_tokens")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert!(hashes.contains(&trama_server::auth::sha256_hex(&token)));
        assert!(!hashes.contains(&token));
        let (port, got) = crate::mail::smtp_receiver(false).await;
        let state = crate::mail::with_smtp(&app, port);
        let mailer = trama_server::mail::Mailer::from_config(&state)
            .unwrap()
            .unwrap();
        assert!(trama_server::mail::send_pending(&state, Some(&mailer)).await >= 2);
        let mails = got.lock().unwrap().clone();
        let to_new = mails
            .iter()
            .find(|(rcpt, _)| rcpt.contains("nuova@example.it"))
            .expect("the link was mailed");
        let body = to_new.1.replace("=\n", "").replace("=3D", "=");
        assert!(body.contains(&format!("/verifica?token={token}")), "{body}");
        assert!(
            mails
                .iter()
                .any(|(rcpt, _)| rcpt.contains("presa@example.it")),
            "the owner of the taken address was mailed"
        );
        let words: Vec<String> = sqlx::query_scalar("SELECT text_it FROM notifications")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert!(words.iter().all(|w| !w.contains(&token)), "{words:?}");

        // A wrong link, then the right one (once), then the account signs in.
        app.send(
            "POST",
            "/api/auth/verify",
            None,
            &json!({"token": "not-the-token", "password": "una password lunga"}),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        // Opening the link (as a mail scanner does) confirms nothing: the page's button does.
        let r = app.get(&format!("/verifica?token={token}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(
            r.text().contains("Confermo il mio indirizzo"),
            "{}",
            r.text()
        );
        login(&app, "nuova@example.it", "una password lunga")
            .await
            .assert_error(StatusCode::FORBIDDEN, "unverified");
        let confirm = |t: String| {
            let app = &app;
            let (cookies, csrf) = (cookies.clone(), csrf.clone());
            async move {
                post_form(
                    app,
                    "/verifica",
                    &cookies,
                    &[
                        ("csrf", csrf.as_str()),
                        ("token", t.as_str()),
                        ("password", "una password lunga"),
                    ],
                )
                .await
            }
        };
        assert_eq!(
            confirm("not-the-token".into()).await.status,
            StatusCode::BAD_REQUEST
        );
        let r = confirm(token.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(r.text().contains("Indirizzo confermato"), "{}", r.text());
        assert_eq!(
            confirm(token.clone()).await.status,
            StatusCode::BAD_REQUEST,
            "a link works once"
        );
        let r = login(&app, "nuova@example.it", "una password lunga").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["user"]["roles"][0]["role"], "citizen");

        // An expired link confirms nothing.
        let hash = trama_server::auth::sha256_hex("an-old-token");
        app.store()
            .sign_up(
                &trama_store::NewUser {
                    email: Some(trama_core::auth::Email::parse("vecchia@example.it").unwrap()),
                    display_name: "Vecchia".into(),
                    password_hash: None,
                    locale: "it".into(),
                },
                &hash,
                time::OffsetDateTime::now_utc() - time::Duration::hours(1),
            )
            .await
            .unwrap();
        app.send(
            "POST",
            "/api/auth/verify",
            None,
            &json!({"token": "an-old-token", "password": "una password lunga"}),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");

        // Someone signs up with an address that is not theirs and never confirmed: the owner
        // signs up in turn, with their own password; the squatter's link does not confirm with
        // the owner's password, the owner's own link does, with theirs.
        app.send(
            "POST",
            "/api/auth/signup",
            None,
            &signup_body("vittima@example.it", "password di chi finge"),
        )
        .await;
        let squatter = app.verification_token("vittima@example.it").await;
        app.send(
            "POST",
            "/api/auth/signup",
            None,
            &signup_body("vittima@example.it", "la mia vera password"),
        )
        .await;
        let mine = app.verification_token("vittima@example.it").await;
        assert_ne!(squatter, mine);
        app.send(
            "POST",
            "/api/auth/verify",
            None,
            &json!({"token": squatter, "password": "la mia vera password"}),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        let r = app
            .send(
                "POST",
                "/api/auth/verify",
                None,
                &json!({"token": mine, "password": "la mia vera password"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        assert_eq!(
            login(&app, "vittima@example.it", "la mia vera password")
                .await
                .status,
            StatusCode::OK
        );
    }
);

// 1b. Sign-ups are limited per client address.
both!(sign_ups_are_limited_per_client, |app: TestApp| async move {
    let mut app = app;
    reconfigure(&mut app, |c| c.limits.signup_per_hour = 2);
    for i in 0..2 {
        let r = app
            .send(
                "POST",
                "/api/auth/signup",
                None,
                &signup_body(&format!("p{i}@example.it"), "una password lunga"),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    }
    let r = app
        .send(
            "POST",
            "/api/auth/signup",
            None,
            &signup_body("p3@example.it", "una password lunga"),
        )
        .await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(r.headers.get(header::RETRY_AFTER).is_some());
    // The form counts against the same allowance.
    let csrf = "c".repeat(43);
    let r = post_form(
        &app,
        "/registrati",
        &format!("trama_csrf={csrf}"),
        &[
            ("csrf", &csrf),
            ("email", "p4@example.it"),
            ("display_name", "P"),
            ("password", "una password lunga"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    // Another client (behind the proxy one runs) is not affected.
    reconfigure(&mut app, |c| {
        c.limits.signup_per_hour = 2;
        c.behind_proxy = true;
    });
    let r = app
        .request(
            Request::post("/api/auth/signup")
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-forwarded-for", "203.0.113.7")
                .body(Body::from(
                    signup_body("p5@example.it", "una password lunga").to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
});

// 1d. The passwords everybody tries first are refused.
both!(common_passwords_are_refused, |app: TestApp| async move {
    for pw in [
        "password12",
        "Password1234",
        "juventus1897",
        "ciao123456",
        "qwertyuiop",
    ] {
        let v = app
            .send(
                "POST",
                "/api/auth/signup",
                None,
                &signup_body("g@example.it", pw),
            )
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(v["error"]["field"], "password", "{pw}");
    }
    let csrf = "c".repeat(43);
    let r = post_form(
        &app,
        "/registrati",
        &format!("trama_csrf={csrf}"),
        &[
            ("csrf", &csrf),
            ("email", "g@example.it"),
            ("display_name", "G"),
            ("password", "password12"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        app.store()
            .user_by_email(&trama_core::auth::Email::parse("g@example.it").unwrap())
            .await
            .unwrap()
            .is_none(),
        "no account was made"
    );
});

/// Signs in through the form with the anonymous token `csrf`: (session cookie, the new
/// anonymous cookie set at login, the session's form token read from a page).
async fn web_sign_in(app: &TestApp, email: &str, csrf: &str) -> (String, String, String) {
    let r = post_form(
        app,
        "/accedi",
        &format!("trama_csrf={csrf}"),
        &[
            ("csrf", csrf),
            ("email", email),
            ("password", "password-for-tests"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let session = set_cookie(&r, "trama_session").unwrap();
    let fresh = set_cookie(&r, "trama_csrf").expect("the anonymous token is drawn anew");
    let page = get_with(app, "/", &format!("trama_session={session}"))
        .await
        .text();
    let token = crate::web::form_token(&page);
    (session, fresh, token)
}

// 2. Signed in, a form carries the session's own token: one planted or seen before the login,
// or another session's, is refused.
both!(
    form_tokens_belong_to_the_session,
    |app: TestApp| async move {
        app.user_with_token("ada@example.it", &[]).await;
        app.user_with_token("bea@example.it", &[]).await;
        // The attacker planted this cookie before Ada signed in.
        let planted = "p".repeat(43);
        let (ada, fresh, ada_token) = web_sign_in(&app, "ada@example.it", &planted).await;
        assert_ne!(fresh, planted);
        assert_ne!(ada_token, planted);
        assert_ne!(ada_token, fresh, "the forms carry the session's token");
        let logout = |cookies: String, token: String| {
            let app = &app;
            async move { post_form(app, "/esci", &cookies, &[("csrf", &token)]).await }
        };
        // The planted value, with its cookie still there: refused.
        let r = logout(
            format!("trama_csrf={planted}; trama_session={ada}"),
            planted.clone(),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
        // Another session's token (the attacker's own), cookie and all: refused.
        let (_, _, bea_token) = web_sign_in(&app, "bea@example.it", &"q".repeat(43)).await;
        let r = logout(
            format!("trama_csrf={bea_token}; trama_session={ada}"),
            bea_token.clone(),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
        // The double-submit cookie's new value does not stand for the session either.
        let r = logout(
            format!("trama_csrf={fresh}; trama_session={ada}"),
            fresh.clone(),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
        let me = get_with(&app, "/api/me", &format!("trama_session={ada}")).await;
        assert_eq!(me.status, StatusCode::OK, "still signed in");
        // The session's own token, with no cookie at all: accepted.
        let r = logout(format!("trama_session={ada}"), ada_token).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        get_with(&app, "/api/me", &format!("trama_session={ada}"))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        // And the API's session token is the session's too.
        let r = login(&app, "bea@example.it", "password-for-tests").await;
        assert_ne!(r.json()["csrf_token"], json!(bea_token));
    }
);

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

/// A funder (of `funder_name`) with a programme (`programme_name`), an allocation of
/// 1,000.00 for Rossi, and a cooperative that delivers: (admin, Rossi's token, the
/// cooperative's admin's token, the cooperative, the allocation, the funder).
async fn budget_fixture(
    app: &TestApp,
    funder_name: &str,
    programme_name: &str,
) -> (String, String, String, OrganizationId, String, String) {
    let (_, admin) = app
        .user_with_token(
            "territorio@example.it",
            &[grant(Role::TerritoryAdmin, None)],
        )
        .await;
    let (rossi, rossi_t) = app
        .user_with_token("rossi@example.it", &[grant(Role::Citizen, None)])
        .await;
    let coop = app.organisation("Cooperativa").await;
    let coop_t = app.org_admin("coop@example.it", coop).await;
    let r = app
        .send(
            "POST",
            "/api/funders",
            Some(&admin),
            &json!({"name": funder_name, "kind": "municipal"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let funder = r.json()["id"].as_str().unwrap().to_string();
    let rules = json!({
        "name": programme_name, "funder_kind": "municipal",
        "categories": ["A1"], "valid_from": "2026-01", "valid_to": "2026-12",
        "monthly_cap": 60000, "copay_bands": [{"isee_max": null, "copay": 0}],
        "combinable": true
    });
    let r = app
        .send(
            "POST",
            "/api/programmes",
            Some(&admin),
            &json!({"funder_id": funder, "rules": rules, "amount_per_beneficiary": 100000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let programme = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .send(
            "POST",
            &format!("/api/people/{rossi}/allocations"),
            Some(&admin),
            &json!({"programme_id": programme, "amount": 100000, "decision_reference": "Det. 2026/1", "expires": "2026-12"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let allocation = r.json()["id"].as_str().unwrap().to_string();
    (admin, rossi_t, coop_t, coop, allocation, funder)
}

async fn send_key(app: &TestApp, uri: &str, token: &str, key: &str, body: &Value) -> Reply {
    app.request(
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header("Idempotency-Key", key)
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

// 3. An auditor changes nothing: every write of the API is refused to a person whose only
// role is auditor; reading, logging out and their own tokens stay theirs.
both!(an_auditor_changes_nothing, |app: TestApp| async move {
    let (_, auditor) = app
        .user_with_token("revisore@example.it", &[grant(Role::Auditor, None)])
        .await;
    let (_, _, _, coop, allocation, _) = budget_fixture(&app, "Comune", "Assistenza").await;
    let (org, manager, locs) = crate::hsds::provider(&app).await;
    let hub = json!({"functions": ["social_centre"], "capacity": 40, "help_desk": "Martedì",
        "opening_hours": [{"day": "tue", "from": "09:00", "to": "13:00"}]});
    let r = app
        .send(
            "PUT",
            &format!("/api/hubs/{}", locs[0]),
            Some(&manager),
            &hub,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .send(
            "POST",
            &format!("/api/hubs/{}/rooms", locs[0]),
            Some(&manager),
            &json!({"name": "Sala", "capacity": 12, "slot_minutes": 60}),
        )
        .await;
    let room = r.json()["id"].as_str().unwrap().to_string();
    let _ = org;

    for (uri, body) in [
        ("/api/needs".to_string(), need_body()),
        ("/api/offers".to_string(), offer_body()),
        (
            "/api/register/flows".to_string(),
            json!({"action": "produce", "resource": "food", "quantity": 3, "unit": "kilogram"}),
        ),
        (
            format!("/api/rooms/{room}/bookings"),
            json!({"start": "2030-12-03T10:00", "purpose": "Riunione"}),
        ),
    ] {
        let v = app
            .send("POST", &uri, Some(&auditor), &body)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        // Refused by the handler's write check, or already by the router where the
        // authorisation table does not admit auditors at all.
        let msg = v["error"]["message"].as_str().unwrap_or("");
        assert!(
            msg == "an auditor changes nothing" || msg.starts_with("POST /api"),
            "{uri}: {msg}"
        );
    }
    let book = json!({"allocation_id": allocation, "amount": 1000, "category": "A1.1",
                      "month": "2026-03", "provider_organization_id": coop.to_string()});
    send_key(&app, "/api/budget/bookings", &auditor, "a-1", &book)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    // Nothing was written.
    assert_eq!(
        app.get_auth("/api/needs?scope=mine", &auditor).await.json(),
        json!([])
    );
    // Reading stays: the dashboard; and the auditor's own session and tokens.
    assert_eq!(
        app.get_auth("/api/budget/dashboard", &auditor).await.status,
        StatusCode::OK
    );
    let r = app
        .send(
            "POST",
            "/api/tokens",
            Some(&auditor),
            &json!({"name": "report"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // The web forms apply the same rule.
    let csrf = "c".repeat(43);
    let r = post_form(
        &app,
        "/accedi",
        &format!("trama_csrf={csrf}"),
        &[
            ("csrf", &csrf),
            ("email", "revisore@example.it"),
            ("password", "password-for-tests"),
        ],
    )
    .await;
    let session = set_cookie(&r, "trama_session").unwrap();
    let cookies = format!("trama_session={session}");
    let token = crate::web::form_token(&get_with(&app, "/", &cookies).await.text());
    let r = post_form(
        &app,
        "/aiuto/chiedi",
        &cookies,
        &[
            ("csrf", &token),
            ("category", "H1"),
            ("description", "Spesa"),
            ("address", "Via Prova 1"),
            ("day", "tue"),
            ("from", "09:00"),
            ("to", "12:00"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    // Someone who is an auditor and a citizen acts as the citizen.
    let (_, both_roles) = app
        .user_with_token(
            "doppio@example.it",
            &[grant(Role::Auditor, None), grant(Role::Citizen, None)],
        )
        .await;
    let r = app
        .send("POST", "/api/needs", Some(&both_roles), &need_body())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
});

// 4. What the framework refuses before a handler runs is the JSON envelope too.
both!(
    framework_rejections_are_the_envelope,
    |app: TestApp| async move {
        let (_, t) = app.user_with_token("anna@example.it", &[]).await;
        let v = app
            .get_auth("/api/needs?scope=desk&k=notanumber", &t)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
        assert_eq!(v["error"]["field"], "k", "{v}");
        let need = app.send("POST", "/api/needs", Some(&t), &need_body()).await;
        let id = need.json()["id"].as_str().unwrap().to_string();
        let v = app
            .get_auth(&format!("/api/needs/{id}/suggestions?k=molti"), &t)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
        // Named by its own name, not as "the query".
        assert_eq!(v["error"]["field"], "k", "{v}");
        app.get(&format!(
            "/api/rooms/{}/slots?data=2030-01-01",
            uuid::Uuid::now_v7()
        ))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
        app.get_auth(
            "/api/budget/dashboard?within_days=1&from=2026-01&from=2026-02",
            &t,
        )
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
        // Addresses too long: 414 with the envelope on the APIs.
        let long = "a".repeat(9000);
        for uri in [
            format!("/api/needs?scope=open&area={long}"),
            format!("/hsds/services?search={long}"),
            format!("/register/entries?from=0&x={long}"),
        ] {
            let r = app.get_auth(&uri, &t).await;
            r.assert_error(StatusCode::URI_TOO_LONG, "uri_too_long");
        }
        let page = app.get(&format!("/cerca?q={long}")).await;
        assert_eq!(page.status, StatusCode::URI_TOO_LONG);
        // Every error of the APIs says it is JSON.
        for uri in [
            "/api/needs?scope=desk&k=notanumber",
            "/register/proof/inclusion?index=1&bogus=2&bogus=3",
        ] {
            let r = app.get_auth(uri, &t).await;
            if r.status.is_client_error() {
                assert_eq!(
                    r.headers.get(header::CONTENT_TYPE).unwrap(),
                    "application/json",
                    "{uri}: {}",
                    r.text()
                );
            }
        }
        // The fourth round: an unknown address under the register's API answered an HTML page.
        let r = app.get("/register/nonexistent").await;
        assert_eq!(
            r.headers.get(header::CONTENT_TYPE).unwrap(),
            "application/json",
            "{}",
            r.text()
        );
        r.assert_error(StatusCode::NOT_FOUND, "not_found");
    }
);

// 5. A well-formed body with an amount of nothing or less is 422, naming the amount.
both!(
    amounts_of_nothing_are_invalid_bodies,
    |app: TestApp| async move {
        let (_, rossi_t, coop_t, coop, allocation, _) =
            budget_fixture(&app, "Comune di Milano", "SAD").await;
        let book = |amount: i64| {
            json!({"allocation_id": allocation, "amount": amount, "category": "A1.1",
                   "month": "2026-03", "provider_organization_id": coop.to_string()})
        };
        for (i, amount) in [0, -500].into_iter().enumerate() {
            let v = send_key(
                &app,
                "/api/budget/bookings",
                &rossi_t,
                &format!("z-{i}"),
                &book(amount),
            )
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
            assert_eq!(v["error"]["field"], "amount");
        }
        let r = send_key(&app, "/api/budget/bookings", &rossi_t, "ok", &book(20000)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let booking = r.json()["id"].as_str().unwrap().to_string();
        let deliver = format!("/api/budget/bookings/{booking}/delivery");
        for (i, amount) in [0, -1].into_iter().enumerate() {
            let v = send_key(
                &app,
                &deliver,
                &coop_t,
                &format!("d-{i}"),
                &json!({"amount": amount}),
            )
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
            assert_eq!(v["error"]["field"], "amount");
        }
    }
);

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

// 8. A CSV report never hands a spreadsheet a formula.
both!(csv_reports_carry_no_formulas, |app: TestApp| async move {
    let (admin, rossi_t, _, coop, allocation, funder) =
        budget_fixture(&app, "=1+2 Comune", "@SUM(A1)").await;
    let r = send_key(
        &app,
        "/api/budget/bookings",
        &rossi_t,
        "k-1",
        &json!({"allocation_id": allocation, "amount": 20000, "category": "A1.1",
                "month": "2026-03", "provider_organization_id": coop.to_string()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let csv = app
        .get_auth(&format!("/api/funders/{funder}/statement.csv"), &admin)
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text());
    let text = csv.text();
    assert!(
        text.contains("'=1+2 Comune,'@SUM(A1),,A1.1,2026-03,1,200.00,0.00"),
        "{text}"
    );
    for line in text.lines() {
        for cell in line.split(',') {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell} in {text}"
            );
        }
    }
});
