//! The server's test suite: requests go through the whole router, on SQLite and on PostgreSQL.

mod api;
mod authorisation;
mod budgets;
mod campaigns;
mod clock;
mod help;
mod homes;
mod hsds;
mod logs;
mod mail;
mod password;
mod register;
mod trust;
mod trust_lows;
mod views;
mod web;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use trama_core::auth::{Role, RoleGrant};
use trama_core::ids::{OrganizationId, UserId};
use trama_server::{AppState, Config};
use trama_store::{NewUser, Store, StoreOptions};

pub struct TestApp {
    pub state: AppState,
    pub router: axum::Router,
    /// The database URL (for tests that must reach under the store).
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// Asserts the error envelope with this status and code.
    pub fn assert_error(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        let v = self.json();
        assert_eq!(v["error"]["code"], code, "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{v}"
        );
        v
    }
}

impl TestApp {
    pub async fn sqlite() -> Self {
        let (dir, url) = trama_testkit::sqlite_url();
        Self::with(url, Some(dir)).await
    }

    pub async fn postgres() -> Self {
        let url = tokio::task::spawn_blocking(trama_testkit::postgres_url)
            .await
            .unwrap();
        Self::with(url, None).await
    }

    /// With the Prometheus recorder installed (one per test process).
    pub async fn sqlite_with_metrics() -> Self {
        static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
            std::sync::OnceLock::new();
        let handle = HANDLE
            .get_or_init(|| {
                metrics_exporter_prometheus::PrometheusBuilder::new()
                    .install_recorder()
                    .expect("one recorder")
            })
            .clone();
        let (dir, url) = trama_testkit::sqlite_url();
        let mut app = Self::with(url, Some(dir)).await;
        let mut config = (*app.state.config).clone();
        config.metrics_token = Some(trama_server::config::Secret::new(
            "prometheus-token-for-tests",
        ));
        let state = AppState::new(app.state.store.clone(), config, Some(handle)).unwrap();
        app.router = trama_server::router(state.clone());
        app.state = state;
        app
    }

    async fn with(url: String, dir: Option<tempfile::TempDir>) -> Self {
        let db_url = url.clone();
        let store = Store::connect(
            &url,
            &StoreOptions {
                max_connections: 4,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        store.migrate().await.unwrap();
        store.seed_taxonomies().await.unwrap();
        let mut config = Config::default();
        config.limits.max_body_bytes = 64 * 1024;
        let state = AppState::new(store, config, None).unwrap();
        let router = trama_server::router(state.clone());
        Self {
            state,
            router,
            url: db_url,
            _dir: dir,
        }
    }

    /// The same app telling time by `clock`: a test sets (and moves) the time instead of
    /// sleeping.
    pub fn with_clock(mut self, clock: std::sync::Arc<dyn trama_core::clock::Clock>) -> Self {
        let store = self.state.store.clone().with_clock(clock);
        let state = AppState::new(store, (*self.state.config).clone(), None).unwrap();
        self.router = trama_server::router(state.clone());
        self.state = state;
        self
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    pub async fn request(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.request(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_auth(&self, uri: &str, token: &str) -> Reply {
        self.request(
            Request::get(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// Sends JSON with a bearer token (or none). A grant (`POST .../allocations`) moves money
    /// and needs an `Idempotency-Key`: tests that are not about retries get a fresh one.
    pub async fn send(&self, method: &str, uri: &str, token: Option<&str>, body: &Value) -> Reply {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json");
        if method == "POST" && uri.ends_with("/allocations") {
            b = b.header("Idempotency-Key", uuid::Uuid::now_v7().to_string());
        }
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.request(b.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// A user with a password, the given roles, and an API token for them.
    pub async fn user_with_token(&self, email: &str, grants: &[RoleGrant]) -> (UserId, String) {
        let hash = trama_server::auth::hash_password(
            trama_core::auth::NewPassword::parse("password-for-tests").unwrap(),
        )
        .await
        .unwrap();
        let id = self
            .store()
            .create_user(&NewUser {
                email: Some(trama_core::auth::Email::parse(email).unwrap()),
                display_name: email.into(),
                password_hash: Some(hash),
                locale: "it".into(),
            })
            .await
            .unwrap();
        for g in grants {
            self.store().grant_role(id, g).await.unwrap();
        }
        let token = trama_server::auth::random_token();
        self.store()
            .create_api_token(id, "test", &trama_server::auth::sha256_hex(&token))
            .await
            .unwrap();
        (id, token)
    }

    /// An organisation in the directory (funders, providers and delegations name real ones).
    pub async fn organisation(&self, name: &str) -> OrganizationId {
        let id = uuid::Uuid::now_v7();
        self.store()
            .put_organizations(&[(
                trama_core::hsds::Organization {
                    id,
                    name: name.into(),
                    description: "d".into(),
                    ..Default::default()
                },
                None,
            )])
            .await
            .unwrap();
        OrganizationId::from(id)
    }

    /// The token of the link that confirms `email`, from the mail waiting in the outbox
    /// (the mail as sign-up wrote it: the test reads what the person would receive).
    /// Every link mailed to an address, newest first.
    pub async fn verification_tokens(&self, email: &str) -> Vec<String> {
        let user = self
            .store()
            .user_by_email(&trama_core::auth::Email::parse(email).unwrap())
            .await
            .unwrap()
            .expect("signed up");
        self.store()
            .notifications(user.id, 50)
            .await
            .unwrap()
            .iter()
            .filter(|n| n.kind == "account.verify")
            .filter_map(|n| {
                n.text_en
                    .split("token=")
                    .nth(1)
                    .and_then(|t| t.split_whitespace().next())
                    .map(str::to_string)
            })
            .collect()
    }

    pub async fn verification_token(&self, email: &str) -> String {
        let user = self
            .store()
            .user_by_email(&trama_core::auth::Email::parse(email).unwrap())
            .await
            .unwrap()
            .expect("signed up");
        let mails = self.store().notifications(user.id, 50).await.unwrap();
        let text = &mails
            .iter()
            .find(|n| n.kind == "account.verify")
            .expect("a mail with the link")
            .text_en;
        text.split("token=")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .expect("a link with its token")
            .to_string()
    }

    /// The place a hub is set in: the organisation "Rete Case di Quartiere" and its Casa di
    /// quartiere Giambellino (not a hub until its manager says what it offers).
    pub async fn hub_place(&self) -> (OrganizationId, trama_core::ids::LocationId) {
        use trama_core::hsds::{Location, Organization};
        let org = OrganizationId::new();
        let loc = trama_core::ids::LocationId::new();
        let o: Organization = serde_json::from_value(serde_json::json!({
            "id": org.to_string(), "name": "Rete Case di Quartiere", "description": "Hub"
        }))
        .unwrap();
        self.store().put_organizations(&[(o, None)]).await.unwrap();
        let l: Location = serde_json::from_value(serde_json::json!({
            "id": loc.to_string(), "organization_id": org.to_string(),
            "location_type": "physical", "name": "Casa di quartiere Giambellino",
            "latitude": 45.4525, "longitude": 9.139
        }))
        .unwrap();
        self.store().put_locations(&[l]).await.unwrap();
        (org, loc)
    }

    /// Signs up through the API and confirms the address, as a person following the mail.
    pub async fn sign_up(&self, email: &str, password: &str, name: &str) {
        let r = self
            .send(
                "POST",
                "/api/auth/signup",
                None,
                &serde_json::json!({"email": email, "password": password, "display_name": name}),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
        let token = self.verification_token(email).await;
        let r = self
            .send(
                "POST",
                "/api/auth/verify",
                None,
                &serde_json::json!({"token": token, "password": password}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    }

    /// A case manager follows a person: recorded at her desk, then confirmed by the person
    /// online (a desk record waits for a person who can sign in). Returns the consent.
    pub async fn follow(&self, person: UserId, person_token: &str, cm_token: &str) -> Value {
        let r = self
            .send(
                "POST",
                &format!("/api/people/{person}/budget/consent"),
                Some(cm_token),
                &serde_json::json!({"consent_reference": "Prot. 2026/4411"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["state"], "pending", "{}", r.text());
        let cm = r.json()["case_manager_id"].clone();
        let r = self
            .send(
                "POST",
                "/api/me/budget/consents",
                Some(person_token),
                &serde_json::json!({"case_manager_id": cm}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["state"], "active", "{}", r.text());
        r.json()
    }

    pub async fn org_admin(&self, email: &str, org: OrganizationId) -> String {
        self.user_with_token(
            email,
            &[RoleGrant::new(Role::OrganizationAdmin, Some(org)).unwrap()],
        )
        .await
        .1
    }
}

/// Declares a test once and runs it against both databases.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::TestApp::sqlite().await;
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = $crate::TestApp::postgres().await;
                ($body)(app).await;
            }
        }
    };
}

/// A role grant for a test's people (scoped to an organisation, or not).
pub fn grant(r: Role, o: Option<OrganizationId>) -> RoleGrant {
    RoleGrant::new(r, o).unwrap()
}

/// The value of the cookie `name` a reply sets, if it sets it.
pub fn set_cookie(r: &Reply, name: &str) -> Option<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .and_then(|c| c.split_once('='))
        .map(|(_, v)| v.to_string())
}

/// Posts an HTML form with these cookies, as a browser does.
pub async fn post_form(app: &TestApp, uri: &str, cookies: &str, fields: &[(&str, &str)]) -> Reply {
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

/// Gets a page with these cookies.
pub async fn get_with(app: &TestApp, uri: &str, cookies: &str) -> Reply {
    app.request(
        Request::get(uri)
            .header(header::COOKIE, cookies)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}
