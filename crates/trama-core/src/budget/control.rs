//! Expenditure control: totals of the spending by funder, programme, category and month, and
//! the alerts a municipality needs: the same need paid twice by two programmes, money about to
//! expire unused. Pure functions of facts the store reads.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::Date;

use super::programme::YearMonth;
use crate::ids::{AllocationId, BookingId, FunderId, ProgrammeId, UserId};
use crate::money::Cents;

/// One booking as the control sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpendFact {
    pub booking: BookingId,
    pub allocation: AllocationId,
    pub programme: ProgrammeId,
    pub funder: FunderId,
    pub person: UserId,
    pub category: String,
    pub month: YearMonth,
    pub held: Cents,
    pub spent: Cents,
    /// The Municipio the allocation's spending is counted in.
    pub area: Option<String>,
}

/// One allocation as the control sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct AllocationFact {
    pub allocation: AllocationId,
    pub programme: ProgrammeId,
    pub funder: FunderId,
    pub available: Cents,
    pub expires: YearMonth,
}

/// Spending of one programme on one category in one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TotalRow {
    pub funder: FunderId,
    pub programme: ProgrammeId,
    pub area: Option<String>,
    pub category: String,
    pub month: YearMonth,
    pub held: Cents,
    pub spent: Cents,
    pub bookings: u32,
}

/// Totals by funder, programme, area, category and month, in that order.
pub fn totals(facts: &[SpendFact]) -> Vec<TotalRow> {
    type Key = (FunderId, ProgrammeId, Option<String>, String, YearMonth);
    let mut m: BTreeMap<Key, (i64, i64, u32)> = BTreeMap::new();
    for f in facts {
        let e = m
            .entry((
                f.funder,
                f.programme,
                f.area.clone(),
                f.category.clone(),
                f.month,
            ))
            .or_default();
        e.0 += f.held.0;
        e.1 += f.spent.0;
        e.2 += 1;
    }
    m.into_iter()
        .map(
            |((funder, programme, area, category, month), (h, s, n))| TotalRow {
                funder,
                programme,
                area,
                category,
                month,
                held: Cents(h),
                spent: Cents(s),
                bookings: n,
            },
        )
        .collect()
}

/// Two programmes (or more) paying for the same kind of service for the same person in the
/// same month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoubleFunding {
    pub person: UserId,
    pub category: String,
    pub month: YearMonth,
    pub programmes: Vec<ProgrammeId>,
    pub bookings: Vec<BookingId>,
    pub amount: Cents,
}

/// The need a category answers, for the double-funding rule: its first two levels (`A1.1`
/// for `A1.1.2`, `C1` for `C1`). Stored with each booking so the database can find the
/// candidates.
pub fn need_of(category: &str) -> String {
    category
        .trim()
        .split('.')
        .take(2)
        .collect::<Vec<_>>()
        .join(".")
}

/// The same need paid twice: bookings with money on them (held or spent) for the same person,
/// category and month from two or more programmes. A category and its descendants count as
/// the same need (`A1` and `A1.1`).
pub fn double_funding(facts: &[SpendFact]) -> Vec<DoubleFunding> {
    let top = need_of;
    let mut groups: BTreeMap<(UserId, String, YearMonth), Vec<&SpendFact>> = BTreeMap::new();
    for f in facts.iter().filter(|f| f.held.0 + f.spent.0 > 0) {
        groups
            .entry((f.person, top(&f.category), f.month))
            .or_default()
            .push(f);
    }
    groups
        .into_iter()
        .filter_map(|((person, category, month), fs)| {
            let programmes: BTreeSet<ProgrammeId> = fs.iter().map(|f| f.programme).collect();
            (programmes.len() > 1).then(|| DoubleFunding {
                person,
                category,
                month,
                programmes: programmes.into_iter().collect(),
                bookings: fs
                    .iter()
                    .map(|f| f.booking)
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                amount: Cents(fs.iter().map(|f| f.held.0 + f.spent.0).sum()),
            })
        })
        .collect()
}

/// Money left on an allocation that expires within the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expiring {
    pub allocation: AllocationId,
    pub programme: ProgrammeId,
    pub funder: FunderId,
    pub available: Cents,
    pub expires: YearMonth,
}

/// The last day an allocation expiring in `m` can be spent.
pub fn last_day(m: YearMonth) -> Date {
    let next = m.next();
    let first_next = Date::from_calendar_date(
        next.year() as i32,
        time::Month::try_from(next.month()).expect("a valid month"),
        1,
    )
    .expect("a valid date");
    first_next.previous_day().expect("not the first day ever")
}

/// Allocations with money left whose last day is within `days` of `today` (and not past).
/// The window of "money expiring unused" a reader asks for, in days: 30 unless given, 0 to 3650.
pub fn expiry_window(field: &str, given: Option<&str>) -> Result<i64, crate::FieldError> {
    match given {
        None => Ok(30),
        Some(s) => crate::bounded::within(field, crate::bounded::number(field, s)?, 0, 3650),
    }
}

pub fn expiring_unused(allocs: &[AllocationFact], today: Date, days: i64) -> Vec<Expiring> {
    let mut v: Vec<Expiring> = allocs
        .iter()
        .filter(|a| a.available.0 > 0)
        .filter(|a| {
            let d = (last_day(a.expires) - today).whole_days();
            (0..=days).contains(&d)
        })
        .map(|a| Expiring {
            allocation: a.allocation,
            programme: a.programme,
            funder: a.funder,
            available: a.available,
            expires: a.expires,
        })
        .collect();
    v.sort_by_key(|e| (e.expires, std::cmp::Reverse(e.available)));
    v
}

/// Spending beyond a person's plan: more booked (held or spent) for a service in a month than
/// the plan foresees for it (a booking no service of the plan covers counts against zero).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BeyondPlan {
    pub person: UserId,
    pub category: String,
    pub month: YearMonth,
    pub planned: Cents,
    pub booked: Cents,
}

/// Checks every person's bookings against their current plan (people with no plan are not
/// checked).
pub fn beyond_plan(facts: &[SpendFact], plans: &[(UserId, super::plan::Plan)]) -> Vec<BeyondPlan> {
    let plans: BTreeMap<UserId, &super::plan::Plan> =
        plans.iter().map(|(p, pl)| (*p, pl)).collect();
    let mut booked: BTreeMap<(UserId, String, YearMonth), i64> = BTreeMap::new();
    for f in facts.iter().filter(|f| f.held.0 + f.spent.0 > 0) {
        let Some(plan) = plans.get(&f.person) else {
            continue;
        };
        // The plan's own category for this booking, if a service of the plan covers it.
        let category = plan
            .items
            .iter()
            .map(|it| it.category.trim())
            .find(|c| super::programme::category_within(&f.category, c))
            .unwrap_or(f.category.as_str())
            .to_string();
        *booked.entry((f.person, category, f.month)).or_default() += f.held.0 + f.spent.0;
    }
    booked
        .into_iter()
        .filter_map(|((person, category, month), b)| {
            let planned = plans[&person].planned(&category, month);
            (b > planned.0).then_some(BeyondPlan {
                person,
                category,
                month,
                planned,
                booked: Cents(b),
            })
        })
        .collect()
}

/// A delivery billed beyond what its booking held: refused, kept for the funder's control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BillingException {
    pub booking: BookingId,
    pub funder: FunderId,
    pub programme: ProgrammeId,
    /// The provider's organisation (id).
    pub provider: Option<String>,
    pub category: String,
    pub month: YearMonth,
    pub held: Cents,
    pub billed: Cents,
}

/// Money held, spent and the bookings counted, summed over some grouping of [`TotalRow`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Sum {
    pub held: Cents,
    pub spent: Cents,
    pub bookings: u64,
}

/// The spending of a period, as a funder, the municipality or an auditor sees it: aggregates
/// and alerts, and no person named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dashboard {
    pub from: YearMonth,
    pub to: YearMonth,
    pub totals: Vec<TotalRow>,
    pub double_funding: Vec<DoubleFunding>,
    pub expiring_unused: Vec<Expiring>,
    pub beyond_plan: Vec<BeyondPlan>,
    pub billed_beyond: Vec<BillingException>,
}

impl Dashboard {
    /// The totals summed by a key of their own (by area, programme, month...), in key order.
    pub fn sum_by<K: Ord>(&self, key: impl Fn(&TotalRow) -> K) -> BTreeMap<K, Sum> {
        let mut m: BTreeMap<K, Sum> = BTreeMap::new();
        for t in &self.totals {
            let e = m.entry(key(t)).or_default();
            e.held = Cents(e.held.0 + t.held.0);
            e.spent = Cents(e.spent.0 + t.spent.0);
            e.bookings += u64::from(t.bookings);
        }
        m
    }

    /// Everything the period held and spent.
    pub fn total(&self) -> Sum {
        self.sum_by(|_| ()).remove(&()).unwrap_or_default()
    }

    /// How many alerts there are, of every kind.
    pub fn alerts(&self) -> usize {
        self.double_funding.len()
            + self.expiring_unused.len()
            + self.beyond_plan.len()
            + self.billed_beyond.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> YearMonth {
        YearMonth::parse("m", s).unwrap()
    }

    #[test]
    fn the_same_home_care_paid_by_two_programmes_is_flagged() {
        let (p1, p2, f) = (ProgrammeId::new(), ProgrammeId::new(), FunderId::new());
        let (anna, bruno) = (UserId::new(), UserId::new());
        let fact = |prog, person, cat: &str, month: &str, spent: i64| SpendFact {
            booking: BookingId::new(),
            allocation: AllocationId::new(),
            programme: prog,
            funder: f,
            person,
            category: cat.into(),
            month: m(month),
            held: Cents(0),
            spent: Cents(spent),
            area: None,
        };
        let facts = vec![
            fact(p1, anna, "A1.1", "2026-03", 40_000),
            fact(p2, anna, "A1.1.2", "2026-03", 30_000), // the same home care, another programme
            fact(p1, anna, "A1.1", "2026-04", 40_000),   // another month: fine
            fact(p1, bruno, "A1.1", "2026-03", 40_000),
            fact(p1, bruno, "A1.1", "2026-03", 10_000), // same programme twice: not double funding
            fact(p2, bruno, "B2", "2026-03", 10_000),   // another need
            fact(p2, bruno, "A1.1", "2026-03", 0),      // cancelled: no money on it
        ];
        let d = double_funding(&facts);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            (d[0].person, d[0].category.as_str(), d[0].amount),
            (anna, "A1.1", Cents(70_000))
        );
        let t = totals(&facts);
        let p1_a11_march = t
            .iter()
            .find(|r| r.programme == p1 && r.category == "A1.1" && r.month == m("2026-03"))
            .unwrap();
        assert_eq!(
            (p1_a11_march.spent, p1_a11_march.bookings),
            (Cents(90_000), 3)
        );
        assert_eq!(t.iter().map(|r| r.spent.0).sum::<i64>(), 170_000);
    }

    #[test]
    fn spending_beyond_the_plan_is_flagged() {
        use crate::budget::plan::{Plan, PlanItem};
        let anna = UserId::new();
        let plan = Plan {
            goals: vec!["casa".into()],
            items: vec![PlanItem {
                category: "A1.1".into(),
                description: "SAD".into(),
                service_id: None,
                provider_organization_id: None,
                unit_cost: Cents(2_500),
                per_month: 12,
                from: m("2026-03"),
                to: m("2026-04"),
            }],
            review_on: time::macros::date!(2026 - 06 - 01),
            agreement: None,
        };
        let fact = |cat: &str, month: &str, spent: i64| SpendFact {
            booking: BookingId::new(),
            allocation: AllocationId::new(),
            programme: ProgrammeId::new(),
            funder: FunderId::new(),
            person: anna,
            category: cat.into(),
            month: m(month),
            held: Cents(0),
            spent: Cents(spent),
            area: None,
        };
        let facts = vec![
            fact("A1.1", "2026-03", 20_000),
            fact("A1.1.2", "2026-03", 10_000), // with the first: 300.00 of 300.00 planned
            fact("A1.1", "2026-04", 30_001),   // one cent beyond
            fact("B2", "2026-03", 5_000),      // not in the plan
            SpendFact {
                person: UserId::new(),
                ..fact("A1.1", "2026-03", 99_999)
            }, // no plan
        ];
        let b = beyond_plan(&facts, &[(anna, plan)]);
        assert_eq!(
            b.iter()
                .map(|x| (
                    x.category.as_str(),
                    x.month.to_string(),
                    x.planned.0,
                    x.booked.0
                ))
                .collect::<Vec<_>>(),
            vec![
                ("A1.1", "2026-04".to_string(), 30_000, 30_001),
                ("B2", "2026-03".to_string(), 0, 5_000)
            ]
        );
    }

    #[test]
    fn money_about_to_expire_is_flagged() {
        let a = |expires: &str, available: i64| AllocationFact {
            allocation: AllocationId::new(),
            programme: ProgrammeId::new(),
            funder: FunderId::new(),
            available: Cents(available),
            expires: m(expires),
        };
        let allocs = vec![
            a("2026-12", 5_000),
            a("2027-01", 5_000),
            a("2026-11", 5_000),
            a("2026-12", 0),
        ];
        let today = time::macros::date!(2026 - 12 - 04);
        assert_eq!(last_day(m("2026-12")), time::macros::date!(2026 - 12 - 31));
        assert_eq!(last_day(m("2024-02")), time::macros::date!(2024 - 02 - 29));
        let e = expiring_unused(&allocs, today, 30);
        assert_eq!(e.len(), 1, "only December's with money left: {e:?}");
        assert_eq!(expiring_unused(&allocs, today, 60).len(), 2);
    }
}
