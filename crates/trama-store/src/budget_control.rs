//! Expenditure control read from the database at city scale: the totals are summed by the
//! database (a few thousand rows whatever the number of bookings), and only the bookings that
//! could raise an alert are read one by one (people paid by two programmes in one month, people
//! with a plan). The alert rules themselves stay in `trama_core::budget::control`.

use crate::sql::ReadRows;
use std::fmt::Write as _;

use sqlx::Row;
use sqlx::any::AnyRow;
use time::Date;
use trama_core::budget::control::{self, BillingException, Dashboard, SpendFact, TotalRow};
use trama_core::budget::programme::YearMonth;
use trama_core::ids::{AllocationId, BookingId, FunderId, ProgrammeId, UserId};
use trama_core::money::Cents;

use crate::{Result, Store};

/// Bookings carry their allocation's beneficiary, programme, funder and area (migration
/// 0005), so the reads below need no join.
const FROM_BOOKINGS: &str = "FROM budget_bookings b";

const FACT_COLUMNS: &str = "b.id, b.allocation_id, b.programme_id, b.funder_id, \
     b.beneficiary_id, b.category, b.month, b.held, b.spent, b.area_code";

fn fact(r: &AnyRow) -> Result<SpendFact> {
    Ok(SpendFact {
        booking: BookingId::parse("id", &r.get::<String, _>(0))?,
        allocation: AllocationId::parse("allocation_id", &r.get::<String, _>(1))?,
        programme: ProgrammeId::parse("programme_id", &r.get::<String, _>(2))?,
        funder: FunderId::parse("funder_id", &r.get::<String, _>(3))?,
        person: UserId::parse("beneficiary_id", &r.get::<String, _>(4))?,
        category: r.get(5),
        month: YearMonth::parse("month", &r.get::<String, _>(6))?,
        held: Cents(r.get(7)),
        spent: Cents(r.get(8)),
        area: r.get(9),
    })
}

const PERIOD: &str = "b.month >= $1 AND b.month <= $2";

/// `p.funder_id IN ($3, $4, ...)` for the funders, numbered after the period's two parameters.
fn funder_filter(column: &str, n: usize) -> String {
    let mut s = format!("{column} IN (");
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "${}", i + 3);
    }
    s.push(')');
    s
}

fn month_after(today: Date, days: i64) -> Result<YearMonth> {
    let d = today.saturating_add(time::Duration::days(days));
    Ok(YearMonth::new("month", d.year() as u16, d.month() as u8)?)
}

impl Store {
    /// Runs a query whose `$1` and `$2` are the period and `$3...` the funders.
    async fn period_query(
        &self,
        sql: &str,
        from: &str,
        to: &str,
        funders: &[FunderId],
    ) -> Result<Vec<AnyRow>> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .bind(from.to_string())
            .bind(to.to_string());
        for f in funders {
            q = q.bind(f.to_string());
        }
        Ok(q.fetch_all(&self.read).await?)
    }

    /// Every booking's facts (for tests and audits; the dashboard reads less).
    pub async fn spend_facts(&self) -> Result<Vec<SpendFact>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FACT_COLUMNS} {FROM_BOOKINGS} ORDER BY b.month, b.id"
        )))
        .rows(&self.read, fact)
        .await
    }

    /// What these funders' programmes held and spent in the months `from..=to`, by funder,
    /// programme, area, category and month, summed by the database. Bookings counts those
    /// with money on them (a cancelled one counts for what it spent before).
    pub async fn budget_totals(
        &self,
        funders: &[FunderId],
        from: YearMonth,
        to: YearMonth,
    ) -> Result<Vec<TotalRow>> {
        if funders.is_empty() {
            return Ok(Vec::new());
        }
        let mine = funder_filter("b.funder_id", funders.len());
        let rows = self
            .period_query(
                &format!(
                    "SELECT b.funder_id, b.programme_id, b.area_code, b.category, b.month, \
                     CAST(SUM(b.held) AS BIGINT), CAST(SUM(b.spent) AS BIGINT), CAST(SUM(CASE WHEN b.held + b.spent > 0 THEN 1 ELSE 0 END) AS BIGINT) \
                     {FROM_BOOKINGS} WHERE {PERIOD} AND {mine} \
                     GROUP BY b.funder_id, b.programme_id, b.area_code, b.category, b.month"
                ),
                &from.to_string(),
                &to.to_string(),
                funders,
            )
            .await?;
        let mut totals = rows
            .iter()
            .map(|r| {
                Ok(TotalRow {
                    funder: FunderId::parse("funder_id", &r.get::<String, _>(0))?,
                    programme: ProgrammeId::parse("programme_id", &r.get::<String, _>(1))?,
                    area: r.get(2),
                    category: r.get(3),
                    month: YearMonth::parse("month", &r.get::<String, _>(4))?,
                    held: Cents(r.get(5)),
                    spent: Cents(r.get(6)),
                    bookings: u32::try_from(r.get::<i64, _>(7)).unwrap_or(u32::MAX),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        totals.sort_by(|a, b| {
            (a.funder, a.programme, &a.area, &a.category, a.month).cmp(&(
                b.funder,
                b.programme,
                &b.area,
                &b.category,
                b.month,
            ))
        });
        Ok(totals)
    }

    /// The spending of the months `from..=to` of these funders' programmes, with its alerts
    /// (money expiring within `within_days` of `today`).
    pub async fn budget_dashboard(
        &self,
        funders: &[FunderId],
        from: YearMonth,
        to: YearMonth,
        today: Date,
        within_days: i64,
    ) -> Result<Dashboard> {
        let mut d = Dashboard {
            from,
            to,
            totals: Vec::new(),
            double_funding: Vec::new(),
            expiring_unused: Vec::new(),
            beyond_plan: Vec::new(),
            billed_beyond: Vec::new(),
        };
        if funders.is_empty() {
            return Ok(d);
        }
        let (f, t) = (from.to_string(), to.to_string());
        let mine = funder_filter("b.funder_id", funders.len());
        let period = PERIOD;

        d.totals = self.budget_totals(funders, from, to).await?;

        // 2. The same need paid twice: only the bookings of a person's need paid by two
        //    programmes in one month are read.
        let inner = funder_filter("b2.funder_id", funders.len());
        let rows = self
            .period_query(
                &format!(
                    "SELECT {FACT_COLUMNS} {FROM_BOOKINGS} WHERE {period} AND {mine} \
                     AND b.held + b.spent > 0 AND (b.beneficiary_id, b.month, b.need) IN ( \
                       SELECT b2.beneficiary_id, b2.month, b2.need FROM budget_bookings b2 \
                       WHERE b2.month >= $1 AND b2.month <= $2 \
                       AND b2.held + b2.spent > 0 AND {inner} \
                       GROUP BY b2.beneficiary_id, b2.month, b2.need HAVING COUNT(DISTINCT b2.programme_id) > 1)"
                ),
                &f,
                &t,
                funders,
            )
            .await?;
        let facts = rows.iter().map(fact).collect::<Result<Vec<_>>>()?;
        d.double_funding = control::double_funding(&facts);

        // 3. Beyond the plan: only people with a plan are checked.
        let rows = self
            .period_query(
                &format!(
                    "SELECT {FACT_COLUMNS} {FROM_BOOKINGS} WHERE {period} AND {mine} \
                     AND b.held + b.spent > 0 \
                     AND b.beneficiary_id IN (SELECT person_id FROM budget_plans)"
                ),
                &f,
                &t,
                funders,
            )
            .await?;
        let facts = rows.iter().map(fact).collect::<Result<Vec<_>>>()?;
        if !facts.is_empty() {
            let plans: Vec<_> = self
                .current_plans()
                .await?
                .into_iter()
                .map(|r| (r.person_id, r.plan))
                .collect();
            d.beyond_plan = control::beyond_plan(&facts, &plans);
        }

        // 4. Money expiring unused: allocations with money left whose last month is near.
        let now = month_after(today, 0)?;
        let last = month_after(today, within_days.max(0))?;
        let rows = self
            .period_query(
                &format!(
                    "SELECT a.id, a.programme_id, p.funder_id, a.available, a.expires FROM allocations a \
                     JOIN programmes p ON p.id = a.programme_id \
                     WHERE a.available > 0 AND a.expires >= $1 AND a.expires <= $2 AND {}",
                    funder_filter("p.funder_id", funders.len())
                ),
                &now.to_string(),
                &last.to_string(),
                funders,
            )
            .await?;
        let allocs = rows
            .iter()
            .map(|r| {
                Ok(control::AllocationFact {
                    allocation: AllocationId::parse("id", &r.get::<String, _>(0))?,
                    programme: ProgrammeId::parse("programme_id", &r.get::<String, _>(1))?,
                    funder: FunderId::parse("funder_id", &r.get::<String, _>(2))?,
                    available: Cents(r.get(3)),
                    expires: YearMonth::parse("expires", &r.get::<String, _>(4))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        d.expiring_unused = control::expiring_unused(&allocs, today, within_days);

        // 5. Deliveries billed beyond what was booked.
        let rows = self
            .period_query(
                &format!(
                    "SELECT e.booking_id, b.funder_id, b.programme_id, b.provider_id, b.category, b.month, \
                     e.held, e.billed FROM budget_billing_exceptions e \
                     JOIN budget_bookings b ON b.id = e.booking_id \
                     WHERE b.month >= $1 AND b.month <= $2 AND {mine} ORDER BY b.month, e.at"
                ),
                &f,
                &t,
                funders,
            )
            .await?;
        for r in &rows {
            d.billed_beyond.push(BillingException {
                booking: BookingId::parse("booking_id", &r.get::<String, _>(0))?,
                funder: FunderId::parse("funder_id", &r.get::<String, _>(1))?,
                programme: ProgrammeId::parse("programme_id", &r.get::<String, _>(2))?,
                provider: r.get(3),
                category: r.get(4),
                month: YearMonth::parse("month", &r.get::<String, _>(5))?,
                held: Cents(r.get(6)),
                billed: Cents(r.get(7)),
            });
        }
        Ok(d)
    }
}
