//! The matching engine: which offers of help fit which needs, suggestions for one need or one
//! offer, the optimal batch assignment for a whole territory, shared services, and the
//! lifecycle of a match. Pure computation: callers load needs and offers, the engine answers.
//!
//! docs/MATCHING.md describes the model, the score, the objective and the instance format of
//! `trama match`.

pub mod assign;
pub mod index;
pub mod instance;
pub mod lifecycle;
pub mod model;
pub mod shared;

pub use assign::{AssignOptions, Assignment, Objective, Outcome};
pub use index::{Candidate, NeedIndex, OfferIndex};
pub use model::{Need, Offer, Problem, Unfit, Urgency, WeekWindow, need_weight};

/// A problem with its indexes built once, to answer many questions.
pub struct Engine {
    pub problem: Problem,
    offers: OfferIndex,
    needs: NeedIndex,
}

impl Engine {
    pub fn new(problem: Problem) -> Self {
        let offers = OfferIndex::build(&problem.offers);
        let needs = NeedIndex::build(&problem.needs);
        Self {
            problem,
            offers,
            needs,
        }
    }

    /// The best `k` offers for need `n`, with their full penalty (pair plus load).
    pub fn suggest_offers(&self, n: u32, k: usize) -> Vec<(Candidate, i64)> {
        self.offers
            .suggest(&self.problem, &self.problem.needs[n as usize], k)
    }

    /// The best `k` needs for offer `o`.
    pub fn suggest_needs(&self, o: u32, k: usize) -> Vec<(u32, Candidate)> {
        self.needs.suggest(&self.problem, o, k)
    }

    /// The candidate graph (see [`assign::candidate_graph`]), to solve it more than one way.
    pub fn candidate_graph(&self, options: AssignOptions) -> Vec<Vec<Candidate>> {
        assign::candidate_graph(&self.problem, &self.offers, options)
    }

    pub fn optimal(&self, options: AssignOptions) -> Outcome {
        assign::optimal(&self.problem, &self.offers, options)
    }

    pub fn greedy(&self, options: AssignOptions) -> Outcome {
        assign::greedy(&self.problem, &self.offers, options)
    }

    pub fn offer_index(&self) -> &OfferIndex {
        &self.offers
    }
}
