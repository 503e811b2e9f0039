//! The funding engine: which of a person's allocations pays for each service of their plan.
//!
//! A plan has lines (a service of a category, with its cost in each month); a person has
//! sources (allocations of programmes, each with what is left, the programme's rules, and what
//! it already paid in each month). The engine finds the combination that costs **the person**
//! least: co-payments (by the person's ISEE band, on what each programme covers) plus what no
//! programme covers. Among combinations that cost the person the same, it spends first the
//! allocations that expire first, so money that would be lost is used. Then it explains, line
//! by line, where each euro comes from and why each other source was not used.
//!
//! The rules it keeps: a programme pays only for its categories, within its months, up to
//! what is left of the allocation and its monthly cap; a programme that does not combine
//! (*non cumulabile*) pays for a line alone or not at all (the person may pay the rest).
//!
//! How: a min-cost flow in cents (covered cost flows from each source, through its month, to
//! each line's month; the person's own money is a source of last resort), exact for the linear
//! objective; the non-combinable rule by branch and bound on top (branch: the programme alone
//! on the line, or not on the line), each branch bounded by its flow. Co-payments are rounded
//! up to the cent on each share, so no programme ever pays beyond its rules.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::programme::{BasisPoints, ProgrammeRules, YearMonth};
use crate::FieldError;
use crate::money::Cents;

/// One service of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanLine {
    /// The taxonomy code of the service.
    pub category: String,
    /// The cost in each month (months in any order, each once).
    pub months: Vec<(YearMonth, Cents)>,
}

/// One allocation a person can draw on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub rules: ProgrammeRules,
    /// What is left of the allocation.
    pub available: Cents,
    /// What the programme already paid (or holds) for this person in a month.
    #[serde(default)]
    pub used_in_month: Vec<(YearMonth, Cents)>,
    /// The last month the allocation can be spent in.
    pub expires: YearMonth,
}

/// What the engine is asked.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FundingRequest {
    pub lines: Vec<PlanLine>,
    pub sources: Vec<Source>,
    /// The person's ISEE in cents, if declared (undeclared: the last co-payment band).
    pub isee: Option<Cents>,
    /// The case manager's overrides: (line, source) pairs not to use.
    #[serde(default)]
    pub excluded: Vec<(usize, usize)>,
}

/// A declared ISEE in cents: never below zero (undeclared is `None`).
pub fn parse_isee(field: &str, cents: Option<i64>) -> Result<Option<Cents>, FieldError> {
    match cents {
        Some(v) if v < 0 => Err(FieldError::new(
            field,
            "an ISEE is never below zero (cents)",
        )),
        v => Ok(v.map(Cents)),
    }
}

/// One of the case manager's overrides as a link carries it, `LINE:ALLOCATION` (the plan's
/// line number from 0, the allocation's id): that allocation is not to pay for that line.
pub fn parse_exclusion(
    field: &str,
    s: &str,
) -> Result<(usize, crate::ids::AllocationId), FieldError> {
    let bad = || {
        FieldError::new(
            field,
            format!("'{s}' is not a line and an allocation like 0:0190…"),
        )
    };
    let (line, allocation) = s.trim().split_once(':').ok_or_else(bad)?;
    let line = line.parse().map_err(|_| bad())?;
    let allocation = crate::ids::AllocationId::parse(field, allocation).map_err(|_| bad())?;
    Ok((line, allocation))
}

/// What one source pays for one line in one month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub source: usize,
    pub month: YearMonth,
    /// The part of the cost this source covers: what it pays plus the co-payment.
    pub covered: Cents,
    pub programme_pays: Cents,
    pub copay: Cents,
    pub copay_rate: BasisPoints,
}

/// Why a source pays nothing for a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", content = "source", rename_all = "snake_case")]
pub enum NotUsed {
    /// The programme does not pay for this category.
    CategoryNotCovered,
    /// None of the line's months is within the programme's months.
    OutsideValidity,
    /// The co-payment for this person is 100 %: it would save nothing.
    NoSaving,
    /// The case manager excluded it.
    Excluded,
    /// It does not combine with the source named, which pays for this line.
    NotCombinableWith(usize),
    /// Nothing is left of the allocation.
    Exhausted,
    /// Its monthly cap is reached in every month of the line.
    MonthlyCapReached,
    /// Other sources cost the person less (or expire sooner) and were enough.
    OthersCheaper,
}

/// How one line is paid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineFunding {
    pub line: usize,
    pub cost: Cents,
    pub shares: Vec<Share>,
    /// What no programme covers, paid by the person.
    pub self_pay: Cents,
    /// Co-payments and self-pay.
    pub out_of_pocket: Cents,
    pub not_used: Vec<(usize, NotUsed)>,
}

/// The engine's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Funding {
    pub lines: Vec<LineFunding>,
    pub total_cost: Cents,
    /// What the programmes pay.
    pub public_pays: Cents,
    pub copay: Cents,
    pub self_pay: Cents,
    /// What each source pays in all.
    pub by_source: Vec<Cents>,
}

impl Funding {
    pub fn out_of_pocket(&self) -> Cents {
        Cents(self.copay.0 + self.self_pay.0)
    }
}

const FULL: i64 = BasisPoints::FULL as i64;

/// Covered cents, `[line month][source]`.
type Flows = Vec<Vec<i64>>;
/// (line, source) pairs.
type Pairs = BTreeSet<(usize, usize)>;

/// The most cost a source can cover when `avail` is left to pay with co-payment `bp`: the
/// largest `x` with `x - ceil(x * bp / FULL) <= avail`.
fn cover_cap(avail: i64, bp: i64) -> i64 {
    if avail <= 0 || bp >= FULL {
        // Nothing left, or a 100 % co-payment: the source covers nothing (the engine never
        // draws on a source that saves the person nothing).
        return 0;
    }
    let cap = ((avail as i128 + 1) * FULL as i128 - 1) / (FULL - bp) as i128;
    cap.min(UNBOUNDED as i128) as i64
}

/// A capacity that never binds (far above any amount `check` lets in).
const UNBOUNDED: i64 = i64::MAX / 4;

/// The largest amount of one line-month, or left on an allocation, the engine takes: a
/// hundred million euros, far beyond any care plan, small enough that no cost overflows.
pub const MAX_AMOUNT: Cents = Cents(10_000_000_000);

fn check(req: &FundingRequest) -> Result<(), FieldError> {
    if req.lines.len() > 50 || req.sources.len() > 100 {
        return Err(FieldError::new(
            "lines",
            "at most 50 lines and 100 allocations in one request",
        ));
    }
    for (i, l) in req.lines.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for (m, c) in &l.months {
            if c.0 < 0 || c.0 > MAX_AMOUNT.0 {
                return Err(FieldError::new(
                    format!("lines[{i}].months"),
                    format!("a cost must be between 0 and {MAX_AMOUNT}"),
                ));
            }
            if !seen.insert(*m) {
                return Err(FieldError::new(
                    format!("lines[{i}].months"),
                    format!("{m} appears twice"),
                ));
            }
        }
    }
    for (i, s) in req.sources.iter().enumerate() {
        s.rules
            .validate()
            .map_err(|e| FieldError::new(format!("sources[{i}].rules.{}", e.field), e.reason))?;
        if s.available.0 < 0 {
            return Err(FieldError::new(
                format!("sources[{i}].available"),
                "cannot be negative",
            ));
        }
    }
    for &(l, s) in &req.excluded {
        if l >= req.lines.len() || s >= req.sources.len() {
            return Err(FieldError::new(
                "excluded",
                format!("line {l} or source {s} does not exist"),
            ));
        }
    }
    Ok(())
}

/// Funds a plan. Errors only on malformed requests; a plan no programme can pay for is
/// funded by the person alone, and says why for each source.
pub fn fund(req: &FundingRequest) -> Result<Funding, FieldError> {
    check(req)?;
    let problem = Problem::new(req);
    let mut best: Option<(i128, Flows, Pairs)> = None;
    let mut stack = vec![
        req.excluded
            .iter()
            .copied()
            .collect::<BTreeSet<(usize, usize)>>(),
    ];
    while let Some(forbidden) = stack.pop() {
        let (cost, flows) = problem.solve(&forbidden);
        if best.as_ref().is_some_and(|(b, _, _)| cost >= *b) {
            continue;
        }
        match problem.first_conflict(&flows) {
            None => best = Some((cost, flows, forbidden)),
            Some((line, exclusive, others)) => {
                // Branch: the programme that does not combine left out of the line, or alone.
                let mut without = forbidden.clone();
                without.insert((line, exclusive));
                let mut alone = forbidden;
                alone.extend(others.into_iter().map(|s| (line, s)));
                stack.push(without);
                stack.push(alone);
            }
        }
    }
    let (_, flows, forbidden) = best.expect("the first branch has no forbidden pair at worst");
    Ok(problem.explain(req, &flows, &forbidden))
}

/// The flow network of one request.
struct Problem<'a> {
    req: &'a FundingRequest,
    rates: Vec<i64>,
    /// The order in which sources expire (0: first), the tie-break after the person's cost.
    rank: Vec<i64>,
    /// Weight of the person's cost over the tie-break, so the order is lexicographic.
    scale: i128,
    /// Months any line needs, in order.
    months: Vec<YearMonth>,
}

struct Graph {
    to: Vec<usize>,
    cap: Vec<i64>,
    cost: Vec<i128>,
    head: Vec<Vec<usize>>,
}

impl Graph {
    fn new(n: usize) -> Self {
        Self {
            to: Vec::new(),
            cap: Vec::new(),
            cost: Vec::new(),
            head: vec![Vec::new(); n],
        }
    }

    fn add(&mut self, a: usize, b: usize, cap: i64, cost: i128) -> usize {
        let e = self.to.len();
        self.to.extend([b, a]);
        self.cap.extend([cap, 0]);
        self.cost.extend([cost, -cost]);
        self.head[a].push(e);
        self.head[b].push(e + 1);
        e
    }

    /// Successive shortest paths (Bellman-Ford queue; the graphs are small). Returns the cost.
    fn min_cost_flow(&mut self, s: usize, t: usize) -> i128 {
        let n = self.head.len();
        let mut total = 0i128;
        loop {
            let mut dist = vec![i128::MAX; n];
            let mut prev = vec![usize::MAX; n];
            let mut queued = vec![false; n];
            let mut q = VecDeque::from([s]);
            dist[s] = 0;
            while let Some(u) = q.pop_front() {
                queued[u] = false;
                for &e in &self.head[u] {
                    let v = self.to[e];
                    if self.cap[e] > 0 && dist[u] + self.cost[e] < dist[v] {
                        dist[v] = dist[u] + self.cost[e];
                        prev[v] = e;
                        if !queued[v] {
                            queued[v] = true;
                            q.push_back(v);
                        }
                    }
                }
            }
            if dist[t] == i128::MAX {
                return total;
            }
            let mut push = i64::MAX;
            let mut v = t;
            while v != s {
                let e = prev[v];
                push = push.min(self.cap[e]);
                v = self.to[e ^ 1];
            }
            let mut v = t;
            while v != s {
                let e = prev[v];
                self.cap[e] -= push;
                self.cap[e ^ 1] += push;
                v = self.to[e ^ 1];
            }
            total += push as i128 * dist[t];
        }
    }
}

impl<'a> Problem<'a> {
    fn new(req: &'a FundingRequest) -> Self {
        let rates: Vec<i64> = req
            .sources
            .iter()
            .map(|s| s.rules.copay_for(req.isee).get() as i64)
            .collect();
        let mut order: Vec<usize> = (0..req.sources.len()).collect();
        order.sort_by_key(|&i| (req.sources[i].expires, i));
        let mut rank = vec![0i64; req.sources.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i] = r as i64;
        }
        let total: i128 = req
            .lines
            .iter()
            .flat_map(|l| l.months.iter().map(|(_, c)| c.0 as i128))
            .sum();
        let months: BTreeSet<YearMonth> = req
            .lines
            .iter()
            .flat_map(|l| l.months.iter().map(|(m, _)| *m))
            .collect();
        Self {
            req,
            rates,
            rank,
            scale: (req.sources.len() as i128 + 1) * (total + 1) + 1,
            months: months.into_iter().collect(),
        }
    }

    fn eligible(&self, line: usize, source: usize, month: YearMonth) -> bool {
        let s = &self.req.sources[source];
        self.rates[source] < FULL
            && s.rules.covers_category(&self.req.lines[line].category)
            && s.rules.covers_month(month)
            && month <= s.expires
    }

    fn used_in(&self, source: usize, month: YearMonth) -> i64 {
        self.req.sources[source]
            .used_in_month
            .iter()
            .filter(|(m, _)| *m == month)
            .map(|(_, c)| c.0)
            .sum()
    }

    /// Solves the flow with some (line, source) pairs forbidden; returns the cost and the
    /// covered cents `flows[line_month][source]`, line months in the order of the request.
    fn solve(&self, forbidden: &BTreeSet<(usize, usize)>) -> (i128, Vec<Vec<i64>>) {
        let ns = self.req.sources.len();
        let nm = self.months.len();
        let line_months: Vec<(usize, YearMonth, i64)> = self
            .req
            .lines
            .iter()
            .enumerate()
            .flat_map(|(l, line)| line.months.iter().map(move |(m, c)| (l, *m, c.0)))
            .collect();
        // Nodes: S, T, sources, (source, month), line months.
        let (s, t) = (0, 1);
        let src = |i: usize| 2 + i;
        let src_month = |i: usize, k: usize| 2 + ns + i * nm + k;
        let lm_node = |j: usize| 2 + ns + ns * nm + j;
        let mut g = Graph::new(2 + ns + ns * nm + line_months.len());
        for (i, source) in self.req.sources.iter().enumerate() {
            let bp = self.rates[i];
            if bp >= FULL {
                continue;
            }
            g.add(s, src(i), cover_cap(source.available.0, bp), 0);
            for (k, m) in self.months.iter().enumerate() {
                let cap = match source.rules.monthly_cap {
                    Some(c) => cover_cap(c.0 - self.used_in(i, *m), bp),
                    None => UNBOUNDED,
                };
                g.add(src(i), src_month(i, k), cap, 0);
            }
        }
        let mut share_edges = Vec::new();
        for (j, &(l, m, cost)) in line_months.iter().enumerate() {
            g.add(lm_node(j), t, cost, 0);
            g.add(s, lm_node(j), cost, FULL as i128 * self.scale + ns as i128);
            let k = self
                .months
                .binary_search(&m)
                .expect("every line month is listed");
            for i in 0..ns {
                if self.eligible(l, i, m) && !forbidden.contains(&(l, i)) {
                    let c = self.rates[i] as i128 * self.scale + self.rank[i] as i128;
                    let e = g.add(src_month(i, k), lm_node(j), UNBOUNDED, c);
                    share_edges.push((j, i, e));
                }
            }
        }
        let cost = g.min_cost_flow(s, t);
        let mut flows = vec![vec![0i64; ns]; line_months.len()];
        for (j, i, e) in share_edges {
            flows[j][i] = g.cap[e ^ 1];
        }
        (cost, flows)
    }

    /// The line months of a line, as indexes into `flows`.
    fn line_month_range(&self, line: usize) -> std::ops::Range<usize> {
        let start: usize = self.req.lines[..line].iter().map(|l| l.months.len()).sum();
        start..start + self.req.lines[line].months.len()
    }

    /// The first line where a programme that does not combine pays beside another: (line,
    /// that source, the others).
    fn first_conflict(&self, flows: &[Vec<i64>]) -> Option<(usize, usize, Vec<usize>)> {
        for l in 0..self.req.lines.len() {
            let payers: Vec<usize> = (0..self.req.sources.len())
                .filter(|&i| self.line_month_range(l).any(|j| flows[j][i] > 0))
                .collect();
            if payers.len() < 2 {
                continue;
            }
            if let Some(&x) = payers
                .iter()
                .find(|&&i| !self.req.sources[i].rules.combinable)
            {
                let others = payers.into_iter().filter(|&i| i != x).collect();
                return Some((l, x, others));
            }
        }
        None
    }

    fn explain(
        &self,
        req: &FundingRequest,
        flows: &[Vec<i64>],
        forbidden: &BTreeSet<(usize, usize)>,
    ) -> Funding {
        let ns = req.sources.len();
        let mut by_source = vec![0i64; ns];
        let mut lines = Vec::new();
        let excluded: BTreeSet<(usize, usize)> = req.excluded.iter().copied().collect();
        for (l, line) in req.lines.iter().enumerate() {
            let mut shares = Vec::new();
            let mut covered_total = 0i64;
            for (j, (m, _)) in self.line_month_range(l).zip(&line.months) {
                for (i, &x) in flows[j].iter().enumerate() {
                    if x == 0 {
                        continue;
                    }
                    let rate = BasisPoints::new("copay", self.rates[i] as u16).expect("valid");
                    let copay = rate.of_rounded_up(Cents(x));
                    shares.push(Share {
                        source: i,
                        month: *m,
                        covered: Cents(x),
                        programme_pays: Cents(x - copay.0),
                        copay,
                        copay_rate: rate,
                    });
                    by_source[i] += x - copay.0;
                    covered_total += x;
                }
            }
            let cost: i64 = line.months.iter().map(|(_, c)| c.0).sum();
            let copay: i64 = shares.iter().map(|s| s.copay.0).sum();
            let payers: BTreeSet<usize> = shares.iter().map(|s| s.source).collect();
            let not_used = (0..ns)
                .filter(|i| !payers.contains(i))
                .map(|i| (i, self.why_not(l, i, &payers, &excluded, forbidden)))
                .collect();
            lines.push(LineFunding {
                line: l,
                cost: Cents(cost),
                shares,
                self_pay: Cents(cost - covered_total),
                out_of_pocket: Cents(cost - covered_total + copay),
                not_used,
            });
        }
        let total_cost = lines.iter().map(|l| l.cost.0).sum();
        let copay = lines
            .iter()
            .flat_map(|l| &l.shares)
            .map(|s| s.copay.0)
            .sum();
        let self_pay = lines.iter().map(|l| l.self_pay.0).sum();
        Funding {
            lines,
            total_cost: Cents(total_cost),
            public_pays: Cents(by_source.iter().sum()),
            copay: Cents(copay),
            self_pay: Cents(self_pay),
            by_source: by_source.into_iter().map(Cents).collect(),
        }
    }

    fn why_not(
        &self,
        line: usize,
        source: usize,
        payers: &BTreeSet<usize>,
        excluded: &BTreeSet<(usize, usize)>,
        forbidden: &BTreeSet<(usize, usize)>,
    ) -> NotUsed {
        let s = &self.req.sources[source];
        let l = &self.req.lines[line];
        if !s.rules.covers_category(&l.category) {
            return NotUsed::CategoryNotCovered;
        }
        if !l
            .months
            .iter()
            .any(|(m, _)| s.rules.covers_month(*m) && *m <= s.expires)
        {
            return NotUsed::OutsideValidity;
        }
        if self.rates[source] >= FULL {
            return NotUsed::NoSaving;
        }
        if excluded.contains(&(line, source)) {
            return NotUsed::Excluded;
        }
        if forbidden.contains(&(line, source)) {
            let other = payers
                .iter()
                .copied()
                .find(|&p| !s.rules.combinable || !self.req.sources[p].rules.combinable);
            if let Some(p) = other {
                return NotUsed::NotCombinableWith(p);
            }
        }
        if s.available.0 <= 0 {
            return NotUsed::Exhausted;
        }
        if let Some(cap) = s.rules.monthly_cap
            && l.months
                .iter()
                .all(|(m, _)| self.used_in(source, *m) >= cap.0)
        {
            return NotUsed::MonthlyCapReached;
        }
        NotUsed::OthersCheaper
    }
}

/// What a plan costs the person and the programmes, by brute force over every way of
/// covering it in whole cents. For tests of small instances only.
pub fn brute_force_out_of_pocket(req: &FundingRequest) -> i64 {
    let problem = Problem::new(req);
    let line_months: Vec<(usize, YearMonth, i64)> = req
        .lines
        .iter()
        .enumerate()
        .flat_map(|(l, line)| line.months.iter().map(move |(m, c)| (l, *m, c.0)))
        .collect();
    let excluded: BTreeSet<(usize, usize)> = req.excluded.iter().copied().collect();
    let vars: Vec<(usize, usize)> = line_months
        .iter()
        .enumerate()
        .flat_map(|(j, &(l, m, _))| {
            let problem = &problem;
            let excluded = &excluded;
            (0..req.sources.len())
                .filter(move |&i| problem.eligible(l, i, m) && !excluded.contains(&(l, i)))
                .map(move |i| (j, i))
        })
        .collect();
    let mut x = vec![0i64; vars.len()];
    let mut best = i64::MAX;
    loop {
        if let Some(v) = evaluate(&problem, &line_months, &vars, &x) {
            best = best.min(v);
        }
        // Next assignment, odometer style, each variable up to its line month's cost.
        let mut k = 0;
        loop {
            if k == vars.len() {
                return best;
            }
            if x[k] < line_months[vars[k].0].2 {
                x[k] += 1;
                break;
            }
            x[k] = 0;
            k += 1;
        }
    }
}

/// The person's linear cost (basis points times cents, over FULL) of one assignment, if it
/// keeps every rule.
fn evaluate(
    p: &Problem<'_>,
    line_months: &[(usize, YearMonth, i64)],
    vars: &[(usize, usize)],
    x: &[i64],
) -> Option<i64> {
    let ns = p.req.sources.len();
    let mut covered = vec![0i64; line_months.len()];
    let mut per_source = vec![0i64; ns];
    let mut per_source_month: BTreeMap<(usize, YearMonth), i64> = BTreeMap::new();
    let mut payers: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); p.req.lines.len()];
    let mut cost = 0i64;
    for (&(j, i), &v) in vars.iter().zip(x) {
        if v == 0 {
            continue;
        }
        covered[j] += v;
        per_source[i] += v;
        *per_source_month.entry((i, line_months[j].1)).or_default() += v;
        payers[line_months[j].0].insert(i);
        cost += p.rates[i] * v;
    }
    for (j, &(_, _, c)) in line_months.iter().enumerate() {
        if covered[j] > c {
            return None;
        }
        cost += FULL * (c - covered[j]);
    }
    for (i, &v) in per_source.iter().enumerate() {
        if v > cover_cap(p.req.sources[i].available.0, p.rates[i]) {
            return None;
        }
    }
    for (&(i, m), &v) in &per_source_month {
        if let Some(cap) = p.req.sources[i].rules.monthly_cap
            && v > cover_cap(cap.0 - p.used_in(i, m), p.rates[i])
        {
            return None;
        }
    }
    for set in &payers {
        if set.len() > 1 && set.iter().any(|&i| !p.req.sources[i].rules.combinable) {
            return None;
        }
    }
    Some(cost)
}

/// The person's linear cost of a funding, in the same unit as `brute_force_out_of_pocket`.
pub fn linear_out_of_pocket(req: &FundingRequest, f: &Funding) -> i64 {
    let mut cost = 0;
    for l in &f.lines {
        let covered: i64 = l.shares.iter().map(|s| s.covered.0).sum();
        cost += FULL * (l.cost.0 - covered);
        for s in &l.shares {
            cost += req.sources[s.source].rules.copay_for(req.isee).get() as i64 * s.covered.0;
        }
    }
    cost
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::programme::{FunderKind, IseeBand};
    use proptest::prelude::*;

    fn month(s: &str) -> YearMonth {
        YearMonth::parse("m", s).unwrap()
    }

    fn programme(
        name: &str,
        cats: &[&str],
        cap: Option<i64>,
        copay: u16,
        comb: bool,
    ) -> ProgrammeRules {
        ProgrammeRules {
            name: name.into(),
            funder_kind: FunderKind::Regional,
            categories: cats.iter().map(|c| c.to_string()).collect(),
            valid_from: month("2026-01"),
            valid_to: month("2026-12"),
            monthly_cap: cap.map(Cents),
            copay_bands: vec![IseeBand {
                isee_max: None,
                copay: BasisPoints::new("c", copay).unwrap(),
            }],
            combinable: comb,
            individual_reports: false,
        }
    }

    fn source(rules: ProgrammeRules, available: i64, expires: &str) -> Source {
        Source {
            rules,
            available: Cents(available),
            used_in_month: vec![],
            expires: month(expires),
        }
    }

    /// Mr. Rossi: home care three times a week, meals, a day centre on Fridays; a municipal
    /// home-care allowance with a 20 % co-payment, the regional fund that does not combine,
    /// his daughter's company welfare credits.
    #[test]
    fn a_plan_is_funded_at_the_least_cost_to_the_person_and_explained() {
        let req = FundingRequest {
            lines: vec![
                PlanLine {
                    category: "A1.1".into(), // home care
                    months: vec![
                        (month("2026-03"), Cents(60_000)),
                        (month("2026-04"), Cents(60_000)),
                    ],
                },
                PlanLine {
                    category: "A1.3".into(), // meals delivered
                    months: vec![(month("2026-03"), Cents(15_000))],
                },
                PlanLine {
                    category: "B2".into(), // day centre
                    months: vec![(month("2026-03"), Cents(20_000))],
                },
            ],
            sources: vec![
                source(
                    programme("Comune: SAD", &["A1"], Some(40_000), 2_000, true),
                    100_000,
                    "2026-12",
                ),
                source(
                    programme("Regione: FNA", &["A1.1", "B2"], None, 0, false),
                    50_000,
                    "2026-06",
                ),
                source(
                    programme("Welfare aziendale", &["A1", "B2"], None, 0, true),
                    30_000,
                    "2026-12",
                ),
            ],
            isee: Some(Cents(1_200_000)),
            excluded: vec![],
        };
        let f = fund(&req).unwrap();
        // Every cent of each line is covered or paid by the person; programmes keep their caps.
        for l in &f.lines {
            let covered: i64 = l.shares.iter().map(|s| s.covered.0).sum();
            assert_eq!(covered + l.self_pay.0, l.cost.0);
        }
        assert!(
            f.by_source[0].0 <= 100_000 && f.by_source[1].0 <= 50_000 && f.by_source[2].0 <= 30_000
        );
        assert_eq!(f.public_pays.0 + f.out_of_pocket().0, f.total_cost.0);
        // The regional fund does not combine: where it pays, it pays alone.
        for l in &f.lines {
            let payers: BTreeSet<usize> = l.shares.iter().map(|s| s.source).collect();
            assert!(!payers.contains(&1) || payers.len() == 1, "{l:?}");
        }
        // Meals: only the municipality and the company cover A1.3; the company has no
        // co-payment, so it is used first if it has money left.
        let meals = &f.lines[1];
        assert!(meals.not_used.contains(&(1, NotUsed::CategoryNotCovered)));
        // The optimum is the brute force's (checked on this instance in whole euros below).
        assert_eq!(linear_out_of_pocket(&req, &f), {
            let mut small = req.clone();
            for l in &mut small.lines {
                for (_, c) in &mut l.months {
                    c.0 /= 10_000;
                }
            }
            for s in &mut small.sources {
                s.available.0 /= 10_000;
                s.rules.monthly_cap = s.rules.monthly_cap.map(|c| Cents(c.0 / 10_000));
            }
            let fs = fund(&small).unwrap();
            assert_eq!(
                linear_out_of_pocket(&small, &fs),
                brute_force_out_of_pocket(&small)
            );
            linear_out_of_pocket(&req, &f)
        });
        // The case manager excludes the company credits from home care: the plan is re-funded
        // within the rules, and says so.
        let mut over = req.clone();
        over.excluded.push((0, 2));
        let g = fund(&over).unwrap();
        assert!(g.lines[0].shares.iter().all(|s| s.source != 2));
        assert!(g.lines[0].not_used.contains(&(2, NotUsed::Excluded)));
        assert!(g.out_of_pocket() >= f.out_of_pocket());
    }

    #[test]
    fn nothing_eligible_means_the_person_pays_and_is_told_why() {
        let req = FundingRequest {
            lines: vec![PlanLine {
                category: "C9".into(),
                months: vec![(month("2027-03"), Cents(5_000))],
            }],
            sources: vec![
                source(programme("A", &["A1"], None, 0, true), 10_000, "2027-12"),
                source(programme("B", &["C9"], None, 0, true), 10_000, "2027-12"),
                source(
                    programme("C", &["C9"], None, 10_000, true),
                    10_000,
                    "2026-12",
                ),
            ],
            isee: None,
            excluded: vec![],
        };
        let f = fund(&req).unwrap();
        assert_eq!(f.self_pay, Cents(5_000));
        assert_eq!(
            f.lines[0].not_used,
            vec![
                (0, NotUsed::CategoryNotCovered),
                (1, NotUsed::OutsideValidity),
                (2, NotUsed::OutsideValidity)
            ]
        );
        assert!(
            fund(&FundingRequest {
                excluded: vec![(3, 0)],
                ..req
            })
            .is_err()
        );
    }

    #[test]
    fn co_payments_round_up_and_never_overspend() {
        // 1,001 cents covered at 20 %: the person pays 201, the programme 800, within 800 left.
        let req = FundingRequest {
            lines: vec![PlanLine {
                category: "A1".into(),
                months: vec![(month("2026-05"), Cents(1_001))],
            }],
            sources: vec![source(
                programme("A", &["A1"], None, 2_000, true),
                800,
                "2026-12",
            )],
            isee: None,
            excluded: vec![],
        };
        let f = fund(&req).unwrap();
        assert_eq!(f.by_source[0], Cents(800));
        assert_eq!(f.copay, Cents(201));
        assert_eq!(f.self_pay, Cents(0));
    }

    fn small_instance() -> impl Strategy<Value = FundingRequest> {
        // Kept small enough for the brute force: at most 3 lines of one month each and 3
        // sources, so at most 4^9 assignments.
        let line = (
            0..3usize,
            proptest::collection::vec((0..2usize, 0i64..4), 1..2),
        );
        let src = (
            proptest::collection::vec(0..3usize, 0..3),
            proptest::option::of(1i64..5),
            prop_oneof![Just(0u16), Just(2_000), Just(5_000), Just(10_000)],
            any::<bool>(),
            0i64..8,
            0usize..2,
            proptest::collection::vec((0..2usize, 0i64..3), 0..2),
        );
        (
            proptest::collection::vec(line, 1..4),
            proptest::collection::vec(src, 1..4),
            proptest::collection::vec((0..2usize, 0..3usize), 0..2),
        )
            .prop_map(|(lines, sources, excluded)| {
                let cats = ["A1", "A1.2", "B3"];
                let months = [month("2026-06"), month("2026-07")];
                let lines: Vec<PlanLine> = lines
                    .into_iter()
                    .map(|(c, ms)| {
                        let mut seen = BTreeMap::new();
                        for (m, cost) in ms {
                            seen.insert(months[m], Cents(cost));
                        }
                        PlanLine {
                            category: cats[c].into(),
                            months: seen.into_iter().collect(),
                        }
                    })
                    .collect();
                let sources: Vec<Source> = sources
                    .into_iter()
                    .map(|(cs, cap, copay, comb, avail, exp, used)| Source {
                        rules: ProgrammeRules {
                            valid_to: months[1],
                            valid_from: months[0],
                            ..programme(
                                "p",
                                &cs.iter().map(|&c| cats[c]).collect::<Vec<_>>(),
                                cap,
                                copay,
                                comb,
                            )
                        },
                        available: Cents(avail),
                        used_in_month: used
                            .into_iter()
                            .map(|(m, c)| (months[m], Cents(c)))
                            .collect(),
                        expires: months[exp],
                    })
                    .collect();
                let excluded = excluded
                    .into_iter()
                    .filter(|&(l, s)| l < lines.len() && s < sources.len())
                    .collect();
                FundingRequest {
                    lines,
                    sources,
                    isee: None,
                    excluded,
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        // On small random plans the engine's cost to the person is the least any assignment
        // in whole cents achieves, and its answer keeps every rule.
        #[test]
        fn the_engine_matches_brute_force(req in small_instance()) {
            let f = fund(&req).unwrap();
            prop_assert_eq!(linear_out_of_pocket(&req, &f), brute_force_out_of_pocket(&req));
            let mut paid = vec![0i64; req.sources.len()];
            for l in &f.lines {
                let covered: i64 = l.shares.iter().map(|s| s.covered.0).sum();
                prop_assert_eq!(covered + l.self_pay.0, l.cost.0);
                let payers: BTreeSet<usize> = l.shares.iter().map(|s| s.source).collect();
                for s in &l.shares {
                    prop_assert!(!req.excluded.contains(&(l.line, s.source)));
                    prop_assert!(req.sources[s.source].rules.covers_category(&req.lines[l.line].category));
                    prop_assert!(payers.len() == 1 || req.sources[s.source].rules.combinable);
                    prop_assert_eq!(s.programme_pays.0 + s.copay.0, s.covered.0);
                    paid[s.source] += s.programme_pays.0;
                }
            }
            for (i, s) in req.sources.iter().enumerate() {
                prop_assert!(paid[i] <= s.available.0);
                prop_assert_eq!(Cents(paid[i]), f.by_source[i]);
            }
        }
    }
}
