//! `trama verify` and `trama verify-statement`: checking a register from the node's database,
//! from a node's URL (as any tlog-tiles client reads it), or from a downloaded copy, and a
//! person's statement offline.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

use trama_ledger::merkle::{Hash, stored_hash_index};
use trama_ledger::note::NoteVerifier;
use trama_ledger::statement::{Statement, verify_statement};
use trama_ledger::tiles::{TILE_WIDTH, Tile, parse_entry_bundle, parse_tile_hashes};
use trama_ledger::verify::verify_log;
use trama_server::AppState;

/// A copy of a log: entries, the leaf hashes it claims, and the checkpoints it holds.
pub struct LogCopy {
    pub entries: Vec<Vec<u8>>,
    pub leaves: Option<Vec<Hash>>,
    pub checkpoints: Vec<String>,
}

pub fn parse_key(key: &str) -> Result<NoteVerifier> {
    // A key given as a file path is read from the file.
    let k = if Path::new(key).is_file() {
        std::fs::read_to_string(key).with_context(|| format!("reading the key file {key}"))?
    } else {
        key.to_string()
    };
    NoteVerifier::parse(k.trim()).map_err(|e| anyhow::anyhow!("--key: {e}"))
}

/// The copy held by the node's own database.
pub async fn from_store(state: &AppState) -> Result<LogCopy> {
    let log = trama_server::register::service::log_contents(state).await?;
    let (size, hashes) = (log.size, log.hashes);
    let entries = log.entries.into_iter().map(String::into_bytes).collect();
    let leaves = (0..size)
        .map(|i| hashes.get(stored_hash_index(0, i) as usize).copied())
        .collect::<Option<Vec<_>>>();
    let checkpoints = log.checkpoints;
    Ok(LogCopy {
        entries,
        leaves,
        checkpoints,
    })
}

fn get(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>> {
    let mut res = agent
        .get(url)
        .call()
        .with_context(|| format!("fetching {url}"))?;
    res.body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .with_context(|| format!("reading {url}"))
}

/// Reads a log over HTTP as a tlog-tiles client does: the checkpoint, then the entry bundles
/// and level-0 tiles up to its size. Saves the copy under `save` when given.
pub fn from_url(
    base: &str,
    origin: &str,
    key: &NoteVerifier,
    save: Option<&Path>,
) -> Result<LogCopy> {
    let base = base.trim_end_matches('/');
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into();
    let note = get(&agent, &format!("{base}/checkpoint"))?;
    let head = trama_ledger::checkpoint::open_checkpoint(&note, origin, key, &[])
        .map_err(|e| anyhow::anyhow!("the node's checkpoint: {e}"))?
        .checkpoint;
    let mut files: Vec<(String, Vec<u8>)> = vec![("checkpoint".into(), note.clone())];
    let mut entries = Vec::with_capacity(head.size as usize);
    let mut leaves = Vec::with_capacity(head.size as usize);
    let full = head.size / TILE_WIDTH as u64;
    let rest = (head.size % TILE_WIDTH as u64) as u32;
    let mut tiles: Vec<(u64, u32)> = (0..full).map(|n| (n, TILE_WIDTH)).collect();
    if rest > 0 {
        tiles.push((full, rest));
    }
    for (n, w) in tiles {
        let bundle_tile = Tile::entries(n, w);
        let bundle = get(&agent, &format!("{base}/{}", bundle_tile.path()))?;
        let got = parse_entry_bundle(&bundle)?;
        if got.len() != w as usize {
            bail!(
                "{} holds {} entries, {w} expected",
                bundle_tile.path(),
                got.len()
            );
        }
        entries.extend(got);
        let hash_tile = Tile::hashes(0, n, w);
        let hashes = get(&agent, &format!("{base}/{}", hash_tile.path()))?;
        leaves.extend(parse_tile_hashes(&hashes)?);
        files.push((bundle_tile.path(), bundle));
        files.push((hash_tile.path(), hashes));
    }
    // Earlier checkpoints, when the node lists them (a Trama node does).
    let mut checkpoints = vec![String::from_utf8(note).context("the checkpoint is not UTF-8")?];
    if let Ok(list) = get(&agent, &format!("{base}/checkpoints")) {
        let earlier: Vec<String> = serde_json::from_slice(&list).unwrap_or_default();
        files.push(("checkpoints.json".into(), list));
        checkpoints.extend(
            earlier
                .into_iter()
                .filter(|c| c.as_bytes() != files[0].1.as_slice()),
        );
    }
    if let Some(dir) = save {
        for (path, bytes) in &files {
            let p = dir.join(path);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&p, bytes).with_context(|| format!("writing {}", p.display()))?;
        }
        eprintln!("Saved the copy in {}.", dir.display());
    }
    Ok(LogCopy {
        entries,
        leaves: Some(leaves),
        checkpoints,
    })
}

/// Reads a copy saved by `trama verify --url ... --save DIR` (the tlog-tiles layout).
pub fn from_dir(dir: &Path) -> Result<LogCopy> {
    let read = |p: PathBuf| std::fs::read(&p).with_context(|| format!("reading {}", p.display()));
    let note =
        String::from_utf8(read(dir.join("checkpoint"))?).context("checkpoint is not UTF-8")?;
    let (text, _) = trama_ledger::note::parse_note(note.as_bytes())
        .map_err(|e| anyhow::anyhow!("checkpoint: {e}"))?;
    let size = trama_ledger::Checkpoint::parse(&text)
        .map_err(|e| anyhow::anyhow!("checkpoint: {e}"))?
        .size;
    let mut entries = Vec::new();
    let mut leaves = Vec::new();
    let full = size / TILE_WIDTH as u64;
    let rest = (size % TILE_WIDTH as u64) as u32;
    let mut tiles: Vec<(u64, u32)> = (0..full).map(|n| (n, TILE_WIDTH)).collect();
    if rest > 0 {
        tiles.push((full, rest));
    }
    for (n, w) in tiles {
        entries.extend(parse_entry_bundle(&read(
            dir.join(Tile::entries(n, w).path()),
        )?)?);
        if let Ok(b) = std::fs::read(dir.join(Tile::hashes(0, n, w).path())) {
            leaves.extend(parse_tile_hashes(&b)?);
        }
    }
    let mut checkpoints = vec![note];
    if let Ok(b) = std::fs::read(dir.join("checkpoints.json")) {
        let earlier: Vec<String> = serde_json::from_slice(&b).context("checkpoints.json")?;
        let latest = checkpoints[0].clone();
        checkpoints.extend(earlier.into_iter().filter(|c| c != &latest));
    }
    let leaves = (leaves.len() == entries.len()).then_some(leaves);
    Ok(LogCopy {
        entries,
        leaves,
        checkpoints,
    })
}

/// Verifies a copy and prints what was checked; an error names the first problem.
pub fn check(copy: &LogCopy, key: &NoteVerifier, flows: bool) -> Result<()> {
    let report = verify_log(
        key.name(),
        key,
        &copy.entries,
        copy.leaves.as_deref(),
        &copy.checkpoints,
    )
    .map_err(|p| anyhow::anyhow!("the register does not verify: {p}"))?;
    println!(
        "OK: {} entries recomputed; {} signed checkpoints checked, each consistent with the one before; latest size {} root {}{}",
        report.entries,
        report.checkpoints,
        report.latest_size,
        report.latest_root.to_base64(),
        if report.unsigned_entries > 0 {
            format!("; {} entries not yet signed", report.unsigned_entries)
        } else {
            String::new()
        }
    );
    if flows {
        let events: Vec<_> = copy.entries[..report.latest_size as usize]
            .iter()
            .map(|e| trama_ledger::EconomicEvent::from_canonical_bytes(e))
            .collect::<Result<_, _>>()?;
        let rows = trama_ledger::accounting::flows(events.iter());
        let (_, credits) = trama_ledger::accounting::all_credits(events.iter());
        let out = serde_json::json!({
            "flows": rows.iter().map(|r| serde_json::json!({
                "resource": r.resource, "unit": r.unit.name(), "period": r.period,
                "inflow": r.inflow, "outflow": r.outflow, "transferred": r.transferred,
                "activity": r.activity, "balance": r.balance(), "events": r.events,
            })).collect::<Vec<_>>(),
            "time_credits_hours": credits.hours_given,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

/// `trama verify-statement FILE --key KEY`.
pub fn verify_statement_file(file: &Path, key: &NoteVerifier) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let st: Statement = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a Trama statement", file.display()))?;
    let r = verify_statement(&st, key)
        .map_err(|e| anyhow::anyhow!("the statement does not verify: {e}"))?;
    println!(
        "OK: {} entries of {} are in the register {} (size {}, root {}), signed by {}; {} earlier checkpoints are prefixes of it (never rewritten). Hours given {}, received {}.",
        r.entries,
        r.agent,
        r.origin,
        r.size,
        r.root.to_base64(),
        key.encode(),
        r.earlier_checkpoints,
        r.credits.hours_given,
        r.credits.hours_received
    );
    Ok(())
}
