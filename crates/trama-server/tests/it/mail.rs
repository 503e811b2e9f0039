//! Notifications are mailed through a real SMTP conversation, to a receiver this test runs on
//! a local port; people without an address are not mailed, and a server that refuses leaves the
//! notification marked failed, not lost.

use serde_json::json;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use trama_server::AppState;
use trama_server::config::Secret;

use crate::{TestApp, both};

/// A minimal SMTP receiver: answers every command, keeps each message's envelope and data.
/// `refuse_rcpt` makes it reject recipients (a server that says no).
pub(crate) async fn smtp_receiver(refuse_rcpt: bool) -> (u16, Arc<Mutex<Vec<(String, String)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let keep = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let keep = keep.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 test ESMTP\r\n").await.unwrap();
                let (mut rcpt, mut data, mut in_data) = (String::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            keep.lock().unwrap().push((rcpt.clone(), data.clone()));
                            data.clear();
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let cmd = line.to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                        b"250-test\r\n250 8BITMIME\r\n"
                    } else if cmd.starts_with("RCPT") {
                        rcpt = line.clone();
                        if refuse_rcpt {
                            b"550 no such user\r\n"
                        } else {
                            b"250 ok\r\n"
                        }
                    } else if cmd.starts_with("DATA") {
                        in_data = true;
                        b"354 go ahead\r\n"
                    } else if cmd.starts_with("QUIT") {
                        w.write_all(b"221 bye\r\n").await.ok();
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, got)
}

pub(crate) fn with_smtp(app: &TestApp, port: u16) -> AppState {
    let mut config = (*app.state.config).clone();
    config.mail.smtp_url = Some(Secret::new(format!("smtp://127.0.0.1:{port}")));
    config.public_url = Some("https://trama.example.it".into());
    AppState::new(app.state.store.clone(), config, None).unwrap()
}

both!(
    notifications_are_mailed_over_smtp,
    |app: TestApp| async move {
        let (port, got) = smtp_receiver(false).await;
        let state = with_smtp(&app, port);
        let (anna, anna_token) = app.user_with_token("anna@example.it", &[]).await;
        let (_, marco) = app.user_with_token("marco@example.it", &[]).await;
        // Anna posts a need; Marco takes it: Anna is notified, in the app and by mail.
        let need = app
            .send(
                "POST",
                "/api/needs",
                Some(&anna_token),
                &json!({
            "category": "H1", "address": "Via Padova 10", "lat": 45.49, "lon": 9.22,
            "windows": [{"day": "wed", "from": "10:00", "to": "12:00"}], "recurring": true}),
            )
            .await
            .json();
        let offer = app
            .send(
                "POST",
                "/api/offers",
                Some(&marco),
                &json!({
            "categories": ["H1"], "lat": 45.491, "lon": 9.221, "radius_km": 2, "hours_per_week": 3,
            "availability": [{"day": "wed", "from": "09:00", "to": "13:00"}]}),
            )
            .await
            .json();
        let r = app
            .send(
                "POST",
                &format!("/api/needs/{}/accept", need["id"].as_str().unwrap()),
                Some(&marco),
                &json!({"offer_id": offer["id"]}),
            )
            .await;
        assert_eq!(r.status, axum::http::StatusCode::CREATED, "{}", r.text());
        assert_eq!(
            app.store().pending_emails(10).await.unwrap().len(),
            1,
            "one pending"
        );
        let mailer = trama_server::mail::Mailer::from_config(&state)
            .unwrap()
            .expect("configured");
        assert_eq!(
            trama_server::mail::send_pending(&state, Some(&mailer)).await,
            1
        );
        let mails = got.lock().unwrap().clone();
        assert_eq!(mails.len(), 1);
        assert!(mails[0].0.contains("anna@example.it"), "{}", mails[0].0);
        assert!(mails[0].1.contains("Un volontario si"), "{}", mails[0].1);
        assert!(mails[0].1.contains("https://trama.example.it/aiuto"));
        // Nothing is mailed twice.
        assert_eq!(
            trama_server::mail::send_pending(&state, Some(&mailer)).await,
            0
        );
        assert!(app.store().pending_emails(10).await.unwrap().is_empty());
        let _ = anna;
    }
);

both!(
    a_refusing_server_marks_the_mail_failed,
    |app: TestApp| async move {
        let (port, got) = smtp_receiver(true).await;
        let state = with_smtp(&app, port);
        let (anna, _) = app.user_with_token("anna@example.it", &[]).await;
        app.store()
            .notify(anna, "match", "match", "x", "Ciao", "Hello", true)
            .await
            .unwrap();
        let mailer = trama_server::mail::Mailer::from_config(&state)
            .unwrap()
            .unwrap();
        assert_eq!(
            trama_server::mail::send_pending(&state, Some(&mailer)).await,
            0
        );
        assert!(got.lock().unwrap().is_empty());
        // Marked failed, still visible in the app.
        assert!(app.store().pending_emails(10).await.unwrap().is_empty());
        assert_eq!(app.store().notifications(anna, 10).await.unwrap().len(), 1);
    }
);
