//! `trama bench-help`: the server's suggestions at Milan scale, through HTTP. Loads the same
//! synthetic Milan as `trama match-instance` (needs and offers around the Municipi) into a
//! territory, serves it on a local port, and asks `GET /api/needs/{id}/suggestions` as the
//! needs' own requesters, from several clients at once; prints the latencies (docs/PERFORMANCE.md).

use anyhow::{Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};
use trama_core::auth::Principal;
use trama_core::ids::UserId;
use trama_core::needs::{NeedForm, OfferForm, SKILLS};
use trama_server::AppState;
use trama_server::accounts::service as accounts;
use trama_server::help::service as help;

/// What to measure.
pub struct HelpBench {
    pub needs: usize,
    pub offers: usize,
    pub requests: usize,
    pub clients: usize,
    /// Requesters who ask (each with a token); requests go to their needs in turn.
    pub askers: usize,
    /// Offers changed by their owners each second while the requests are measured (0: none).
    pub writes_per_second: u32,
}

/// The offers loaded: each one's owner, form and id (what a writer changes).
type Loaded = Vec<(UserId, OfferForm, trama_core::ids::OfferId)>;

/// Peak resident memory of this process (the whole territory in memory, server included), in
/// MiB, where the system says it (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn known_skills(v: &[String]) -> Vec<String> {
    v.iter()
        .filter(|s| SKILLS.iter().any(|k| k.0 == s.as_str()))
        .cloned()
        .collect()
}

/// Loads the territory's help: one volunteer per three offers, one requester per need.
async fn load(
    state: &AppState,
    b: &HelpBench,
) -> Result<(Vec<(UserId, trama_core::ids::NeedId)>, Loaded)> {
    let instance = crate::help_cli::generate(b.needs, b.offers, 2026);
    let volunteers = b.offers.div_ceil(3);
    let people: Vec<(UserId, String, Option<String>)> = (0..volunteers + b.needs)
        .map(|i| (UserId::new(), format!("Persona {i}"), None))
        .collect();
    accounts::create_people(state, &people).await?;
    let offers: Vec<(UserId, OfferForm)> = instance
        .offers
        .iter()
        .enumerate()
        .map(|(i, o)| {
            (
                people[i / 3].0,
                OfferForm {
                    categories: o.categories.clone(),
                    description: "Do una mano nel quartiere".into(),
                    lat: o.lat,
                    lon: o.lon,
                    radius_km: o.radius_km,
                    availability: o.availability.clone(),
                    hours_per_week: o.hours_per_week,
                    capacity: o.capacity,
                    languages: o.languages.clone(),
                    skills: known_skills(&o.skills),
                    organization_id: None,
                },
            )
        })
        .collect();
    let t = Instant::now();
    let offer_ids = help::load_offers(state, &offers).await?;
    eprintln!(
        "{} offers loaded in {:.1} s",
        offers.len(),
        t.elapsed().as_secs_f64()
    );
    let needs: Vec<(UserId, NeedForm)> = instance
        .needs
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                people[volunteers + i].0,
                NeedForm {
                    category: n.category.clone(),
                    description: "Un aiuto per la settimana".into(),
                    address: format!("Via di prova {}", i + 1),
                    lat: n.lat,
                    lon: n.lon,
                    windows: n.windows.clone(),
                    recurring: true,
                    date: None,
                    until: None,
                    duration_minutes: n.duration_minutes,
                    urgency: n.urgency,
                    languages: n.languages.clone(),
                    skills: known_skills(&n.skills),
                    people: n.people,
                    on_behalf_of: None,
                    campaign_id: None,
                },
            )
        })
        .collect();
    let t = Instant::now();
    let ids = help::load_needs(state, &needs).await?;
    eprintln!(
        "{} needs loaded in {:.1} s",
        ids.len(),
        t.elapsed().as_secs_f64()
    );
    let loaded = offers
        .into_iter()
        .zip(offer_ids)
        .map(|((u, f), id)| (u, f, id))
        .collect();
    Ok((needs.iter().map(|(u, _)| *u).zip(ids).collect(), loaded))
}

pub async fn bench(state: AppState, b: HelpBench) -> Result<()> {
    if help::warm_offer_index(&state).await? > 0 {
        anyhow::bail!(
            "bench-help loads its own territory: give it an empty one (--data-dir a new folder)"
        );
    }
    let (needs, offers) = load(&state, &b).await?;
    let t = Instant::now();
    let indexed = help::warm_offer_index(&state).await?;
    let index_s = t.elapsed().as_secs_f64();
    // Tokens for a sample of requesters, each asking about their own need.
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut askers: Vec<(String, String)> = Vec::with_capacity(b.askers);
    for _ in 0..b.askers.min(needs.len()) {
        let (user, need) = needs[rng.random_range(0..needs.len())];
        let token = trama_server::auth::random_token();
        let p = Principal {
            user_id: user,
            display_name: "bench".into(),
            grants: vec![],
        };
        accounts::create_api_token(&state, &p, "bench", &trama_server::auth::sha256_hex(&token))
            .await?;
        askers.push((token, need.to_string()));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server_state = state.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        trama_server::serve(listener, server_state, async {
            let _ = stopped.await;
        })
        .await
    });
    let askers = Arc::new(askers);
    let run = |count: usize| {
        let askers = askers.clone();
        let clients = b.clients.max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..clients)
                .map(|c| {
                    let askers = askers.clone();
                    s.spawn(move || -> Result<(Vec<Duration>, usize)> {
                        let agent = ureq::Agent::new_with_defaults();
                        let mut times = Vec::new();
                        let mut found = 0usize;
                        let mut i = c;
                        while i < count {
                            let (token, need) = &askers[i % askers.len()];
                            let url = format!("http://{addr}/api/needs/{need}/suggestions?k=10");
                            let t = Instant::now();
                            let mut r = agent
                                .get(&url)
                                .header("Authorization", &format!("Bearer {token}"))
                                .call()
                                .with_context(|| format!("GET {url}"))?;
                            let body = r.body_mut().read_to_string()?;
                            times.push(t.elapsed());
                            found += body.matches("\"offer_id\"").count();
                            i += clients;
                        }
                        Ok((times, found))
                    })
                })
                .collect();
            let mut all = Vec::new();
            let mut found = 0;
            for h in handles {
                let (t, f) = h.join().expect("a client thread")?;
                all.extend(t);
                found += f;
            }
            Ok::<_, anyhow::Error>((all, found))
        })
    };
    // The first answer builds the engine's picture of every offer; then warm up, and measure.
    let t = Instant::now();
    let first = {
        let (token, need) = &askers[0];
        let url = format!("http://{addr}/api/needs/{need}/suggestions?k=10");
        tokio::task::block_in_place(|| {
            ureq::get(&url)
                .header("Authorization", &format!("Bearer {token}"))
                .call()
                .map(|_| ())
        })
        .with_context(|| format!("GET {url}"))?;
        t.elapsed().as_secs_f64()
    };
    tokio::task::block_in_place(|| run(b.clients.max(1) * 50))?;
    // Measured twice when writes are asked: alone, then while owners change their offers (the
    // hours they give) at the rate asked, each change through the same service as the web
    // form, into the change log.
    let offers = Arc::new(offers);
    let mut phases = vec![0];
    if b.writes_per_second > 0 {
        phases.push(b.writes_per_second);
    }
    let mut rows: Vec<(u32, Vec<Duration>, usize, f64, u64)> = Vec::new();
    for rate in phases {
        let writing = Arc::new(std::sync::atomic::AtomicBool::new(rate > 0));
        let writer = {
            let state = state.clone();
            let writing = writing.clone();
            let offers = offers.clone();
            tokio::spawn(async move {
                let mut done = 0u64;
                if rate == 0 {
                    return Ok::<_, anyhow::Error>(done);
                }
                let mut rng = ChaCha8Rng::seed_from_u64(23);
                let mut tick =
                    tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
                while writing.load(std::sync::atomic::Ordering::Relaxed) {
                    tick.tick().await;
                    let (owner, form, id) = &offers[rng.random_range(0..offers.len())];
                    let mut changed = form.clone();
                    changed.hours_per_week =
                        1.0 + ((form.hours_per_week as u64 + done) % 10) as f64;
                    let p = Principal {
                        user_id: *owner,
                        display_name: "bench".into(),
                        grants: vec![],
                    };
                    help::update_offer(&state, &p, *id, &changed).await?;
                    done += 1;
                }
                Ok(done)
            })
        };
        let t = Instant::now();
        let (mut times, found) = tokio::task::block_in_place(|| run(b.requests))?;
        let wall = t.elapsed().as_secs_f64();
        writing.store(false, std::sync::atomic::Ordering::Relaxed);
        let written = writer.await??;
        times.sort();
        rows.push((rate, times, found, wall, written));
    }
    let _ = stop.send(());
    server.await??;
    println!(
        "## Suggestions through HTTP: {} needs, {} offers ({} can be suggested)",
        needs.len(),
        b.offers,
        indexed
    );
    println!();
    println!("| measure | result |");
    println!("| --- | --- |");
    println!("| the store's offer index, built | {index_s:.2} s |");
    println!("| first suggestion (builds the engine's picture of every offer) | {first:.2} s |");
    for (rate, times, found, wall, written) in &rows {
        let during = if *rate == 0 {
            "no offer changing".to_string()
        } else {
            format!(
                "{written} offers changed by their owners meanwhile ({:.0}/s)",
                *written as f64 / wall
            )
        };
        println!(
            "| {during}: requests | {} from {} clients, as {} requesters, k = 10 |",
            times.len(),
            b.clients,
            askers.len()
        );
        println!(
            "| {during}: throughput | {:.0} requests/s |",
            times.len() as f64 / wall
        );
        println!(
            "| {during}: latency p50 / p90 / p99 / max | {:.2} / {:.2} / {:.2} / {:.2} ms |",
            percentile(times, 0.5),
            percentile(times, 0.9),
            percentile(times, 0.99),
            percentile(times, 1.0)
        );
        println!(
            "| {during}: suggestions per answer (mean) | {:.1} |",
            *found as f64 / times.len().max(1) as f64
        );
    }
    if let Some(mib) = peak_rss_mib() {
        println!("| peak resident memory (whole process, load included) | {mib:.0} MiB |");
    }
    Ok(())
}
