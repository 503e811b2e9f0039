//! The web UI through the router: pages, languages, forms and their CSRF protection, and the
//! provider's create / edit / delete path. The browser test drives the same pages in Chromium.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use trama_core::hsds::Organization;
use trama_core::ids::OrganizationId;
use uuid::Uuid;

use crate::hsds::{provider, service_body};
use crate::{Reply, TestApp, both};

fn set_cookie(r: &Reply, name: &str) -> Option<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| {
            c.split(';')
                .next()
                .unwrap()
                .split_once('=')
                .unwrap()
                .1
                .to_string()
        })
}

async fn post_form(app: &TestApp, uri: &str, cookies: &str, fields: &[(&str, &str)]) -> Reply {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    app.request(
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookies)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

async fn get_with(app: &TestApp, uri: &str, cookies: &str) -> Reply {
    app.request(
        Request::get(uri)
            .header(header::COOKIE, cookies)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// Signs `email` in through the login form (password `password-for-tests`) and returns the
/// cookies of the session and of the form token `csrf`.
async fn sign_in(app: &TestApp, email: &str, csrf: &str) -> String {
    let r = post_form(
        app,
        "/accedi",
        &format!("trama_csrf={csrf}"),
        &[
            ("email", email),
            ("password", "password-for-tests"),
            ("csrf", csrf),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let session = set_cookie(&r, "trama_session").expect("signed in");
    format!("trama_csrf={csrf}; trama_session={session}")
}

both!(pages_render_in_both_languages, |app: TestApp| async move {
    let (org, token, locs) = provider(&app).await;
    let r = app
        .send(
            "POST",
            "/api/services",
            Some(&token),
            &service_body(&org, "Assistenza domiciliare Duomo", "C1", locs[0]),
        )
        .await;
    let id = r.json()["id"].as_str().unwrap().to_string();

    let home = app.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text().contains("<html lang=\"it\">"));
    assert!(
        home.text()
            .contains("Assistenza domiciliare socio-assistenziale (SAD)"),
        "the categories are listed"
    );
    assert!(
        set_cookie(&home, "trama_csrf").is_some(),
        "a CSRF cookie is set for the forms"
    );
    assert!(home.headers.get("content-security-policy").is_some());

    let en = app
        .request(
            Request::get("/")
                .header(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(en.text().contains("<html lang=\"en\">") && en.text().contains("Find a service"));
    let switched = app.get("/cerca?lang=en").await;
    assert_eq!(
        set_cookie(&switched, "trama_lang").as_deref(),
        Some("en"),
        "the switch is remembered"
    );

    let r = app
        .get("/cerca?q=assistenza+domiciliare&luogo=p0&raggio=2")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(
        html.contains("Assistenza domiciliare Duomo")
            && html.contains("0,1 km")
            && html.contains("Aperto ora"),
        "{html}"
    );
    assert!(html.contains("<svg"), "the server-drawn map");
    let r = app.get("/cerca?luogo=p0&raggio=abc").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("radius_km"), "the error names the field");

    let page = app.get(&format!("/servizi/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("Cooperativa Sociale Il Melograno")
            && page.text().contains("+39 02 1234567")
    );
    assert!(
        page.text().contains("Tariffa oraria: 18,50 EUR"),
        "money with two decimals and the Italian comma"
    );
    assert_eq!(
        app.get(&format!("/servizi/{}", Uuid::now_v7()))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/servizi/not-an-id").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/organizzazioni/{}", org.id)).await.status,
        StatusCode::OK
    );
    let missing = app.get("/nessuna-pagina").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text().contains("Pagina non trovata"));
});

both!(forms_need_their_csrf_token, |app: TestApp| async move {
    let (org, _, _) = provider(&app).await;
    let email = format!("admin-{}@melograno.example.it", org.id.simple());
    let fields = [
        ("email", email.as_str()),
        ("password", "password-for-tests"),
        ("next", "/gestione"),
    ];
    // No token at all, a token that does not match the cookie, a cross-site post: refused.
    let r = post_form(&app, "/accedi", "", &fields).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let csrf = "c".repeat(43);
    let mut with_wrong = fields.to_vec();
    with_wrong.push(("csrf", "d"));
    assert_eq!(
        post_form(&app, "/accedi", &format!("trama_csrf={csrf}"), &with_wrong)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let mut ok = fields.to_vec();
    ok.push(("csrf", &csrf));
    let cross = app
        .request(
            Request::post("/accedi")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("trama_csrf={csrf}"))
                .header("sec-fetch-site", "cross-site")
                .body(Body::from(
                    form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(&ok)
                        .finish(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    // The right token logs in and goes where it was asked to, never off-site.
    let r = post_form(&app, "/accedi", &format!("trama_csrf={csrf}"), &ok).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/gestione");
    assert!(set_cookie(&r, "trama_session").is_some());
    let mut evil = ok.clone();
    evil.retain(|(k, _)| *k != "next");
    evil.push(("next", "//evil.example/steal"));
    let r = post_form(&app, "/accedi", &format!("trama_csrf={csrf}"), &evil).await;
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/");
    let mut wrong_pw = fields.to_vec();
    wrong_pw[1] = ("password", "not the password");
    wrong_pw.push(("csrf", &csrf));
    let r = post_form(&app, "/accedi", &format!("trama_csrf={csrf}"), &wrong_pw).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("Email o password non corretti"));
});

both!(
    providers_create_edit_and_delete_through_the_forms,
    |app: TestApp| async move {
        let (org, _, locs) = provider(&app).await;
        let email = format!("admin-{}@melograno.example.it", org.id.simple());
        let csrf = "k".repeat(43);
        let cookies = sign_in(&app, &email, &csrf).await;
        let manage = get_with(&app, "/gestione", &cookies).await;
        assert!(manage.text().contains("Cooperativa Sociale Il Melograno"));
        assert_eq!(
            app.get("/gestione").await.status,
            StatusCode::SEE_OTHER,
            "anonymous visitors are sent to log in"
        );

        let org_id = org.id.to_string();
        let loc = locs[0].to_string();
        let category = trama_core::taxonomy::term_id("B2").to_string();
        let mut fields = vec![
            ("organization_id", org_id.as_str()),
            ("name", "Pranzo solidale del martedì"),
            ("description", "Un pasto caldo in compagnia."),
            ("status", "active"),
            ("category", category.as_str()),
            ("location", loc.as_str()),
            ("funder", "Fondazione Cariplo"),
            ("phone", "+39 02 7654321"),
            ("days", "TU"),
            ("opens", "12:00"),
            ("closes", "14:30"),
            ("csrf", csrf.as_str()),
        ];
        let r = post_form(&app, "/gestione/servizi/nuovo", &cookies, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let location = r
            .headers
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let id = location
            .trim_start_matches("/servizi/")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let v = app.get(&format!("/hsds/services/{id}")).await.json();
        assert_eq!(v["name"], "Pranzo solidale del martedì");
        assert_eq!(v["schedules"][0]["byday"], "TU");
        assert_eq!(v["funding"][0]["source"], "Fondazione Cariplo");

        // A mistake comes back as the form, with the field named.
        fields[10] = ("closes", "25:00");
        let bad = post_form(&app, &format!("/gestione/servizi/{id}"), &cookies, &fields).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.text().contains("closes_at"), "{}", bad.text());

        // Another organisation's admin may not touch it.
        let other = Organization {
            id: Uuid::now_v7(),
            name: "Altra".into(),
            description: "d".into(),
            ..Default::default()
        };
        app.store()
            .put_organizations(&[(other.clone(), None)])
            .await
            .unwrap();
        app.user_with_token(
            "altra@example.it",
            &[trama_core::auth::RoleGrant::new(
                trama_core::auth::Role::OrganizationAdmin,
                Some(OrganizationId(other.id)),
            )
            .unwrap()],
        )
        .await;
        let other_cookies = sign_in(&app, "altra@example.it", &csrf).await;
        assert_eq!(
            get_with(&app, &format!("/gestione/servizi/{id}"), &other_cookies)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            post_form(
                &app,
                &format!("/gestione/servizi/{id}/elimina"),
                &other_cookies,
                &[("csrf", &csrf)]
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );

        let r = post_form(
            &app,
            &format!("/gestione/servizi/{id}/elimina"),
            &cookies,
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            app.get(&format!("/hsds/services/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        let _ = json!(null);
    }
);

both!(
    an_organisation_offers_help_through_the_web_form,
    |app: TestApp| async move {
        let (org, token, _) = provider(&app).await;
        let csrf = "c".repeat(43);
        let email = format!("admin-{}@melograno.example.it", org.id.simple());
        let cookies = sign_in(&app, &email, &csrf).await;
        // The form offers to post for the organisation the person works for.
        let page = get_with(&app, "/aiuto/offri", &cookies).await.text();
        assert!(
            page.contains(r#"<select id="organization" name="organization">"#),
            "{page}"
        );
        assert!(page.contains("Cooperativa Sociale Il Melograno"));
        let area = page
            .split(r#"<select id="area" name="area"><option value=""#)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("an area to choose")
            .to_string();
        let org_id = org.id.to_string();
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("organization", org_id.as_str()),
            ("category", "H1"),
            (
                "description",
                "Spesa a domicilio con il furgone della cooperativa",
            ),
            ("area", area.as_str()),
            ("radius", "3"),
            ("day", "tue"),
            ("from", "09:00"),
            ("to", "12:00"),
            ("hours", "6"),
            ("capacity", "4"),
            ("language", "it"),
        ];
        let r = post_form(&app, "/aiuto/offri", &cookies, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let at = r
            .headers
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let id = at.rsplit('/').next().unwrap();
        let offer = app
            .get_auth(&format!("/api/offers/{id}"), &token)
            .await
            .json();
        assert_eq!(offer["organization_id"], org_id, "{offer}");
        // Someone who does not work for an organisation cannot offer in its name.
        let stranger = OrganizationId::new().to_string();
        fields[1] = ("organization", stranger.as_str());
        let r = post_form(&app, "/aiuto/offri", &cookies, &fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
        // A volunteer with no organisation sees no such choice.
        let (_, _) = app.user_with_token("luca@example.it", &[]).await;
        let luca = sign_in(&app, "luca@example.it", &csrf).await;
        let page = get_with(&app, "/aiuto/offri", &luca).await.text();
        assert!(!page.contains(r#"id="organization""#));
    }
);

both!(
    rooms_are_booked_through_the_hub_pages,
    |app: TestApp| async move {
        let (org, _, locs) = provider(&app).await;
        let (_, manager) = app
            .user_with_token(
                "sale@melograno.example.it",
                &[trama_core::auth::RoleGrant::new(
                    trama_core::auth::Role::HubManager,
                    Some(OrganizationId(org.id)),
                )
                .unwrap()],
            )
            .await;
        let hub = json!({"functions": ["social_centre"], "capacity": 40, "help_desk": "Martedì mattina",
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
                &json!({"name": "Sala riunioni", "capacity": 12, "slot_minutes": 60}),
            )
            .await;
        let room = r.json()["id"].as_str().unwrap().to_string();
        // The hubs page links each room; the room's page lists the day's slots.
        assert!(
            app.get("/hub")
                .await
                .text()
                .contains(&format!(r#"href="/hub/sale/{room}""#))
        );
        let page = app
            .get(&format!("/hub/sale/{room}?data=2030-12-03"))
            .await
            .text();
        assert_eq!(page.matches("<tr><td>").count(), 4, "{page}");
        assert!(
            page.contains("Accedi per prenotare"),
            "a stranger is asked to sign in"
        );
        // Signed in, a free slot is booked with a purpose.
        let csrf = "c".repeat(43);
        let cookies = sign_in(&app, "sale@melograno.example.it", &csrf).await;
        let uri = format!("/hub/sale/{room}/prenota");
        let book = [
            ("csrf", csrf.as_str()),
            ("start", "2030-12-03T10:00"),
            ("purpose", "Riunione dei volontari"),
        ];
        let r = post_form(&app, &uri, &cookies, &book).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let back = r
            .headers
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(
            back,
            format!("/hub/sale/{room}?data=2030-12-03&prenotato=1")
        );
        let page = get_with(&app, &back, &cookies).await.text();
        assert!(page.contains("Prenotazione fatta."));
        assert_eq!(page.matches("Occupata").count(), 1, "{page}");
        // The same slot again: taken, said on the page with 409; no purpose: 422.
        let r = post_form(&app, &uri, &cookies, &book).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.text().contains(r#"role="alert""#));
        let r = post_form(
            &app,
            &uri,
            &cookies,
            &[
                ("csrf", csrf.as_str()),
                ("start", "2030-12-03T11:00"),
                ("purpose", " "),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("purpose"));
        // Without the form's token nothing is booked.
        let r = post_form(&app, &uri, &cookies, &book[1..]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
);
