//! The batch assignment is optimal: on small random instances its objective equals the one
//! found by trying every assignment, it is never worse than greedy, and it never breaks a rule.

use proptest::prelude::*;
use trama_core::geo::Coordinates;
use trama_core::matching::assign::{brute_force_on, candidate_graph, greedy_on, optimal_on};
use trama_core::matching::instance::{Instance, Solution};
use trama_core::matching::model::{Need, Offer, Problem, WeekWindow, feasibility};
use trama_core::matching::{AssignOptions, Engine, OfferIndex, Outcome};

fn window() -> impl Strategy<Value = Vec<WeekWindow>> {
    prop_oneof![
        Just(vec![]),
        (0u8..2, 8u16..12, 1u16..5).prop_map(|(d, h, len)| vec![
            WeekWindow::on_day("w", d, h * 60, (h + len) * 60).unwrap()
        ]),
    ]
}

fn need() -> impl Strategy<Value = Need> {
    (
        (0.0f64..0.02, 0.0f64..0.02),
        0u32..2,
        window(),
        1u32..50,
        0u64..4,
        1u8..3,
    )
        .prop_map(
            |((dlat, dlon), category, windows, weight, languages, people)| Need {
                point: Coordinates::new(45.45 + dlat, 9.15 + dlon).unwrap(),
                category,
                windows,
                duration_min: 60,
                weight,
                languages,
                skills: 0,
                people,
                previous_offers: vec![],
            },
        )
}

fn offer() -> impl Strategy<Value = Offer> {
    (
        (0.0f64..0.02, 0.0f64..0.02),
        0.5f64..3.0,
        prop_oneof![Just(vec![0]), Just(vec![1]), Just(vec![0, 1])],
        window(),
        0u16..3,
        0u16..3,
        0u64..4,
    )
        .prop_map(
            |((dlat, dlon), radius_km, categories, availability, capacity, load, languages)| {
                Offer {
                    point: Coordinates::new(45.45 + dlat, 9.15 + dlon).unwrap(),
                    radius_km,
                    categories,
                    availability,
                    hours_per_week: 3.0,
                    capacity,
                    load,
                    languages,
                    skills: 0,
                }
            },
        )
}

fn problem() -> impl Strategy<Value = Problem> {
    (
        proptest::collection::vec(need(), 0..5),
        proptest::collection::vec(offer(), 0..4),
    )
        .prop_map(|(mut needs, offers)| {
            // Some continuity, to exercise that part of the penalty.
            for (i, n) in needs.iter_mut().enumerate() {
                if !offers.is_empty() && i % 2 == 0 {
                    n.previous_offers = vec![(i % offers.len()) as u32];
                }
            }
            Problem { needs, offers }
        })
}

fn check_rules(problem: &Problem, outcome: &Outcome) {
    let mut used = vec![0u16; problem.offers.len()];
    let mut per_need = vec![Vec::new(); problem.needs.len()];
    for a in &outcome.assignments {
        let (n, o) = (
            &problem.needs[a.need as usize],
            &problem.offers[a.offer as usize],
        );
        assert!(feasibility(n, o).is_ok(), "an infeasible pair was assigned");
        used[a.offer as usize] += 1;
        assert!(
            !per_need[a.need as usize].contains(&a.offer),
            "one offer twice for a need"
        );
        per_need[a.need as usize].push(a.offer);
    }
    for (o, u) in used.iter().enumerate() {
        assert!(*u <= problem.offers[o].capacity, "offer {o} over capacity");
    }
    for (n, list) in per_need.iter().enumerate() {
        assert!(list.len() <= problem.needs[n].people as usize);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]
    #[test]
    fn optimal_equals_brute_force_and_beats_greedy(problem in problem()) {
        let index = OfferIndex::build(&problem.offers);
        let graph = candidate_graph(&problem, &index, AssignOptions { max_candidates: None });
        let best = brute_force_on(&problem, &graph);
        let optimal = optimal_on(&problem, &graph);
        let greedy = greedy_on(&problem, &graph);
        check_rules(&problem, &optimal);
        check_rules(&problem, &greedy);
        prop_assert_eq!(optimal.objective, best, "flow {:?} vs brute force {:?}", optimal.objective, best);
        prop_assert!(!greedy.objective.better_than(&optimal.objective));
    }
}

/// A case where greedy is fooled: the heavy need takes the only offer the light need could use,
/// though it had another. The optimum covers both.
#[test]
fn optimal_covers_what_greedy_leaves_out() {
    let p = |lat, lon| Coordinates::new(lat, lon).unwrap();
    let need = |lat, weight| Need {
        point: p(lat, 9.15),
        category: 0,
        windows: vec![],
        duration_min: 60,
        weight,
        languages: 0,
        skills: 0,
        people: 1,
        previous_offers: vec![],
    };
    let offer = |lat, radius_km| Offer {
        point: p(lat, 9.15),
        radius_km,
        categories: vec![0],
        availability: vec![],
        hours_per_week: 2.0,
        capacity: 1,
        load: 0,
        languages: 0,
        skills: 0,
    };
    let problem = Problem {
        // The heavy need sits between both offers; the light one only reaches offer 0.
        needs: vec![need(45.4500, 20), need(45.4410, 10)],
        offers: vec![offer(45.4450, 1.0), offer(45.4560, 1.0)],
    };
    let engine = Engine::new(problem);
    let opt = engine.optimal(AssignOptions::default());
    let greedy = engine.greedy(AssignOptions::default());
    assert_eq!(opt.objective.covered_units, 2);
    assert_eq!(
        greedy.objective.covered_units, 1,
        "greedy takes the nearest offer first"
    );
}

#[test]
fn the_giambellino_shopping_instance_solves_from_json() {
    let text = r#"{
      "needs": [
        {"id": "signora-giambellino", "lat": 45.4531, "lon": 9.1402, "category": "A2",
         "windows": [{"day": "tue", "from": "09:00", "to": "12:00"}], "duration_minutes": 90,
         "urgency": "normal", "waiting_days": 2, "languages": ["it"]},
        {"id": "heatwave-1", "lat": 45.4540, "lon": 9.1410, "category": "A2",
         "windows": [{"day": "tue", "from": "10:00", "to": "11:30"}], "duration_minutes": 60,
         "urgency": "critical", "languages": ["it"]}
      ],
      "offers": [
        {"id": "marco", "lat": 45.4560, "lon": 9.1380, "radius_km": 1.0, "categories": ["A2"],
         "availability": [{"day": "tue", "from": "08:30", "to": "13:00"}], "hours_per_week": 4,
         "capacity": 1, "languages": ["it", "en"]},
        {"id": "giulia", "lat": 45.4500, "lon": 9.1450, "radius_km": 1.0, "categories": ["A2"],
         "availability": [{"day": "tue", "from": "09:00", "to": "12:00"}], "hours_per_week": 3,
         "capacity": 1, "languages": ["it"]},
        {"id": "far-away", "lat": 45.5000, "lon": 9.2000, "radius_km": 1.0, "categories": ["A2"],
         "hours_per_week": 10, "capacity": 3}
      ]
    }"#;
    let instance = Instance::from_json(text).unwrap();
    let problem = instance.to_problem().unwrap();
    let engine = Engine::new(problem.clone());
    let options = instance.options.assign_options();
    let optimal = engine.optimal(options);
    let greedy = engine.greedy(options);
    let solution = Solution::new(&instance, &problem, &optimal, Some(&greedy));
    assert_eq!(solution.assignments.len(), 2);
    assert!(solution.uncovered.is_empty());
    assert!(solution.assignments.iter().all(|a| a.offer != "far-away"));
    let suggestions = engine.suggest_offers(0, 3);
    assert_eq!(suggestions.len(), 2, "the far offer is out of reach");
}
