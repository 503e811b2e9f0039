//! The authorisation table driven against the demo territory, on SQLite and on a real
//! PostgreSQL: `trama demo` serves the synthetic Milan, each demo login (and the anonymous)
//! calls every route of `trama routes` with the demo's own ids, and each answer must be what
//! the table says: never a server error; 401 (or the sign-in page) for the anonymous where one
//! must sign in; the router's 403 exactly for the roles the table refuses; and, for the
//! routes that read a person's file, the scope: the person, their case manager (with consent
//! given to her organisation) and the auditor see it, the operator of another organisation, a
//! provider and a stranger get 404.

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const PASSWORD: &str = "trama-demo-2026";
const LOGINS: [&str; 9] = [
    "cittadino@demo.trama.it",
    "volontario@demo.trama.it",
    "operatore@demo.trama.it",
    "casemanager@demo.trama.it",
    "hub@demo.trama.it",
    "fornitore@demo.trama.it",
    "territorio@demo.trama.it",
    "revisore@demo.trama.it",
    "beneficiario@demo.trama.it",
];

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn demo(db: Option<&str>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trama"));
    cmd.args(["--data-dir", dir.path().to_str().unwrap()]);
    if let Some(db) = db {
        cmd.args(["--database", db]);
    }
    let child = cmd
        .args([
            "demo",
            "--scale",
            "0.1",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("TRAMA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start trama demo");
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        if let Ok(r) = ureq::get(&format!("{base}/readyz")).call()
            && r.status() == 200
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the demo did not become ready"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Server {
        child,
        base,
        _dir: dir,
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

struct Answer {
    status: u16,
    location: String,
    body: String,
}

/// One call; a connection the server closed after answering without reading a body (hyper
/// does so for an early 401 or 403) is not an answer, so the call is sent again once.
fn call(a: &ureq::Agent, method: &str, url: &str, token: Option<&str>) -> Answer {
    match try_call(a, method, url, token) {
        Ok(r) => r,
        Err(_) => try_call(a, method, url, token).unwrap_or_else(|e| panic!("{method} {url}: {e}")),
    }
}

fn try_call(
    a: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
) -> Result<Answer, ureq::Error> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let r = match method {
        "GET" => {
            let mut req = a.get(url);
            if let Some(h) = &auth {
                req = req.header("Authorization", h);
            }
            req.call()
        }
        "DELETE" => {
            let mut req = a.delete(url);
            if let Some(h) = &auth {
                req = req.header("Authorization", h);
            }
            req.call()
        }
        m => {
            let mut req = match m {
                "POST" => a.post(url),
                "PUT" => a.put(url),
                other => panic!("method {other}"),
            };
            if let Some(h) = &auth {
                req = req.header("Authorization", h);
            }
            req.header("Content-Type", "application/json").send("{}")
        }
    };
    let mut r = r?;
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap_or_default();
    Ok(Answer {
        status,
        location,
        body,
    })
}

/// A bearer token for a demo login.
fn token(a: &ureq::Agent, base: &str, email: &str) -> String {
    let mut r = a
        .post(&format!("{base}/api/auth/login"))
        .send_json(json!({"email": email, "password": PASSWORD}))
        .unwrap();
    assert_eq!(r.status(), 200, "login {email}");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("trama_session="))
        .map(|c| c.split(';').next().unwrap().to_string())
        .expect("a session cookie");
    let v: Value = r.body_mut().read_json().unwrap();
    let csrf = v["csrf_token"].as_str().unwrap().to_string();
    let mut r = a
        .post(&format!("{base}/api/tokens"))
        .header("Cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send_json(json!({"name": "authorisation test"}))
        .unwrap();
    assert_eq!(r.status(), 201, "token for {email}");
    let v: Value = r.body_mut().read_json().unwrap();
    v["token"].as_str().unwrap().to_string()
}

fn get_json(a: &ureq::Agent, url: &str, token: Option<&str>) -> Value {
    let r = call(a, "GET", url, token);
    assert_eq!(r.status, 200, "GET {url}: {}", r.body);
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("GET {url}: {e}: {}", r.body))
}

fn str_at(v: &Value, ptr: &str) -> Option<String> {
    v.pointer(ptr).and_then(|x| x.as_str()).map(str::to_string)
}

/// The demo's own ids for each path parameter, as the route it appears in needs them.
fn ids(
    a: &ureq::Agent,
    base: &str,
    tokens: &HashMap<&str, String>,
) -> HashMap<&'static str, String> {
    let t = |k: &str| Some(tokens[k].as_str());
    let mut m = HashMap::new();
    let rossi = get_json(
        a,
        &format!("{base}/api/me"),
        t("beneficiario@demo.trama.it"),
    );
    m.insert("person", str_at(&rossi, "/id").unwrap());
    let cm = get_json(a, &format!("{base}/api/me"), t("casemanager@demo.trama.it"));
    m.insert("case_manager", str_at(&cm, "/id").unwrap());
    let provider = get_json(a, &format!("{base}/api/me"), t("fornitore@demo.trama.it"));
    let org = provider["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|g| str_at(g, "/organization_id"))
        .expect("the provider's organisation");
    m.insert("organization", org.clone());
    let org_doc = get_json(a, &format!("{base}/hsds/organizations/{org}"), None);
    if let Some(s) = str_at(&org_doc, "/services/0/id") {
        m.insert("service", s);
    }
    let desk = get_json(
        a,
        &format!("{base}/api/needs?scope=desk"),
        t("operatore@demo.trama.it"),
    );
    m.insert("need", str_at(&desk, "/0/id").expect("a need at the desk"));
    let offers = get_json(
        a,
        &format!("{base}/api/offers"),
        t("volontario@demo.trama.it"),
    );
    m.insert(
        "offer",
        str_at(&offers, "/0/id").expect("the volunteer's offer"),
    );
    let matches = get_json(
        a,
        &format!("{base}/api/matches"),
        t("volontario@demo.trama.it"),
    );
    if let Some(x) = str_at(&matches, "/0/id") {
        m.insert("match", x);
    }
    let campaigns = get_json(a, &format!("{base}/api/campaigns"), None);
    if let Some(x) = str_at(&campaigns, "/0/id") {
        m.insert("campaign", x);
    }
    let hubs = get_json(a, &format!("{base}/api/hubs"), None);
    if let Some(x) = str_at(&hubs, "/0/id") {
        m.insert("hub", x);
    }
    if let Some(x) = hubs
        .as_array()
        .and_then(|h| h.iter().find_map(|h| str_at(h, "/rooms/0/id")))
    {
        m.insert("room", x);
    }
    let plans = get_json(
        a,
        &format!("{base}/api/people/{}/plans", m["person"]),
        t("beneficiario@demo.trama.it"),
    );
    if let Some(x) = str_at(&plans, "/0/id") {
        m.insert("plan", x);
    }
    let budget = get_json(
        a,
        &format!("{base}/api/me/budget"),
        t("beneficiario@demo.trama.it"),
    );
    if let Some(x) = str_at(&budget, "/allocations/0/programme_id") {
        m.insert("programme", x);
    }
    if let Some(x) = str_at(&budget, "/bookings/0/id") {
        m.insert("booking", x);
    }
    let dash = get_json(
        a,
        &format!("{base}/api/budget/dashboard"),
        t("territorio@demo.trama.it"),
    );
    if let Some(x) = str_at(&dash, "/funders/0/id") {
        m.insert("funder", x);
    }
    for (kind, path) in [
        ("taxonomy", "/hsds/taxonomies"),
        ("taxonomy_term", "/hsds/taxonomy_terms"),
        ("service_at_location", "/hsds/service_at_locations"),
    ] {
        let v = get_json(a, &format!("{base}{path}"), None);
        if let Some(x) = str_at(&v, "/contents/0/id") {
            m.insert(kind, x);
        }
    }
    m
}

/// The concrete URL of a GET route, with the demo's ids (or a fresh id where the demo has
/// none of that kind).
fn concrete(path: &str, ids: &HashMap<&'static str, String>) -> String {
    let kind_of = |prev: &str, name: &str| -> &'static str {
        match (prev, name) {
            (_, "case_manager") | (_, "cm") => "case_manager",
            (_, "plan") => "plan",
            (_, "organization") => "organization",
            ("needs", _) | ("richieste", _) => "need",
            ("offers", _) | ("offerte", _) => "offer",
            ("matches", _) | ("abbinamenti", _) => "match",
            ("people", _) | ("persone", _) => "person",
            ("services", _) | ("servizi", _) => "service",
            ("organizations", _) | ("organizzazioni", _) => "organization",
            ("campaigns", _) | ("campagne", _) => "campaign",
            ("hubs", _) => "hub",
            ("rooms", _) | ("sale", _) => "room",
            ("programmes", _) => "programme",
            ("funders", _) => "funder",
            ("bookings", _) | ("prenotazioni", _) => "booking",
            ("taxonomies", _) => "taxonomy",
            ("taxonomy_terms", _) => "taxonomy_term",
            ("service_at_locations", _) => "service_at_location",
            _ => "",
        }
    };
    let segs: Vec<&str> = path.split('/').collect();
    let mut out = Vec::new();
    for (i, seg) in segs.iter().enumerate() {
        if seg.starts_with("{*") {
            out.push("0/000".to_string());
        } else if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let prev = if i > 0 { segs[i - 1] } else { "" };
            let kind = kind_of(prev, name);
            out.push(
                ids.get(kind)
                    .cloned()
                    .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
            );
        } else {
            out.push(seg.to_string());
        }
    }
    out.join("/")
}

fn fresh(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.starts_with("{*") {
                "0/000".to_string()
            } else if s.starts_with('{') {
                uuid::Uuid::now_v7().to_string()
            } else {
                s.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn roles_of(a: &ureq::Agent, base: &str, token: &str) -> Vec<String> {
    get_json(a, &format!("{base}/api/me"), Some(token))["roles"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| str_at(g, "/role"))
        .collect()
}

fn drive(db: Option<&str>) {
    let server = demo(db);
    let base = server.base.clone();
    let a = agent();
    let mut tokens: HashMap<&str, String> = HashMap::new();
    for login in LOGINS {
        tokens.insert(login, token(&a, &base, login));
    }
    let ids = ids(&a, &base, &tokens);
    let out = Command::new(env!("CARGO_BIN_EXE_trama"))
        .arg("routes")
        .output()
        .unwrap();
    let table: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let roles: HashMap<&str, Vec<String>> = LOGINS
        .iter()
        .map(|l| (*l, roles_of(&a, &base, &tokens[l])))
        .collect();
    let mut cells = 0;
    for e in &table {
        let method = e["method"].as_str().unwrap();
        let path = e["path"].as_str().unwrap();
        let page = e["page"].as_bool().unwrap();
        let who = &e["policy"]["who"];
        let kind = who["kind"].as_str().unwrap();
        if path == "/api/me" && method == "DELETE" {
            continue; // erasure is tried in its own test; here it would erase a demo login
        }
        // Reads with the demo's ids; writes with fresh ids, so that no cell changes the
        // demo for the next one (a write's scope is tried in the feature tests).
        let url = format!(
            "{base}{}",
            if method == "GET" {
                concrete(path, &ids)
            } else {
                fresh(path)
            }
        );
        let ctx = |who: &str| format!("{method} {path} as {who}");
        let r = call(&a, method, &url, None);
        assert!(
            r.status < 500,
            "{}: {} {}",
            ctx("anonymous"),
            r.status,
            r.body
        );
        match kind {
            "signed_in" | "roles" => {
                if page {
                    assert_eq!(r.status, 303, "{}", ctx("anonymous"));
                    assert!(r.location.starts_with("/accedi"), "{}", ctx("anonymous"));
                } else {
                    assert_eq!(r.status, 401, "{}: {}", ctx("anonymous"), r.body);
                }
            }
            _ => {}
        }
        cells += 1;
        for login in LOGINS {
            let r = call(&a, method, &url, Some(&tokens[login]));
            assert!(r.status < 500, "{}: {} {}", ctx(login), r.status, r.body);
            let router_refused = r.status == 403 && r.body.contains(&format!("{method} {path}:"));
            let admitted = match kind {
                "roles" => who["roles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| roles[login].iter().any(|r| Some(r.as_str()) == x.as_str())),
                _ => true,
            };
            assert_eq!(
                router_refused,
                !admitted,
                "{}: {} {}",
                ctx(login),
                r.status,
                r.body
            );
            assert_ne!(r.status, 401, "{}: {}", ctx(login), r.body);
            // A public route refuses nobody.
            if e["policy"]["scope"] == "public" {
                assert_ne!(r.status, 403, "{}: {}", ctx(login), r.body);
            }
            cells += 1;
        }
    }
    assert!(cells > 1000, "{cells} cells");

    // The scope of a person's file, with Mario Rossi's own id.
    let person = &ids["person"];
    for path in [
        format!("/api/people/{person}/budget"),
        format!("/api/people/{person}/plans"),
    ] {
        let url = format!("{base}{path}");
        for login in LOGINS {
            let r = call(&a, "GET", &url, Some(&tokens[login]));
            let sees = matches!(
                login,
                "beneficiario@demo.trama.it"
                    | "casemanager@demo.trama.it"
                    | "revisore@demo.trama.it"
            );
            assert_eq!(
                r.status,
                if sees { 200 } else { 404 },
                "GET {path} as {login}: {}",
                r.body
            );
        }
    }
    // A need's page: the address only to the desk that follows the person.
    let need = &ids["need"];
    for login in LOGINS {
        let v = get_json(
            &a,
            &format!("{base}/api/needs/{need}"),
            Some(&tokens[login]),
        );
        let full = matches!(
            login,
            "operatore@demo.trama.it" | "hub@demo.trama.it" | "revisore@demo.trama.it"
        );
        assert_eq!(
            v.get("address").is_some(),
            full,
            "GET /api/needs/{{id}} as {login}: {v}"
        );
    }
    // A provider edits its own organisation's service, not another's.
    if let Some(service) = ids.get("service") {
        let own = call(
            &a,
            "PUT",
            &format!("{base}/api/services/{service}"),
            Some(&tokens["fornitore@demo.trama.it"]),
        );
        assert_ne!(own.status, 403, "its own service: {}", own.body);
        let other_org_admin = call(
            &a,
            "PUT",
            &format!("{base}/api/services/{service}"),
            Some(&tokens["cittadino@demo.trama.it"]),
        );
        assert_eq!(other_org_admin.status, 403);
    }
}

#[test]
fn every_cell_on_the_demo_sqlite() {
    drive(None);
}

#[test]
fn every_cell_on_the_demo_postgres() {
    let db = trama_testkit::postgres_url();
    drive(Some(&db));
}
