//! Personal plans (the Italian *budget di salute*): goals, services with quantities and
//! schedule, a review date, and the agreement of the person (or family) and the parties.

use serde::{Deserialize, Serialize};
use time::Date;

use super::funding::PlanLine;
use super::programme::YearMonth;
use crate::FieldError;
use crate::money::Cents;

// Dates as `YYYY-MM-DD` in JSON.
time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// One service of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanItem {
    /// The taxonomy code of the service.
    pub category: String,
    /// What it is, in words ("assistenza domiciliare, tre volte a settimana").
    pub description: String,
    /// The directory's service, when one is chosen.
    #[serde(default)]
    pub service_id: Option<String>,
    /// The provider organisation, when one is chosen.
    #[serde(default)]
    pub provider_organization_id: Option<String>,
    /// Cost of one unit (a visit, a meal, a day), cents.
    pub unit_cost: Cents,
    /// Units a month.
    pub per_month: u32,
    /// First and last month.
    pub from: YearMonth,
    pub to: YearMonth,
}

/// Who agreed to the plan, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// The person or their family, and the other parties (services, providers), by name.
    pub parties: Vec<String>,
    /// The reference of the signed agreement.
    pub reference: String,
    #[serde(with = "iso_date")]
    pub signed_on: Date,
}

/// A personal plan as the case manager writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub goals: Vec<String>,
    pub items: Vec<PlanItem>,
    #[serde(with = "iso_date")]
    pub review_on: Date,
    pub agreement: Option<Agreement>,
}

fn bad(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
    FieldError::new(field, reason)
}

impl Plan {
    /// Checks the plan: at least one goal and one service, sensible quantities, months in
    /// order and at most five years, an agreement with its parties and reference.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.goals.is_empty() || self.goals.iter().any(|g| g.trim().is_empty()) {
            return Err(bad("goals", "a plan needs at least one goal, none empty"));
        }
        if self.items.is_empty() || self.items.len() > 50 {
            return Err(bad("items", "a plan has 1 to 50 services"));
        }
        for (i, it) in self.items.iter().enumerate() {
            let f = |k: &str| format!("items[{i}].{k}");
            if it.category.trim().is_empty() {
                return Err(bad(f("category"), "required"));
            }
            if it.unit_cost.0 < 0 || it.unit_cost.0 > 10_000_000 {
                return Err(bad(f("unit_cost"), "0 to 100,000.00 € in cents"));
            }
            if it.per_month == 0 || it.per_month > 200 {
                return Err(bad(f("per_month"), "1 to 200 a month"));
            }
            if it.to < it.from {
                return Err(bad(f("to"), format!("{} is before {}", it.to, it.from)));
            }
            if self.months_of(it).len() > 60 {
                return Err(bad(f("to"), "at most five years"));
            }
        }
        if let Some(a) = &self.agreement {
            if a.parties.is_empty() || a.parties.iter().any(|p| p.trim().is_empty()) {
                return Err(bad("agreement.parties", "name who agreed"));
            }
            if a.reference.trim().is_empty() {
                return Err(bad("agreement.reference", "required"));
            }
        }
        Ok(())
    }

    fn months_of(&self, it: &PlanItem) -> Vec<YearMonth> {
        let mut v = Vec::new();
        let mut m = it.from;
        while m <= it.to && v.len() <= 60 {
            v.push(m);
            m = m.next();
        }
        v
    }

    /// The plan as the funding engine reads it: one line per service, its cost in each month.
    pub fn funding_lines(&self) -> Vec<PlanLine> {
        self.items
            .iter()
            .map(|it| PlanLine {
                category: it.category.trim().to_string(),
                months: self
                    .months_of(it)
                    .into_iter()
                    .map(|m| (m, Cents(it.unit_cost.0 * it.per_month as i64)))
                    .collect(),
            })
            .collect()
    }

    /// What the plan foresees for a category family (`A1.1` covers `A1.1.2`) in a month.
    pub fn planned(&self, category: &str, month: YearMonth) -> Cents {
        Cents(
            self.items
                .iter()
                .filter(|it| super::programme::category_within(category, &it.category))
                .filter(|it| it.from <= month && month <= it.to)
                .map(|it| it.unit_cost.0 * it.per_month as i64)
                .sum(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> YearMonth {
        YearMonth::parse("m", s).unwrap()
    }

    fn rossi() -> Plan {
        Plan {
            goals: vec!["Restare a casa in sicurezza dopo la caduta".into()],
            items: vec![
                PlanItem {
                    category: "A1.1".into(),
                    description: "Assistenza domiciliare, tre volte a settimana".into(),
                    service_id: None,
                    provider_organization_id: None,
                    unit_cost: Cents(2_500),
                    per_month: 13,
                    from: m("2026-03"),
                    to: m("2026-05"),
                },
                PlanItem {
                    category: "B2".into(),
                    description: "Centro diurno il venerdì".into(),
                    service_id: None,
                    provider_organization_id: None,
                    unit_cost: Cents(4_000),
                    per_month: 4,
                    from: m("2026-03"),
                    to: m("2026-03"),
                },
            ],
            review_on: time::macros::date!(2026 - 06 - 01),
            agreement: Some(Agreement {
                parties: vec![
                    "Mario Rossi".into(),
                    "Anna Rossi (figlia)".into(),
                    "Municipio 6".into(),
                ],
                reference: "PAI 2026/311".into(),
                signed_on: time::macros::date!(2026 - 02 - 20),
            }),
        }
    }

    #[test]
    fn a_plan_becomes_funding_lines() {
        let p = rossi();
        p.validate().unwrap();
        let lines = p.funding_lines();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].months.len(), 3);
        assert_eq!(lines[0].months[0], (m("2026-03"), Cents(32_500)));
        assert_eq!(p.planned("A1.1.2", m("2026-04")), Cents(32_500));
        assert_eq!(p.planned("A1.1", m("2026-06")), Cents(0));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["review_on"], "2026-06-01");
        assert_eq!(serde_json::from_value::<Plan>(json).unwrap(), p);
        let mut bad = rossi();
        bad.goals.clear();
        assert_eq!(bad.validate().unwrap_err().field, "goals");
        let mut bad = rossi();
        bad.items[1].to = m("2026-02");
        assert_eq!(bad.validate().unwrap_err().field, "items[1].to");
        let mut bad = rossi();
        bad.items[0].to = m("2032-01");
        assert!(bad.validate().is_err());
        let mut bad = rossi();
        bad.agreement.as_mut().unwrap().reference = " ".into();
        assert_eq!(bad.validate().unwrap_err().field, "agreement.reference");
    }
}
