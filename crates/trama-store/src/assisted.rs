//! People registered by an operator at a desk (assisted mode): no e-mail or phone of their
//! own, an account nobody can sign in to, the consent on file.

use crate::sql::ReadRows;
use sqlx::Row;
use time::OffsetDateTime;

use trama_core::ids::{OrganizationId, UserId};

use crate::{Result, Store, from_micros, stored_id, to_micros};

#[derive(Debug, Clone)]
pub struct AssistedPerson {
    pub user: UserId,
    pub display_name: String,
    pub registered_by: UserId,
    pub organization: OrganizationId,
    pub consent_reference: String,
    pub phone: Option<String>,
    pub created_at: OffsetDateTime,
}

impl Store {
    /// Registers a person who has no e-mail or phone of their own: an account nobody can log in
    /// to, the citizen role, and the consent on file.
    pub async fn register_assisted(
        &self,
        display_name: &str,
        locale: &str,
        registered_by: UserId,
        organization: OrganizationId,
        consent_reference: &str,
        phone: Option<&str>,
    ) -> Result<UserId> {
        let id = UserId::new();
        let now = to_micros(self.now());
        let mut tx = self.write.begin().await?;
        sqlx::query("INSERT INTO users (id, email, display_name, password_hash, locale, created_at, verified_at) VALUES ($1, NULL, $2, NULL, $3, $4, $4)")
            .bind(id.to_string())
            .bind(display_name.to_string())
            .bind(locale.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO role_grants (user_id, role, organization_id, created_at) VALUES ($1, 'citizen', '', $2)")
            .bind(id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO assisted_people (user_id, registered_by, organization_id, consent_reference, phone, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(registered_by.to_string())
        .bind(organization.to_string())
        .bind(consent_reference.to_string())
        .bind(phone.map(str::to_string))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn assisted(&self, user: UserId) -> Result<Option<AssistedPerson>> {
        sqlx::query(
            "SELECT a.user_id, u.display_name, a.registered_by, a.organization_id, a.consent_reference, \
             a.phone, a.created_at FROM assisted_people a JOIN users u ON u.id = a.user_id WHERE a.user_id = $1",
        )
        .bind(user.to_string())
        .one(&self.read, assisted_from_row)
        .await
    }

    /// People followed by these organisations, by name.
    pub async fn assisted_people(
        &self,
        organizations: &[OrganizationId],
    ) -> Result<Vec<AssistedPerson>> {
        let mut out = Vec::new();
        for o in organizations {
            let rows = sqlx::query(
                "SELECT a.user_id, u.display_name, a.registered_by, a.organization_id, a.consent_reference, \
                 a.phone, a.created_at FROM assisted_people a JOIN users u ON u.id = a.user_id \
                 WHERE a.organization_id = $1 ORDER BY u.display_name, a.user_id LIMIT 1000",
            )
            .bind(o.to_string())
            .fetch_all(&self.read)
            .await?;
            for r in &rows {
                out.push(assisted_from_row(r)?);
            }
        }
        Ok(out)
    }
}

fn assisted_from_row(r: &sqlx::any::AnyRow) -> Result<AssistedPerson> {
    Ok(AssistedPerson {
        user: UserId(stored_id("assisted person", r.get(0))?),
        display_name: r.get(1),
        registered_by: UserId(stored_id("registered by", r.get(2))?),
        organization: OrganizationId(stored_id("organisation", r.get(3))?),
        consent_reference: r.get(4),
        phone: r.get(5),
        created_at: from_micros(r.get(6)),
    })
}
