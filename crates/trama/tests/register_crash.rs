//! Durability of the register against a real crash: a `trama serve` process is killed with
//! SIGKILL in the middle of a stream of appends from eight clients, then restarted. Every
//! append it acknowledged must be in the log, and `trama verify` must pass. On SQLite and on a
//! real PostgreSQL.
//!
//! Then the offline tools: `trama verify --url` reads the node as a tlog-tiles client, saves a
//! copy, `trama verify --dir` checks the copy, and a byte flipped in the copy is named.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trama_store::{NewUser, Store, StoreOptions};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(db: &str, data: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_trama"))
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "--database",
            db,
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("TRAMA_REGISTER__CHECKPOINT_INTERVAL_MS", "200")
        .env("TRAMA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start trama serve")
}

fn wait_ready(port: u16) {
    let started = Instant::now();
    loop {
        if let Ok(r) = ureq::get(&format!("http://127.0.0.1:{port}/readyz")).call()
            && r.status() == 200
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn trama(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trama"))
        .args(args)
        .output()
        .expect("run trama")
}

async fn admin_token(db: &str) -> String {
    let store = Store::connect(db, &StoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    let id = store
        .create_user(&NewUser {
            email: Some(trama_core::auth::Email::parse("admin@crash.test").unwrap()),
            display_name: "Admin".into(),
            password_hash: None,
            locale: "it".into(),
        })
        .await
        .unwrap();
    store
        .grant_role(
            id,
            &trama_core::auth::RoleGrant::new(trama_core::auth::Role::TerritoryAdmin, None)
                .unwrap(),
        )
        .await
        .unwrap();
    let token = trama_server::auth::random_token();
    store
        .create_api_token(id, "crash", &trama_server::auth::sha256_hex(&token))
        .await
        .unwrap();
    store.close().await;
    token
}

fn crash_and_recover(db: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let data = tempfile::tempdir().unwrap();
    let token = rt.block_on(admin_token(db));
    let port = free_port();
    let mut child = serve(db, data.path(), port);
    wait_ready(port);

    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for w in 0..8 {
        let (acked, stop, token) = (acked.clone(), stop.clone(), token.clone());
        clients.push(std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(5)))
                .build()
                .into();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let body = serde_json::json!({"action": "produce", "resource": "energy",
                    "quantity": 1 + i % 7 + w * 10, "unit": "kilowattHour"});
                let r = agent
                    .post(&format!("http://127.0.0.1:{port}/api/register/flows"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .send_json(&body);
                match r {
                    Ok(mut res) if res.status() == 201 => {
                        let v: serde_json::Value = res.body_mut().read_json().unwrap();
                        acked
                            .lock()
                            .unwrap()
                            .push(v["events"][0]["@id"].as_str().unwrap().to_string());
                    }
                    // The server is gone: stop.
                    _ => break,
                }
                i += 1;
            }
        }));
    }
    // Let the appends run, then kill the server mid-stream.
    let started = Instant::now();
    while acked.lock().unwrap().len() < 300 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
    child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 300,
        "only {} appends acknowledged",
        acked.len()
    );

    // Restart: every acknowledged event is there, and the log verifies.
    let mut child = serve(db, data.path(), port);
    wait_ready(port);
    let known = rt.block_on(async {
        let store = Store::connect(db, &StoreOptions::default()).await.unwrap();
        let k = store.register_known_ids(&acked).await.unwrap();
        let size = store.register_size().await.unwrap();
        store.close().await;
        (k, size)
    });
    let missing: Vec<_> = acked.iter().filter(|a| !known.0.contains(a)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged appends lost: {missing:?}",
        missing.len()
    );
    eprintln!(
        "crash test: {} acknowledged before SIGKILL, {} entries in the log after restart",
        acked.len(),
        known.1
    );
    // The restarted node signs a checkpoint over everything: wait for it (polling, not a
    // fixed sleep), then check against it.
    let started = Instant::now();
    loop {
        let size = ureq::get(&format!("http://127.0.0.1:{port}/register/checkpoint"))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .and_then(|t| t.lines().nth(1).and_then(|l| l.trim().parse::<u64>().ok()));
        if size.is_some_and(|s| s >= known.1) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no checkpoint over the {} entries",
            known.1
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let key = ureq::get(&format!("http://127.0.0.1:{port}/register/key"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let key = key.trim().to_string();

    // `trama verify` on the node's database.
    let out = trama(&[
        "--data-dir",
        data.path().to_str().unwrap(),
        "--database",
        db,
        "verify",
    ]);
    assert!(
        out.status.success(),
        "verify failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("OK:"));

    // As a tlog-tiles client over HTTP, saving a copy...
    let copy = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/register");
    let out = trama(&[
        "verify",
        "--url",
        &url,
        "--key",
        &key,
        "--save",
        copy.path().to_str().unwrap(),
        "--flows",
    ]);
    assert!(
        out.status.success(),
        "verify --url failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("\"flows\""), "{stdout}");
    child.kill().unwrap();
    child.wait().unwrap();

    // ...which verifies offline, and a flipped byte in it is named.
    let out = trama(&[
        "verify",
        "--dir",
        copy.path().to_str().unwrap(),
        "--key",
        &key,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bundle = copy.path().join("tile/entries/000");
    let mut bytes = std::fs::read(&bundle).unwrap();
    // Entry 7: skip seven length-prefixed entries, then flip a byte inside the eighth.
    let mut pos = 0;
    for _ in 0..7 {
        pos += 2 + u16::from_be_bytes([bytes[pos], bytes[pos + 1]]) as usize;
    }
    bytes[pos + 2 + 40] ^= 0x04;
    std::fs::write(&bundle, &bytes).unwrap();
    let out = trama(&[
        "verify",
        "--dir",
        copy.path().to_str().unwrap(),
        "--key",
        &key,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("entry 7"), "{err}");
    // A wrong key is refused.
    let other = trama_ledger::NoteSigner::from_seed(key.split('+').next().unwrap(), [1u8; 32])
        .unwrap()
        .verifier()
        .encode();
    let out = trama(&[
        "verify",
        "--dir",
        copy.path().to_str().unwrap(),
        "--key",
        &other,
    ]);
    assert!(!out.status.success());
}

#[test]
fn sigkill_mid_stream_loses_no_acknowledged_append_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("crash.db").display());
    crash_and_recover(&db);
}

#[test]
fn sigkill_mid_stream_loses_no_acknowledged_append_postgres() {
    let db = trama_testkit::postgres_url();
    crash_and_recover(&db);
}
