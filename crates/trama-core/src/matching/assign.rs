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

use super::index::{Candidate, OfferIndex, rank_key, spatial_order};
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
    // Needs by category, then in map order, so that consecutive searches read the same cells
    // while they are in the cache; split across the machine's cores.
    let mut order = spatial_order(problem.needs.iter().map(|n| n.point));
    order.sort_by_key(|&n| problem.needs[n as usize].category);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(16);
    let found: Vec<Vec<Candidate>> = if threads < 2 || order.len() < 2048 {
        order
            .iter()
            .map(|&n| of(&problem.needs[n as usize]))
            .collect()
    } else {
        let chunk = order.len().div_ceil(threads);
        std::thread::scope(|s| {
            let parts: Vec<_> = order
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|&n| of(&problem.needs[n as usize]))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|h| h.join().expect("candidate search does not panic"))
                .collect()
        })
    };
    let mut graph = vec![Vec::new(); problem.needs.len()];
    for (&n, candidates) in order.iter().zip(found) {
        graph[n as usize] = candidates;
    }
    graph
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

/// How Dijkstra reached a node, packed in 32 bits: the kind in the top two, an edge or node
/// index in the rest.
const VIA_FORWARD: u32 = 0; // along candidate edge x (need → offer)
const VIA_BACKWARD: u32 = 1; // taking assigned edge x back (offer → need)
const VIA_OFFER_SINK: u32 = 2; // from offer node x into the sink
const VIA_NEED_SINK: u32 = 3; // from need node x into the sink (the unit stays uncovered)
const VIA_INDEX: u32 = (1 << 30) - 1;

fn via(kind: u32, x: u32) -> u32 {
    debug_assert!(x <= VIA_INDEX);
    (kind << 30) | x
}

/// What Dijkstra keeps per node, together so one node is one cache line's worth.
#[derive(Clone, Copy, Default)]
struct Node {
    potential: i64,
    dist: i64,
    /// `dist` and `via` belong to run `stamp`.
    stamp: u32,
    /// Settled in run `settled`.
    settled: u32,
    via: u32,
}

/// A candidate edge in the flow's own numbering.
#[derive(Clone, Copy)]
struct Edge {
    /// The offer's node.
    to: u32,
    /// The pair penalty, 0..=750.
    penalty: u32,
}

/// An offer node's room: `cap` slots from `slot` in [`Flow::assigned`], `used` of them taken.
#[derive(Clone, Copy, Default)]
struct Room {
    slot: u32,
    cap: u16,
    used: u16,
}

struct Flow<'a> {
    problem: &'a Problem,
    graph: &'a [Vec<Candidate>],
    /// Node of each need and of each offer, by their index in the problem.
    need_node: Vec<u32>,
    /// Need index (for need nodes) or offer index (for offer nodes) of each node.
    original: Vec<u32>,
    sink: u32,
    node: Vec<Node>,
    /// Per need node: `-(weight × SCALE)`, the part of its edges' cost that rewards coverage.
    base: Vec<i64>,
    /// Per offer node: its room.
    room: Vec<Room>,
    /// Candidate edges of each node (offers have none): `edges[first[v]..first[v + 1]]`, in
    /// the order of the need's candidates in `graph`.
    first: Vec<u32>,
    edges: Vec<Edge>,
    used: Vec<bool>,
    /// The need node an edge leaves.
    edge_need: Vec<u32>,
    /// Per offer, the edges assigned to it: `assigned[room.slot..room.slot + room.used]`.
    assigned: Vec<u32>,
    run: u32,
    heap: BinaryHeap<Reverse<(i64, u32)>>,
    visited: Vec<u32>,
}

impl<'a> Flow<'a> {
    fn new(problem: &'a Problem, graph: &'a [Vec<Candidate>]) -> Self {
        let units: i64 = problem.needs.iter().map(|n| n.people as i64).sum();
        let scale = MAX_PENALTY * units + 1;
        let (needs, offers) = (problem.needs.len(), problem.offers.len());
        // Lay the nodes out along a Morton curve, so that a Dijkstra run, which stays in one
        // neighbourhood, stays in a few cache lines too.
        let order = spatial_order(
            problem
                .needs
                .iter()
                .map(|n| n.point)
                .chain(problem.offers.iter().map(|o| o.point)),
        );
        let mut need_node = vec![0u32; needs];
        let mut offer_node = vec![0u32; offers];
        let mut original = vec![0u32; needs + offers];
        for (v, &i) in order.iter().enumerate() {
            let i = i as usize;
            if i < needs {
                need_node[i] = v as u32;
                original[v] = i as u32;
            } else {
                offer_node[i - needs] = v as u32;
                original[v] = (i - needs) as u32;
            }
        }
        let nodes = needs + offers + 1;
        let mut base = vec![0i64; nodes];
        let mut room = vec![Room::default(); nodes];
        let mut slots = 0u32;
        for (o, offer) in problem.offers.iter().enumerate() {
            room[offer_node[o] as usize] = Room {
                slot: slots,
                cap: offer.capacity,
                used: 0,
            };
            slots += offer.capacity as u32;
        }
        let mut first = vec![0u32; nodes + 1];
        for (n, need) in problem.needs.iter().enumerate() {
            let v = need_node[n] as usize;
            base[v] = -(need.weight as i64) * scale;
            first[v + 1] = graph[n].len() as u32;
        }
        for v in 0..nodes {
            first[v + 1] += first[v];
        }
        let total = first[nodes] as usize;
        assert!(total <= VIA_INDEX as usize, "too many candidate pairs");
        let mut edges = vec![Edge { to: 0, penalty: 0 }; total];
        let mut edge_need = vec![0u32; total];
        for (n, cands) in graph.iter().enumerate() {
            let v = need_node[n];
            let at = first[v as usize] as usize;
            for (k, c) in cands.iter().enumerate() {
                edges[at + k] = Edge {
                    to: offer_node[c.offer as usize],
                    penalty: c.edge_penalty as u32,
                };
                edge_need[at + k] = v;
            }
        }
        Self {
            problem,
            graph,
            need_node,
            original,
            sink: (nodes - 1) as u32,
            node: vec![Node::default(); nodes],
            base,
            room,
            first,
            edges,
            used: vec![false; total],
            edge_need,
            assigned: vec![0; slots as usize],
            run: 0,
            heap: BinaryHeap::new(),
            visited: Vec::new(),
        }
    }

    fn cost(&self, e: u32) -> i64 {
        self.base[self.edge_need[e as usize] as usize] + self.edges[e as usize].penalty as i64
    }

    /// The marginal load penalty of one more need on offer node `v`.
    fn load(&self, v: u32) -> i64 {
        let offer = &self.problem.offers[self.original[v as usize] as usize];
        load_penalty(offer, self.room[v as usize].used)
    }

    fn solve(mut self) -> Outcome {
        let sink = self.sink as usize;
        // Heaviest first (fewer units get moved later), then in map order for the cache.
        let mut order: Vec<u32> = (0..self.problem.needs.len() as u32).collect();
        order.sort_unstable_by_key(|&n| {
            (
                Reverse(self.problem.needs[n as usize].weight),
                self.need_node[n as usize],
            )
        });
        for n in order {
            let v = self.need_node[n as usize] as usize;
            // A potential for the newcomer that makes all its edges' reduced costs >= 0.
            let mut p = self.node[sink].potential;
            for e in self.first[v]..self.first[v + 1] {
                let to = self.edges[e as usize].to as usize;
                p = p.max(self.node[to].potential - self.cost(e));
            }
            self.node[v].potential = p;
            for _ in 0..self.problem.needs[n as usize].people {
                self.augment_from(v as u32);
            }
        }
        let mut out = Vec::new();
        for (n, cands) in self.graph.iter().enumerate() {
            let at = self.first[self.need_node[n] as usize] as usize;
            for (k, c) in cands.iter().enumerate() {
                if self.used[at + k] {
                    out.push(assignment(self.problem, n as u32, c));
                }
            }
        }
        let edges = self.edges.len();
        Outcome::new(self.problem, out, edges)
    }

    #[inline]
    fn relax(&mut self, v: u32, d: i64, how: u32) {
        let run = self.run;
        // Nothing reached at or beyond the sink's tentative distance can lead to a shorter
        // path to it (reduced costs are not negative): no need to queue it.
        let sink = &self.node[self.sink as usize];
        if sink.stamp == run && d >= sink.dist {
            return;
        }
        let node = &mut self.node[v as usize];
        if node.settled == run {
            return;
        }
        if node.stamp != run || d < node.dist {
            node.stamp = run;
            node.dist = d;
            node.via = how;
            self.heap.push(Reverse((d, v)));
        }
    }

    /// Sends one unit from need node `source` to the sink along a shortest path.
    fn augment_from(&mut self, source: u32) {
        self.run += 1;
        self.heap.clear();
        self.visited.clear();
        let sink = self.sink;
        let run = self.run;
        {
            let s = &mut self.node[source as usize];
            s.stamp = run;
            s.dist = 0;
        }
        self.heap.push(Reverse((0, source)));
        while let Some(Reverse((d, v))) = self.heap.pop() {
            let vi = v as usize;
            let here = self.node[vi];
            if here.settled == run || d > here.dist {
                continue;
            }
            self.node[vi].settled = run;
            self.visited.push(v);
            if v == sink {
                break;
            }
            let pv = here.potential;
            let p_sink = self.node[sink as usize].potential;
            if self.base[vi] < 0 {
                // A need: to an unused candidate offer, or give the unit up to the sink.
                let base = self.base[vi];
                for e in self.first[vi]..self.first[vi + 1] {
                    if self.used[e as usize] {
                        continue;
                    }
                    let edge = self.edges[e as usize];
                    let rc =
                        base + edge.penalty as i64 + pv - self.node[edge.to as usize].potential;
                    debug_assert!(rc >= 0, "negative reduced cost {rc}");
                    self.relax(edge.to, d + rc, via(VIA_FORWARD, e));
                }
                let rc = pv - p_sink;
                debug_assert!(rc >= 0);
                self.relax(sink, d + rc, via(VIA_NEED_SINK, v));
            } else {
                // An offer: into the sink if it has room, or back along an assigned edge.
                let room = self.room[vi];
                if room.used < room.cap {
                    let rc = self.load(v) + pv - p_sink;
                    debug_assert!(rc >= 0);
                    self.relax(sink, d + rc, via(VIA_OFFER_SINK, v));
                }
                for k in room.slot..room.slot + room.used as u32 {
                    let e = self.assigned[k as usize];
                    let n = self.edge_need[e as usize];
                    let rc = -self.cost(e) + pv - self.node[n as usize].potential;
                    debug_assert!(rc >= 0);
                    self.relax(n, d + rc, via(VIA_BACKWARD, e));
                }
            }
        }
        let dt = self.node[sink as usize].dist;
        for k in 0..self.visited.len() {
            let node = &mut self.node[self.visited[k] as usize];
            node.potential += node.dist - dt;
        }
        // Walk back from the sink, flipping edges.
        let mut at = sink;
        while at != source {
            let how = self.node[at as usize].via;
            let x = how & VIA_INDEX;
            match how >> 30 {
                VIA_OFFER_SINK | VIA_NEED_SINK => at = x,
                VIA_FORWARD => {
                    self.used[x as usize] = true;
                    let o = self.edges[x as usize].to as usize;
                    let room = &mut self.room[o];
                    self.assigned[(room.slot + room.used as u32) as usize] = x;
                    room.used += 1;
                    at = self.edge_need[x as usize];
                }
                _ => {
                    // Backward: the need `at` gives up edge x, which goes back to its offer.
                    self.used[x as usize] = false;
                    let o = self.edges[x as usize].to as usize;
                    let room = self.room[o];
                    let list = &mut self.assigned
                        [room.slot as usize..(room.slot + room.used as u32) as usize];
                    let k = list
                        .iter()
                        .position(|&e| e == x)
                        .expect("a backward step follows an assigned edge");
                    let last = list.len() - 1;
                    list.swap(k, last);
                    self.room[o].used -= 1;
                    at = o as u32;
                }
            }
        }
    }
}
