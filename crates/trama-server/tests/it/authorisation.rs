//! The authorisation table (`trama_server::policy`): every route has a policy, nothing routes
//! around it, the router enforces it for every role on both databases, the OpenAPI document and
//! docs/SECURITY.md say the same.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use trama_core::auth::{Role, RoleGrant};
use trama_core::ids::OrganizationId;
use trama_server::policy::{Entry, Who};

use crate::{TestApp, both};

fn table() -> Vec<Entry> {
    trama_server::routes().into_parts().1
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Routes are added only through `policy::Routes`, which wants a policy for each: a route
/// added any other way would escape the table.
#[test]
fn no_route_bypasses_the_table() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 10);
    for f in files {
        if f.ends_with("policy.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for needle in [
            ".route(",
            ".route_service(",
            ".nest_service(",
            "routing::get(",
        ] {
            assert!(
                !text.contains(needle),
                "{} routes with `{needle}` outside policy::Routes",
                f.display()
            );
        }
    }
    let t = table();
    assert!(t.len() > 100, "{}", t.len());
    let mut seen = BTreeSet::new();
    for e in &t {
        assert!(
            seen.insert((e.method.clone(), e.path.clone())),
            "{} {} routed twice",
            e.method,
            e.path
        );
        assert!(!e.policy.note.is_empty(), "{} {}", e.method, e.path);
    }
}

/// The service layer knows nothing of HTTP and never reaches up: no `service.rs` uses axum,
/// the HTTP error type, the web plumbing, or its own feature's handlers and pages
/// (docs/ARCHITECTURE.md, "where new code goes").
#[test]
fn services_know_nothing_of_http() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let services: Vec<_> = files
        .into_iter()
        .filter(|f| f.ends_with("service.rs"))
        .collect();
    assert!(services.len() >= 7, "{services:?}");
    for f in services {
        let text = std::fs::read_to_string(&f).unwrap();
        for needle in [
            "axum",
            "ApiError",
            "ApiResult",
            "crate::error",
            "crate::web",
            "crate::policy",
            "::api::",
            "::pages::",
            "super::api",
            "super::pages",
        ] {
            assert!(
                !text.contains(needle),
                "{} mentions `{needle}`: a service takes typed inputs and returns a ServiceError",
                f.display()
            );
        }
    }
}

/// Pages and JSON handlers ask their feature's service, never the store: a page cannot check
/// less than the API, and a rule lives in one place.
#[test]
fn handlers_and_pages_never_read_the_store() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let pages: Vec<_> = files
        .into_iter()
        .filter(|f| {
            f.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.ends_with("pages.rs")
                    || n == "api.rs"
                    || n == "hsds.rs"
                    || n == "privacy.rs"
                    || n == "notifications.rs"
            })
        })
        .filter(|f| f.parent().and_then(|d| d.file_name()) != Some("src".as_ref()))
        .collect();
    assert!(pages.len() >= 17, "{pages:?}");
    for f in pages {
        let text = std::fs::read_to_string(&f).unwrap();
        let squeezed: String = text.split_whitespace().collect();
        assert!(
            !squeezed.contains(".store.") && !text.contains("trama_store::Store"),
            "{} reads the store; ask the feature's service",
            f.display()
        );
    }
}

/// Every operation the OpenAPI document describes is in the table with the same method, and
/// every JSON route of the table is described (but the few listed here).
#[tokio::test]
async fn the_table_and_the_openapi_document_agree() {
    let app = TestApp::sqlite().await;
    let doc = app.get("/api/openapi.json").await.json();
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let routed: BTreeSet<(String, String)> = table()
        .into_iter()
        .filter(|e| !e.page)
        .map(|e| {
            let p = e.path.replace("{*path}", "{path}");
            (e.method, p)
        })
        .collect();
    for op in &documented {
        assert!(routed.contains(op), "{op:?} is documented but not routed");
    }
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let allowed = [
        ("GET", "/api/openapi.json"),
        ("GET", "/metrics"),
        ("GET", "/hsds/"),
        ("GET", "/hsds"),
    ];
    for (m, p) in &undocumented {
        assert!(
            allowed.contains(&(m.as_str(), p.as_str())),
            "{m} {p} is routed but not in the OpenAPI document"
        );
    }
}

/// The matrix in docs/SECURITY.md is the table's (regenerate with
/// `cargo run -p trama -- routes --markdown`).
#[test]
fn security_md_shows_the_table() {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/SECURITY.md");
    let text = std::fs::read_to_string(&doc).expect("docs/SECURITY.md");
    let matrix = trama_server::policy::markdown(&table());
    assert!(
        text.contains(&matrix),
        "docs/SECURITY.md does not hold the current matrix: run `cargo run -p trama -- routes --markdown` and paste it between the markers"
    );
}

/// A concrete path for a route pattern: random ids (the router's check comes before any
/// lookup), `x` for a wildcard.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with("{*") {
                "x".to_string()
            } else if seg.starts_with('{') {
                uuid::Uuid::now_v7().to_string()
            } else {
                seg.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, String) {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let r = app.request(b.body(Body::from("{}")).unwrap()).await;
    let location = r
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (r.status, location)
}

// The router's check, for every route, the anonymous and every role.
both!(the_router_enforces_the_table, |app: TestApp| async move {
    let org = OrganizationId::new();
    let mut tokens = Vec::new();
    for (i, role) in Role::ALL.into_iter().enumerate() {
        let grant = RoleGrant::new(role, role.is_scoped().then_some(org)).unwrap();
        let (_, t) = app
            .user_with_token(&format!("role{i}@example.it"), &[grant])
            .await;
        tokens.push((role, t));
    }
    let mut checked = 0;
    for e in table() {
        if matches!(e.policy.who, Who::Anyone | Who::MetricsToken) {
            continue;
        }
        let path = concrete(&e.path);
        // The anonymous: 401, or the sign-in page for pages.
        let (status, location) = call(&app, &e.method, &path, None).await;
        if e.page {
            assert_eq!(status, StatusCode::SEE_OTHER, "{} {}", e.method, e.path);
            assert!(
                location.starts_with("/accedi?next="),
                "{} {}",
                e.method,
                e.path
            );
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{} {}", e.method, e.path);
        }
        // Each role: refused by the router exactly where the table says.
        for (role, t) in &tokens {
            let (status, _) = call(&app, &e.method, &path, Some(t)).await;
            let admitted = e.policy.admits(true, &[*role]);
            if admitted {
                assert_ne!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{} {} as {role}",
                    e.method,
                    e.path
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{} {} as {role}: the table refuses it",
                    e.method,
                    e.path
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 400, "{checked}");
});
