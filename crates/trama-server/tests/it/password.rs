//! A forgotten password (issue 14): the link goes through the mail outbox, the answer is the
//! same for every address, the link works once and for a while, the old password and every
//! open session end, bad input is named; in the API and in the pages.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::{TestApp, both, get_with, post_form, set_cookie};

/// The token of the newest reset link mailed to `email`.
async fn reset_token(app: &TestApp, email: &str) -> Option<String> {
    let user = app
        .store()
        .user_by_email(&trama_core::auth::Email::parse(email).unwrap())
        .await
        .unwrap()?;
    let mails = app.store().notifications(user.id, 50).await.unwrap();
    mails
        .iter()
        .find(|n| n.kind == "account.reset")
        .and_then(|n| n.text_en.split("token=").nth(1))
        .and_then(|t| t.split_whitespace().next())
        .map(str::to_string)
}

async fn login(app: &TestApp, email: &str, password: &str) -> StatusCode {
    app.send(
        "POST",
        "/api/auth/login",
        None,
        &json!({"email": email, "password": password}),
    )
    .await
    .status
}

both!(
    a_forgotten_password_is_reset_through_the_mail,
    |app: TestApp| async move {
        app.sign_up("giulia@example.it", "la mia vecchia password", "Giulia")
            .await;
        // A session open with the old password.
        let old = app
            .send(
                "POST",
                "/api/auth/login",
                None,
                &json!({"email": "giulia@example.it", "password": "la mia vecchia password"}),
            )
            .await;
        assert_eq!(old.status, StatusCode::OK, "{}", old.text());
        let old_session = set_cookie(&old, "trama_session").expect("a session");

        // The same answer for an address with an account, one without, and one never confirmed.
        let ask = |email: &str| json!({ "email": email });
        let mine = app
            .send(
                "POST",
                "/api/auth/password-reset",
                None,
                &ask("giulia@example.it"),
            )
            .await;
        let nobody = app
            .send(
                "POST",
                "/api/auth/password-reset",
                None,
                &ask("nessuno@example.it"),
            )
            .await;
        assert_eq!(mine.status, StatusCode::ACCEPTED, "{}", mine.text());
        assert_eq!(nobody.status, StatusCode::ACCEPTED);
        assert_eq!(mine.json(), nobody.json());
        assert!(reset_token(&app, "nessuno@example.it").await.is_none());
        // Not an address: named.
        app.send("POST", "/api/auth/password-reset", None, &ask("giulia"))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");

        let token = reset_token(&app, "giulia@example.it")
            .await
            .expect("mailed");
        let confirm = |token: &str, password: &str| json!({"token": token, "password": password});
        // A weak password, an unknown token: named, and nothing changes.
        let weak = app
            .send(
                "POST",
                "/api/auth/password-reset/confirm",
                None,
                &confirm(&token, "password"),
            )
            .await;
        let e: Value = weak.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert!(e.to_string().contains("password"), "{e}");
        app.send(
            "POST",
            "/api/auth/password-reset/confirm",
            None,
            &confirm("non-un-token", "una password nuova e lunga"),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(
            login(&app, "giulia@example.it", "la mia vecchia password").await,
            StatusCode::OK
        );

        // The new password: the old one and the open session end; the link works once.
        let r = app
            .send(
                "POST",
                "/api/auth/password-reset/confirm",
                None,
                &confirm(&token, "una password nuova e lunga"),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        assert_eq!(
            login(&app, "giulia@example.it", "la mia vecchia password").await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            login(&app, "giulia@example.it", "una password nuova e lunga").await,
            StatusCode::OK
        );
        let me = get_with(&app, "/api/me", &format!("trama_session={old_session}")).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED, "the old session ended");
        app.send(
            "POST",
            "/api/auth/password-reset/confirm",
            None,
            &confirm(&token, "ancora un'altra password"),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        // The owner is told, and the mailed link is not kept.
        let user = app
            .store()
            .user_by_email(&trama_core::auth::Email::parse("giulia@example.it").unwrap())
            .await
            .unwrap()
            .unwrap();
        let mails = app.store().notifications(user.id, 50).await.unwrap();
        assert!(mails.iter().any(|n| n.kind == "account.password_changed"));
        assert!(mails.iter().all(|n| !n.text_en.contains(&token)));
    }
);

both!(
    the_password_pages_work_without_javascript,
    |app: TestApp| async move {
        app.sign_up("marco@example.it", "la mia vecchia password", "Marco")
            .await;
        let csrf = "c".repeat(43);
        let cookie = format!("trama_csrf={csrf}");
        // The sign-in page leads to the form.
        let sign_in_page = app.get("/accedi").await.text();
        assert!(
            sign_in_page.contains("/password-dimenticata"),
            "{sign_in_page}"
        );
        let form = app.get("/password-dimenticata").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.text().contains("Password dimenticata?"));
        // Without the form's token: refused.
        let r = post_form(
            &app,
            "/password-dimenticata",
            &cookie,
            &[("email", "marco@example.it")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // A mistake keeps what was typed, with the reason in Italian.
        let r = post_form(
            &app,
            "/password-dimenticata",
            &cookie,
            &[("csrf", &csrf), ("email", "marco")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains(r#"value="marco""#), "{}", r.text());
        assert!(
            r.text().contains("non è un indirizzo e-mail"),
            "{}",
            r.text()
        );
        let r = post_form(
            &app,
            "/password-dimenticata",
            &cookie,
            &[("csrf", &csrf), ("email", "marco@example.it")],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(r.text().contains("entro 2 ore"), "{}", r.text());
        let token = reset_token(&app, "marco@example.it").await.expect("mailed");

        // The link opens the form; a short password is named; then it is saved.
        let page = app.get(&format!("/password-nuova?token={token}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text().contains("Scegli una nuova password"));
        assert_eq!(
            app.get("/password-nuova").await.status,
            StatusCode::SEE_OTHER,
            "no token: back to the request form"
        );
        let r = post_form(
            &app,
            "/password-nuova",
            &cookie,
            &[("csrf", &csrf), ("token", &token), ("password", "corta")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("Password"), "{}", r.text());
        let r = post_form(
            &app,
            "/password-nuova",
            &cookie,
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("password", "una password nuova e lunga"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(r.text().contains("La nuova password è salvata"));
        assert_eq!(
            login(&app, "marco@example.it", "una password nuova e lunga").await,
            StatusCode::OK
        );
    }
);

// A person changes their name, language and password from their profile: the password needs
// the current one, ends the other sessions and keeps this one; mistakes keep what was typed.
both!(a_person_keeps_their_profile, |app: TestApp| async move {
    app.sign_up("anna@example.it", "la mia vecchia password", "Anna")
        .await;
    let other = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            &json!({"email": "anna@example.it", "password": "la mia vecchia password"}),
        )
        .await;
    let other_session = set_cookie(&other, "trama_session").expect("a session");
    let csrf = "c".repeat(43);
    let r = post_form(
        &app,
        "/accedi",
        &format!("trama_csrf={csrf}"),
        &[
            ("email", "anna@example.it"),
            ("password", "la mia vecchia password"),
            ("csrf", &csrf),
        ],
    )
    .await;
    let session = set_cookie(&r, "trama_session").expect("signed in");
    let fresh = set_cookie(&r, "trama_csrf").expect("a token");
    let cookies = format!("trama_csrf={fresh}; trama_session={session}");
    let page = get_with(&app, "/io/profilo", &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("anna@example.it") && html.contains(r#"value="Anna""#),
        "{html}"
    );
    assert!(
        html.contains(r#"href="/io/profilo""#),
        "the name in the header leads here"
    );
    let token = html
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();

    // Name and language.
    for bad in [" ", "Anna\r\nBcc: evil@example.org", "Anna\u{202E}annA"] {
        let r = post_form(
            &app,
            "/io/profilo",
            &cookies,
            &[("csrf", &token), ("display_name", bad), ("locale", "en")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    }
    let r = post_form(
        &app,
        "/io/profilo",
        &cookies,
        &[
            ("csrf", &token),
            ("display_name", "Anna Bellini"),
            ("locale", "fr"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(r#"value="Anna Bellini""#), "{}", r.text());
    let r = post_form(
        &app,
        "/io/profilo",
        &cookies,
        &[
            ("csrf", &token),
            ("display_name", "Anna Bellini"),
            ("locale", "en"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let u = app
        .store()
        .user_by_email(&trama_core::auth::Email::parse("anna@example.it").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.display_name.as_str(), u.locale.as_str()),
        ("Anna Bellini", "en")
    );

    // A reset link asked for earlier stops working once the password is changed here.
    app.send(
        "POST",
        "/api/auth/password-reset",
        None,
        &json!({"email": "anna@example.it"}),
    )
    .await;
    let earlier = reset_token(&app, "anna@example.it").await.expect("mailed");
    // The password: the current one is required; then the other session ends, this one stays.
    let r = post_form(
        &app,
        "/io/profilo/password",
        &cookies,
        &[
            ("csrf", &token),
            ("current_password", "non è questa"),
            ("new_password", "una password nuova e lunga"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().contains("non è la tua password attuale"),
        "{}",
        r.text()
    );
    let r = post_form(
        &app,
        "/io/profilo/password",
        &cookies,
        &[
            ("csrf", &token),
            ("current_password", "la mia vecchia password"),
            ("new_password", "corta"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = post_form(
        &app,
        "/io/profilo/password",
        &cookies,
        &[
            ("csrf", &token),
            ("current_password", "la mia vecchia password"),
            ("new_password", "una password nuova e lunga"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        get_with(&app, "/io/profilo", &cookies).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get_with(&app, "/api/me", &format!("trama_session={other_session}"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, "anna@example.it", "una password nuova e lunga").await,
        StatusCode::OK
    );
    app.send(
        "POST",
        "/api/auth/password-reset/confirm",
        None,
        &json!({"token": earlier, "password": "la password di un intruso"}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    // Anonymous: the sign-in page.
    assert_eq!(app.get("/io/profilo").await.status, StatusCode::SEE_OTHER);
});
