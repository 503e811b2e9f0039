//! The GDPR rights that touch the database: erasure of a person (Art. 17) and the retention
//! of what the law requires to be kept, reduced to what is needed. The export (Art. 15, 20)
//! is assembled by the server from the ordinary reads.

use sqlx::Row;
use trama_core::geo::Coordinates;
use trama_core::ids::UserId;

use crate::{Result, to_micros};

/// What an erasure did, to tell the person.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ErasureReport {
    /// Needs whose description, address and exact point were wiped (open ones cancelled).
    pub needs_wiped: u64,
    /// Offers withdrawn and wiped.
    pub offers_wiped: u64,
    /// Personal plans deleted.
    pub plans_deleted: u64,
    /// Consents, sessions, API tokens, notifications and roles deleted.
    pub consents_deleted: u64,
    pub sessions_deleted: u64,
    pub tokens_deleted: u64,
    pub notifications_deleted: u64,
    pub roles_deleted: u64,
    /// Future room bookings cancelled.
    pub room_bookings_deleted: u64,
    /// Register links (one per purpose) forgotten: the entries stay, unlinkable.
    pub register_links_forgotten: u64,
    /// Allocations and bookings kept, as accounting records the law requires, under the
    /// erased account (no name, no e-mail).
    pub allocations_kept: u64,
    pub bookings_kept: u64,
}

impl crate::Store {
    /// Erases a person: the account loses its name, e-mail, password, roles, sessions and
    /// tokens; needs and offers lose their descriptions, addresses and exact points (kept as
    /// the coarse cell); plans and consents go; the register's links go (its entries stay,
    /// unlinkable). Allocations and bookings stay, as the accounting records public money
    /// needs, under the erased account. One transaction: all or nothing.
    pub async fn erase_person(&self, person: UserId, agents: &[String]) -> Result<ErasureReport> {
        let now = to_micros(self.now());
        let id = person.to_string();
        let mut tx = self.write.begin().await?;
        let mut r = ErasureReport::default();
        let exec = |sql: &'static str| sqlx::query(sql).bind(id.clone());
        // Needs: wiped, their exact point replaced by the coarse cell's centre.
        let needs =
            sqlx::query("SELECT id, latitude, longitude FROM needs WHERE requester_id = $1")
                .bind(&id)
                .fetch_all(&mut *tx)
                .await?;
        for n in &needs {
            let (lat, lon): (f64, f64) = (n.get(1), n.get(2));
            let c = Coordinates::new(lat, lon)
                .map(|c| c.coarse())
                .unwrap_or(Coordinates::new(0.0, 0.0).expect("the origin is a point"));
            sqlx::query(
                "UPDATE needs SET description = '', address = '', latitude = $1, longitude = $2, \
                 languages = '[]', skills = '[]', modified_at = $3, \
                 state = CASE WHEN state IN ('open', 'matched') THEN 'cancelled' ELSE state END \
                 WHERE id = $4",
            )
            .bind(c.lat())
            .bind(c.lon())
            .bind(now)
            .bind(n.get::<String, _>(0))
            .execute(&mut *tx)
            .await?;
        }
        r.needs_wiped = needs.len() as u64;
        let offers = sqlx::query("SELECT id, latitude, longitude FROM offers WHERE owner_id = $1")
            .bind(&id)
            .fetch_all(&mut *tx)
            .await?;
        for o in &offers {
            let (lat, lon): (f64, f64) = (o.get(1), o.get(2));
            let c = Coordinates::new(lat, lon)
                .map(|c| c.coarse())
                .unwrap_or(Coordinates::new(0.0, 0.0).expect("the origin is a point"));
            sqlx::query(
                "UPDATE offers SET description = '', latitude = $1, longitude = $2, \
                 state = 'withdrawn', modified_at = $3 WHERE id = $4",
            )
            .bind(c.lat())
            .bind(c.lon())
            .bind(now)
            .bind(o.get::<String, _>(0))
            .execute(&mut *tx)
            .await?;
        }
        r.offers_wiped = offers.len() as u64;
        r.plans_deleted = exec("DELETE FROM budget_plans WHERE person_id = $1")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        r.consents_deleted = exec("DELETE FROM budget_followers WHERE person_id = $1")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        r.sessions_deleted = exec("DELETE FROM sessions WHERE user_id = $1")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        r.tokens_deleted = exec("DELETE FROM api_tokens WHERE user_id = $1")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        r.notifications_deleted = exec("DELETE FROM notifications WHERE user_id = $1")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        r.roles_deleted = exec("DELETE FROM role_grants WHERE user_id = $1")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        r.room_bookings_deleted =
            sqlx::query("DELETE FROM room_bookings WHERE booked_by = $1 AND slot_start > $2")
                .bind(&id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        exec("UPDATE assisted_people SET phone = NULL, consent_reference = '' WHERE user_id = $1")
            .execute(&mut *tx)
            .await?;
        for agent in agents {
            r.register_links_forgotten +=
                sqlx::query("DELETE FROM register_agents WHERE agent = $1")
                    .bind(agent)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
        }
        r.allocations_kept = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM allocations WHERE beneficiary_id = $1",
        )
        .bind(&id)
        .fetch_one(&mut *tx)
        .await?
        .get::<i64, _>(0) as u64;
        r.bookings_kept = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM budget_bookings b JOIN allocations a \
             ON a.id = b.allocation_id WHERE a.beneficiary_id = $1",
        )
        .bind(&id)
        .fetch_one(&mut *tx)
        .await?
        .get::<i64, _>(0) as u64;
        sqlx::query(
            "UPDATE users SET email = NULL, password_hash = NULL, display_name = $2, erased_at = $3 \
             WHERE id = $1",
        )
        .bind(&id)
        .bind(ERASED_NAME)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        crate::offer_cache::record_offers_of(&mut tx, person).await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Whether a person's account was erased (then nobody may follow them, grant to them or
    /// book for them any more).
    pub async fn is_erased(&self, person: UserId) -> Result<bool> {
        Ok(sqlx::query("SELECT erased_at FROM users WHERE id = $1")
            .bind(person.to_string())
            .fetch_optional(&self.read)
            .await?
            .is_some_and(|r| r.get::<Option<i64>, _>(0).is_some()))
    }

    /// Applies the retention rules: the audit trail older than `audit_days` and the
    /// descriptions, addresses and exact points of needs closed more than `closed_needs_days`
    /// ago go. Returns (audit entries deleted, needs wiped).
    pub async fn apply_retention(
        &self,
        audit_days: i64,
        closed_needs_days: i64,
    ) -> Result<(u64, u64)> {
        let now = self.now();
        let audit = sqlx::query("DELETE FROM audit_log WHERE at < $1")
            .bind(to_micros(now - time::Duration::days(audit_days)))
            .execute(&self.write)
            .await?
            .rows_affected();
        let needs = sqlx::query(
            "UPDATE needs SET description = '', address = '' \
             WHERE state IN ('fulfilled', 'cancelled', 'expired') AND modified_at < $1 \
             AND (description <> '' OR address <> '')",
        )
        .bind(to_micros(now - time::Duration::days(closed_needs_days)))
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok((audit, needs))
    }
}

/// The name an erased account shows where records must keep it (bookings, matches).
pub const ERASED_NAME: &str = "Persona cancellata / erased person";
