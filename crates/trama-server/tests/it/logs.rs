//! Passwords never reach a log; metrics count requests.

use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::TestApp;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// A current-thread runtime: the handlers run on this thread, under this test's subscriber.
#[tokio::test]
async fn passwords_never_reach_a_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::sqlite().await;
    let secret = "una-password-riconoscibile-1234";
    app.sign_up("log@example.it", secret, "Log").await;
    let wrong = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            &json!({"email": "log@example.it", "password": "sbagliata-ma-riconoscibile"}),
        )
        .await;
    assert_eq!(wrong.status, axum::http::StatusCode::UNAUTHORIZED);
    let right = app
        .send(
            "POST",
            "/api/auth/login",
            None,
            &json!({"email": "log@example.it", "password": secret}),
        )
        .await;
    assert_eq!(right.status, axum::http::StatusCode::OK, "{}", right.text());
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // Both logins were logged, each as what it was.
    assert!(
        text.contains("failed login"),
        "the failure was logged: {text}"
    );
    assert!(
        text.contains("login user="),
        "the success was logged: {text}"
    );
    assert!(
        !text.contains(secret) && !text.contains("sbagliata-ma-riconoscibile"),
        "a password reached the log"
    );
}

#[tokio::test]
async fn metrics_count_requests() {
    let app = TestApp::sqlite_with_metrics().await;
    app.get("/hsds/services").await;
    // Only Prometheus, with its token, reads them.
    assert_eq!(
        app.get("/metrics").await.status,
        axum::http::StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_auth("/metrics", "not-the-token").await.status,
        axum::http::StatusCode::UNAUTHORIZED
    );
    let r = app.get_auth("/metrics", "prometheus-token-for-tests").await;
    assert_eq!(r.status, axum::http::StatusCode::OK);
    assert!(
        r.text().contains("trama_http_requests_total"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("route=\"/hsds/services\""));
}
