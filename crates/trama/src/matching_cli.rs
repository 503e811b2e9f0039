//! `trama match`: solve a batch assignment instance offline, and `trama match-instance`: write
//! a synthetic Milan-sized instance, for what-if scenarios and benchmarks.

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
