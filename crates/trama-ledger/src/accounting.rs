//! Derived figures: time credits per person and flows per territory, resource kind and month.
//! Pure functions of the events, so anyone who downloads the log gets the same numbers as the
//! dashboard.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::event::{Action, EconomicEvent, Effect, Unit};

/// Hours given and received by one agent. One hour is one credit, whatever the work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Credits {
    pub hours_given: f64,
    pub hours_received: f64,
    pub events: u64,
}

impl Credits {
    /// Given minus received.
    pub fn balance(&self) -> f64 {
        round2(self.hours_given - self.hours_received)
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Only `work` events carry time credits (the `deliverService` beside each one is the same
/// help seen as a service and would count it twice).
fn work_hours(e: &EconomicEvent) -> Option<f64> {
    (e.action == Action::Work).then(|| e.effort_hours())
}

/// The credits of one agent.
pub fn credits_of<'a>(agent: &str, events: impl Iterator<Item = &'a EconomicEvent>) -> Credits {
    let mut c = Credits::default();
    for e in events {
        let Some(h) = work_hours(e) else { continue };
        if e.provider == agent {
            c.hours_given += h;
            c.events += 1;
        }
        if e.receiver == agent {
            c.hours_received += h;
            if e.provider != agent {
                c.events += 1;
            }
        }
    }
    c.hours_given = round2(c.hours_given);
    c.hours_received = round2(c.hours_received);
    c
}

/// The credits of every agent, and the territory's totals.
pub fn all_credits<'a>(
    events: impl Iterator<Item = &'a EconomicEvent>,
) -> (BTreeMap<String, Credits>, Credits) {
    let mut by: BTreeMap<String, Credits> = BTreeMap::new();
    let mut total = Credits::default();
    for e in events {
        let Some(h) = work_hours(e) else { continue };
        let p = by.entry(e.provider.clone()).or_default();
        p.hours_given += h;
        p.events += 1;
        let r = by.entry(e.receiver.clone()).or_default();
        r.hours_received += h;
        r.events += 1;
        total.hours_given += h;
        total.hours_received += h;
        total.events += 1;
    }
    for c in by.values_mut() {
        c.hours_given = round2(c.hours_given);
        c.hours_received = round2(c.hours_received);
    }
    total.hours_given = round2(total.hours_given);
    total.hours_received = round2(total.hours_received);
    (by, total)
}

/// One row of flow accounting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowRow {
    pub scope: String,
    /// The resource kind (`resourceConformsTo`), or `unspecified`.
    pub resource: String,
    pub unit: Unit,
    /// `YYYY-MM`.
    pub period: String,
    /// Produced or raised in the territory (VF increment).
    pub inflow: f64,
    /// Consumed or lowered (VF decrement).
    pub outflow: f64,
    /// Moved from one agent to another (VF decrementIncrement).
    pub transferred: f64,
    /// Work, use, services: quantities that change no stock.
    pub activity: f64,
    pub events: u64,
}

impl FlowRow {
    pub fn balance(&self) -> f64 {
        round3(self.inflow - self.outflow)
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// How an action counts in flow accounting: its VF accounting effect, or its on-hand effect
/// where accounting does not apply (custody, pickups and drop-offs).
pub fn flow_effect(a: Action) -> Effect {
    match a.accounting_effect() {
        Effect::NotApplicable => a.onhand_effect(),
        e => e,
    }
}

/// Flows per territory, resource kind, unit and month, sorted by those keys.
pub fn flows<'a>(events: impl Iterator<Item = &'a EconomicEvent>) -> Vec<FlowRow> {
    let mut rows: BTreeMap<(String, String, Unit, String), FlowRow> = BTreeMap::new();
    for e in events {
        let (q, is_effort) = match (e.resource_quantity, e.effort_quantity) {
            (Some(q), _) => (q, false),
            (None, Some(q)) => (q, true),
            (None, None) => continue,
        };
        let resource = e
            .resource_conforms_to
            .clone()
            .unwrap_or_else(|| "unspecified".into());
        let period = e.has_point_in_time.get(..7).unwrap_or("").to_string();
        let key = (
            e.in_scope_of.clone(),
            resource.clone(),
            q.unit,
            period.clone(),
        );
        let row = rows.entry(key).or_insert_with(|| FlowRow {
            scope: e.in_scope_of.clone(),
            resource,
            unit: q.unit,
            period,
            inflow: 0.0,
            outflow: 0.0,
            transferred: 0.0,
            activity: 0.0,
            events: 0,
        });
        row.events += 1;
        let effect = if is_effort {
            Effect::NotApplicable
        } else {
            flow_effect(e.action)
        };
        match effect {
            Effect::Increment | Effect::IncrementTo => row.inflow += q.value,
            Effect::Decrement => row.outflow += q.value,
            Effect::DecrementIncrement => row.transferred += q.value,
            Effect::NotApplicable => row.activity += q.value,
        }
    }
    rows.into_values()
        .map(|mut r| {
            r.inflow = round3(r.inflow);
            r.outflow = round3(r.outflow);
            r.transferred = round3(r.transferred);
            r.activity = round3(r.activity);
            r
        })
        .collect()
}
