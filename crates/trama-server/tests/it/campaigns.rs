//! Campaigns the territory opens: their days and districts, closing them, and their pages
//! (the list, a campaign, the admin's form, the desk's phone intake), tried by every role, by
//! anonymous readers and with bad input.

use crate::{TestApp, both, get_with, grant, post_form};
use axum::http::StatusCode;
use serde_json::json;
use trama_core::auth::Role;
use trama_core::moment::format_date;

/// A day `days` from the app's today, as a form sends it.
fn day(app: &TestApp, days: i64) -> String {
    format_date(app.state.now_local().date() + time::Duration::days(days))
}

fn need_for(campaign: &str) -> serde_json::Value {
    json!({"category": "H1", "description": "Spesa per una persona anziana sola",
        "address": "Via Padova 10", "lat": 45.4960, "lon": 9.2260,
        "windows": [{"day": "tue", "from": "09:00", "to": "12:00"}], "recurring": true,
        "duration_minutes": 60, "urgency": "high", "campaign_id": campaign})
}

both!(
    campaigns_have_days_and_districts_and_close_by_hand,
    |app: TestApp| async move {
        let (_, admin) = app
            .user_with_token("admin@comune.it", &[grant(Role::TerritoryAdmin, None)])
            .await;
        let (_, anna) = app.user_with_token("anna@example.it", &[]).await;
        let (_, auditor) = app
            .user_with_token("revisore@comune.it", &[grant(Role::Auditor, None)])
            .await;
        let body = |from: String, to: String, areas: serde_json::Value| {
            json!({"name": "Freddo e influenza", "kind": "flu_season", "categories": ["H1", "H2"],
                "starts_on": from, "ends_on": to, "areas": areas})
        };
        // Bad days and unknown districts are named.
        let e = app
            .send(
                "POST",
                "/api/campaigns",
                Some(&admin),
                &body(day(&app, 5), day(&app, 4), json!([])),
            )
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(e["error"]["field"], "ends_on", "{e}");
        let e = app
            .send(
                "POST",
                "/api/campaigns",
                Some(&admin),
                &body(day(&app, -30), day(&app, -1), json!([])),
            )
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(e["error"]["field"], "ends_on", "{e}");
        let e = app
            .send(
                "POST",
                "/api/campaigns",
                Some(&admin),
                &body("domani".into(), String::new(), json!([])),
            )
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(e["error"]["field"], "starts_on", "{e}");
        let e = app
            .send(
                "POST",
                "/api/campaigns",
                Some(&admin),
                &body(day(&app, 0), String::new(), json!(["2", "42"])),
            )
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference");
        assert_eq!(e["error"]["field"], "areas[1]", "{e}");
        // Nobody else opens one; an anonymous caller is asked to sign in.
        for who in [&anna, &auditor] {
            app.send(
                "POST",
                "/api/campaigns",
                Some(who),
                &body(day(&app, 0), String::new(), json!([])),
            )
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        app.send(
            "POST",
            "/api/campaigns",
            None,
            &body(day(&app, 0), String::new(), json!([])),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");

        // One running now, over Municipi 2 and 3; one that starts next week.
        let r = app
            .send(
                "POST",
                "/api/campaigns",
                Some(&admin),
                &body(day(&app, -3), day(&app, 30), json!(["2", "3", "2"])),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let running = r.json();
        assert_eq!(running["phase"], "running", "{running}");
        assert_eq!(running["areas"], json!(["2", "3"]));
        assert_eq!(running["starts_on"], day(&app, -3));
        assert_eq!(running["ends_on"], day(&app, 30));
        let cid = running["id"].as_str().unwrap().to_string();
        let later = app
            .send(
                "POST",
                "/api/campaigns",
                Some(&admin),
                &body(day(&app, 7), String::new(), json!([])),
            )
            .await
            .json();
        assert_eq!(later["phase"], "upcoming", "{later}");
        assert!(later.get("ends_on").is_none(), "{later}");
        let later_id = later["id"].as_str().unwrap().to_string();

        // A running campaign takes needs of its kinds of help, in its districts; one not
        // started yet takes none.
        let mut other_help = need_for(&cid);
        other_help["category"] = json!("H5");
        let e = app
            .send("POST", "/api/needs", Some(&anna), &other_help)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(e["error"]["field"], "category", "{e}");
        let mut elsewhere = need_for(&cid);
        // Baggio, Municipio 7.
        elsewhere["lat"] = json!(45.4600);
        elsewhere["lon"] = json!(9.0880);
        let e = app
            .send("POST", "/api/needs", Some(&anna), &elsewhere)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(e["error"]["field"], "area", "{e}");
        let r = app
            .send("POST", "/api/needs", Some(&anna), &need_for(&cid))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let e = app
            .send("POST", "/api/needs", Some(&anna), &need_for(&later_id))
            .await
            .assert_error(StatusCode::CONFLICT, "conflict");
        assert!(e.to_string().contains("not started"), "{e}");

        // Closing: only the admin, once; then the campaign takes no more needs.
        let close = format!("/api/campaigns/{cid}/close");
        app.send("POST", &close, None, &json!({}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        for who in [&anna, &auditor] {
            app.send("POST", &close, Some(who), &json!({}))
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        app.send(
            "POST",
            "/api/campaigns/not-an-id/close",
            Some(&admin),
            &json!({}),
        )
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
        app.send(
            "POST",
            &format!("/api/campaigns/{}/close", uuid::Uuid::now_v7()),
            Some(&admin),
            &json!({}),
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
        let closed = app.send("POST", &close, Some(&admin), &json!({})).await;
        assert_eq!(closed.status, StatusCode::OK, "{}", closed.text());
        assert_eq!(closed.json()["phase"], "ended");
        // Closing keeps the days it was planned for.
        assert_eq!(closed.json()["ends_on"], day(&app, 30));
        app.send("POST", &close, Some(&admin), &json!({}))
            .await
            .assert_error(StatusCode::CONFLICT, "conflict");
        app.send("POST", "/api/needs", Some(&anna), &need_for(&cid))
            .await
            .assert_error(StatusCode::CONFLICT, "conflict");
        // What it gathered stays counted, in the list too.
        let c = app.get(&format!("/api/campaigns/{cid}")).await.json();
        assert_eq!(c["counts"]["needs"], 1, "{c}");
        let all = app.get("/api/campaigns").await.json();
        let listed = all
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == cid.as_str())
            .unwrap();
        assert_eq!(listed["counts"]["needs"], 1, "{all}");
        // Its public page does not single out the one person who asked in an area.
        let page = app.get(&format!("/campagne/{cid}")).await.text();
        assert!(page.contains("Altre zone"), "{page}");
        // Each kind of help once, however many times it is written.
        let twice = app
            .send(
                "POST",
                "/api/campaigns",
                Some(&admin),
                &json!({"name": "Doppio", "kind": "other", "categories": ["H1", "H1", "H2"]}),
            )
            .await
            .json();
        assert_eq!(twice["categories"].as_array().unwrap().len(), 2, "{twice}");
        // A first day a century away is not a campaign.
        let e = app
            .send(
                "POST",
                "/api/campaigns",
                Some(&admin),
                &body("9999-12-30".into(), String::new(), json!([])),
            )
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(e["error"]["field"], "starts_on", "{e}");
        // The form of a campaign that has not started says so at once, and files no need
        // under it.
        app.user_with_token("volontario@example.it", &[]).await;
        let csrf = "z".repeat(43);
        let (cookies, _) = crate::web::sign_in(&app, "volontario@example.it", &csrf).await;
        let form = crate::get_with(
            &app,
            &format!("/aiuto/chiedi?campagna={later_id}"),
            &cookies,
        )
        .await
        .text();
        assert!(form.contains("non raccoglie richieste oggi"), "{form}");
        assert!(!form.contains(r#"name="campaign_id""#), "{form}");
    }
);

both!(
    the_territory_opens_and_closes_campaigns_from_its_pages,
    |app: TestApp| async move {
        let csrf = "k".repeat(43);
        let org = app.organisation("Rete Solidale Padova").await;
        app.user_with_token("admin@comune.it", &[grant(Role::TerritoryAdmin, None)])
            .await;
        app.user_with_token("anna@example.it", &[]).await;
        app.user_with_token("revisore@comune.it", &[grant(Role::Auditor, None)])
            .await;
        app.user_with_token("operatrice@rete.it", &[grant(Role::Operator, Some(org))])
            .await;
        let (admin, admin_t) = crate::web::sign_in(&app, "admin@comune.it", &csrf).await;
        let (anna, anna_t) = crate::web::sign_in(&app, "anna@example.it", &csrf).await;
        let (auditor, auditor_t) = crate::web::sign_in(&app, "revisore@comune.it", &csrf).await;
        let (op, op_t) = crate::web::sign_in(&app, "operatrice@rete.it", &csrf).await;

        // The form: anonymous readers are sent to sign in, other roles refused.
        let r = app.get("/campagne/nuova").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        for who in [&anna, &auditor, &op] {
            assert_eq!(
                get_with(&app, "/campagne/nuova", who).await.status,
                StatusCode::FORBIDDEN
            );
        }
        let form = get_with(&app, "/campagne/nuova", &admin).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.text());
        assert!(form.text().contains("Municipio 2"), "{}", form.text());
        // The admin's menu reaches the campaigns.
        assert!(form.text().contains(r#"href="/campagne""#));

        // A mistake keeps what was typed and says it in Italian, next to the field.
        let from = day(&app, 0);
        let bad = post_form(
            &app,
            "/campagne/nuova",
            &admin,
            &[
                ("csrf", &admin_t),
                ("name", "Freddo e influenza – dicembre"),
                ("kind", "flu_season"),
                ("categories", "H1"),
                ("categories", "H2"),
                ("starts_on", &from),
                ("ends_on", &day(&app, -1)),
                ("areas", "2"),
            ],
        )
        .await;
        assert_eq!(
            bad.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            bad.text()
        );
        let page = bad.text();
        assert!(page.contains(r##"href="#ends_on""##), "{page}");
        assert!(
            page.contains(r#"value="Freddo e influenza – dicembre""#),
            "{page}"
        );
        assert!(page.contains(r#"value="2" checked"#), "{page}");
        assert!(!page.contains("ends_on:"), "no machine words: {page}");
        // No kind of help chosen.
        let none = post_form(
            &app,
            "/campagne/nuova",
            &admin,
            &[
                ("csrf", &admin_t),
                ("name", "Senza aiuti"),
                ("kind", "other"),
                ("starts_on", &from),
            ],
        )
        .await;
        assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            none.text().contains(r##"href="#cat-H1""##),
            "{}",
            none.text()
        );

        // Other roles cannot post it, whatever the token.
        for (who, t) in [(&anna, &anna_t), (&auditor, &auditor_t), (&op, &op_t)] {
            let r = post_form(
                &app,
                "/campagne/nuova",
                who,
                &[
                    ("csrf", t),
                    ("name", "x"),
                    ("kind", "other"),
                    ("categories", "H1"),
                ],
            )
            .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN);
        }
        let ok = post_form(
            &app,
            "/campagne/nuova",
            &admin,
            &[
                ("csrf", &admin_t),
                ("name", "Freddo e influenza – dicembre"),
                ("kind", "flu_season"),
                ("description", "Telefonate e spesa per chi è solo."),
                ("categories", "H1"),
                ("categories", "H2"),
                ("starts_on", &from),
                ("ends_on", &day(&app, 40)),
                ("areas", "2"),
                ("areas", "3"),
            ],
        )
        .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
        let to = ok.headers["location"].to_str().unwrap().to_string();
        assert!(to.ends_with("?fatto=aperta"), "{to}");
        let cid = to
            .trim_start_matches("/campagne/")
            .trim_end_matches("?fatto=aperta")
            .to_string();

        // Its page, public, in words: days, districts, kinds of help, state.
        let page = app.get(&format!("/campagne/{cid}")).await.text();
        let today = app.state.now_local().date();
        let words = trama_server::web::i18n::date_words(today, trama_server::web::i18n::Lang::It);
        assert!(page.contains(&words), "{page}");
        assert!(
            page.contains("Municipio 2") && page.contains("Municipio 3"),
            "{page}"
        );
        assert!(page.contains("Spesa e commissioni"), "{page}");
        assert!(page.contains("In corso"), "{page}");
        assert!(
            !page.contains("flu_season") && !page.contains("running"),
            "{page}"
        );
        // The list shows it to everyone, the admin's button only to the admin.
        let list = app.get("/campagne").await.text();
        assert!(list.contains("Freddo e influenza – dicembre"), "{list}");
        assert!(!list.contains("/campagne/nuova"), "{list}");
        assert!(
            get_with(&app, "/campagne", &admin)
                .await
                .text()
                .contains("/campagne/nuova")
        );
        assert_eq!(
            app.get("/campagne/not-an-id").await.status,
            StatusCode::BAD_REQUEST
        );

        // The desk takes requests by phone: registering a caller for the campaign opens its
        // form, already urgent, offering only the campaign's kinds of help.
        let desk = get_with(&app, "/sportello", &op).await.text();
        assert!(
            desk.contains(&format!(r#"<option value="{cid}">"#)),
            "{desk}"
        );
        let r = post_form(
            &app,
            "/sportello/persone",
            &op,
            &[
                ("csrf", &op_t),
                ("display_name", "Giuseppe Colombo"),
                ("consent_reference", "Telefonata del 7 dicembre"),
                ("phone", ""),
                ("campagna", &cid),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let intake = r.headers["location"].to_str().unwrap().to_string();
        assert!(intake.ends_with(&format!("&campagna={cid}")), "{intake}");
        let form = get_with(&app, &intake, &op).await.text();
        assert!(form.contains("Freddo e influenza – dicembre"), "{form}");
        assert!(
            form.contains(r#"value="H2""#) && !form.contains(r#"value="H5""#),
            "{form}"
        );

        // Closing from the page: only the admin.
        let close = format!("/campagne/{cid}/chiudi");
        for (who, t) in [(&anna, &anna_t), (&auditor, &auditor_t), (&op, &op_t)] {
            assert_eq!(
                post_form(&app, &close, who, &[("csrf", t)]).await.status,
                StatusCode::FORBIDDEN
            );
        }
        let r = post_form(&app, &close, &admin, &[("csrf", &admin_t)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let page = get_with(&app, &format!("/campagne/{cid}?fatto=chiusa"), &admin)
            .await
            .text();
        assert!(page.contains("Conclusa"), "{page}");
        assert!(!page.contains(&format!("/campagne/{cid}/chiudi")), "{page}");
        assert!(
            !page.contains("?campagna="),
            "no intake once closed: {page}"
        );
        // Closing twice is a clear refusal, not an error page of the server.
        let again = post_form(&app, &close, &admin, &[("csrf", &admin_t)]).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
        // The list moves it among the past ones; the desk no longer offers it.
        assert!(
            app.get("/campagne")
                .await
                .text()
                .contains("Campagne concluse")
        );
        assert!(
            !get_with(&app, "/sportello", &op)
                .await
                .text()
                .contains(&cid)
        );
        // A post that is no form is refused in the page's words, not the framework's.
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/campagne/nuova")
            .header("cookie", &admin)
            .body(axum::body::Body::empty())
            .unwrap();
        let r = app.request(req).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text());
        assert!(
            r.text().contains("Il modulo non è arrivato"),
            "{}",
            r.text()
        );
    }
);
