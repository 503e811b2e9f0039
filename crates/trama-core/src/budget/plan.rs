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

/// One row of a plan's services in the web form, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanItemForm {
    pub category: String,
    pub description: String,
    /// Euros a unit (a visit, a meal, a day).
    pub unit_cost: String,
    pub per_month: String,
    /// `YYYY-MM`.
    pub from: String,
    pub to: String,
}

impl PlanItemForm {
    fn is_blank(&self) -> bool {
        [
            &self.category,
            &self.description,
            &self.unit_cost,
            &self.per_month,
            &self.from,
            &self.to,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
    }
}

/// A personal plan (*budget di salute*) as the case manager fills in its web form: goals one
/// a line, services row by row (blank rows ignored), the review date, and the agreement
/// (parties one a line, the reference, the day it was signed; all blank: not signed yet).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanForm {
    pub goals: String,
    pub items: Vec<PlanItemForm>,
    pub review_on: String,
    pub parties: String,
    pub reference: String,
    pub signed_on: String,
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

impl PlanForm {
    /// The form of a plan already made, to change it.
    pub fn of(plan: &Plan) -> Self {
        Self {
            goals: plan.goals.join("\n"),
            items: plan
                .items
                .iter()
                .map(|i| PlanItemForm {
                    category: i.category.clone(),
                    description: i.description.clone(),
                    unit_cost: format!("{},{:02}", i.unit_cost.0 / 100, i.unit_cost.0 % 100),
                    per_month: i.per_month.to_string(),
                    from: i.from.to_string(),
                    to: i.to.to_string(),
                })
                .collect(),
            review_on: crate::moment::format_date(plan.review_on),
            parties: plan
                .agreement
                .as_ref()
                .map(|a| a.parties.join("\n"))
                .unwrap_or_default(),
            reference: plan
                .agreement
                .as_ref()
                .map(|a| a.reference.clone())
                .unwrap_or_default(),
            signed_on: plan
                .agreement
                .as_ref()
                .map(|a| crate::moment::format_date(a.signed_on))
                .unwrap_or_default(),
        }
    }

    /// The plan, checked as every plan is ([`Plan::validate`]).
    pub fn parse(&self) -> Result<Plan, FieldError> {
        let mut items = Vec::new();
        for (i, row) in self.items.iter().enumerate() {
            if row.is_blank() {
                continue;
            }
            let f = |k: &str| format!("items[{i}].{k}");
            let category = row.category.trim();
            if !crate::taxonomy::is_seeded_code(category) {
                return Err(bad(f("category"), "choose a kind of service"));
            }
            items.push(PlanItem {
                category: category.to_string(),
                description: crate::bounded::BoundedText::parse(
                    &f("description"),
                    &row.description,
                    300,
                )?
                .into_string(),
                service_id: None,
                provider_organization_id: None,
                unit_cost: Cents::parse_euros(&f("unit_cost"), &row.unit_cost)?,
                per_month: crate::bounded::number(&f("per_month"), &row.per_month)?,
                from: YearMonth::parse(&f("from"), &row.from)?,
                to: YearMonth::parse(&f("to"), &row.to)?,
            });
        }
        let agreement = if [&self.parties, &self.reference, &self.signed_on]
            .iter()
            .all(|s| s.trim().is_empty())
        {
            None
        } else {
            Some(Agreement {
                parties: lines(&self.parties),
                reference: crate::bounded::BoundedText::parse("reference", &self.reference, 200)?
                    .into_string(),
                signed_on: crate::moment::parse_date("signed_on", &self.signed_on)?,
            })
        };
        let plan = Plan {
            goals: lines(&self.goals),
            items,
            review_on: crate::moment::parse_date("review_on", &self.review_on)?,
            agreement,
        };
        plan.validate()?;
        Ok(plan)
    }
}

#[cfg(test)]
mod form_tests {
    use super::*;

    fn filled() -> PlanForm {
        PlanForm {
            goals: "Restare a casa in sicurezza\n\n Uscire una volta a settimana ".into(),
            items: vec![
                PlanItemForm {
                    category: "C1".into(),
                    description: "Assistenza domiciliare".into(),
                    unit_cost: "25,00".into(),
                    per_month: "10".into(),
                    from: "2026-03".into(),
                    to: "2026-12".into(),
                },
                PlanItemForm::default(),
            ],
            review_on: "2026-06-01".into(),
            parties: "Mario Rossi\nMunicipio 6".into(),
            reference: "PAI 2026/311".into(),
            signed_on: "2026-02-20".into(),
        }
    }

    #[test]
    fn a_plan_form_becomes_a_plan_and_back() {
        let plan = filled().parse().unwrap();
        assert_eq!(plan.goals.len(), 2);
        assert_eq!(plan.items.len(), 1);
        assert_eq!(plan.items[0].unit_cost, Cents(2500));
        assert_eq!(plan.agreement.as_ref().unwrap().parties.len(), 2);
        assert_eq!(PlanForm::of(&plan).parse().unwrap(), plan);
    }

    #[test]
    fn a_plan_form_names_each_mistake() {
        let field = |f: PlanForm| f.parse().unwrap_err().field;
        let mut f = filled();
        f.items[0].category = "Z".into();
        assert_eq!(field(f), "items[0].category");
        let mut f = filled();
        f.items[0].unit_cost = "molto".into();
        assert_eq!(field(f), "items[0].unit_cost");
        let mut f = filled();
        f.review_on = "giugno".into();
        assert_eq!(field(f), "review_on");
        let mut f = filled();
        f.signed_on = String::new();
        assert_eq!(field(f), "signed_on");
        let mut f = filled();
        f.goals = " ".into();
        assert_eq!(field(f), "goals");
    }
}
