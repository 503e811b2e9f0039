//! Care budgets in the database: funders, programmes, allocations with their balances,
//! bookings held, delivered and cancelled, the postings that moved the money, and idempotency
//! keys. Money moves only by a conditional UPDATE inside the transaction that writes the
//! postings (`... WHERE available >= amount`), so concurrent bookings against one allocation
//! can never overspend it, on either database.

use crate::sql::ReadRows;
use sqlx::Row;
use sqlx::any::AnyRow;
use trama_core::budget::Transaction;
use trama_core::budget::programme::{FunderKind, ProgrammeRules, YearMonth};
use trama_core::ids::{AllocationId, BookingId, FunderId, OrganizationId, ProgrammeId, UserId};
use trama_core::money::Cents;

use crate::{Result, StoreError, foreign_key_as, json, parse_json, reference, to_micros};

fn conflict(field: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Conflict {
        field: field.into(),
        reason: reason.into(),
    }
}

/// One allocation with its programme, funder and balances.
#[derive(Debug, Clone, PartialEq)]
pub struct AllocationRow {
    pub id: AllocationId,
    pub programme_id: ProgrammeId,
    pub programme: String,
    pub funder: String,
    pub funder_kind: FunderKind,
    pub rules: ProgrammeRules,
    pub beneficiary_id: UserId,
    pub decision_ref: String,
    pub granted: Cents,
    pub available: Cents,
    pub held: Cents,
    pub spent: Cents,
    pub expires: YearMonth,
    /// The Municipio whose services decided it (its spending is counted there).
    pub area_code: Option<String>,
}

/// A booking paid from an allocation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BudgetBookingRow {
    pub id: BookingId,
    pub allocation_id: AllocationId,
    pub provider_id: Option<String>,
    pub service_id: Option<String>,
    pub category: String,
    pub month: YearMonth,
    pub amount: Cents,
    pub held: Cents,
    pub spent: Cents,
    /// `held`, `delivered` (nothing held any more) or `cancelled`.
    pub state: String,
}

/// A booking to hold money for.
#[derive(Debug, Clone)]
pub struct NewBudgetBooking {
    pub allocation: AllocationId,
    pub provider_id: Option<String>,
    pub service_id: Option<String>,
    pub category: String,
    pub month: YearMonth,
    pub amount: Cents,
}

/// An allocation to grant: a programme's money for one person, by a decision.
#[derive(Debug, Clone, Copy)]
pub struct NewAllocation<'a> {
    pub programme: ProgrammeId,
    pub beneficiary: UserId,
    /// The decision that grants it (determina, protocol number), checked by core.
    pub decision_ref: &'a trama_core::bounded::BoundedText,
    pub amount: Cents,
    /// Last month it can be spent in.
    pub expires: YearMonth,
    /// The Municipio whose services decided it.
    pub area_code: Option<&'a str>,
}

/// The client's idempotency key for a call that moves money: who called, the key, and the
/// request as the caller canonicalised it (the same key with another request is refused).
#[derive(Debug, Clone, Copy)]
pub struct Idempotency<'a> {
    pub actor: &'a str,
    pub key: &'a str,
    pub request: &'a str,
}

const ALLOCATION_SELECT: &str = "SELECT a.id, a.programme_id, p.name, f.name, f.kind, p.rules, \
     a.beneficiary_id, a.decision_ref, a.granted, a.available, a.held, a.spent, a.expires, a.area_code \
     FROM allocations a JOIN programmes p ON p.id = a.programme_id JOIN funders f ON f.id = p.funder_id";

fn allocation_row(r: &AnyRow) -> Result<AllocationRow> {
    let id: String = r.get(0);
    let bad = |field: &str, e: trama_core::FieldError| {
        StoreError::Invalid(trama_core::FieldError::new(
            format!("allocation {id}: {field}"),
            e.reason,
        ))
    };
    Ok(AllocationRow {
        id: AllocationId::parse("id", &id).map_err(|e| bad("id", e))?,
        programme_id: ProgrammeId::parse("programme_id", &r.get::<String, _>(1))
            .map_err(|e| bad("programme_id", e))?,
        programme: r.get(2),
        funder: r.get(3),
        funder_kind: FunderKind::parse("kind", &r.get::<String, _>(4))
            .map_err(|e| bad("kind", e))?,
        rules: parse_json("programme rules", &id, &r.get::<String, _>(5))?,
        beneficiary_id: UserId::parse("beneficiary_id", &r.get::<String, _>(6))
            .map_err(|e| bad("beneficiary_id", e))?,
        decision_ref: r.get(7),
        granted: Cents(r.get(8)),
        available: Cents(r.get(9)),
        held: Cents(r.get(10)),
        spent: Cents(r.get(11)),
        expires: YearMonth::parse("expires", &r.get::<String, _>(12))
            .map_err(|e| bad("expires", e))?,
        area_code: r.get(13),
    })
}

const BOOKING_SELECT: &str = "SELECT id, allocation_id, provider_id, service_id, category, month, \
     amount, held, spent, state FROM budget_bookings";

fn booking_row(r: &AnyRow) -> Result<BudgetBookingRow> {
    let id: String = r.get(0);
    let bad = |e: trama_core::FieldError| {
        StoreError::Invalid(trama_core::FieldError::new(
            format!("booking {id}: {}", e.field),
            e.reason,
        ))
    };
    Ok(BudgetBookingRow {
        id: BookingId::parse("id", &id).map_err(bad)?,
        allocation_id: AllocationId::parse("allocation_id", &r.get::<String, _>(1)).map_err(bad)?,
        provider_id: r.get(2),
        service_id: r.get(3),
        category: r.get(4),
        month: YearMonth::parse("month", &r.get::<String, _>(5)).map_err(bad)?,
        amount: Cents(r.get(6)),
        held: Cents(r.get(7)),
        spent: Cents(r.get(8)),
        state: r.get(9),
    })
}

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Writes one transaction as `trama_core::budget::Transaction` built it (balanced, above zero).
async fn post(tx: &mut Tx<'_>, t: &Transaction, now: i64) -> Result<uuid::Uuid> {
    let tx_uuid = uuid::Uuid::now_v7();
    let tx_id = tx_uuid.to_string();
    for p in &t.postings {
        sqlx::query(
            "INSERT INTO budget_postings (id, tx_id, movement, account, allocation_id, booking_id, amount, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&tx_id)
        .bind(t.movement.name())
        .bind(p.account.kind())
        .bind(t.allocation.to_string())
        .bind(t.booking.map(|b| b.to_string()))
        .bind(p.amount.0)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(tx_uuid)
}

/// A transaction the book's rule refuses (an amount of nothing or less), as a field error.
fn refused(e: trama_core::budget::BudgetError) -> StoreError {
    use trama_core::budget::BudgetError;
    let reason = match e {
        BudgetError::NotPositive(_) => "must be more than zero".to_string(),
        BudgetError::TooLarge(_) => "must be at most 10,000,000,000.00".to_string(),
        other => other.to_string(),
    };
    StoreError::Invalid(trama_core::FieldError::new("amount", reason))
}

/// Puts a spend's economic events in the register's outbox (`contribution_events`), in the
/// spend's own transaction, so the register appends them once (pseudonymous).
async fn emit_spend_events(
    tx: &mut Tx<'_>,
    spend: uuid::Uuid,
    booking: &BudgetBookingRow,
    amount: Cents,
    now: i64,
) -> Result<()> {
    let r = sqlx::query(
        "SELECT a.beneficiary_id, p.funder_id FROM allocations a JOIN programmes p ON p.id = a.programme_id WHERE a.id = $1",
    )
    .bind(booking.allocation_id.to_string())
    .fetch_one(&mut **tx)
    .await?;
    let person = UserId::parse("beneficiary_id", &r.get::<String, _>(0))?;
    let funder = FunderId::parse("funder_id", &r.get::<String, _>(1))?;
    let provider = booking
        .provider_id
        .as_deref()
        .map(|p| crate::stored_id("booking provider", p.to_string()).map(OrganizationId))
        .transpose()?;
    let events = trama_core::budget::events::spend_events(
        spend,
        funder,
        provider,
        person,
        &booking.category,
        amount,
        crate::from_micros(now),
    );
    for ev in events {
        sqlx::query(
            "INSERT INTO contribution_events (id, match_id, action, provider_id, receiver_id, \
             category_id, effort_minutes, at, doc) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)",
        )
        .bind(ev.id.to_string())
        .bind(booking.id.to_string())
        .bind(ev.action)
        .bind(ev.provider)
        .bind(ev.receiver)
        .bind(&booking.category)
        .bind(now)
        .bind(ev.doc.to_string())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Claims an idempotency key inside the transaction. `Ok(None)`: the call is new, go on.
/// `Ok(Some(response))`: the same call was answered before; answer the same and move nothing.
async fn claim_key(
    tx: &mut Tx<'_>,
    idem: Option<Idempotency<'_>>,
    now: i64,
) -> Result<Option<String>> {
    let Some(k) = idem else { return Ok(None) };
    // On PostgreSQL a concurrent call with the same key waits here for the first to commit.
    let fresh = sqlx::query(
        "INSERT INTO idempotency_keys (actor, key, request, response, created_at) \
         VALUES ($1, $2, $3, '', $4) ON CONFLICT DO NOTHING",
    )
    .bind(k.actor)
    .bind(k.key)
    .bind(k.request)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if fresh == 1 {
        return Ok(None);
    }
    let r =
        sqlx::query("SELECT request, response FROM idempotency_keys WHERE actor = $1 AND key = $2")
            .bind(k.actor)
            .bind(k.key)
            .fetch_one(&mut **tx)
            .await?;
    let (request, response): (String, String) = (r.get(0), r.get(1));
    if request != k.request {
        return Err(conflict(
            "Idempotency-Key",
            "this key was used for another request; use a new key for a new request",
        ));
    }
    Ok(Some(response))
}

async fn answer_key(tx: &mut Tx<'_>, idem: Option<Idempotency<'_>>, response: &str) -> Result<()> {
    if let Some(k) = idem {
        sqlx::query("UPDATE idempotency_keys SET response = $1 WHERE actor = $2 AND key = $3")
            .bind(response)
            .bind(k.actor)
            .bind(k.key)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl crate::Store {
    pub async fn create_funder(
        &self,
        name: &str,
        kind: FunderKind,
        organization: Option<OrganizationId>,
    ) -> Result<FunderId> {
        if let Some(org) = organization
            && !self.organization_exists(org).await?
        {
            return Err(reference("organization_id", "no such organisation"));
        }
        let id = FunderId::new();
        sqlx::query(
            "INSERT INTO funders (id, name, kind, organization_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
            .bind(id.to_string())
            .bind(name)
            .bind(kind.as_str())
            .bind(organization.map(|o| o.to_string()))
            .bind(to_micros(self.now()))
            .execute(&self.write)
            .await?;
        Ok(id)
    }

    pub async fn create_programme(
        &self,
        funder: FunderId,
        rules: &ProgrammeRules,
        amount_per_beneficiary: Cents,
    ) -> Result<ProgrammeId> {
        rules.validate()?;
        let id = ProgrammeId::new();
        sqlx::query(
            "INSERT INTO programmes (id, funder_id, name, rules, amount_per_beneficiary, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(funder.to_string())
        .bind(&rules.name)
        .bind(json(rules))
        .bind(amount_per_beneficiary.0)
        .bind(to_micros(self.now()))
        .execute(&self.write)
        .await
        .map_err(foreign_key_as("funder_id", "no such funder"))?;
        Ok(id)
    }

    /// Grants a programme's allocation to a beneficiary, with the decision that granted it.
    pub async fn grant_allocation(
        &self,
        new: &NewAllocation<'_>,
        idem: Option<Idempotency<'_>>,
    ) -> Result<AllocationRow> {
        let NewAllocation {
            programme,
            beneficiary,
            decision_ref,
            amount,
            expires,
            area_code,
        } = *new;
        let id = AllocationId::new();
        let grant = Transaction::grant(id, amount).map_err(refused)?;
        let now = to_micros(self.now());
        let mut tx = self.write.begin().await?;
        // The same call again (a retry): the allocation it made, and no money moves.
        if let Some(previous) = claim_key(&mut tx, idem, now).await? {
            drop(tx);
            let earlier = AllocationId::parse("allocation", &previous)?;
            return self.allocation(earlier).await?.ok_or_else(|| {
                conflict("Idempotency-Key", "the call with this key is still running")
            });
        }
        // What the person received from the programme, raised only while it stays within the
        // programme's amount per beneficiary: two grants at once cannot both pass.
        let raised = sqlx::query(
            "INSERT INTO programme_grants (programme_id, beneficiary_id, granted) \
             SELECT p.id, $2, $3 FROM programmes p WHERE p.id = $1 AND $3 <= p.amount_per_beneficiary \
             ON CONFLICT (programme_id, beneficiary_id) DO UPDATE \
             SET granted = programme_grants.granted + excluded.granted \
             WHERE programme_grants.granted + excluded.granted <= \
             (SELECT amount_per_beneficiary FROM programmes WHERE id = excluded.programme_id)",
        )
        .bind(programme.to_string())
        .bind(beneficiary.to_string())
        .bind(amount.0)
        .execute(&mut *tx)
        .await
        .map_err(foreign_key_as("programme_id", "no such programme or beneficiary"))?
        .rows_affected();
        if raised == 0 {
            let exists = sqlx::query("SELECT 1 FROM programmes WHERE id = $1")
                .bind(programme.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            return Err(if exists {
                conflict(
                    "amount",
                    "beyond what the programme gives one person (amount_per_beneficiary)",
                )
            } else {
                reference("programme_id", "no such programme")
            });
        }
        sqlx::query(
            "INSERT INTO allocations (id, programme_id, beneficiary_id, decision_ref, granted, available, held, spent, expires, created_at, area_code) \
             VALUES ($1, $2, $3, $4, $5, $5, 0, 0, $6, $7, $8)",
        )
        .bind(id.to_string())
        .bind(programme.to_string())
        .bind(beneficiary.to_string())
        .bind(decision_ref.as_str())
        .bind(amount.0)
        .bind(expires.to_string())
        .bind(now)
        .bind(area_code.map(str::to_string))
        .execute(&mut *tx)
        .await
        .map_err(foreign_key_as("programme_id", "no such programme or beneficiary"))?;
        post(&mut tx, &grant, now).await?;
        answer_key(&mut tx, idem, &id.to_string()).await?;
        tx.commit().await?;
        self.allocation(id)
            .await?
            .ok_or_else(|| conflict("allocation", "vanished"))
    }

    /// The allocation an earlier grant with this key made, when the same call is sent again
    /// (a retry); a conflict when the key was used for another request.
    pub async fn granted_with_key(&self, idem: Idempotency<'_>) -> Result<Option<AllocationRow>> {
        let Some(r) = sqlx::query(
            "SELECT request, response FROM idempotency_keys WHERE actor = $1 AND key = $2",
        )
        .bind(idem.actor)
        .bind(idem.key)
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        let (request, response): (String, String) = (r.get(0), r.get(1));
        if request != idem.request {
            return Err(conflict(
                "Idempotency-Key",
                "this key was used for another request; use a new key for a new request",
            ));
        }
        let id = AllocationId(crate::stored_id("granted allocation", response)?);
        self.allocation(id).await
    }

    pub async fn allocation(&self, id: AllocationId) -> Result<Option<AllocationRow>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ALLOCATION_SELECT} WHERE a.id = $1"
        )))
        .bind(id.to_string())
        .one(&self.read, allocation_row)
        .await
    }

    /// A beneficiary's allocations, those expiring first first.
    pub async fn allocations_of(&self, beneficiary: UserId) -> Result<Vec<AllocationRow>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ALLOCATION_SELECT} WHERE a.beneficiary_id = $1 ORDER BY a.expires, a.id"
        )))
        .bind(beneficiary.to_string())
        .rows(&self.read, allocation_row)
        .await
    }

    pub async fn budget_booking(&self, id: BookingId) -> Result<Option<BudgetBookingRow>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{BOOKING_SELECT} WHERE id = $1"
        )))
        .bind(id.to_string())
        .one(&self.read, booking_row)
        .await
    }

    /// Books a service: holds its amount on the allocation. Refused (a conflict on `amount`)
    /// beyond what is available.
    pub async fn hold_booking(
        &self,
        b: &NewBudgetBooking,
        idem: Option<Idempotency<'_>>,
    ) -> Result<BudgetBookingRow> {
        let id = BookingId::new();
        let hold = Transaction::hold(b.allocation, id, b.amount).map_err(refused)?;
        let now = to_micros(self.now());
        let mut tx = self.write.begin().await?;
        if let Some(previous) = claim_key(&mut tx, idem, now).await? {
            return parse_json("booking", "idempotent answer", &previous);
        }
        let took = sqlx::query(
            "UPDATE allocations SET available = available - $1, held = held + $1 \
             WHERE id = $2 AND available >= $1",
        )
        .bind(b.amount.0)
        .bind(b.allocation.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if took != 1 {
            let left: Option<i64> = sqlx::query("SELECT available FROM allocations WHERE id = $1")
                .bind(b.allocation.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.get(0));
            return Err(match left {
                None => reference("allocation_id", "no such allocation"),
                Some(left) => conflict(
                    "amount",
                    format!("only {} is available, {} asked", Cents(left), b.amount),
                ),
            });
        }
        // What expenditure control groups by, copied from the allocation (it never changes).
        let owner = sqlx::query(
            "SELECT a.beneficiary_id, a.programme_id, p.funder_id, a.area_code, p.rules FROM allocations a \
             JOIN programmes p ON p.id = a.programme_id WHERE a.id = $1",
        )
        .bind(b.allocation.to_string())
        .fetch_one(&mut *tx)
        .await?;
        // The programme's monthly cap, counted here where the money moves: the allocation's
        // row is already locked by the update above, so two bookings of one month at once
        // are counted one after the other.
        let rules: ProgrammeRules = parse_json(
            "programme rules",
            &owner.get::<String, _>(1),
            &owner.get::<String, _>(4),
        )?;
        if rules.monthly_cap.is_some() {
            let used: i64 = sqlx::query(
                "SELECT CAST(COALESCE(SUM(held + spent), 0) AS BIGINT) FROM budget_bookings \
                 WHERE allocation_id = $1 AND month = $2",
            )
            .bind(b.allocation.to_string())
            .bind(b.month.to_string())
            .fetch_one(&mut *tx)
            .await?
            .get(0);
            rules
                .check_monthly_cap(b.month, Cents(used), b.amount)
                .map_err(|e| conflict(&e.field, e.reason))?;
        }
        sqlx::query(
            "INSERT INTO budget_bookings (id, allocation_id, provider_id, service_id, category, month, amount, held, spent, state, created_at, modified_at, \
             beneficiary_id, programme_id, funder_id, area_code, need) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 0, 'held', $8, $8, $9, $10, $11, $12, $13)",
        )
        .bind(id.to_string())
        .bind(b.allocation.to_string())
        .bind(b.provider_id.clone())
        .bind(b.service_id.clone())
        .bind(&b.category)
        .bind(b.month.to_string())
        .bind(b.amount.0)
        .bind(now)
        .bind(owner.get::<String, _>(0))
        .bind(owner.get::<String, _>(1))
        .bind(owner.get::<String, _>(2))
        .bind(owner.get::<Option<String>, _>(3))
        .bind(trama_core::budget::control::need_of(&b.category))
        .execute(&mut *tx)
        .await?;
        post(&mut tx, &hold, now).await?;
        let row = BudgetBookingRow {
            id,
            allocation_id: b.allocation,
            provider_id: b.provider_id.clone(),
            service_id: b.service_id.clone(),
            category: b.category.clone(),
            month: b.month,
            amount: b.amount,
            held: b.amount,
            spent: Cents(0),
            state: "held".into(),
        };
        answer_key(&mut tx, idem, &json(&row)).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The provider delivered: `amount` of what the booking holds becomes a spend. Refused
    /// beyond what it still holds (see [`Store::record_billing_exception`]).
    pub async fn deliver_booking(
        &self,
        id: BookingId,
        amount: Cents,
        idem: Option<Idempotency<'_>>,
    ) -> Result<BudgetBookingRow> {
        trama_core::budget::book::check_amount(amount).map_err(refused)?;
        self.move_hold(id, Some(amount), "spend", idem).await
    }

    /// Fills the need of bookings written before migration 0005 (a no-op once done).
    pub(crate) async fn fill_booking_needs(&self) -> Result<()> {
        let rows = sqlx::query("SELECT id, category FROM budget_bookings WHERE need IS NULL")
            .fetch_all(&self.write)
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.write.begin().await?;
        for r in &rows {
            sqlx::query("UPDATE budget_bookings SET need = $1 WHERE id = $2")
                .bind(trama_core::budget::control::need_of(&r.get::<String, _>(1)))
                .bind(r.get::<String, _>(0))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A provider billed `billed` for a booking that holds less: the delivery was refused and
    /// nothing moved; the bill is kept for the funder's control (the same bill twice is one
    /// exception). Returns what the booking held, or `None` when the bill was not beyond it.
    pub async fn record_billing_exception(
        &self,
        id: BookingId,
        billed: Cents,
        billed_by: UserId,
    ) -> Result<Option<Cents>> {
        let Some(b) = self.budget_booking(id).await? else {
            return Ok(None);
        };
        if b.state == "cancelled" || billed <= b.held {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO budget_billing_exceptions (booking_id, billed, held, billed_by, at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (booking_id, billed) DO NOTHING",
        )
        .bind(id.to_string())
        .bind(billed.0)
        .bind(b.held.0)
        .bind(billed_by.to_string())
        .bind(to_micros(self.now()))
        .execute(&self.write)
        .await?;
        Ok(Some(b.held))
    }

    /// Cancels a booking: whatever it still holds goes back to the allocation.
    pub async fn cancel_booking(
        &self,
        id: BookingId,
        idem: Option<Idempotency<'_>>,
    ) -> Result<BudgetBookingRow> {
        self.move_hold(id, None, "release", idem).await
    }

    async fn move_hold(
        &self,
        id: BookingId,
        amount: Option<Cents>,
        movement: &str,
        idem: Option<Idempotency<'_>>,
    ) -> Result<BudgetBookingRow> {
        let now = to_micros(self.now());
        let mut tx = self.write.begin().await?;
        if let Some(previous) = claim_key(&mut tx, idem, now).await? {
            return parse_json("booking", "idempotent answer", &previous);
        }
        let current = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{BOOKING_SELECT} WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(booking_row)
        .transpose()?
        .ok_or_else(|| reference("booking_id", "no such booking"))?;
        if current.state == "cancelled" {
            return Err(conflict("booking", "the booking is cancelled"));
        }
        if current.state == "delivered" && movement == "release" {
            return Err(conflict(
                "booking",
                "the booking was delivered: there is nothing left to cancel",
            ));
        }
        let amount = amount.unwrap_or(current.held);
        let (spend, state_if_empty) = match movement {
            "spend" => (amount.0, "delivered"),
            _ => (0, "cancelled"),
        };
        if amount.0 > 0 {
            // Conditional on what is held now: two deliveries at once cannot both take it.
            let took = sqlx::query(
                "UPDATE budget_bookings SET held = held - $1, spent = spent + $2, modified_at = $3, \
                 state = CASE WHEN held - $1 = 0 THEN $4 ELSE state END \
                 WHERE id = $5 AND held >= $1 AND state = 'held'",
            )
            .bind(amount.0)
            .bind(spend)
            .bind(now)
            .bind(state_if_empty)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if took != 1 {
                return Err(conflict(
                    "amount",
                    format!("the booking holds {}, {amount} asked", current.held),
                ));
            }
            let target = if movement == "spend" {
                "spent"
            } else {
                "available"
            };
            // `target` is one of two column names chosen above, never input.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE allocations SET held = held - $1, {target} = {target} + $1 WHERE id = $2"
            )))
            .bind(amount.0)
            .bind(current.allocation_id.to_string())
            .execute(&mut *tx)
            .await?;
            let t = if movement == "spend" {
                Transaction::spend(current.allocation_id, id, amount)
            } else {
                Transaction::release(current.allocation_id, id, amount)
            }
            .map_err(refused)?;
            let spend = post(&mut tx, &t, now).await?;
            if movement == "spend" {
                emit_spend_events(&mut tx, spend, &current, amount, now).await?;
            }
        } else if movement == "release" {
            sqlx::query(
                "UPDATE budget_bookings SET state = 'cancelled', modified_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        } else {
            return Err(conflict(
                "amount",
                "the booking holds nothing more to deliver",
            ));
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{BOOKING_SELECT} WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from)
        .and_then(|r| booking_row(&r))?;
        answer_key(&mut tx, idem, &json(&row)).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Checks of the book for tests and audits: (transactions whose postings do not sum to
    /// zero, allocations whose balances differ from their postings).
    pub async fn budget_book_problems(&self) -> Result<(i64, i64)> {
        let unbalanced: i64 = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT tx_id FROM budget_postings GROUP BY tx_id HAVING SUM(amount) <> 0) u",
        )
        .fetch_one(&self.read)
        .await?
        .get(0);
        let drift: i64 = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM allocations a WHERE \
             a.available <> (SELECT COALESCE(SUM(amount), 0) FROM budget_postings p WHERE p.allocation_id = a.id AND p.account = 'available') \
             OR a.held <> (SELECT COALESCE(SUM(amount), 0) FROM budget_postings p WHERE p.allocation_id = a.id AND p.account = 'held') \
             OR a.spent <> (SELECT COALESCE(SUM(amount), 0) FROM budget_postings p WHERE p.allocation_id = a.id AND p.account = 'spent') \
             OR a.granted <> -(SELECT COALESCE(SUM(amount), 0) FROM budget_postings p WHERE p.allocation_id = a.id AND p.account = 'funder')",
        )
        .fetch_one(&self.read)
        .await?
        .get(0);
        Ok((unbalanced, drift))
    }
}

impl crate::Store {
    /// The people a case manager follows with an active consent: (person, name, consent
    /// reference), by name.
    pub async fn caseload(&self, case_manager: UserId) -> Result<Vec<(UserId, String, String)>> {
        sqlx::query(
            "SELECT f.person_id, u.display_name, f.consent_ref FROM budget_followers f \
             JOIN users u ON u.id = f.person_id \
             WHERE f.case_manager_id = $1 AND f.state = 'active' ORDER BY u.display_name, f.person_id",
        )
        .bind(case_manager.to_string())
        .rows(&self.read, |r| {
            Ok((
                UserId::parse("person_id", &r.get::<String, _>(0))?,
                r.get(1),
                r.get(2),
            ))
        })
        .await
    }

    /// The case managers who follow a person with an active consent: (case manager, name,
    /// consent reference).
    pub async fn followers_of(&self, person: UserId) -> Result<Vec<(UserId, String, String)>> {
        sqlx::query(
            "SELECT f.case_manager_id, u.display_name, f.consent_ref FROM budget_followers f \
             JOIN users u ON u.id = f.case_manager_id \
             WHERE f.person_id = $1 AND f.state = 'active' ORDER BY u.display_name",
        )
        .bind(person.to_string())
        .rows(&self.read, |r| {
            Ok((
                UserId::parse("case_manager_id", &r.get::<String, _>(0))?,
                r.get(1),
                r.get(2),
            ))
        })
        .await
    }

    /// The facts that decide who may see a person's budget: the case managers who follow
    /// the person with an active consent.
    pub async fn budget_facts(
        &self,
        person: UserId,
    ) -> Result<trama_core::budget::access::BudgetFacts> {
        let rows = sqlx::query(
            "SELECT case_manager_id, organization_id FROM budget_followers \
             WHERE person_id = $1 AND state = 'active'",
        )
        .bind(person.to_string())
        .fetch_all(&self.read)
        .await?;
        let case_managers = rows
            .iter()
            .map(|r| {
                Ok((
                    UserId::parse("case_manager_id", &r.get::<String, _>(0))?,
                    r.get::<Option<String>, _>(1)
                        .map(|o| OrganizationId::parse("organization_id", &o))
                        .transpose()?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(trama_core::budget::access::BudgetFacts {
            beneficiary: person,
            consent_active: !case_managers.is_empty(),
            case_managers,
        })
    }

    /// Whether the person has a care budget to look at: an allocation, or a case manager who
    /// follows them for one (a consent, even one waiting for the person's confirmation).
    pub async fn has_budget(&self, person: UserId) -> Result<bool> {
        let id = person.to_string();
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM allocations WHERE beneficiary_id = $1) \
             + (SELECT COUNT(*) FROM budget_followers WHERE person_id = $2 \
                AND state <> 'revoked')",
        )
        .bind(&id)
        .bind(&id)
        .fetch_one(&self.read)
        .await?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }

    /// The bookings paid from a person's allocations, newest first.
    pub async fn budget_bookings_of(&self, person: UserId) -> Result<Vec<BudgetBookingRow>> {
        sqlx::query(
            "SELECT b.id, b.allocation_id, b.provider_id, b.service_id, b.category, b.month, \
             b.amount, b.held, b.spent, b.state FROM budget_bookings b \
             JOIN allocations a ON a.id = b.allocation_id WHERE a.beneficiary_id = $1 \
             ORDER BY b.created_at DESC, b.id",
        )
        .bind(person.to_string())
        .rows(&self.read, booking_row)
        .await
    }

    /// Whose budget a booking is paid from.
    pub async fn budget_booking_beneficiary(&self, id: BookingId) -> Result<Option<UserId>> {
        let r = sqlx::query(
            "SELECT a.beneficiary_id FROM budget_bookings b JOIN allocations a ON a.id = b.allocation_id WHERE b.id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?;
        r.map(|r| crate::stored_id("beneficiary", r.get(0)).map(UserId))
            .transpose()
    }
}

/// Help a person received from one volunteer (confirmed `work`), for the consolidated view.
#[derive(Debug, Clone, PartialEq)]
pub struct HelpReceived {
    pub volunteer: UserId,
    pub name: String,
    pub minutes: i64,
}

impl crate::Store {
    /// The volunteers who helped a person and for how long (confirmed hours), most first.
    pub async fn help_received(&self, person: UserId) -> Result<Vec<HelpReceived>> {
        sqlx::query(
            "SELECT c.provider_id, u.display_name, CAST(SUM(c.effort_minutes) AS BIGINT) \
             FROM contribution_events c JOIN users u ON u.id = c.provider_id \
             WHERE c.receiver_id = $1 AND c.action = 'work' \
             GROUP BY c.provider_id, u.display_name ORDER BY 3 DESC, 1",
        )
        .bind(person.to_string())
        .rows(&self.read, |r| {
            Ok(HelpReceived {
                volunteer: UserId::parse("provider_id", &r.get::<String, _>(0))?,
                name: r.get(1),
                minutes: r.get(2),
            })
        })
        .await
    }
}

/// A funder as the dashboards list it.
#[derive(Debug, Clone, PartialEq)]
pub struct FunderRow {
    pub id: FunderId,
    pub name: String,
    pub kind: FunderKind,
    pub organization_id: Option<OrganizationId>,
}

/// A programme as the dashboards list it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgrammeRow {
    pub id: ProgrammeId,
    pub funder_id: FunderId,
    pub name: String,
    pub rules: ProgrammeRules,
}

impl crate::Store {
    pub async fn funders(&self) -> Result<Vec<FunderRow>> {
        sqlx::query("SELECT id, name, kind, organization_id FROM funders ORDER BY name, id")
            .rows(&self.read, |r| {
                Ok(FunderRow {
                    id: FunderId::parse("id", &r.get::<String, _>(0))?,
                    name: r.get(1),
                    kind: FunderKind::parse("kind", &r.get::<String, _>(2))?,
                    organization_id: crate::stored_opt_id("funder organisation", r.get(3))?
                        .map(OrganizationId),
                })
            })
            .await
    }

    /// A programme's allocations with their beneficiaries' names, for the reports on
    /// individuals its rules allow.
    pub async fn programme_allocations(
        &self,
        programme: ProgrammeId,
    ) -> Result<Vec<(AllocationRow, String)>> {
        let names: std::collections::HashMap<String, String> = sqlx::query(
            "SELECT DISTINCT u.id, u.display_name FROM users u \
             JOIN allocations a ON a.beneficiary_id = u.id WHERE a.programme_id = $1",
        )
        .bind(programme.to_string())
        .rows(&self.read, |r| {
            Ok((r.get::<String, _>(0), r.get::<String, _>(1)))
        })
        .await?
        .into_iter()
        .collect();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ALLOCATION_SELECT} WHERE a.programme_id = $1 ORDER BY a.created_at, a.id"
        )))
        .bind(programme.to_string())
        .rows(&self.read, |r| {
            let a = allocation_row(r)?;
            let name = names
                .get(&a.beneficiary_id.to_string())
                .cloned()
                .unwrap_or_default();
            Ok((a, name))
        })
        .await
    }

    pub async fn programmes(&self) -> Result<Vec<ProgrammeRow>> {
        sqlx::query("SELECT id, funder_id, name, rules FROM programmes ORDER BY name, id")
            .rows(&self.read, |r| {
                let id: String = r.get(0);
                Ok(ProgrammeRow {
                    id: ProgrammeId::parse("id", &id)?,
                    funder_id: FunderId::parse("funder_id", &r.get::<String, _>(1))?,
                    name: r.get(2),
                    rules: parse_json("programme rules", &id, &r.get::<String, _>(3))?,
                })
            })
            .await
    }

    /// Every allocation with what is left and when it expires.
    pub async fn allocation_facts(
        &self,
    ) -> Result<Vec<trama_core::budget::control::AllocationFact>> {
        sqlx::query(
            "SELECT a.id, a.programme_id, p.funder_id, a.available, a.expires FROM allocations a \
             JOIN programmes p ON p.id = a.programme_id ORDER BY a.expires, a.id",
        )
        .rows(&self.read, |r| {
            Ok(trama_core::budget::control::AllocationFact {
                allocation: AllocationId::parse("id", &r.get::<String, _>(0))?,
                programme: ProgrammeId::parse("programme_id", &r.get::<String, _>(1))?,
                funder: FunderId::parse("funder_id", &r.get::<String, _>(2))?,
                available: Cents(r.get(3)),
                expires: YearMonth::parse("expires", &r.get::<String, _>(4))?,
            })
        })
        .await
    }
}

/// A stored personal plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRow {
    pub id: String,
    pub person_id: UserId,
    pub created_by: UserId,
    pub plan: trama_core::budget::plan::Plan,
}

impl crate::Store {
    /// Stores a personal plan; the newest plan of a person is their current one.
    pub async fn create_plan(
        &self,
        person: UserId,
        created_by: UserId,
        plan: &trama_core::budget::plan::Plan,
    ) -> Result<PlanRow> {
        plan.validate()?;
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO budget_plans (id, person_id, created_by, doc, review_on, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(person.to_string())
        .bind(created_by.to_string())
        .bind(json(plan))
        .bind(plan.review_on.to_string())
        .bind(to_micros(self.now()))
        .execute(&self.write)
        .await
        .map_err(foreign_key_as("person", "no such person"))?;
        Ok(PlanRow {
            id,
            person_id: person,
            created_by,
            plan: plan.clone(),
        })
    }

    /// A person's plans, newest first.
    pub async fn plans_of(&self, person: UserId) -> Result<Vec<PlanRow>> {
        sqlx::query(
            "SELECT id, person_id, created_by, doc FROM budget_plans WHERE person_id = $1 \
             ORDER BY created_at DESC, id DESC",
        )
        .bind(person.to_string())
        .rows(&self.read, |r| {
            let id: String = r.get(0);
            Ok(PlanRow {
                person_id: UserId::parse("person_id", &r.get::<String, _>(1))?,
                created_by: UserId::parse("created_by", &r.get::<String, _>(2))?,
                plan: parse_json("plan", &id, &r.get::<String, _>(3))?,
                id,
            })
        })
        .await
    }

    /// The current (newest) plan of every person who has one.
    pub async fn current_plans(&self) -> Result<Vec<PlanRow>> {
        let rows = sqlx::query(
            "SELECT id, person_id, created_by, doc FROM budget_plans ORDER BY person_id, created_at DESC, id DESC",
        )
        .fetch_all(&self.read)
        .await?;
        let mut out: Vec<PlanRow> = Vec::new();
        for r in &rows {
            let id: String = r.get(0);
            let person = UserId::parse("person_id", &r.get::<String, _>(1))?;
            if out.last().is_some_and(|p| p.person_id == person) {
                continue;
            }
            out.push(PlanRow {
                person_id: person,
                created_by: UserId::parse("created_by", &r.get::<String, _>(2))?,
                plan: parse_json("plan", &id, &r.get::<String, _>(3))?,
                id,
            });
        }
        Ok(out)
    }
}

/// A booking as its provider sees it: what to deliver, when, for whom by name only.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderBookingRow {
    pub booking: BudgetBookingRow,
    pub person_name: String,
    /// Whose budget pays it (for the person's audit trail, never shown to the provider).
    pub person: UserId,
}

impl crate::Store {
    /// The bookings an organisation is to deliver, newest month first.
    pub async fn provider_bookings(
        &self,
        provider: OrganizationId,
    ) -> Result<Vec<ProviderBookingRow>> {
        sqlx::query(
            "SELECT b.id, b.allocation_id, b.provider_id, b.service_id, b.category, b.month, \
             b.amount, b.held, b.spent, b.state, u.display_name, a.beneficiary_id FROM budget_bookings b \
             JOIN allocations a ON a.id = b.allocation_id JOIN users u ON u.id = a.beneficiary_id \
             WHERE b.provider_id = $1 ORDER BY b.month DESC, b.created_at DESC, b.id LIMIT 1000",
        )
        .bind(provider.to_string())
        .rows(&self.read, |r| {
            Ok(ProviderBookingRow {
                booking: booking_row(r)?,
                person_name: r.get(10),
                person: UserId::parse("beneficiary_id", &r.get::<String, _>(11))?,
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewUser, StoreOptions};
    use trama_core::budget::programme::{FunderKind, ProgrammeRules};

    /// Bookings written before migration 0005 have no need; `migrate` fills it with the same
    /// rule the double-funding alert uses.
    #[tokio::test]
    async fn older_bookings_get_their_need_on_migrate() {
        let (_dir, url) = trama_testkit::sqlite_url();
        let store = crate::Store::connect(&url, &StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let f = store
            .create_funder("Comune", FunderKind::Municipal, None)
            .await
            .unwrap();
        let month = |s| YearMonth::parse("m", s).unwrap();
        let rules = ProgrammeRules {
            name: "SAD".into(),
            funder_kind: FunderKind::Municipal,
            categories: vec!["A1".into()],
            valid_from: month("2026-01"),
            valid_to: month("2026-12"),
            monthly_cap: None,
            copay_bands: vec![],
            combinable: true,
            individual_reports: false,
        };
        let p = store
            .create_programme(f, &rules, Cents(1_000_000_000_000))
            .await
            .unwrap();
        let who = store
            .create_user(&NewUser {
                email: None,
                display_name: "Anna".into(),
                password_hash: None,
                locale: "it".into(),
            })
            .await
            .unwrap();
        let a = store
            .grant_allocation(
                &crate::NewAllocation {
                    programme: p,
                    beneficiary: who,
                    decision_ref: &trama_core::bounded::BoundedText::parse("d", "Det.", 10)
                        .expect("a reference"),
                    amount: Cents(10_000),
                    expires: month("2026-12"),
                    area_code: None,
                },
                None,
            )
            .await
            .unwrap();
        let b = store
            .hold_booking(
                &NewBudgetBooking {
                    allocation: a.id,
                    provider_id: None,
                    service_id: None,
                    category: "A1.1.2".into(),
                    month: month("2026-03"),
                    amount: Cents(100),
                },
                None,
            )
            .await
            .unwrap();
        let need = |store: crate::Store| async move {
            sqlx::query("SELECT need FROM budget_bookings WHERE id = $1")
                .bind(b.id.to_string())
                .fetch_one(&store.read)
                .await
                .unwrap()
                .get::<Option<String>, _>(0)
        };
        assert_eq!(need(store.clone()).await.as_deref(), Some("A1.1"));
        sqlx::query("UPDATE budget_bookings SET need = NULL")
            .execute(&store.write)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        assert_eq!(need(store.clone()).await.as_deref(), Some("A1.1"));
    }
}
