//! Every role's home (issue 14): signing in lands where the person works, and the menu of
//! every page reaches their places and only those.

use axum::http::{StatusCode, header};
use trama_core::auth::Role;

use crate::{TestApp, both, grant, post_form, set_cookie};

/// The menu's links of a page (the `<nav>`'s list).
fn menu(html: &str) -> Vec<String> {
    let nav = &html[html.find("<nav").expect("a menu")..];
    let nav = &nav[..nav.find("</nav>").expect("the menu's end")];
    nav.split("<a href=\"")
        .skip(1)
        .map(|s| s[..s.find('"').expect("a quoted address")].to_string())
        .collect()
}

both!(each_role_lands_where_it_works, |app: TestApp| async move {
    let org = app.organisation("Comune").await;
    let cases = [
        (Role::Citizen, "/aiuto"),
        (Role::Volunteer, "/aiuto"),
        (Role::Operator, "/sportello"),
        (Role::CaseManager, "/sportello/budget"),
        (Role::HubManager, "/hub"),
        (Role::OrganizationAdmin, "/gestione"),
        (Role::TerritoryAdmin, "/budget/cruscotto"),
        (Role::Auditor, "/registro"),
    ];
    for (role, home) in cases {
        let email = format!("{}@example.it", role.as_str());
        let (_, token) = app
            .user_with_token(&email, &[grant(role, role.is_scoped().then_some(org))])
            .await;
        let r = app.get_auth("/io", &token).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{role:?}: {}", r.text());
        assert_eq!(r.headers[header::LOCATION], home, "{role:?}");
        // The home answers, and its menu names it, marked as the page shown.
        let page = app.get_auth(home, &token).await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "{role:?} at {home}: {}",
            page.text()
        );
        let links = menu(&page.text());
        assert!(links.contains(&home.to_string()), "{role:?}: {links:?}");
        assert!(
            page.text()
                .contains(&format!("<a href=\"{home}\" aria-current=\"page\">")),
            "{role:?}"
        );
        // Nobody here has a care budget: nobody is offered an empty one.
        assert!(
            !links.contains(&"/io/budget".to_string()),
            "{role:?}: {links:?}"
        );
        // Every place in the menu opens for the person (no 403 behind a link).
        for link in &links {
            let r = app.get_auth(link, &token).await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{role:?} follows {link}: {}",
                r.text()
            );
        }
    }
    // An auditor changes nothing: no help to ask or offer in her menu.
    let (_, auditor) = app
        .user_with_token("auditor2@example.it", &[grant(Role::Auditor, None)])
        .await;
    let links = menu(&app.get_auth("/registro", &auditor).await.text());
    assert!(!links.contains(&"/io/contributi".to_string()), "{links:?}");
});

both!(
    my_budget_is_offered_to_whoever_has_one,
    |app: TestApp| async move {
        let comune = app.organisation("Comune").await;
        let (rossi, rossi_t) = app
            .user_with_token("rossi@example.it", &[grant(Role::Citizen, None)])
            .await;
        let (_, cm_t) = app
            .user_with_token("cm@example.it", &[grant(Role::CaseManager, Some(comune))])
            .await;
        let before = menu(&app.get_auth("/aiuto", &rossi_t).await.text());
        assert!(!before.contains(&"/io/budget".to_string()), "{before:?}");
        app.follow(rossi, &rossi_t, &cm_t).await;
        let help = app.get_auth("/aiuto", &rossi_t).await.text();
        let after = menu(&help);
        assert!(after.contains(&"/io/budget".to_string()), "{after:?}");
        // The desk's notice of the consent leads to his budget, where consents are confirmed.
        let key = "action=\"/aiuto/notifiche/";
        let at = help.find(key).expect("the consent's notification") + key.len();
        let id = &help[at..at + help[at..].find('"').unwrap()];
        let csrf = "c".repeat(43);
        let r = app
            .request(
                axum::http::Request::post(format!("/aiuto/notifiche/{id}"))
                    .header(header::AUTHORIZATION, format!("Bearer {rossi_t}"))
                    .header(header::COOKIE, format!("trama_csrf={csrf}"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(axum::body::Body::from(format!("csrf={csrf}")))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.headers[header::LOCATION], "/io/budget");
        // Someone with a care budget lands on it.
        let r = app.get_auth("/io", &rossi_t).await;
        assert_eq!(r.headers[header::LOCATION], "/io/budget");
    }
);

both!(signing_in_lands_at_home, |app: TestApp| async move {
    let org = app.organisation("Comune").await;
    app.user_with_token("op@example.it", &[grant(Role::Operator, Some(org))])
        .await;
    let csrf = "c".repeat(43);
    let cookie = format!("trama_csrf={csrf}");
    // The sign-in form, asked for with no page to return to, returns to one's home…
    let form = crate::get_with(&app, "/accedi", &cookie).await;
    assert!(
        form.text().contains(r#"name="next" value="/io""#),
        "{}",
        form.text()
    );
    let fields = [
        ("email", "op@example.it"),
        ("password", "password-for-tests"),
        ("csrf", csrf.as_str()),
    ];
    // …and so does a post that names none.
    let r = post_form(&app, "/accedi", &cookie, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.headers[header::LOCATION], "/io");
    let session = set_cookie(&r, "trama_session").expect("a session");
    let r = crate::get_with(&app, "/io", &format!("trama_session={session}")).await;
    assert_eq!(r.headers[header::LOCATION], "/sportello");
    // Someone not signed in is asked to sign in first.
    let r = app.get("/io").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/accedi"),
        "{:?}",
        r.headers
    );
});

both!(
    a_funders_admin_is_offered_its_spending,
    |app: TestApp| async move {
        let company = app.organisation("Brambilla Meccanica").await;
        let hr = app.org_admin("hr@brambilla.it", company).await;
        let (_, ta) = app
            .user_with_token("ta@example.it", &[grant(Role::TerritoryAdmin, None)])
            .await;
        let links = menu(&app.get_auth("/gestione", &hr).await.text());
        assert!(
            !links.contains(&"/budget/cruscotto".to_string()),
            "{links:?}"
        );
        let r = app
        .send(
            "POST",
            "/api/funders",
            Some(&ta),
            &serde_json::json!({"name": "Welfare aziendale Brambilla", "kind": "corporate_welfare",
                                "organization_id": company.to_string()}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let links = menu(&app.get_auth("/gestione", &hr).await.text());
        assert!(
            links.contains(&"/budget/cruscotto".to_string()),
            "{links:?}"
        );
        let r = app.get_auth("/budget/cruscotto", &hr).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
);

both!(
    a_forms_address_opened_by_hand_says_so_in_words,
    |app: TestApp| async move {
        // `/sportello/persone` only receives the desk's form.
        let r = app.get("/sportello/persone").await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(
            r.text().contains("Questa pagina non si apre così"),
            "{}",
            r.text()
        );
        let r = app.get("/sportello/persone?lang=en").await;
        assert!(
            r.text().contains("This page does not open this way"),
            "{}",
            r.text()
        );
        // With the territory's name and, for someone signed in, their menu.
        assert!(
            r.text()
                .contains("<title>This page does not open this way · Milano</title>"),
            "{}",
            r.text()
        );
        let (_, op) = app
            .user_with_token(
                "op405@example.it",
                &[grant(
                    Role::Operator,
                    Some(app.organisation("Comune").await),
                )],
            )
            .await;
        let missing = app.get_auth("/non-esiste", &op).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(menu(&missing.text()).contains(&"/sportello".to_string()));
        // An API client still gets the envelope.
        app.send("PUT", "/api/needs", None, &serde_json::json!({}))
            .await
            .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        // Browsers ask for the icon whatever the page says.
        let r = app.get("/favicon.ico").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers[header::CONTENT_TYPE], "image/svg+xml");
    }
);

// What a person reads is in words: languages by name, one result as one.
both!(a_service_page_speaks_in_words, |app: TestApp| async move {
    let (org, token, locs) = crate::hsds::provider(&app).await;
    let mut body = crate::hsds::service_body(&org, "Sportello badanti Lorenteggio", "C1", locs[0]);
    body["languages"] = serde_json::json!([{"code": "ar"}, {"code": "it"}]);
    let r = app.send("POST", "/api/services", Some(&token), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let page = app.get(&format!("/servizi/{id}")).await.text();
    assert!(page.contains(r#"<span class="tag">arabo</span>"#), "{page}");
    assert!(!page.contains(r#"<span class="tag">ar</span>"#), "{page}");
    let page = app.get(&format!("/servizi/{id}?lang=en")).await.text();
    assert!(
        page.contains(r#"<span class="tag">Arabic</span>"#),
        "{page}"
    );
    let page = app.get("/cerca?q=badanti+lorenteggio").await.text();
    assert!(page.contains("1</span> servizio trovato"), "{page}");
});

// The territory's own areas are the base map: a page's map reads without internet tiles.
both!(maps_draw_the_territorys_areas, |app: TestApp| async move {
    use trama_core::areas::{Area, Polygon};
    let (org, token, locs) = crate::hsds::provider(&app).await;
    let body = crate::hsds::service_body(&org, "Custodia sociale Duomo", "C1", locs[0]);
    let r = app.send("POST", "/api/services", Some(&token), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    // Without areas of its own, the territory is named by the Municipi Trama carries.
    let page = app.get("/cerca?q=custodia").await.text();
    assert!(page.contains(r#"class="area-name">Municipio 1"#), "{page}");
    // With its neighbourhoods imported, they are drawn, named, and handed to Leaflet.
    let duomo = Area {
        kind: "nil".into(),
        code: "1".into(),
        name: "Duomo".into(),
        parent_code: Some("1".into()),
        population: None,
        centroid: None,
        polygons: vec![Polygon(vec![vec![
            [9.18, 45.46],
            [9.20, 45.46],
            [9.20, 45.47],
            [9.18, 45.47],
            [9.18, 45.46],
        ]])],
        facts: None,
    };
    app.store().put_areas(&[duomo]).await.unwrap();
    app.state.areas.clear();
    for uri in [
        format!("/servizi/{id}"),
        "/cerca?q=custodia&luogo=p0".into(),
    ] {
        let page = app.get(&uri).await.text();
        assert!(
            page.contains(r#"class="area"><title>Duomo</title>"#),
            "{uri}: {page}"
        );
        assert!(page.contains("FeatureCollection"), "{uri}");
        assert!(
            page.contains(r#"<g class="pt">"#),
            "{uri}: the place is on it"
        );
    }
});

// A notification leads to what it is about, and goes once seen or acted on.
both!(
    a_notification_leads_somewhere_and_goes,
    |app: TestApp| async move {
        use axum::body::Body;
        use axum::http::Request;
        let crate::clock::Proposal {
            anna,
            eve,
            need_id,
            match_id,
        } = crate::clock::Proposal::new(&app).await;
        let link = |html: &str| {
            let key = "action=\"/aiuto/notifiche/";
            html.find(key).map(|at| {
                let rest = &html[at + key.len()..];
                rest[..rest.find('"').unwrap()].to_string()
            })
        };
        // Eve was asked: her help page says so, with a way to open it.
        let id = link(&app.get_auth("/aiuto", &eve).await.text()).expect("Eve's notification");
        let open = |who: &str| {
            let csrf = "c".repeat(43);
            Request::post(format!("/aiuto/notifiche/{id}"))
                .header(header::AUTHORIZATION, format!("Bearer {who}"))
                .header(header::COOKIE, format!("trama_csrf={csrf}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("csrf={csrf}")))
                .unwrap()
        };
        // Someone else's notification is nobody else's to open.
        let r = app.request(open(&anna)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
        let r = app.request(open(&eve)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(
            r.headers[header::LOCATION],
            format!("/aiuto/richieste/{need_id}").as_str()
        );
        assert_eq!(
            link(&app.get_auth("/aiuto", &eve).await.text()),
            None,
            "seen"
        );
        // Eve accepts: Anna is told; once Anna acts on the match, that is gone too.
        let events = format!("/api/matches/{match_id}/events");
        let r = app
            .send(
                "POST",
                &events,
                Some(&eve),
                &serde_json::json!({"event": "accept"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(link(&app.get_auth("/aiuto", &anna).await.text()).is_some());
        let r = app
            .send(
                "POST",
                &events,
                Some(&anna),
                &serde_json::json!({"event": "schedule", "next_at": "2030-12-03T09:00:00+01:00"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            link(&app.get_auth("/aiuto", &anna).await.text()),
            None,
            "acted on"
        );
    }
);

// "Near" is any address of the territory's gazetteer, or a neighbourhood by its name.
both!(near_an_address_typed, |app: TestApp| async move {
    let (org, token, locs) = crate::hsds::provider(&app).await;
    let body = crate::hsds::service_body(&org, "Custodia sociale Duomo", "C1", locs[0]);
    let r = app.send("POST", "/api/services", Some(&token), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let gazetteer = trama_core::places::parse_gazetteer(
        "street,number,lat,lon\nVia Torino,43,45.4612,9.1860\nVia Torino,45,45.4611,9.1859\n\
         Viale Monza,100,45.5000,9.2240\n",
    )
    .unwrap();
    trama_server::directory::service::import_places(&app.state, &gazetteer)
        .await
        .unwrap();
    // Typed as people type it: the service half a kilometre away is found, with its distance.
    let page = app
        .get("/cerca?q=custodia&indirizzo=via+torino%2C+43")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(
        page.text().contains("Custodia sociale Duomo"),
        "{}",
        page.text()
    );
    assert!(page.text().contains("0,5 km"), "{}", page.text());
    // The street alone: its middle.
    let page = app
        .get("/cerca?q=custodia&indirizzo=VIA+TORINO")
        .await
        .text();
    assert!(page.contains("Custodia sociale Duomo"), "{page}");
    // Far away (Viale Monza, 5 km), within 2 km: nothing.
    let page = app
        .get("/cerca?q=custodia&indirizzo=V.le+Monza+100")
        .await
        .text();
    assert!(!page.contains("Custodia sociale Duomo"), "{page}");
    // A Municipio by its name (the carried table: no gazetteer needed).
    let page = app
        .get("/cerca?q=custodia&indirizzo=centro+storico&raggio=5")
        .await
        .text();
    assert!(page.contains("Custodia sociale Duomo"), "{page}");
    // A landmark of the list, typed loosely.
    let page = app
        .get("/cerca?q=custodia&indirizzo=piazza+duomo")
        .await
        .text();
    assert!(page.contains("Custodia sociale Duomo"), "{page}");
    assert!(
        page.contains(r#"id="near">Vicino a: Piazza del Duomo"#),
        "{page}"
    );
    // A place that is not in the list is said, not ignored.
    let r = app.get("/cerca?q=custodia&luogo=municipio:99").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text().contains("Vicino a: non è tra i luoghi"),
        "{}",
        r.text()
    );
    // Unknown: said in words, naming the field.
    let r = app
        .get("/cerca?q=custodia&indirizzo=Via+Inesistente+1")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("non lo troviamo"), "{}", r.text());
});

both!(
    a_page_that_fails_says_why_in_its_own_frame,
    |app: TestApp| async move {
        let org = app.organisation("Comune").await;
        let (_, token) = app
            .user_with_token("cm@example.it", &[grant(Role::CaseManager, Some(org))])
            .await;
        let someone = uuid::Uuid::now_v7();
        // A malformed override of the funding proposal is refused (never silently dropped), and
        // the refusal is a page in the reader's language with the reader's own menu.
        let r = app
            .get_auth(
                &format!("/sportello/budget/persone/{someone}?escludi=0:non-un-id"),
                &token,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        let kind = r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        assert!(kind.starts_with("text/html"), "{kind}");
        let html = r.text();
        assert!(html.contains("Qualcosa non va"), "{html}");
        assert!(
            html.contains("0:non-un-id"),
            "the value at fault is named: {html}"
        );
        assert!(
            menu(&html).iter().any(|l| l == "/sportello/budget"),
            "{:?}",
            menu(&html)
        );
        // An id that is not one: the same frame, the same status class.
        let r = app
            .get_auth("/sportello/budget/persone/nessuno", &token)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.text().contains("Qualcosa non va"));
    }
);

// A place searched from outside every area the territory knows: the page says so, instead of
// a bare count; inside, it says nothing.
both!(
    a_place_outside_the_territory_is_said,
    |app: TestApp| async move {
        use trama_core::areas::{Area, Polygon};
        let m1 = Area {
            kind: "municipio".into(),
            code: "1".into(),
            name: "Municipio 1".into(),
            parent_code: None,
            population: None,
            centroid: None,
            polygons: vec![Polygon(vec![vec![
                [9.15, 45.44],
                [9.22, 45.44],
                [9.22, 45.49],
                [9.15, 45.49],
                [9.15, 45.44],
            ]])],
            facts: None,
        };
        app.store().put_areas(&[m1]).await.unwrap();
        app.state.areas.clear();
        // Rome.
        let page = app.get("/cerca?q=mensa&lat=41.9&lon=12.5").await.text();
        assert!(page.contains(r#"id="outside""#), "{page}");
        assert!(page.contains("fuori da Milano"), "{page}");
        // The Duomo.
        let page = app.get("/cerca?q=mensa&lat=45.464&lon=9.19").await.text();
        assert!(!page.contains(r#"id="outside""#), "{page}");
    }
);
