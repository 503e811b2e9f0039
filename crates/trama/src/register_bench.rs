//! `trama bench-register`: the figures of docs/PERFORMANCE.md for the register.

use anyhow::Result;
use std::time::Instant;

use trama_ledger::event::{Action, EconomicEvent, Measure};
use trama_ledger::merkle::{MemoryTree, leaf_hash};
use trama_ledger::note::NoteSigner;
use trama_ledger::verify::verify_log;
use trama_ledger::{Checkpoint, CheckpointSigner};
use trama_server::AppState;
use trama_server::register::service as register;

fn event(i: u64) -> EconomicEvent {
    EconomicEvent {
        id: format!("urn:uuid:00000000-0000-7000-8000-{i:012x}"),
        action: Action::Work,
        provider: format!(
            "urn:trama:pseudonym:{:032x}",
            i.wrapping_mul(2654435761) % 50_000
        ),
        receiver: format!(
            "urn:trama:pseudonym:{:032x}",
            i.wrapping_mul(40503) % 80_000 + 1
        ),
        resource_conforms_to: Some(format!("urn:trama:taxonomy:A{}", i % 9 + 1)),
        resource_quantity: None,
        effort_quantity: Some(Measure::hours(1.0 + (i % 8) as f64 * 0.25).expect("valid")),
        has_point_in_time: format!(
            "2026-{:02}-{:02}T{:02}:00:00Z",
            i % 12 + 1,
            i % 28 + 1,
            i % 24
        ),
        in_scope_of: "urn:trama:territory:milano".into(),
        at_location: Some(format!("urn:trama:area:{}", i % 88 + 1)),
        note: None,
    }
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// `openssl speed` SHA-256 throughput in bytes per second for 1024-byte blocks.
fn openssl_sha256() -> Option<(f64, String)> {
    let out = std::process::Command::new("openssl")
        .args(["speed", "-seconds", "2", "-bytes", "1024", "sha256"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = text.lines().find(|l| l.starts_with("sha256"))?.to_string();
    let k: f64 = line
        .split_whitespace()
        .last()?
        .trim_end_matches('k')
        .parse()
        .ok()?;
    Some((k * 1000.0, line))
}

/// `state` is built with the benchmark's batch size (`register.batch_max`).
pub async fn run(state: &AppState, appends: usize, verify: usize) -> Result<()> {
    println!("backend: {}", register::backend_name(state));
    // 1. Durable appends through the register service (group commit, one transaction a batch).
    let batch = state.config.register.batch_max;
    let reg = state.register.clone();
    reg.start().await?;
    let base = reg.size().await? + 1_000_000_000;
    let disk_before = register::disk_bytes(state).await.unwrap_or(0);
    let size_before = reg.size().await?;
    let t = Instant::now();
    let mut i = 0;
    while i < appends {
        let n = batch.min(appends - i);
        let evs: Vec<_> = (0..n).map(|k| event(base + (i + k) as u64)).collect();
        reg.append(evs).await?;
        i += n;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "appends: {appends} entries in batches of {batch}: {secs:.2} s, {:.0} entries/s (each batch committed before the next)",
        appends as f64 / secs
    );
    // Single-event appends from 64 concurrent writers: the writer merges them (group commit).
    let conc = (appends / 10).max(64);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..64u64 {
        let reg = reg.clone();
        let per = conc / 64;
        tasks.push(tokio::spawn(async move {
            for k in 0..per as u64 {
                reg.append(vec![event(base + 500_000_000 + w * 10_000_000 + k)])
                    .await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = t.elapsed().as_secs_f64();
    let done = (conc / 64) * 64;
    println!(
        "appends: {done} single-entry appends from 64 concurrent writers: {secs:.2} s, {:.0} entries/s (group commit)",
        done as f64 / secs
    );
    let sign = Instant::now();
    reg.checkpoint().await?;
    println!(
        "checkpoint: signed in {:.1} ms",
        sign.elapsed().as_secs_f64() * 1000.0
    );
    let size_after = reg.size().await?;
    let disk_after = register::disk_bytes(state).await.unwrap_or(0);
    let added = (size_after - size_before).max(1);
    println!(
        "disk: {:.0} bytes per entry on {} (tables and indexes, {} entries added)",
        (disk_after - disk_before) as f64 / added as f64,
        register::backend_name(state),
        added
    );
    let (text, hashes) = register::text_bytes(state).await?;
    println!(
        "disk: logical content {:.0} bytes per entry (entry JSON and lookup columns) + {:.0} bytes of stored hashes",
        text as f64 / size_after as f64,
        hashes as f64 / size_after as f64
    );
    // Proofs as the HTTP handlers get them: through the register service (its lock and its
    // in-memory copy of the stored hashes), against the signed size.
    let (signed, _) = reg.signed_head().await?;
    if signed >= 2 {
        let (mut inc, mut con) = (Vec::with_capacity(5_000), Vec::with_capacity(5_000));
        let mut x: u64 = 0x2545f4914f6cdd1d;
        for _ in 0..5_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let t = Instant::now();
            std::hint::black_box(reg.inclusion_proof(x % signed, signed).await?);
            inc.push(t.elapsed().as_secs_f64() * 1e6);
            let t = Instant::now();
            std::hint::black_box(reg.consistency_proof(1 + x % (signed - 1), signed).await?);
            con.push(t.elapsed().as_secs_f64() * 1e6);
        }
        println!(
            "proofs through the register service on {signed} entries ({}): inclusion p50 {:.1} µs p99 {:.1} µs; consistency p50 {:.1} µs p99 {:.1} µs",
            register::backend_name(state),
            percentile(&mut inc, 0.5),
            percentile(&mut inc, 0.99),
            percentile(&mut con, 0.5),
            percentile(&mut con, 0.99)
        );
    }

    // 2. Verification of a large log, in memory, against the machine's SHA-256 speed.
    if verify < 2 {
        return Ok(());
    }
    println!("verify: building {verify} entries...");
    let entries: Vec<Vec<u8>> = (0..verify as u64)
        .map(|i| event(i).canonical_bytes())
        .collect::<Result<_, _>>()?;
    let bytes: usize = entries.iter().map(Vec::len).sum();
    let signer = NoteSigner::from_seed("bench.invalid/register", [3u8; 32])?;
    let mut tree = MemoryTree::new();
    for e in &entries {
        tree.push_leaf(leaf_hash(e));
    }
    let mut cs = CheckpointSigner::new(signer.clone(), None);
    let note = cs.sign(
        Checkpoint::new("bench.invalid/register", tree.size(), tree.root()),
        &[],
    )?;
    let t = Instant::now();
    let mut t2 = MemoryTree::new();
    for e in &entries {
        t2.push_leaf(leaf_hash(e));
    }
    let root = t2.root();
    let tree_secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(root == tree.root());
    let t = Instant::now();
    let report = verify_log(
        "bench.invalid/register",
        &signer.verifier(),
        &entries,
        None,
        &[note],
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let verify_secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(report.entries == verify as u64);
    // What SHA-256 must hash at least: each entry once (plus its 0x00 prefix) and one interior
    // node (65 bytes) per entry.
    let hashed = bytes + entries.len() + 65 * entries.len();
    println!(
        "verify: {verify} entries ({:.0} MB, {:.0} bytes each): tree recomputed in {tree_secs:.2} s; full verification (tree, signature, every entry parsed as a canonical event) {verify_secs:.2} s",
        bytes as f64 / 1e6,
        bytes as f64 / verify as f64
    );
    match openssl_sha256() {
        Some((speed, line)) => {
            let floor = hashed as f64 / speed;
            println!(
                "sha256: openssl speed (1024-byte blocks): {:.0} MB/s  [{line}]",
                speed / 1e6
            );
            println!(
                "verify: hashing alone at that speed would take {floor:.2} s: tree recompute is {:.2}x it, full verification {:.2}x",
                tree_secs / floor,
                verify_secs / floor
            );
        }
        None => println!("sha256: openssl not found; no ratio"),
    }

    // 3. Proof latency on the large tree.
    let n = tree.size();
    let mut inc = Vec::with_capacity(10_000);
    let mut con = Vec::with_capacity(10_000);
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for _ in 0..10_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let idx = x % n;
        let t = Instant::now();
        let p = tree.inclusion_proof(idx, n)?;
        inc.push(t.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(p);
        let m = 1 + x % (n - 1);
        let t = Instant::now();
        let p = tree.consistency_proof(m, n)?;
        con.push(t.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(p);
    }
    println!(
        "proofs on {n} entries: inclusion p50 {:.1} µs p99 {:.1} µs; consistency p50 {:.1} µs p99 {:.1} µs",
        percentile(&mut inc, 0.5),
        percentile(&mut inc, 0.99),
        percentile(&mut con, 0.5),
        percentile(&mut con, 0.99)
    );
    Ok(())
}
