//! The web UI through the router: pages, languages, forms and their CSRF protection, and the
//! provider's create / edit / delete path. The browser test drives the same pages in Chromium.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use trama_core::hsds::Organization;
use trama_core::ids::OrganizationId;
use uuid::Uuid;

use crate::hsds::{provider, service_body};
use crate::{TestApp, both, get_with, post_form, set_cookie};

/// The form token a page's forms carry.
pub(crate) fn form_token(html: &str) -> String {
    html.split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no form in {html}"))
        .to_string()
}

/// Signs `email` in through the login form (password `password-for-tests`, sent with the
/// anonymous form token `csrf`) and returns the cookies after the login and the session's own
/// form token, as the pages then carry it.
pub(crate) async fn sign_in(app: &TestApp, email: &str, csrf: &str) -> (String, String) {
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
    let fresh = set_cookie(&r, "trama_csrf").expect("a new anonymous token at login");
    assert_ne!(fresh, csrf);
    let cookies = format!("trama_csrf={fresh}; trama_session={session}");
    let page = get_with(app, "/", &cookies).await.text();
    let token = form_token(&page);
    assert_ne!(
        token, csrf,
        "the session's token is not the one seen before login"
    );
    (cookies, token)
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
    assert!(
        r.text().contains("Distanza:"),
        "the error names the field, in words: {}",
        r.text()
    );
    let r = app.get("/cerca?luogo=p0&raggio=abc&lang=en").await;
    assert!(r.text().contains("Distance:"), "{}", r.text());

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
    // The language asked for in the address holds on a missing page too.
    let missing = app.get("/nessuna-pagina?lang=en").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.text().contains(r#"<html lang="en""#),
        "{}",
        missing.text()
    );
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
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/io");
    // Browsers drop tabs and newlines and read a backslash as a slash: each of these would
    // leave the site (or, with a newline, answered 500). Only same-origin paths are kept.
    for next in [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\\evil.example",
        "/\r\nSet-Cookie: x=1",
        "https://evil.example/",
        "/ok?x=\u{7f}",
    ] {
        let mut evil = ok.clone();
        evil.retain(|(k, _)| *k != "next");
        evil.push(("next", next));
        let r = post_form(&app, "/accedi", &format!("trama_csrf={csrf}"), &evil).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/io", "{next:?}");
    }
    let r = app.get("/accedi?next=%0d%0a%09//evil.example").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text()
            .contains(r#"<input type="hidden" name="next" value="/io">"#),
        "{}",
        r.text()
    );
    let mut fine = ok.clone();
    fine.retain(|(k, _)| *k != "next");
    fine.push(("next", "/aiuto?categoria=H1&pagina=2"));
    let r = post_form(&app, "/accedi", &format!("trama_csrf={csrf}"), &fine).await;
    assert_eq!(
        r.headers.get(header::LOCATION).unwrap(),
        "/aiuto?categoria=H1&pagina=2"
    );
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
        let (cookies, csrf) = sign_in(&app, &email, &"k".repeat(43)).await;
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
            ("tu_opens_1", "12:00"),
            ("tu_closes_1", "14:30"),
            ("csrf", csrf.as_str()),
            ("th_opens_1", "09:00"),
            ("th_closes_1", "12:30"),
            ("th_opens_2", "14:00"),
            ("th_closes_2", "17:00"),
            ("cost_amount", "4,50"),
            ("cost_option", "a pasto"),
            ("fees_description", "Gratuito con ISEE sotto 8.000 euro"),
            ("eligibility", "Persone sole"),
            ("minimum_age", "65"),
            ("application_process", "Telefonare il lunedì"),
            ("languages", "it"),
            ("languages", "ar"),
        ];
        // A preview shows the page as it will appear, saves nothing, and carries the fields.
        let mut preview = fields.clone();
        preview.push(("anteprima", "1"));
        let r = post_form(&app, "/gestione/servizi/nuovo", &cookies, &preview).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let page = r.text();
        for shown in [
            "Anteprima",
            "Pranzo solidale del martedì",
            "Cooperativa Sociale Il Melograno",
            "12:00–14:30",
            "09:00–12:30, 14:00–17:00",
            "4,50 EUR",
            "a pasto",
            "Gratuito con ISEE sotto 8.000 euro",
            "da 65 anni",
            "arabo",
            r#"name="th_closes_2" value="17:00""#,
            r#"name="modifica""#,
        ] {
            assert!(page.contains(shown), "{shown}: {page}");
        }
        assert!(
            !page.contains("/gestione/servizi/0"),
            "the preview offers no edit link to a service not yet saved"
        );
        assert_eq!(
            app.get("/hsds/services?search=solidale").await.json()["total_items"],
            0,
            "a preview saves nothing"
        );
        // A preview refuses what saving would: a place that is not the organisation's.
        let elsewhere = Uuid::now_v7().to_string();
        let mut odd: Vec<(&str, &str)> = preview.clone();
        odd.retain(|(k, _)| *k != "location");
        odd.push(("location", elsewhere.as_str()));
        let r = post_form(&app, "/gestione/servizi/nuovo", &cookies, &odd).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert!(r.text().contains(r##"href="#location""##), "{}", r.text());
        // Going back to the form keeps what was typed.
        let mut back = fields.clone();
        back.push(("modifica", "1"));
        let r = post_form(&app, "/gestione/servizi/nuovo", &cookies, &back).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.text().contains(r#"value="Telefonare il lunedì""#)
                || r.text().contains("Telefonare il lunedì</textarea>")
        );
        assert!(
            r.text()
                .contains(r#"id="lang-ar" name="languages" value="ar" checked"#),
            "{}",
            r.text()
        );
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
        assert_eq!(v["schedules"].as_array().unwrap().len(), 3, "{v}");
        assert_eq!(v["funding"][0]["source"], "Fondazione Cariplo");
        assert_eq!(v["cost_options"][0]["amount"], 4.5);
        assert_eq!(v["minimum_age"], 65.0);
        assert_eq!(v["eligibility_description"], "Persone sole");
        assert_eq!(v["languages"].as_array().unwrap().len(), 2, "{v}");
        // The edit form shows the saved values back.
        let edit = get_with(&app, &format!("/gestione/servizi/{id}"), &cookies).await;
        assert!(
            edit.text().contains(r#"name="th_opens_2" value="14:00""#),
            "{}",
            edit.text()
        );
        assert!(edit.text().contains(r#"value="4,50""#), "{}", edit.text());

        // A mistake comes back as the form, with the field named.
        fields[9] = ("tu_closes_1", "25:00");
        let bad = post_form(&app, &format!("/gestione/servizi/{id}"), &cookies, &fields).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        // The message links to the field that was typed wrong, and the form keeps what was typed.
        assert!(
            bad.text().contains(r##"href="#tu_closes_1""##),
            "{}",
            bad.text()
        );
        assert!(bad.text().contains(r#"value="25:00""#), "{}", bad.text());
        // Closing before opening, and an e-mail that is not one: refused, never saved.
        fields[9] = ("tu_closes_1", "08:00");
        let bad = post_form(&app, &format!("/gestione/servizi/{id}"), &cookies, &fields).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.text()
                .contains("Martedì, chiusura (1ª fascia): l&#39;orario di chiusura (08:00) deve venire dopo quello di apertura (12:00)"),
            "{}",
            bad.text()
        );
        // A second span that starts before the first closes, and ages the wrong way round.
        let mut overlap = fields.clone();
        overlap[9] = ("tu_closes_1", "14:30");
        overlap.push(("tu_opens_2", "14:00"));
        overlap.push(("tu_closes_2", "16:00"));
        let bad = post_form(&app, &format!("/gestione/servizi/{id}"), &cookies, &overlap).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.text().contains("Martedì, apertura (2ª fascia): deve venire dopo la chiusura della prima fascia (14:30)"), "{}", bad.text());
        let mut ages = fields.clone();
        ages[9] = ("tu_closes_1", "14:30");
        ages.push(("maximum_age", "18"));
        let bad = post_form(&app, &format!("/gestione/servizi/{id}"), &cookies, &ages).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.text()
                .contains("Età massima: non può essere sotto l&#39;età minima (65)"),
            "{}",
            bad.text()
        );
        fields[9] = ("tu_closes_1", "14:30");
        let mut with_email = fields.clone();
        with_email.push(("email", "not-an-email"));
        let bad = post_form(
            &app,
            &format!("/gestione/servizi/{id}"),
            &cookies,
            &with_email,
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.text().contains("not-an-email"), "{}", bad.text());
        let v = app.get(&format!("/hsds/services/{id}")).await.json();
        assert_eq!(v["schedules"][0]["closes_at"], "14:30");
        assert!(v["email"].is_null(), "{v}");

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
        let (other_cookies, other_csrf) = sign_in(&app, "altra@example.it", &"k".repeat(43)).await;
        // An account that administers no organisation has no new service to fill in.
        assert_eq!(
            get_with(&app, "/gestione/servizi/nuovo", &other_cookies)
                .await
                .status,
            StatusCode::OK,
            "the other organisation's admin may"
        );
        app.user_with_token("nessuno@example.it", &[]).await;
        let (nobody, _) = sign_in(&app, "nessuno@example.it", &"n".repeat(43)).await;
        assert_eq!(
            get_with(&app, "/gestione/servizi/nuovo", &nobody)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        // Nor preview a service as if it were that organisation's.
        let mut theirs: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(k, _)| *k != "csrf")
            .copied()
            .collect();
        theirs.push(("csrf", other_csrf.as_str()));
        theirs.push(("anteprima", "1"));
        let r = post_form(&app, "/gestione/servizi/nuovo", &other_cookies, &theirs).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
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
                &[("csrf", &other_csrf)]
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );

        // A name with a NUL, a category that does not exist: named, never a 500.
        let mut nul = fields.clone();
        nul[1] = ("name", "Pranzo\u{0}");
        let bad = post_form(&app, &format!("/gestione/servizi/{id}"), &cookies, &nul).await;
        assert_eq!(
            bad.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            bad.text()
        );
        assert!(bad.text().contains(r##"href="#name""##), "{}", bad.text());
        let nowhere = Uuid::now_v7().to_string();
        let mut unknown = fields.clone();
        unknown[4] = ("category", nowhere.as_str());
        let bad = post_form(&app, &format!("/gestione/servizi/{id}"), &cookies, &unknown).await;
        assert_eq!(
            bad.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            bad.text()
        );
        assert!(
            bad.text().contains(r##"href="#category""##),
            "{}",
            bad.text()
        );
        assert!(
            bad.text().contains("Categoria: non esiste"),
            "{}",
            bad.text()
        );

        // The territory's admin edits any organisation's service through the same form.
        app.user_with_token(
            "territorio@example.it",
            &[
                trama_core::auth::RoleGrant::new(trama_core::auth::Role::TerritoryAdmin, None)
                    .unwrap(),
            ],
        )
        .await;
        let (t_cookies, t_csrf) = sign_in(&app, "territorio@example.it", &"t".repeat(43)).await;
        let form = get_with(&app, &format!("/gestione/servizi/{id}"), &t_cookies).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(
            form.text()
                .contains(&format!(r#"<option value="{org_id}" selected>"#)),
            "{}",
            form.text()
        );
        let mut as_territory: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(k, _)| *k != "csrf")
            .copied()
            .collect();
        as_territory.push(("csrf", t_csrf.as_str()));
        as_territory[1] = ("name", "Pranzo solidale (verificato dal Comune)");
        let r = post_form(
            &app,
            &format!("/gestione/servizi/{id}"),
            &t_cookies,
            &as_territory,
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

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
        let email = format!("admin-{}@melograno.example.it", org.id.simple());
        let (cookies, csrf) = sign_in(&app, &email, &"c".repeat(43)).await;
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
        // Past the most offers one person may hold, the form says so in Italian and keeps
        // what was typed.
        fields[1] = ("organization", org_id.as_str());
        let mut last = None;
        for _ in 0..6 {
            last = Some(post_form(&app, "/aiuto/offri", &cookies, &fields).await);
        }
        let r = last.unwrap();
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert!(
            r.text().contains("una persona può avere al massimo"),
            "{}",
            r.text()
        );
        assert!(
            r.text().contains("con il furgone della cooperativa"),
            "{}",
            r.text()
        );
        // A volunteer with no organisation sees no such choice.
        let (_, _) = app.user_with_token("luca@example.it", &[]).await;
        let (luca, _) = sign_in(&app, "luca@example.it", &"c".repeat(43)).await;
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
        let (cookies, csrf) = sign_in(&app, "sale@melograno.example.it", &"c".repeat(43)).await;
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

/// The value of the input named `name` in a piece of HTML.
fn input_value(html: &str, name: &str) -> String {
    html.split(&format!(r#"name="{name}" value=""#))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no input {name} in {html}"))
        .to_string()
}

both!(care_budget_pages_for_each_role, |app: TestApp| async move {
    use trama_core::auth::{Role, RoleGrant};
    let grant = |r: Role, o: Option<OrganizationId>| RoleGrant::new(r, o).unwrap();
    let coop = app.organisation("Cooperativa Il Melograno").await;
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
    app.user_with_token("vicino@example.it", &[grant(Role::Volunteer, None)])
        .await;
    app.org_admin("coop@example.it", coop).await;

    // A funder, a programme, Mr. Rossi's consent, his allocation and plan (the API).
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
            "categories": ["A1"], "valid_from": "2026-01", "valid_to": "2026-12", "monthly_cap": 60000,
            "copay_bands": [{"isee_max": null, "copay": 2000}], "combinable": true});
    let programme = app
        .send(
            "POST",
            "/api/programmes",
            Some(&admin),
            &json!({"funder_id": f["id"], "rules": rules, "amount_per_beneficiary": 100000}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.follow(rossi, &rossi_t, &cm_t).await;
    let r = app
            .send("POST", &format!("/api/people/{rossi}/allocations"), Some(&admin),
                  &json!({"programme_id": programme, "amount": 100000, "decision_reference": "Det. 2026/118", "expires": "2026-12"}))
            .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let plan = json!({
        "goals": ["Restare a casa in sicurezza dopo la caduta"],
        "items": [{"category": "A1.1", "description": "Assistenza domiciliare", "unit_cost": 2500,
                   "per_month": 10, "from": "2026-03", "to": "2026-04",
                   "provider_organization_id": coop.to_string()}],
        "review_on": "2026-06-01",
        "agreement": {"parties": ["Mario Rossi", "Municipio 6"], "reference": "PAI 2026/311", "signed_on": "2026-02-20"}
    });
    let r = app
        .send(
            "POST",
            &format!("/api/people/{rossi}/plans"),
            Some(&cm_t),
            &plan,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // The case manager's workspace: her caseload, his file, the proposal, one click books.
    let csrf = "c".repeat(43);
    let (cm_c, _) = sign_in(&app, "cm@example.it", &csrf).await;
    let page = get_with(&app, "/sportello/budget", &cm_c).await;
    assert_eq!(page.status, StatusCode::OK);
    let file = format!("/sportello/budget/persone/{rossi}");
    assert!(page.text().contains(&file), "{}", page.text());
    let page = get_with(&app, &file, &cm_c).await.text();
    assert!(page.contains("Chi paga che cosa"), "{page}");
    assert!(
        page.contains("€\u{a0}1.000,00"),
        "the allocation in euros: {page}"
    );
    // 250.00 a month, 20 % co-payment: the programme pays 200.00 of each month.
    let form = page
        .split(&format!(r#"action="{file}/prenota""#))
        .nth(1)
        .expect("a booking form")
        .split("</form>")
        .next()
        .unwrap()
        .to_string();
    assert_eq!(input_value(&form, "amount"), "20000");
    assert_eq!(input_value(&form, "month"), "2026-03");
    let fields: Vec<(String, String)> = [
        "csrf",
        "key",
        "allocation_id",
        "category",
        "month",
        "amount",
        "provider",
    ]
    .iter()
    .map(|n| (n.to_string(), input_value(&form, n)))
    .collect();
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    for _ in 0..2 {
        // A double click: the same key books once.
        let r = post_form(&app, &format!("{file}/prenota"), &cm_c, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    }
    let b = app
        .get_auth(&format!("/api/people/{rossi}/budget"), &cm_t)
        .await
        .json();
    assert_eq!(
        (b["held"].as_i64(), b["bookings"].as_array().unwrap().len()),
        (Some(20000), 1),
        "{b}"
    );
    let page = get_with(&app, &format!("{file}?fatto=1"), &cm_c)
        .await
        .text();
    assert!(page.contains("prenotato"), "{page}");
    // Without the form token, nothing is booked.
    let mut forged = fields.clone();
    forged[0] = ("csrf", "forged");
    let r = post_form(&app, &format!("{file}/prenota"), &cm_c, &forged).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Others: a volunteer has no workspace and cannot open his file.
    let (vicino, _) = sign_in(&app, "vicino@example.it", &csrf).await;
    assert_eq!(
        get_with(&app, "/sportello/budget", &vicino).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get_with(&app, &file, &vicino).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        get_with(&app, "/io/budget", "")
            .await
            .status
            .is_redirection(),
        "my budget needs signing in"
    );

    // The provider sees the booking with his name only, and marks it delivered; a bill
    // beyond the booking is refused and nothing is paid.
    let (coop_c, coop_csrf) = sign_in(&app, "coop@example.it", &csrf).await;
    let page = get_with(&app, "/gestione/prenotazioni", &coop_c)
        .await
        .text();
    assert!(page.contains("rossi@example.it"), "{page}");
    assert!(
        !page.contains("Servizio di assistenza domiciliare") && !page.contains("Det. 2026/118"),
        "the provider sees nothing of the budget: {page}"
    );
    let booking = b["bookings"][0]["id"].as_str().unwrap().to_string();
    let deliver = format!("/gestione/prenotazioni/{booking}/consegna");
    let key = input_value(&page, "key");
    let r = post_form(
        &app,
        &deliver,
        &coop_c,
        &[
            ("csrf", &coop_csrf),
            ("key", &format!("{key}x")),
            ("amount", "250,00"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("nothing was paid"), "{}", r.text());
    let r = post_form(
        &app,
        &deliver,
        &coop_c,
        &[("csrf", &coop_csrf), ("key", &key), ("amount", "tanti")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = post_form(
        &app,
        &deliver,
        &coop_c,
        &[("csrf", &coop_csrf), ("key", &key), ("amount", "200,00")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let b = app.get_auth("/api/me/budget", &rossi_t).await.json();
    assert_eq!(
        (b["held"].as_i64(), b["spent"].as_i64()),
        (Some(0), Some(20000)),
        "{b}"
    );

    // Mr. Rossi's page: his allocation, what was spent, who looked, who follows him.
    let (rossi_c, rossi_csrf) = sign_in(&app, "rossi@example.it", &csrf).await;
    let page = get_with(&app, "/io/budget", &rossi_c).await.text();
    assert!(
        page.contains("Servizio di assistenza domiciliare"),
        "{page}"
    );
    assert!(page.contains("€\u{a0}800,00"), "available: {page}");
    assert!(
        page.contains("Chi ha consultato il mio fascicolo"),
        "{page}"
    );
    assert!(
        page.contains("cm@example.it</td><td>ha letto il budget"),
        "the case manager's reads are listed: {page}"
    );
    let en = get_with(&app, "/io/budget?lang=en", &rossi_c).await.text();
    assert!(
        en.contains("Who looked at my file") && en.contains("€800.00"),
        "{en}"
    );

    // The dashboard: totals, the bill beyond the booking, nobody named.
    let admin_c = {
        app.user_with_token("admin2@example.it", &[grant(Role::TerritoryAdmin, None)])
            .await;
        sign_in(&app, "admin2@example.it", &csrf).await.0
    };
    let page = get_with(&app, "/budget/cruscotto?dal=2026-01&al=2026-12", &admin_c).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(
        html.contains("Erogazioni fatturate oltre il prenotato (1)"),
        "{html}"
    );
    assert!(
        html.contains("<dd id=\"dashboard-spent\">€\u{a0}200,00</dd>"),
        "{html}"
    );
    assert!(
        !html.contains("rossi@example.it"),
        "the dashboard names a person"
    );
    assert!(
        html.contains("statement.csv?from=2026-01&#38;to=2026-12"),
        "{html}"
    );
    let r = get_with(&app, "/budget/cruscotto?dal=2026-13", &admin_c).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        get_with(&app, "/budget/cruscotto", &rossi_c).await.status,
        StatusCode::FORBIDDEN
    );

    // He withdraws the consent from his page: the case manager's access ends at once.
    let r = post_form(
        &app,
        &format!("/io/budget/consensi/{cm}/revoca"),
        &rossi_c,
        &[("csrf", &rossi_csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        get_with(&app, &file, &cm_c).await.status,
        StatusCode::NOT_FOUND
    );
});

// "I miei dati": the page, the download, and erasure with the password (no JavaScript).
both!(
    my_data_page_downloads_and_erases,
    |app: TestApp| async move {
        let (anna, _) = app
            .user_with_token(
                "anna@example.it",
                &[
                    trama_core::auth::RoleGrant::new(trama_core::auth::Role::Citizen, None)
                        .unwrap(),
                ],
            )
            .await;
        let r = get_with(&app, "/io/dati", "").await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "the anonymous sign in first"
        );
        let (cookies, csrf) = sign_in(&app, "anna@example.it", &"d".repeat(43)).await;
        let page = get_with(&app, "/io/dati", &cookies).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text().contains("/api/me/export"), "{}", page.text());
        let export = get_with(&app, "/api/me/export", &cookies).await;
        assert_eq!(export.status, StatusCode::OK);
        assert_eq!(export.json()["account"]["email"], "anna@example.it");
        // A wrong password erases nothing; a form without its token is refused.
        let r = post_form(
            &app,
            "/io/dati/cancella",
            &cookies,
            &[("csrf", csrf.as_str()), ("password", "non è questa")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(
            r.text().contains("nulla è stato cancellato"),
            "{}",
            r.text()
        );
        let r = post_form(
            &app,
            "/io/dati/cancella",
            &cookies,
            &[("password", "password-for-tests")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(
            app.store()
                .user(anna)
                .await
                .unwrap()
                .unwrap()
                .email
                .is_some()
        );
        let r = post_form(
            &app,
            "/io/dati/cancella",
            &cookies,
            &[("csrf", csrf.as_str()), ("password", "password-for-tests")],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(r.text().contains("id=\"kept\""), "{}", r.text());
        assert_eq!(app.store().user(anna).await.unwrap().unwrap().email, None);
        // The session went with the account.
        let r = get_with(&app, "/io/dati", &cookies).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
);

// Consent on the pages: a desk record after the person's withdrawal waits for the person,
// who sees it in "who follows me" and confirms it with a button.
both!(
    a_withdrawn_consent_waits_for_the_person_on_the_pages,
    |app: TestApp| async move {
        use trama_core::auth::{Role, RoleGrant};
        let org = app.organisation("Comune").await;
        let (rossi, rossi_t) = app
            .user_with_token(
                "rossi@example.it",
                &[RoleGrant::new(Role::Citizen, None).unwrap()],
            )
            .await;
        let (cm, cm_t) = app
            .user_with_token(
                "cm@example.it",
                &[RoleGrant::new(Role::CaseManager, Some(org)).unwrap()],
            )
            .await;
        let consent = format!("/api/people/{rossi}/budget/consent");
        app.follow(rossi, &rossi_t, &cm_t).await;
        let r = app
            .send(
                "DELETE",
                &format!("{consent}/{cm}"),
                Some(&rossi_t),
                &serde_json::json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        // The case manager records it again on her page: it waits, and the page says so.
        let (cm_cookies, cm_csrf) = sign_in(&app, "cm@example.it", &"e".repeat(43)).await;
        let r = post_form(
            &app,
            "/sportello/budget/consensi",
            &cm_cookies,
            &[
                ("csrf", cm_csrf.as_str()),
                ("email", "rossi@example.it"),
                ("consent_reference", "Prot. 2"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let to = r.headers[header::LOCATION].to_str().unwrap().to_string();
        assert_eq!(to, "/sportello/budget?in_attesa=1");
        // An address with no account gets the same answer: the desk learns nothing of who
        // has an account here.
        let r = post_form(
            &app,
            "/sportello/budget/consensi",
            &cm_cookies,
            &[
                ("csrf", cm_csrf.as_str()),
                ("email", "nessuno@example.it"),
                ("consent_reference", "Prot. 3"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(r.headers[header::LOCATION], "/sportello/budget?in_attesa=1");
        let page = get_with(&app, &to, &cm_cookies).await.text();
        assert!(page.contains("vale solo quando lo conferma"), "{page}");
        assert_eq!(
            get_with(
                &app,
                &format!("/sportello/budget/persone/{rossi}"),
                &cm_cookies
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );
        // Mr. Rossi sees it waiting, and confirms it.
        let (cookies, csrf) = sign_in(&app, "rossi@example.it", &"f".repeat(43)).await;
        let mine = get_with(&app, "/io/budget", &cookies).await.text();
        assert!(mine.contains("non vale finché non lo confermi"), "{mine}");
        assert!(
            mine.contains(&format!("/io/budget/consensi/{cm}/conferma")),
            "{mine}"
        );
        let r = post_form(
            &app,
            &format!("/io/budget/consensi/{cm}/conferma"),
            &cookies,
            &[("csrf", csrf.as_str())],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(
            get_with(
                &app,
                &format!("/sportello/budget/persone/{rossi}"),
                &cm_cookies
            )
            .await
            .status,
            StatusCode::OK
        );
    }
);
