//! Batch assignment: which offer takes which need, over a whole territory at once.
//!
//! The objective is lexicographic. First, maximise the weighted number of covered need units
//! (a need for two helpers has two units; each covered unit counts the need's weight). Among the
//! assignments that reach that maximum, minimise the total penalty: the pair penalties (distance,
//! continuity) plus each offer's convex load penalty (see [`load_penalty`]).
//!
//! It is a min-cost flow: source → need (supply = helpers wanted), need → offer (capacity 1,
//! cost `-(weight × SCALE) + pair penalty`), need → sink directly (the need stays uncovered,
//! cost 0), offer → sink (capacity = the offer's capacity, the k-th unit costing
//! `load_penalty(k)`). `SCALE` exceeds any possible total penalty, so a single cost carries both
//! levels of the objective. It is solved by successive shortest paths with node potentials,
//! adding one need at a time in order of weight (the Hungarian method for a rectangular,
//! capacitated problem): each unit of supply follows a shortest path in the residual graph from
//! its need to the sink, found by Dijkstra on reduced costs, which stops as soon as the sink is
//! settled. Only the nodes Dijkstra settled get their potentials shifted, by `d(v) - d(sink)`,
//! which keeps every reduced cost non-negative (see docs/MATCHING.md), so one augmentation
//! costs the size of the neighbourhood it explored, not of the whole graph.
//!
//! The result is optimal over the candidate graph. With `max_candidates` set, each need keeps
//! only its best candidates, which makes the graph smaller and the answer optimal for that
//! graph; the property tests compare with brute force with no cap.

use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::index::{Candidate, OfferIndex, rank_key};
use super::model::{MAX_PENALTY, Problem, load_penalty, score_from_penalty};

/// Knobs of the batch assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssignOptions {
    /// Keep at most this many candidates per need (the best by penalty); `None` keeps all.
    pub max_candidates: Option<usize>,
}

impl Default for AssignOptions {
    fn default() -> Self {
        Self {
            max_candidates: Some(32),
        }
    }
}

/// One helper for one unit of a need.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Assignment {
    pub need: u32,
    pub offer: u32,
    pub distance_km: f64,
    /// The pair's penalty (distance, continuity), 0..=750.
    pub edge_penalty: i64,
    /// 0..=100, for people: the pair's penalty plus the offer's standing load.
    pub score: u8,
}

/// The value of an assignment, compared lexicographically: more covered weight is better, then
/// less penalty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Objective {
    pub covered_units: u64,
    pub covered_weight: u64,
    pub penalty: i64,
}

impl Objective {
    /// Is `self` strictly better than `other`?
    pub fn better_than(&self, other: &Objective) -> bool {
        self.covered_weight > other.covered_weight
            || (self.covered_weight == other.covered_weight && self.penalty < other.penalty)
    }

    /// The objective of a list of assignments, computed from scratch (independent of how the
    /// list was found, so solvers can be checked against each other).
    pub fn of(problem: &Problem, assignments: &[Assignment]) -> Objective {
        let mut used = vec![0u16; problem.offers.len()];
        let mut o = Objective::default();
        for a in assignments {
            let offer = &problem.offers[a.offer as usize];
            o.covered_units += 1;
            o.covered_weight += problem.needs[a.need as usize].weight as u64;
            o.penalty += a.edge_penalty + load_penalty(offer, used[a.offer as usize]);
            used[a.offer as usize] += 1;
        }
        o
    }
}

/// An assignment and its value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub assignments: Vec<Assignment>,
    pub objective: Objective,
    /// Candidate pairs the solver considered.
    pub edges: usize,
}

impl Outcome {
    fn new(problem: &Problem, mut assignments: Vec<Assignment>, edges: usize) -> Self {
        assignments.sort_by_key(|a| (a.need, a.offer));
        let objective = Objective::of(problem, &assignments);
        Self {
            assignments,
            objective,
            edges,
        }
    }

    /// Units of each need left without a helper.
    pub fn uncovered(&self, problem: &Problem) -> Vec<(u32, u8)> {
        let mut got = vec![0u8; problem.needs.len()];
        for a in &self.assignments {
            got[a.need as usize] += 1;
        }
        problem
            .needs
            .iter()
            .enumerate()
            .filter(|(i, n)| got[*i] < n.people)
            .map(|(i, n)| (i as u32, n.people - got[i]))
            .collect()
    }
}

/// The candidate graph: for each need, its candidate offers, best first. Needs are split
/// across the machine's cores (the work is read-only and each need independent).
pub fn candidate_graph(
    problem: &Problem,
    index: &OfferIndex,
    options: AssignOptions,
) -> Vec<Vec<Candidate>> {
    let of = |need: &super::model::Need| match options.max_candidates {
        Some(k) => index
            .suggest(problem, need, k)
            .into_iter()
            .map(|(c, _)| c)
            .collect(),
        None => {
            let mut c = index.candidates(problem, need);
            c.sort_by_key(|c| rank_key(problem, c));
            c
        }
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(16);
    if threads < 2 || problem.needs.len() < 2048 {
        return problem.needs.iter().map(of).collect();
    }
    let chunk = problem.needs.len().div_ceil(threads);
    std::thread::scope(|s| {
        let parts: Vec<_> = problem
            .needs
            .chunks(chunk)
            .map(|needs| s.spawn(move || needs.iter().map(of).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().expect("candidate search does not panic"))
            .collect()
    })
}

fn assignment(problem: &Problem, need: u32, c: &Candidate) -> Assignment {
    let offer = &problem.offers[c.offer as usize];
    Assignment {
        need,
        offer: c.offer,
        distance_km: c.distance_km,
        edge_penalty: c.edge_penalty,
        score: score_from_penalty(c.edge_penalty + load_penalty(offer, 0)),
    }
}

/// The optimal assignment (see the module documentation).
pub fn optimal(problem: &Problem, index: &OfferIndex, options: AssignOptions) -> Outcome {
    let graph = candidate_graph(problem, index, options);
    optimal_on(problem, &graph)
}

/// The optimal assignment over a given candidate graph.
pub fn optimal_on(problem: &Problem, graph: &[Vec<Candidate>]) -> Outcome {
    Flow::new(problem, graph).solve()
}

/// The greedy assignment, for comparison: needs by weight, each unit taking its cheapest
/// candidate that still has room.
pub fn greedy(problem: &Problem, index: &OfferIndex, options: AssignOptions) -> Outcome {
    let graph = candidate_graph(problem, index, options);
    greedy_on(problem, &graph)
}

pub fn greedy_on(problem: &Problem, graph: &[Vec<Candidate>]) -> Outcome {
    let mut used = vec![0u16; problem.offers.len()];
    let mut out = Vec::new();
    for n in order_by_weight(problem) {
        let need = &problem.needs[n as usize];
        let mut taken: Vec<u32> = Vec::new();
        for _ in 0..need.people {
            let best = graph[n as usize]
                .iter()
                .filter(|c| {
                    used[c.offer as usize] < problem.offers[c.offer as usize].capacity
                        && !taken.contains(&c.offer)
                })
                .min_by_key(|c| {
                    let o = &problem.offers[c.offer as usize];
                    (
                        c.edge_penalty + load_penalty(o, used[c.offer as usize]),
                        c.offer,
                    )
                });
            let Some(c) = best else { break };
            used[c.offer as usize] += 1;
            taken.push(c.offer);
            out.push(assignment(problem, n, c));
        }
    }
    let edges = graph.iter().map(Vec::len).sum();
    Outcome::new(problem, out, edges)
}

/// Exhaustive search, for tests on small instances: every way of giving each need a set of
/// distinct candidate offers within capacities. Exponential; keep instances tiny.
pub fn brute_force_on(problem: &Problem, graph: &[Vec<Candidate>]) -> Objective {
    fn go(
        problem: &Problem,
        graph: &[Vec<Candidate>],
        n: usize,
        used: &mut Vec<u16>,
        chosen: &mut Vec<Assignment>,
        best: &mut Objective,
    ) {
        if n == problem.needs.len() {
            let o = Objective::of(problem, chosen);
            if o.better_than(best) {
                *best = o;
            }
            return;
        }
        let people = problem.needs[n].people as usize;
        let cands = &graph[n];
        // Every subset of the candidates with at most `people` members.
        let limit = 1u32 << cands.len();
        for mask in 0..limit {
            if mask.count_ones() as usize > people {
                continue;
            }
            let picked: Vec<&Candidate> = (0..cands.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| &cands[i])
                .collect();
            if picked
                .iter()
                .any(|c| used[c.offer as usize] >= problem.offers[c.offer as usize].capacity)
            {
                continue;
            }
            for c in &picked {
                used[c.offer as usize] += 1;
                chosen.push(assignment(problem, n as u32, c));
            }
            go(problem, graph, n + 1, used, chosen, best);
            for c in &picked {
                used[c.offer as usize] -= 1;
                chosen.pop();
            }
        }
    }
    let mut best = Objective::default();
    go(
        problem,
        graph,
        0,
        &mut vec![0; problem.offers.len()],
        &mut Vec::new(),
        &mut best,
    );
    // The empty assignment has penalty 0, which `better_than` cannot beat with weight 0; and any
    // assignment with weight beats it. So `best` is right even when nothing can be covered.
    best
}

fn order_by_weight(problem: &Problem) -> Vec<u32> {
    let mut order: Vec<u32> = (0..problem.needs.len() as u32).collect();
    order.sort_by_key(|&n| (Reverse(problem.needs[n as usize].weight), n));
    order
}

/// Where Dijkstra came from into a node.
#[derive(Clone, Copy)]
enum Via {
    /// Into an offer along the need's candidate edge `edge`.
    Forward { need: u32, edge: u32 },
    /// Into a need by taking it off `offer` (it was assigned along its edge `edge`).
    Backward { offer: u32, edge: u32 },
    /// Into the sink from an offer with room.
    OfferSink { offer: u32 },
    /// Into the sink from a need that gives up a unit (stays uncovered).
    NeedSink { need: u32 },
}

struct Flow<'a> {
    problem: &'a Problem,
    graph: &'a [Vec<Candidate>],
    scale: i64,
    /// Per need, per candidate edge: does it carry flow?
    used_edge: Vec<Vec<bool>>,
    /// Per offer: the (need, edge) pairs assigned to it.
    assigned: Vec<Vec<(u32, u32)>>,
    potential: Vec<i64>,
    // Dijkstra scratch, reused across runs; `stamp` marks what belongs to the current run.
    dist: Vec<i64>,
    stamp: Vec<u32>,
    settled: Vec<u32>,
    via: Vec<Via>,
    run: u32,
    heap: BinaryHeap<Reverse<(i64, u32)>>,
    visited: Vec<u32>,
}

impl<'a> Flow<'a> {
    fn new(problem: &'a Problem, graph: &'a [Vec<Candidate>]) -> Self {
        let units: i64 = problem.needs.iter().map(|n| n.people as i64).sum();
        let nodes = problem.needs.len() + problem.offers.len() + 1;
        Self {
            problem,
            graph,
            scale: MAX_PENALTY * units + 1,
            used_edge: graph.iter().map(|g| vec![false; g.len()]).collect(),
            assigned: vec![Vec::new(); problem.offers.len()],
            potential: vec![0; nodes],
            dist: vec![0; nodes],
            stamp: vec![0; nodes],
            settled: vec![0; nodes],
            via: vec![Via::NeedSink { need: 0 }; nodes],
            run: 0,
            heap: BinaryHeap::new(),
            visited: Vec::new(),
        }
    }

    fn offer_node(&self, o: u32) -> u32 {
        self.problem.needs.len() as u32 + o
    }
    fn sink(&self) -> u32 {
        (self.problem.needs.len() + self.problem.offers.len()) as u32
    }
    fn cost(&self, n: u32, e: u32) -> i64 {
        let c = &self.graph[n as usize][e as usize];
        -(self.problem.needs[n as usize].weight as i64) * self.scale + c.edge_penalty
    }

    fn solve(mut self) -> Outcome {
        let sink = self.sink();
        for n in order_by_weight(self.problem) {
            // A potential for the newcomer that makes all its edges' reduced costs >= 0.
            let mut p = self.potential[sink as usize];
            for e in 0..self.graph[n as usize].len() as u32 {
                let o = self.graph[n as usize][e as usize].offer;
                p = p.max(self.potential[self.offer_node(o) as usize] - self.cost(n, e));
            }
            self.potential[n as usize] = p;
            for _ in 0..self.problem.needs[n as usize].people {
                self.augment_from(n);
            }
        }
        let mut out = Vec::new();
        for (n, edges) in self.used_edge.iter().enumerate() {
            for (e, &used) in edges.iter().enumerate() {
                if used {
                    out.push(assignment(self.problem, n as u32, &self.graph[n][e]));
                }
            }
        }
        let edges = self.graph.iter().map(Vec::len).sum();
        Outcome::new(self.problem, out, edges)
    }

    fn relax(&mut self, node: u32, d: i64, via: Via) {
        let i = node as usize;
        if self.settled[i] == self.run {
            return;
        }
        if self.stamp[i] != self.run || d < self.dist[i] {
            self.stamp[i] = self.run;
            self.dist[i] = d;
            self.via[i] = via;
            self.heap.push(Reverse((d, node)));
        }
    }

    /// Sends one unit from need `source` to the sink along a shortest path.
    fn augment_from(&mut self, source: u32) {
        self.run += 1;
        self.heap.clear();
        self.visited.clear();
        let sink = self.sink();
        let needs = self.problem.needs.len() as u32;
        self.stamp[source as usize] = self.run;
        self.dist[source as usize] = 0;
        self.heap.push(Reverse((0, source)));
        let mut reached = false;
        while let Some(Reverse((d, v))) = self.heap.pop() {
            let vi = v as usize;
            if self.settled[vi] == self.run || d > self.dist[vi] {
                continue;
            }
            self.settled[vi] = self.run;
            self.visited.push(v);
            if v == sink {
                reached = true;
                break;
            }
            let pv = self.potential[vi];
            if v < needs {
                // Need: to an unused candidate offer, or give the unit up to the sink.
                for e in 0..self.graph[vi].len() as u32 {
                    if self.used_edge[vi][e as usize] {
                        continue;
                    }
                    let o = self.graph[vi][e as usize].offer;
                    let on = self.offer_node(o);
                    let rc = self.cost(v, e) + pv - self.potential[on as usize];
                    debug_assert!(rc >= 0, "negative reduced cost {rc}");
                    self.relax(on, d + rc, Via::Forward { need: v, edge: e });
                }
                let rc = pv - self.potential[sink as usize];
                debug_assert!(rc >= 0);
                self.relax(sink, d + rc, Via::NeedSink { need: v });
            } else {
                let o = v - needs;
                let offer = &self.problem.offers[o as usize];
                let used = self.assigned[o as usize].len() as u16;
                if used < offer.capacity {
                    let rc = load_penalty(offer, used) + pv - self.potential[sink as usize];
                    debug_assert!(rc >= 0);
                    self.relax(sink, d + rc, Via::OfferSink { offer: o });
                }
                for k in 0..self.assigned[o as usize].len() {
                    let (n, e) = self.assigned[o as usize][k];
                    let rc = -self.cost(n, e) + pv - self.potential[n as usize];
                    debug_assert!(rc >= 0);
                    self.relax(n, d + rc, Via::Backward { offer: o, edge: e });
                }
            }
        }
        // The need can always give its unit up, so the sink is always reached.
        debug_assert!(reached);
        let dt = self.dist[sink as usize];
        for &v in &self.visited {
            self.potential[v as usize] += self.dist[v as usize] - dt;
        }
        // Walk back from the sink, flipping edges.
        let mut at = sink;
        while at != source {
            match self.via[at as usize] {
                Via::OfferSink { offer } => at = self.offer_node(offer),
                Via::NeedSink { need } => at = need,
                Via::Forward { need, edge } => {
                    self.used_edge[need as usize][edge as usize] = true;
                    let o = self.graph[need as usize][edge as usize].offer;
                    self.assigned[o as usize].push((need, edge));
                    at = need;
                }
                Via::Backward { offer, edge } => {
                    let need = at;
                    self.used_edge[need as usize][edge as usize] = false;
                    let list = &mut self.assigned[offer as usize];
                    let k = list
                        .iter()
                        .position(|&(n, e)| n == need && e == edge)
                        .expect("a backward step follows an assigned edge");
                    list.swap_remove(k);
                    at = self.offer_node(offer);
                }
            }
        }
    }
}
