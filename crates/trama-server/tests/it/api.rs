use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use trama_core::auth::{Role, RoleGrant};
use trama_core::hsds::Organization;
use trama_core::ids::OrganizationId;
use uuid::Uuid;

use crate::hsds::{provider, service_body};
use crate::{TestApp, both};

fn cookie_of(r: &crate::Reply, name: &str) -> Option<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_string())
}

both!(register_login_me_logout, |app: TestApp| async move {
    let r = app.send("POST", "/api/auth/signup", None, &json!({"email": "Giulia@Example.it", "password": "una password lunga", "display_name": "Giulia"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(r.json()["status"], "check_your_email");
    assert!(!r.text().contains("una password lunga"));
    // Not before the address is confirmed.
    app.send(
        "POST",
        "/api/auth/login",
        None,
        &json!({"email": "giulia@example.it", "password": "una password lunga"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "unverified");
    let token = app.verification_token("giulia@example.it").await;
    let r = app
        .send(
            "POST",
            "/api/auth/verify",
            None,
            &json!({"token": token, "password": "una password lunga"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    // The same e-mail again: the same answer, and the account does not change.
    let again = app.send("POST", "/api/auth/signup", None, &json!({"email": "giulia@example.it", "password": "altra password lunga", "display_name": "G"}))
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.text());
    assert_eq!(again.body, r#"{"status":"check_your_email","message":"If this address can be used, a link to confirm it is on its way: follow it within 48 hours, then sign in."}"#.as_bytes());
    let v = app
        .send(
            "POST",
            "/api/auth/signup",
            None,
            &json!({"email": "x@example.it", "password": "corta", "display_name": "X"}),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!(v["error"]["field"], "password");

    app.send(
        "POST",
        "/api/auth/login",
        None,
        &json!({"email": "giulia@example.it", "password": "sbagliata!!"}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    app.send(
        "POST",
        "/api/auth/login",
        None,
        &json!({"email": "nessuno@example.it", "password": "sbagliata!!"}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    let r = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            &json!({"email": "giulia@example.it", "password": "una password lunga"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let raw = r
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Lax"),
        "{raw}"
    );
    assert!(
        !raw.contains("Secure"),
        "no Secure without https public_url"
    );
    let cookie = cookie_of(&r, "trama_session").unwrap();
    let csrf = r.json()["csrf_token"].as_str().unwrap().to_string();

    let me = app
        .request(
            Request::get("/api/me")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(me.json()["display_name"], "Giulia");
    assert_eq!(me.json()["email"], "giulia@example.it");
    assert_eq!(me.json()["roles"][0]["role"], "citizen");
    app.get("/api/me")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");

    // Writes with the cookie need the CSRF token.
    let no_csrf = app
        .request(
            Request::post("/api/auth/logout")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    no_csrf.assert_error(StatusCode::FORBIDDEN, "csrf_failed");
    let out = app
        .request(
            Request::post("/api/auth/logout")
                .header(header::COOKIE, &cookie)
                .header("x-csrf-token", &csrf)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let me = app
        .request(
            Request::get("/api/me")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    me.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
});

both!(login_is_rate_limited, |app: TestApp| async move {
    app.user_with_token("bersaglio@example.it", &[]).await;
    let mut codes = vec![];
    for _ in 0..7 {
        let r = app
            .send(
                "POST",
                "/api/auth/login",
                None,
                &json!({"email": "bersaglio@example.it", "password": "tentativo sbagliato"}),
            )
            .await;
        codes.push(r.status.as_u16());
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers.get(header::RETRY_AFTER).is_some());
            r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        }
    }
    assert_eq!(
        codes,
        [401, 401, 401, 401, 401, 429, 429],
        "5 failures from one client, then each try waits"
    );
    // The wait is short (1 s after the fifth failure), not a 15-minute lock...
    let wait: u64 = r_after(&app).await;
    assert!((1..=2).contains(&wait), "{wait}");
    // ...and the rightful owner, signing in from elsewhere, is not locked out.
    let r = app
        .request(
            Request::post("/api/auth/login")
                .header(header::CONTENT_TYPE, "application/json")
                .extension(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                    [10, 0, 0, 7],
                    40000,
                ))))
                .body(Body::from(
                    json!({"email": "bersaglio@example.it", "password": "password-for-tests"})
                        .to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
});

/// The Retry-After of one more failed try from the test client.
async fn r_after(app: &TestApp) -> u64 {
    let r = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            &json!({"email": "bersaglio@example.it", "password": "tentativo sbagliato"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

both!(
    providers_change_only_their_own_organisation,
    |app: TestApp| async move {
        let (org, token, locs) = provider(&app).await;
        let other = Organization {
            id: Uuid::now_v7(),
            name: "Altra associazione".into(),
            description: "d".into(),
            ..Default::default()
        };
        app.store()
            .put_organizations(&[(other.clone(), None)])
            .await
            .unwrap();
        let other_token = app
            .org_admin("admin@altra.example.it", OrganizationId(other.id))
            .await;
        let (_, citizen) = app
            .user_with_token(
                "cittadino@example.it",
                &[RoleGrant::new(Role::Citizen, None).unwrap()],
            )
            .await;
        let (_, auditor) = app
            .user_with_token(
                "revisore@example.it",
                &[RoleGrant::new(Role::Auditor, None).unwrap()],
            )
            .await;

        let body = service_body(&org, "Pasti a domicilio", "C4", locs[0]);
        app.send("POST", "/api/services", None, &body)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        app.send("POST", "/api/services", Some("not-a-token"), &body)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        for t in [&other_token, &citizen, &auditor] {
            app.send("POST", "/api/services", Some(t), &body)
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        let r = app.send("POST", "/api/services", Some(&token), &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let created = r.json();
        let id = created["id"].as_str().unwrap().to_string();
        assert!(created["last_modified"].is_string());

        let mut changed = created.clone();
        changed["name"] = json!("Pasti caldi a domicilio");
        changed.as_object_mut().unwrap().remove("organization");
        for t in [&other_token, &citizen, &auditor] {
            app.send("PUT", &format!("/api/services/{id}"), Some(t), &changed)
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        let r = app
            .send(
                "PUT",
                &format!("/api/services/{id}"),
                Some(&token),
                &changed,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            app.get(&format!("/hsds/services/{id}")).await.json()["name"],
            "Pasti caldi a domicilio"
        );

        // Moving the service to another organisation is refused.
        let mut stolen = changed.clone();
        stolen["organization_id"] = json!(other.id);
        app.send(
            "PUT",
            &format!("/api/services/{id}"),
            Some(&other_token),
            &stolen,
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
        // Delivering at another organisation's place is refused.
        let other_loc = trama_core::hsds::Location {
            id: Uuid::now_v7(),
            location_type: "physical".into(),
            organization_id: Some(other.id),
            ..Default::default()
        };
        app.store()
            .put_locations(std::slice::from_ref(&other_loc))
            .await
            .unwrap();
        let body2 = service_body(&org, "Trasporto", "C5", other_loc.id);
        app.send("POST", "/api/services", Some(&token), &body2)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");

        for t in [&other_token, &citizen] {
            app.send(
                "DELETE",
                &format!("/api/services/{id}"),
                Some(t),
                &json!(null),
            )
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        let r = app
            .send(
                "DELETE",
                &format!("/api/services/{id}"),
                Some(&token),
                &json!(null),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        app.send(
            "DELETE",
            &format!("/api/services/{id}"),
            Some(&token),
            &json!(null),
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
        let audit = app.store().audit_of("service", &id).await.unwrap();
        let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(
            actions,
            ["service.delete", "service.update", "service.create"]
        );
    }
);

both!(bad_bodies_are_4xx, |app: TestApp| async move {
    let (org, token, locs) = provider(&app).await;
    let send_raw = |body: Vec<u8>, ctype: Option<&'static str>| {
        let mut b =
            Request::post("/api/services").header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(c) = ctype {
            b = b.header(header::CONTENT_TYPE, c);
        }
        app.request(b.body(Body::from(body)).unwrap())
    };
    send_raw(b"{not json".to_vec(), Some("application/json"))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "malformed_json");
    send_raw(b"{}".to_vec(), Some("text/plain"))
        .await
        .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    send_raw(vec![b' '; 200 * 1024], Some("application/json"))
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    let mut b = service_body(&org, "X", "C1", locs[0]);
    b["status"] = json!("forse");
    let v = app
        .send("POST", "/api/services", Some(&token), &b)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!(v["error"]["field"], "status");
    let mut b = service_body(&org, "X", "C1", locs[0]);
    b["name"] = json!("   ");
    assert_eq!(
        app.send("POST", "/api/services", Some(&token), &b)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")["error"]["field"],
        "name"
    );
    let mut b = service_body(&org, "X", "C1", locs[0]);
    b["schedules"][0]["opens_at"] = json!("25:99");
    assert_eq!(
        app.send("POST", "/api/services", Some(&token), &b)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")["error"]["field"],
        "schedules[0].opens_at"
    );
    let mut b = service_body(&org, "X", "C1", locs[0]);
    b["service_at_locations"] = json!([{"location": {"location_type": "physical", "name": "Luna", "latitude": 100.0, "longitude": 101.0}}]);
    assert_eq!(
        app.send("POST", "/api/services", Some(&token), &b)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")["error"]["field"],
        "service_at_locations[0].location.latitude"
    );
    let mut b = service_body(&org, "X", "C1", locs[0]);
    b["service_at_locations"][0]["location_id"] = json!(Uuid::now_v7());
    app.send("POST", "/api/services", Some(&token), &b)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference");
    let mut b = service_body(&org, "X", "C1", locs[0]);
    b["id"] = json!("not-a-uuid");
    app.send("POST", "/api/services", Some(&token), &b)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let mut b = service_body(&org, "X", "C1", locs[0]);
    b.as_object_mut().unwrap().remove("organization_id");
    assert_eq!(
        app.send("POST", "/api/services", Some(&token), &b)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")["error"]["field"],
        "organization_id"
    );
    // A new place given inline is created with the service.
    let mut b = service_body(&org, "Sportello in Piazza", "A3", locs[0]);
    b["service_at_locations"] = json!([{"location": {"location_type": "physical", "name": "Piazza Duomo", "latitude": 45.4642, "longitude": 9.19}}]);
    let r = app.send("POST", "/api/services", Some(&token), &b).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(
        r.json()["service_at_locations"][0]["location"]["organization_id"],
        json!(org.id)
    );
    // Nothing was half-written by the refused requests.
    assert_eq!(app.get("/hsds/services").await.json()["total_items"], 1);
});

both!(api_tokens_can_be_revoked, |app: TestApp| async move {
    let (_, token) = app.user_with_token("dev@example.it", &[]).await;
    let r = app
        .send(
            "POST",
            "/api/tokens",
            Some(&token),
            &json!({"name": "script notturno"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let new = r.json()["token"].as_str().unwrap().to_string();
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(app.get_auth("/api/me", &new).await.status, StatusCode::OK);
    let list = app.get_auth("/api/tokens", &token).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains(&new), "secrets are never listed");
    assert_eq!(
        app.send(
            "DELETE",
            &format!("/api/tokens/{id}"),
            Some(&token),
            &json!(null)
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    app.get_auth("/api/me", &new)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
});

#[tokio::test]
async fn openapi_document_is_stable() {
    let app = TestApp::sqlite().await;
    let v = app.get("/api/openapi.json").await.json();
    assert_eq!(v["openapi"], "3.1.0");
    for p in [
        "/hsds/services",
        "/hsds/services/{id}",
        "/hsds/organizations",
        "/hsds/taxonomy_terms/{id}",
        "/api/services/{id}",
        "/api/auth/login",
    ] {
        assert!(v["paths"][p].is_object(), "{p} missing");
    }
    insta::assert_json_snapshot!("openapi", v);
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::sqlite().await;
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
    let r = app.get("/readyz").await;
    assert_eq!(
        (r.status, r.json()["database"].as_str()),
        (StatusCode::OK, Some("sqlite"))
    );
    app.store().close().await;
    app.get("/readyz")
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
}

// A typo in a filter is told, not ignored: routes without query parameters refuse any, and
// the dashboard refuses those it does not know (400 naming the parameter).
both!(
    unknown_query_parameters_are_refused,
    |app: TestApp| async move {
        let (_, admin) = app
            .user_with_token(
                "territorio@example.it",
                &[crate::grant(trama_core::auth::Role::TerritoryAdmin, None)],
            )
            .await;
        for uri in [
            "/api/hubs?organisation=x",
            "/api/campaigns?kind=heatwave",
            "/api/me/export?format=csv",
            "/api/budget/dashboard?within=30",
        ] {
            let r = app.get_auth(uri, &admin).await;
            let v = r.assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
            let name = uri.split(['?', '=']).nth(1).unwrap();
            assert!(v.to_string().contains(name), "{uri}: {v}");
        }
        for uri in [
            "/api/hubs",
            "/api/campaigns",
            "/api/me/export",
            "/api/budget/dashboard?within_days=30",
        ] {
            assert_eq!(
                app.get_auth(uri, &admin).await.status,
                StatusCode::OK,
                "{uri}"
            );
        }
    }
);
