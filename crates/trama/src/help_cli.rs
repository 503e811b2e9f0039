//! Neighbourly help, offline: `trama match` solves a batch assignment instance, `trama
//! match-instance` writes a synthetic Milan-sized one, `trama bench-matching` measures the
//! suggestions' index, for what-if scenarios and benchmarks.

use anyhow::{Context, Result};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::time::Instant;

use trama_core::areas::MILANO_MUNICIPI;
use trama_core::matching::instance::{
    Instance, NeedSpec, OfferSpec, OptionsSpec, Solution, WindowSpec,
};
use trama_core::matching::{Engine, Urgency, assign};

/// Reads an instance, solves it, prints the solution as JSON on stdout and timings on stderr.
pub fn solve(
    path: &Path,
    max_candidates: Option<usize>,
    greedy: Option<bool>,
    pretty: bool,
) -> Result<()> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the instance from stdin")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    let mut instance =
        Instance::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if let Some(k) = max_candidates {
        instance.options.max_candidates = k;
    }
    if let Some(g) = greedy {
        instance.options.compare_greedy = g;
    }
    let problem = instance
        .to_problem()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let started = Instant::now();
    let engine = Engine::new(problem.clone());
    let indexed = started.elapsed();
    let options = instance.options.assign_options();
    let t = Instant::now();
    let graph = engine.candidate_graph(options);
    let candidates = t.elapsed();
    let t = Instant::now();
    let optimal = assign::optimal_on(&engine.problem, &graph);
    let solved = t.elapsed();
    let greedy = instance
        .options
        .compare_greedy
        .then(|| assign::greedy_on(&engine.problem, &graph));
    let solution = Solution::new(&instance, &problem, &optimal, greedy.as_ref());
    let out = if pretty {
        serde_json::to_string_pretty(&solution)?
    } else {
        serde_json::to_string(&solution)?
    };
    println!("{out}");
    eprintln!(
        "{} needs, {} offers, {} candidate pairs: indexed in {:.3} s, candidates in {:.3} s, \
         solved in {:.3} s; covered {} of {} units (weight {}).",
        solution.needs,
        solution.offers,
        solution.candidate_pairs,
        indexed.as_secs_f64(),
        candidates.as_secs_f64(),
        solved.as_secs_f64(),
        solution.objective.covered_units,
        solution.need_units,
        solution.objective.covered_weight
    );
    Ok(())
}

/// Kinds of help with how often they are offered and asked: volunteers mostly shop, keep
/// company and walk; people mostly need errands, visits, meals and personal care, which few
/// volunteers offer. The mismatch is what makes assignment hard.
const CATEGORIES: [(&str, u32, u32); 12] = [
    ("H1", 20, 20),
    ("H2", 20, 10),
    ("H3", 3, 12),
    ("H4", 8, 6),
    ("H5", 8, 6),
    ("H6", 6, 4),
    ("H7", 5, 10),
    ("H8", 8, 8),
    ("H9", 1, 8),
    ("H10", 1, 10),
    ("H11", 15, 4),
    ("H12", 5, 2),
];

fn pick_category(rng: &mut ChaCha8Rng, offered: bool) -> &'static str {
    let w = |c: &(&str, u32, u32)| if offered { c.1 } else { c.2 };
    let total: u32 = CATEGORIES.iter().map(w).sum();
    let mut x = rng.random_range(0..total);
    for c in &CATEGORIES {
        if x < w(c) {
            return c.0;
        }
        x -= w(c);
    }
    CATEGORIES[0].0
}
const LANGS: [(&str, f64); 6] = [
    ("it", 0.92),
    ("en", 0.35),
    ("es", 0.06),
    ("ar", 0.05),
    ("zh", 0.03),
    ("ro", 0.03),
];
const SKILLS: [&str; 4] = ["driving", "first_aid", "digital", "diy"];

fn point(rng: &mut ChaCha8Rng) -> (f64, f64) {
    // People live around the Municipi's centres, denser near the middle.
    let (_, _, lat, lon, _, _) = MILANO_MUNICIPI.choose(rng).expect("nine municipi");
    let r: f64 = rng.random::<f64>().sqrt() * 0.025;
    let a: f64 = rng.random::<f64>() * std::f64::consts::TAU;
    (lat + r * a.sin(), lon + r * a.cos() * 1.4)
}

fn window(rng: &mut ChaCha8Rng) -> WindowSpec {
    let day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][rng.random_range(0..7)];
    let from = rng.random_range(8..18);
    let len = rng.random_range(2..5);
    WindowSpec {
        day: day.into(),
        from: format!("{from:02}:00"),
        to: format!("{:02}:00", (from + len).min(22)),
    }
}

fn languages(rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut v: Vec<String> = LANGS
        .iter()
        .filter(|(_, p)| rng.random_bool(*p))
        .map(|(l, _)| l.to_string())
        .collect();
    if v.is_empty() {
        v.push("it".into());
    }
    v
}

/// A synthetic instance shaped like Milan: needs and offers around the Municipi, twelve kinds of
/// help, weekly windows, a few languages and skills. Deterministic for a seed.
pub fn generate(needs: usize, offers: usize, seed: u64) -> Instance {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Instance {
        needs: Vec::with_capacity(needs),
        offers: Vec::with_capacity(offers),
        options: OptionsSpec::default(),
    };
    for i in 0..offers {
        let (lat, lon) = point(&mut rng);
        let k = rng.random_range(1..=3);
        let mut categories: Vec<String> = (0..k)
            .map(|_| pick_category(&mut rng, true).to_string())
            .collect();
        categories.sort();
        categories.dedup();
        out.offers.push(OfferSpec {
            id: format!("o{i}"),
            lat,
            lon,
            radius_km: *[0.5, 1.0, 1.0, 1.0, 1.5, 1.5, 2.0, 2.0, 3.0, 5.0]
                .choose(&mut rng)
                .expect("radii"),
            categories,
            availability: (0..rng.random_range(1..=3))
                .map(|_| window(&mut rng))
                .collect(),
            hours_per_week: rng.random_range(2..=8) as f64,
            capacity: *[1, 1, 1, 1, 1, 1, 2, 2, 2, 3]
                .choose(&mut rng)
                .expect("capacities"),
            load: rng.random_range(0..=1),
            languages: languages(&mut rng),
            skills: SKILLS
                .iter()
                .filter(|_| rng.random_bool(0.15))
                .map(|s| s.to_string())
                .collect(),
        });
    }
    for i in 0..needs {
        let (lat, lon) = point(&mut rng);
        let urgency = match rng.random_range(0..100) {
            0..=19 => Urgency::Low,
            20..=69 => Urgency::Normal,
            70..=91 => Urgency::High,
            _ => Urgency::Critical,
        };
        out.needs.push(NeedSpec {
            id: format!("n{i}"),
            lat,
            lon,
            category: pick_category(&mut rng, false).to_string(),
            windows: (0..rng.random_range(1..=3))
                .map(|_| window(&mut rng))
                .collect(),
            duration_minutes: *[30, 60, 60, 90, 120].choose(&mut rng).expect("durations"),
            urgency,
            waiting_days: rng.random_range(0..30),
            weight: None,
            languages: if rng.random_bool(0.9) {
                vec!["it".into()]
            } else {
                languages(&mut rng)
            },
            skills: if rng.random_bool(0.05) {
                vec![SKILLS.choose(&mut rng).expect("skills").to_string()]
            } else {
                vec![]
            },
            people: if rng.random_bool(0.05) { 2 } else { 1 },
            previous_offers: vec![],
        });
    }
    out
}

fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn percentile(sorted: &[std::time::Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// `trama bench-matching`: batch assignment time and memory, suggestions p50/p99, and the same
/// candidate query in PostGIS on the same data when a URL is given. Prints Markdown.
pub async fn bench(
    path: &Path,
    postgis: Option<&str>,
    queries: usize,
    k: usize,
    runs: usize,
) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let instance =
        Instance::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let problem = instance.to_problem().map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(text);
    let rss_before = peak_rss_mb().unwrap_or(0.0);
    let t = Instant::now();
    let engine = Engine::new(problem);
    let index_s = t.elapsed().as_secs_f64();
    let options = instance.options.assign_options();
    // The batch, `runs` times: (candidates, flow, total) seconds of each run.
    let mut timings: Vec<(f64, f64, f64)> = Vec::new();
    let (graph, optimal) = loop {
        let t = Instant::now();
        let graph = engine.candidate_graph(options);
        let graph_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let optimal = assign::optimal_on(&engine.problem, &graph);
        let flow_s = t.elapsed().as_secs_f64();
        timings.push((graph_s, flow_s, graph_s + flow_s));
        if timings.len() >= runs.max(1) {
            break (graph, optimal);
        }
    };
    let median = |f: fn(&(f64, f64, f64)) -> f64| {
        let mut v: Vec<f64> = timings.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0])
    };
    let (graph_s, graph_best) = median(|t| t.0);
    let (flow_s, flow_best) = median(|t| t.1);
    let (total_s, total_best) = median(|t| t.2);
    let t = Instant::now();
    let greedy = assign::greedy_on(&engine.problem, &graph);
    let greedy_s = t.elapsed().as_secs_f64();
    let rss_after = peak_rss_mb().unwrap_or(0.0);
    let units: u64 = engine.problem.needs.iter().map(|n| n.people as u64).sum();

    // Suggestions for a deterministic sample of needs, one at a time.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let sample: Vec<u32> = (0..queries)
        .map(|_| rng.random_range(0..engine.problem.needs.len().max(1)) as u32)
        .collect();
    for &n in sample.iter().take(200) {
        std::hint::black_box(engine.suggest_offers(n, k));
    }
    let mut times = Vec::with_capacity(sample.len());
    let mut found = 0usize;
    for &n in &sample {
        let t = Instant::now();
        let s = engine.suggest_offers(n, k);
        times.push(t.elapsed());
        found += s.len();
    }
    times.sort();
    println!(
        "## Matching benchmark: {} needs ({} units), {} offers",
        engine.problem.needs.len(),
        units,
        engine.problem.offers.len()
    );
    println!();
    println!("| step | result |");
    println!("| --- | --- |");
    println!("| offer index build | {index_s:.2} s |");
    let n = timings.len();
    println!(
        "| candidate graph ({} pairs, ≤ {} per need), median / best of {n} | {graph_s:.2} s / {graph_best:.2} s |",
        optimal.edges, instance.options.max_candidates
    );
    println!(
        "| optimal assignment (min-cost flow), median / best of {n} | {flow_s:.2} s / {flow_best:.2} s |"
    );
    println!(
        "| **batch total** (candidates + flow), median / best of {n} | **{total_s:.2} s** / {total_best:.2} s |"
    );
    println!("| greedy on the same candidates | {greedy_s:.2} s |");
    println!("| peak memory (RSS) | {rss_after:.0} MB (instance parsed: {rss_before:.0} MB) |");
    println!(
        "| optimal: covered units / weight | {} / {} |",
        optimal.objective.covered_units, optimal.objective.covered_weight
    );
    println!(
        "| greedy: covered units / weight | {} / {} |",
        greedy.objective.covered_units, greedy.objective.covered_weight
    );
    let gain = optimal.objective.covered_weight as f64
        / greedy.objective.covered_weight.max(1) as f64
        - 1.0;
    println!(
        "| coverage gained over greedy | {} units, {:+.2} % weight |",
        optimal.objective.covered_units as i64 - greedy.objective.covered_units as i64,
        gain * 100.0
    );
    println!(
        "| suggestions (k = {k}, {} needs, 1 thread) p50 / p99 | {:.3} ms / {:.3} ms ({:.1} offers each) |",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        found as f64 / times.len().max(1) as f64
    );

    if let Some(url) = postgis {
        let offers: Vec<crate::postgis_bench::BenchOffer> = instance
            .offers
            .iter()
            .enumerate()
            .map(|(i, o)| crate::postgis_bench::BenchOffer {
                id: i as i32,
                lat: o.lat,
                lon: o.lon,
                radius_m: o.radius_km * 1000.0,
                categories: o.categories.clone(),
            })
            .collect();
        let qs: Vec<crate::postgis_bench::BenchQuery> = sample
            .iter()
            .map(|&n| {
                let s = &instance.needs[n as usize];
                crate::postgis_bench::BenchQuery {
                    lat: s.lat,
                    lon: s.lon,
                    category: s.category.clone(),
                }
            })
            .collect();
        let max_r = instance
            .offers
            .iter()
            .map(|o| o.radius_km)
            .fold(0.0, f64::max)
            * 1000.0;
        let (load, mut pg, pg_found) =
            crate::postgis_bench::run(url, &offers, &qs, k as i64, max_r).await?;
        pg.sort();
        let (e50, e99) = (percentile(&times, 0.5), percentile(&times, 0.99));
        let (p50, p99) = (percentile(&pg, 0.5), percentile(&pg, 0.99));
        println!("| PostGIS load + GiST index | {load:.1} s |");
        println!(
            "| PostGIS candidate query (category, ST_DWithin, per-offer radius, `<->`, LIMIT {k}) p50 / p99 | {p50:.3} ms / {p99:.3} ms ({:.1} offers each) |",
            pg_found.iter().sum::<usize>() as f64 / pg_found.len().max(1) as f64
        );
        println!(
            "| PostGIS ÷ engine, p50 / p99 | {:.1}× / {:.1}× |",
            p50 / e50.max(1e-9),
            p99 / e99.max(1e-9)
        );
    }
    Ok(())
}
