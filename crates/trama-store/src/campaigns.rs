//! Emergency campaigns: the needs they gather and their live counts.

use crate::sql::ReadRows;
use sqlx::Row;
use time::{Date, Time};
use uuid::Uuid;

use trama_core::ids::{CampaignId, TaxonomyTermId, UserId};

use crate::{Result, Store, from_micros, json, parse_json, stored_id, to_micros};

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub kind: String,
    pub description: String,
    pub categories: Vec<TaxonomyTermId>,
    pub created_by: UserId,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    /// District (Municipio) codes; empty for the whole territory.
    pub areas: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct CampaignRow {
    pub id: CampaignId,
    pub name: String,
    pub kind: String,
    pub description: String,
    pub categories: Vec<TaxonomyTermId>,
    /// `open` or `closed` (closed by hand; whether it is running also depends on its days:
    /// `trama_core::campaigns::CampaignPhase`).
    pub state: String,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    pub areas: Vec<String>,
}

/// The live count of a campaign.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CampaignCounts {
    pub needs: i64,
    /// Still waiting for a helper.
    pub uncovered: i64,
    /// Of those, high or critical.
    pub uncovered_urgent: i64,
    /// A helper is proposed or agreed.
    pub covered: i64,
    /// The help was given.
    pub fulfilled: i64,
    /// Volunteers with a live match in the campaign.
    pub volunteers: i64,
}

impl Store {
    pub async fn create_campaign(&self, c: &NewCampaign) -> Result<CampaignId> {
        let id = CampaignId::new();
        let now = to_micros(self.now());
        sqlx::query(
            "INSERT INTO campaigns (id, name, kind, description, categories, state, created_by, starts_at, ends_at, created_at, areas) \
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10)",
        )
        .bind(id.to_string())
        .bind(c.name.clone())
        .bind(c.kind.clone())
        .bind(c.description.clone())
        .bind(json(&c.categories))
        .bind(c.created_by.to_string())
        .bind(day_micros(c.starts_on))
        .bind(c.ends_on.map(day_micros))
        .bind(now)
        .bind(json(&c.areas))
        .execute(&self.write)
        .await?;
        Ok(id)
    }

    pub async fn campaigns(&self) -> Result<Vec<CampaignRow>> {
        sqlx::query(
            "SELECT id, name, kind, description, categories, state, starts_at, ends_at, areas FROM campaigns \
             ORDER BY starts_at DESC, id",
        )
        .rows(&self.read, campaign_from_row)
        .await
    }

    pub async fn campaign(&self, id: CampaignId) -> Result<Option<CampaignRow>> {
        sqlx::query(
            "SELECT id, name, kind, description, categories, state, starts_at, ends_at, areas FROM campaigns WHERE id = $1",
        )
        .bind(id.to_string())
        .one(&self.read, campaign_from_row)
        .await
    }

    pub async fn close_campaign(&self, id: CampaignId) -> Result<bool> {
        Ok(
            sqlx::query("UPDATE campaigns SET state = 'closed' WHERE id = $1 AND state = 'open'")
                .bind(id.to_string())
                .execute(&self.write)
                .await?
                .rows_affected()
                == 1,
        )
    }

    pub async fn campaign_counts(&self, id: CampaignId) -> Result<CampaignCounts> {
        let r = sqlx::query(
            "SELECT COUNT(*), \
             SUM(CASE WHEN state = 'open' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN state = 'open' AND urgency IN ('high', 'critical') THEN 1 ELSE 0 END), \
             SUM(CASE WHEN state = 'matched' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN state = 'fulfilled' THEN 1 ELSE 0 END) FROM needs WHERE campaign_id = $1",
        )
        .bind(id.to_string())
        .fetch_one(&self.read)
        .await?;
        let v = sqlx::query(
            "SELECT COUNT(DISTINCT m.volunteer_id) FROM matches m JOIN needs n ON n.id = m.need_id \
             WHERE n.campaign_id = $1 AND (m.live = 1 OR m.occurrences > 0)",
        )
        .bind(id.to_string())
        .fetch_one(&self.read)
        .await?;
        let g = |i: usize| r.get::<Option<i64>, _>(i).unwrap_or(0);
        Ok(CampaignCounts {
            needs: r.get::<i64, _>(0),
            uncovered: g(1),
            uncovered_urgent: g(2),
            covered: g(3),
            fulfilled: g(4),
            volunteers: v.get::<i64, _>(0),
        })
    }
}

fn campaign_from_row(r: &sqlx::any::AnyRow) -> Result<CampaignRow> {
    let id: String = r.get(0);
    let cats: Vec<Uuid> = parse_json("campaign categories", &id, &r.get::<String, _>(4))?;
    Ok(CampaignRow {
        id: CampaignId(stored_id("campaign", id.clone())?),
        name: r.get(1),
        kind: r.get(2),
        description: r.get(3),
        categories: cats.into_iter().map(TaxonomyTermId).collect(),
        state: r.get(5),
        starts_on: from_micros(r.get(6)).date(),
        ends_on: r.get::<Option<i64>, _>(7).map(|t| from_micros(t).date()),
        areas: parse_json("campaign areas", &id, &r.get::<String, _>(8))?,
    })
}

/// A campaign's day as stored: the UTC midnight that begins it.
fn day_micros(d: Date) -> i64 {
    to_micros(d.with_time(Time::MIDNIGHT).assume_utc())
}
