//! Needs, offers and matches: what people ask and give, and the state of every match.
//!
//! The rules of the lifecycle live in `trama_core::matching::lifecycle`; this module applies
//! them in transactions. Places are taken with conditional updates
//! (`UPDATE needs SET covered = covered + 1 WHERE covered < people`), so two volunteers who
//! accept the last place of a need at the same moment cannot both get it, on either database.

use crate::sql::ReadRows;
use sqlx::Row;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use trama_core::contribution::{Agent, ContributionEvent, EffortMinutes};
use trama_core::geo::Coordinates;
use trama_core::ids::{
    CampaignId, MatchId, NeedId, OfferId, OrganizationId, TaxonomyTermId, UserId,
};
use trama_core::matching::lifecycle::{MatchEvent, MatchState, NeedState};
use trama_core::matching::model::{Urgency, WeekWindow};
use trama_core::needs::{NeedParties, NewNeed, NewOffer, PublicArea};

use crate::offer_cache::record_offer_change;
use crate::sql::{Sql, Val};
use crate::{
    Result, Store, StoreError, from_micros, json, parse_json, reference, stored_id, to_micros,
};
use crate::{stored, stored_int, stored_opt_id};

/// Days since 1970-01-01, the stored form of a date.
pub fn to_day(d: Date) -> i64 {
    d.to_julian_day() as i64 - 2_440_588
}

pub fn from_day(n: i64) -> Date {
    Date::from_julian_day((n + 2_440_588) as i32).unwrap_or(Date::MIN)
}

/// Binds a need's own fields, from its category to its people, in that order: the same run of
/// placeholders in the statement that creates a need and in the one that rewrites it.
fn bind_need_fields<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    rec: &'q NeedRecord,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let n = &rec.need;
    q.bind(n.category.to_string())
        .bind(n.description.clone())
        .bind(n.address.clone())
        .bind(n.point.lat())
        .bind(n.point.lon())
        .bind(rec.area.kind.clone())
        .bind(rec.area.code.clone())
        .bind(rec.area.name.clone())
        .bind(rec.municipio.clone())
        .bind(json(&n.windows))
        .bind(n.recurring as i64)
        .bind(n.date.map(to_day))
        .bind(n.until.map(to_day))
        .bind(n.duration_minutes as i64)
        .bind(n.urgency.as_str())
        .bind(json(&n.languages))
        .bind(json(&n.skills))
        .bind(n.people as i64)
}

fn conflict(field: &str, reason: &str) -> StoreError {
    StoreError::Conflict {
        field: field.into(),
        reason: reason.into(),
    }
}

/// A need to store, with what the server worked out around it.
#[derive(Debug, Clone)]
pub struct NeedRecord {
    pub need: NewNeed,
    pub requester: UserId,
    pub entered_by: UserId,
    pub organization: Option<OrganizationId>,
    pub area: PublicArea,
    pub municipio: Option<String>,
}

/// A stored need, whole. What a viewer may see of it is decided above (see
/// `trama_core::needs::need_access`).
#[derive(Debug, Clone)]
pub struct NeedRow {
    pub id: NeedId,
    pub requester: UserId,
    pub requester_name: String,
    pub entered_by: UserId,
    pub organization: Option<OrganizationId>,
    pub category: TaxonomyTermId,
    pub category_name: String,
    pub category_name_en: Option<String>,
    pub description: String,
    pub address: String,
    pub point: Coordinates,
    pub area: PublicArea,
    pub municipio: Option<String>,
    pub windows: Vec<WeekWindow>,
    pub recurring: bool,
    pub date: Option<Date>,
    pub until: Option<Date>,
    pub duration_minutes: u16,
    pub urgency: Urgency,
    pub languages: Vec<String>,
    pub skills: Vec<String>,
    pub people: u8,
    pub covered: u8,
    pub state: NeedState,
    pub campaign: Option<CampaignId>,
    pub created_at: OffsetDateTime,
}

impl NeedRow {
    /// Days the need has waited since it was posted.
    pub fn waiting_days(&self, now: OffsetDateTime) -> u32 {
        ((now - self.created_at).whole_days()).max(0) as u32
    }
}

const NEED_COLUMNS: &str = "n.id, n.requester_id, u.display_name, n.entered_by, n.organization_id, \
    n.category_id, t.name, t.name_en, n.description, n.address, n.latitude, n.longitude, \
    n.area_kind, n.area_code, n.area_name, n.municipio, n.windows, n.recurring, n.on_day, \
    n.until_day, n.duration_minutes, n.urgency, n.languages, n.skills, n.people, n.covered, \
    n.state, n.campaign_id, n.created_at";
const NEED_FROM: &str = "needs n JOIN users u ON u.id = n.requester_id \
    LEFT JOIN taxonomy_terms t ON t.id = n.category_id";

fn need_from_row(r: &sqlx::any::AnyRow) -> Result<NeedRow> {
    let id: String = r.get(0);
    Ok(NeedRow {
        id: NeedId(stored_id("id", id.clone())?),
        requester: UserId(stored_id("id", r.get(1))?),
        requester_name: r.get(2),
        entered_by: UserId(stored_id("id", r.get(3))?),
        organization: r
            .get::<Option<String>, _>(4)
            .map(|s| stored_id("id", s).map(OrganizationId))
            .transpose()?,
        category: TaxonomyTermId(stored_id("id", r.get(5))?),
        category_name: r.get::<Option<String>, _>(6).unwrap_or_default(),
        category_name_en: r.get(7),
        description: r.get(8),
        address: r.get(9),
        point: Coordinates::new(r.get(10), r.get(11)).map_err(|e| {
            StoreError::Invalid(trama_core::FieldError::new(format!("need {id}"), e.reason))
        })?,
        area: PublicArea {
            kind: r.get(12),
            code: r.get(13),
            name: r.get(14),
        },
        municipio: r.get(15),
        windows: parse_json("need windows", &id, &r.get::<String, _>(16))?,
        recurring: r.get::<i64, _>(17) != 0,
        date: r.get::<Option<i64>, _>(18).map(from_day),
        until: r.get::<Option<i64>, _>(19).map(from_day),
        duration_minutes: stored_int("need duration", r.get(20))?,
        urgency: stored("need urgency", r.get(21))?,
        languages: parse_json("need languages", &id, &r.get::<String, _>(22))?,
        skills: parse_json("need skills", &id, &r.get::<String, _>(23))?,
        people: stored_int("need people", r.get(24))?,
        covered: stored_int("need covered", r.get(25))?,
        state: stored("need state", r.get(26))?,
        campaign: r
            .get::<Option<String>, _>(27)
            .map(|s| stored_id("id", s).map(CampaignId))
            .transpose()?,
        created_at: from_micros(r.get(28)),
    })
}

/// Which needs to list.
#[derive(Debug, Clone, Default)]
pub struct NeedFilter {
    pub requester: Option<UserId>,
    pub organizations: Option<Vec<OrganizationId>>,
    pub state: Option<NeedState>,
    pub campaign: Option<CampaignId>,
    pub area_code: Option<String>,
    pub category: Option<TaxonomyTermId>,
    pub limit: i64,
}

/// A stored offer.
#[derive(Debug, Clone)]
pub struct OfferRow {
    pub id: OfferId,
    pub owner: UserId,
    pub owner_name: String,
    pub organization: Option<OrganizationId>,
    pub categories: Vec<TaxonomyTermId>,
    pub description: String,
    pub point: Coordinates,
    pub area_code: String,
    pub area_name: String,
    pub radius_km: f64,
    pub availability: Vec<WeekWindow>,
    pub hours_per_week: f64,
    pub capacity: u16,
    pub active: u16,
    pub languages: Vec<String>,
    pub skills: Vec<String>,
    pub state: String,
    pub created_at: OffsetDateTime,
}

pub(crate) const OFFER_COLUMNS: &str = "o.id, o.owner_id, u.display_name, o.organization_id, o.categories, \
    o.description, o.latitude, o.longitude, o.area_code, o.area_name, o.radius_km, \
    o.availability, o.hours_per_week, o.capacity, o.active, o.languages, o.skills, o.state, \
    o.created_at";

pub(crate) fn offer_from_row(r: &sqlx::any::AnyRow) -> Result<OfferRow> {
    let id: String = r.get(0);
    let cats: Vec<Uuid> = parse_json("offer categories", &id, &r.get::<String, _>(4))?;
    Ok(OfferRow {
        id: OfferId(stored_id("id", id.clone())?),
        owner: UserId(stored_id("id", r.get(1))?),
        owner_name: r.get(2),
        organization: r
            .get::<Option<String>, _>(3)
            .map(|s| stored_id("id", s).map(OrganizationId))
            .transpose()?,
        categories: cats.into_iter().map(TaxonomyTermId).collect(),
        description: r.get(5),
        point: Coordinates::new(r.get(6), r.get(7)).map_err(|e| {
            StoreError::Invalid(trama_core::FieldError::new(format!("offer {id}"), e.reason))
        })?,
        area_code: r.get(8),
        area_name: r.get(9),
        radius_km: r.get(10),
        availability: parse_json("offer availability", &id, &r.get::<String, _>(11))?,
        hours_per_week: r.get(12),
        capacity: stored_int("offer capacity", r.get(13))?,
        active: stored_int("offer active", r.get(14))?,
        languages: parse_json("offer languages", &id, &r.get::<String, _>(15))?,
        skills: parse_json("offer skills", &id, &r.get::<String, _>(16))?,
        state: r.get(17),
        created_at: from_micros(r.get(18)),
    })
}

/// A stored match with the little of its need and offer that lists show.
#[derive(Debug, Clone)]
pub struct MatchRow {
    pub id: MatchId,
    pub need: NeedId,
    pub offer: OfferId,
    pub volunteer: UserId,
    pub volunteer_name: String,
    pub requester: UserId,
    pub state: MatchState,
    pub live: bool,
    pub score: u8,
    pub distance_km: f64,
    pub origin: String,
    pub next_at: Option<OffsetDateTime>,
    pub occurrences: u32,
    pub minutes_confirmed: u32,
    pub recurring: bool,
    pub duration_minutes: u16,
    pub category: TaxonomyTermId,
    pub area_name: String,
    pub created_at: OffsetDateTime,
    pub modified_at: OffsetDateTime,
}

const MATCH_COLUMNS: &str = "m.id, m.need_id, m.offer_id, m.volunteer_id, v.display_name, \
    n.requester_id, m.state, m.live, m.score, m.distance_km, m.origin, m.next_at, m.occurrences, \
    m.minutes_confirmed, n.recurring, n.duration_minutes, n.category_id, n.area_name, \
    m.created_at, m.modified_at";
const MATCH_FROM: &str =
    "matches m JOIN needs n ON n.id = m.need_id JOIN users v ON v.id = m.volunteer_id";

fn match_from_row(r: &sqlx::any::AnyRow) -> Result<MatchRow> {
    let uuid = |s: String| stored_id("match row id", s);
    Ok(MatchRow {
        id: MatchId(uuid(r.get(0))?),
        need: NeedId(uuid(r.get(1))?),
        offer: OfferId(uuid(r.get(2))?),
        volunteer: UserId(uuid(r.get(3))?),
        volunteer_name: r.get(4),
        requester: UserId(uuid(r.get(5))?),
        state: stored("match state", r.get(6))?,
        live: r.get::<i64, _>(7) != 0,
        score: r.get::<i64, _>(8).clamp(0, 100) as u8,
        distance_km: r.get(9),
        origin: r.get(10),
        next_at: r.get::<Option<i64>, _>(11).map(from_micros),
        occurrences: stored_int("match occurrences", r.get(12))?,
        minutes_confirmed: stored_int("match minutes", r.get(13))?,
        recurring: r.get::<i64, _>(14) != 0,
        duration_minutes: stored_int("match duration", r.get(15))?,
        category: TaxonomyTermId(uuid(r.get(16))?),
        area_name: r.get(17),
        created_at: from_micros(r.get(18)),
        modified_at: from_micros(r.get(19)),
    })
}

/// A new match between a need and an offer.
#[derive(Debug, Clone)]
pub struct NewMatch {
    pub need: NeedId,
    pub offer: OfferId,
    /// `proposed` (engine or batch), `accepted_by_volunteer` (a volunteer took the need) or
    /// `accepted_by_requester` (the person chose this volunteer).
    pub state: MatchState,
    pub score: u8,
    pub distance_km: f64,
    pub origin: String,
    pub actor: Option<UserId>,
    pub on_behalf_of: Option<UserId>,
    /// For a volunteer taking a need: how many needs they may have taken and still waiting
    /// for the person's side; checked in the transaction, after the volunteer's own row is
    /// locked, so parallel takes cannot pass it. A volunteer also answers one need at most
    /// twice (no flood of notices to one person).
    pub waiting_limit: Option<u32>,
}

/// One change applied to a match.
#[derive(Debug, Clone)]
pub struct MatchChange {
    pub event: MatchEvent,
    pub actor: UserId,
    pub on_behalf_of: Option<UserId>,
    /// For `schedule`: when.
    pub next_at: Option<OffsetDateTime>,
    /// For the confirming `done`: the minutes given (default: the need's duration).
    pub minutes: Option<u32>,
    pub note: Option<String>,
    /// The territory's name, the scope of contribution events.
    pub scope: String,
}

/// What a change did, for notifications.
#[derive(Debug, Clone)]
pub struct MatchOutcome {
    pub before: MatchState,
    pub after: MatchState,
    pub row: MatchRow,
    pub contributions: Vec<ContributionEvent>,
}

/// A line of the history of a match.
#[derive(Debug, Clone)]
pub struct MatchEventRow {
    pub at: OffsetDateTime,
    pub actor: Option<UserId>,
    pub actor_name: Option<String>,
    pub on_behalf_of: Option<UserId>,
    pub event: String,
    pub from_state: String,
    pub to_state: String,
    pub note: Option<String>,
}

/// Open needs counted by public area.
/// The centre of a coarse cell from its public code (`cell:{i}:{j}`, see
/// `trama_core::needs::public_area`).
fn cell_centre(code: &str) -> Option<(f64, f64)> {
    let mut parts = code.strip_prefix("cell:")?.split(':');
    let i: i64 = parts.next()?.parse().ok()?;
    let j: i64 = parts.next()?.parse().ok()?;
    let step = trama_core::geo::COARSE_CELL_DEG;
    Some(((i as f64 + 0.5) * step, (j as f64 + 0.5) * step))
}

#[derive(Debug, Clone, PartialEq)]
pub struct AreaCount {
    pub kind: String,
    pub code: String,
    pub name: String,
    pub open: i64,
    pub urgent: i64,
    /// Where to draw the area's marker: the area's own centre (a cell's centre, an imported
    /// area's centroid), never computed from the needs' points; only for areas with at least
    /// [`AREA_MIN_COUNT_FOR_MARKER`] needs, and none for an area without a known centre.
    pub center: Option<(f64, f64)>,
}

/// Below this many needs an area has no marker on the map, only a row in the table.
pub const AREA_MIN_COUNT_FOR_MARKER: i64 = 3;

async fn term_exists(conn: &mut sqlx::AnyConnection, id: TaxonomyTermId) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM taxonomy_terms WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

/// Writes a new need in `conn`'s transaction, checking its category and campaign.
async fn insert_need(
    conn: &mut sqlx::AnyConnection,
    id: NeedId,
    rec: &NeedRecord,
    now: i64,
) -> Result<()> {
    let n = &rec.need;
    if !term_exists(&mut *conn, n.category).await? {
        return Err(reference("category", "no such category"));
    }
    if let Some(c) = n.campaign {
        let open = sqlx::query("SELECT state FROM campaigns WHERE id = $1")
            .bind(c.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        match open.map(|r| r.get::<String, _>(0)) {
            None => return Err(reference("campaign_id", "no such campaign")),
            Some(s) if s != "open" => {
                return Err(conflict("campaign_id", "the campaign is closed"));
            }
            _ => {}
        }
    }
    let q = sqlx::query(
        "INSERT INTO needs (id, requester_id, entered_by, organization_id, category_id, \
         description, address, latitude, longitude, area_kind, area_code, area_name, municipio, \
         windows, recurring, on_day, until_day, duration_minutes, urgency, languages, skills, \
         people, covered, state, campaign_id, created_at, modified_at) VALUES ($1, $2, $3, $4, \
         $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, 0, \
         'open', $23, $24, $24)",
    )
    .bind(id.to_string())
    .bind(rec.requester.to_string())
    .bind(rec.entered_by.to_string())
    .bind(rec.organization.map(|o| o.to_string()));
    bind_need_fields(q, rec)
        .bind(n.campaign.map(|c| c.to_string()))
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d)
                if d.message().contains("FOREIGN KEY") || d.message().contains("foreign key") =>
            {
                reference("on_behalf_of", "no such person")
            }
            _ => e.into(),
        })?;
    Ok(())
}

/// Writes a new offer and its categories (whose existence it checks) in `conn`'s transaction.
async fn insert_offer(
    conn: &mut sqlx::AnyConnection,
    id: OfferId,
    owner: UserId,
    o: &NewOffer,
    area: &PublicArea,
    now: i64,
) -> Result<()> {
    for (i, c) in o.categories.iter().enumerate() {
        if !term_exists(&mut *conn, *c).await? {
            return Err(reference(&format!("categories[{i}]"), "no such category"));
        }
    }
    sqlx::query(
        "INSERT INTO offers (id, owner_id, organization_id, categories, description, latitude, \
         longitude, area_code, area_name, radius_km, availability, hours_per_week, capacity, \
         active, languages, skills, state, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, \
         $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15, 'active', $16, $16)",
    )
    .bind(id.to_string())
    .bind(owner.to_string())
    .bind(o.organization.map(|x| x.to_string()))
    .bind(json(&o.categories))
    .bind(o.description.clone())
    .bind(o.point.lat())
    .bind(o.point.lon())
    .bind(area.code.clone())
    .bind(area.name.clone())
    .bind(o.radius_km)
    .bind(json(&o.availability))
    .bind(o.hours_per_week)
    .bind(o.capacity as i64)
    .bind(json(&o.languages))
    .bind(json(&o.skills))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for c in &o.categories {
        sqlx::query("INSERT INTO offer_categories (offer_id, category_id) VALUES ($1, $2)")
            .bind(id.to_string())
            .bind(c.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

impl Store {
    pub async fn create_need(&self, rec: &NeedRecord) -> Result<NeedId> {
        let id = NeedId::new();
        let now = to_micros(self.now());
        let mut tx = self.write.begin().await?;
        insert_need(&mut tx, id, rec, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Many needs at once (moved from another system, a benchmark), each checked as one need
    /// is, in transactions of a thousand.
    pub async fn create_needs(&self, needs: &[NeedRecord]) -> Result<Vec<NeedId>> {
        let now = to_micros(self.now());
        let mut ids = Vec::with_capacity(needs.len());
        for chunk in needs.chunks(1000) {
            let mut tx = self.write.begin().await?;
            for rec in chunk {
                let id = NeedId::new();
                insert_need(&mut tx, id, rec, now).await?;
                ids.push(id);
            }
            tx.commit().await?;
        }
        Ok(ids)
    }

    /// Rewrites a need (its requester, who entered it, its organisation and campaign stay).
    /// Refused as a conflict when it is no longer open or someone took it meanwhile: both
    /// checked in the statement that writes.
    pub async fn update_need(&self, id: NeedId, rec: &NeedRecord) -> Result<()> {
        let now = to_micros(self.now());
        let n = &rec.need;
        let mut tx = self.write.begin().await?;
        if !term_exists(&mut tx, n.category).await? {
            return Err(reference("category", "no such category"));
        }
        let q = sqlx::query(
            "UPDATE needs SET category_id = $1, description = $2, address = $3, latitude = $4, \
             longitude = $5, area_kind = $6, area_code = $7, area_name = $8, municipio = $9, \
             windows = $10, recurring = $11, on_day = $12, until_day = $13, \
             duration_minutes = $14, urgency = $15, languages = $16, skills = $17, people = $18, \
             modified_at = $19 WHERE id = $20 AND state = 'open' AND covered = 0",
        );
        let changed = bind_need_fields(q, rec)
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed != 1 {
            return Err(conflict(
                "need",
                "the need is no longer open, or someone took it meanwhile",
            ));
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn need(&self, id: NeedId) -> Result<Option<NeedRow>> {
        let sql = format!("SELECT {NEED_COLUMNS} FROM {NEED_FROM} WHERE n.id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .one(&self.read, need_from_row)
            .await
    }

    pub async fn needs(&self, f: &NeedFilter) -> Result<Vec<NeedRow>> {
        let mut sql = Sql::new("SELECT ");
        sql.push(NEED_COLUMNS)
            .push(" FROM ")
            .push(NEED_FROM)
            .push(" WHERE 1 = 1");
        if let Some(r) = f.requester {
            sql.push(" AND n.requester_id = ")
                .bind(Val::Text(r.to_string()));
        }
        if let Some(orgs) = &f.organizations {
            if orgs.is_empty() {
                sql.push(" AND 1 = 0");
            } else {
                sql.push(" AND n.organization_id IN (");
                for (i, o) in orgs.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.bind(Val::Text(o.to_string()));
                }
                sql.push(")");
            }
        }
        if let Some(s) = f.state {
            sql.push(" AND n.state = ")
                .bind(Val::Text(s.as_str().into()));
        }
        if let Some(c) = f.campaign {
            sql.push(" AND n.campaign_id = ")
                .bind(Val::Text(c.to_string()));
        }
        if let Some(a) = &f.area_code {
            sql.push(" AND n.area_code = ").bind(Val::Text(a.clone()));
        }
        if let Some(c) = f.category {
            sql.push(" AND n.category_id = ")
                .bind(Val::Text(c.to_string()));
        }
        sql.push(" ORDER BY n.created_at DESC, n.id LIMIT ")
            .bind(Val::I64(if f.limit > 0 { f.limit } else { 200 }));
        sql.build().rows(&self.read, need_from_row).await
    }

    /// Who is involved in a need, for [`trama_core::needs::need_access`].
    pub async fn need_parties(&self, need: &NeedRow) -> Result<NeedParties> {
        let rows =
            sqlx::query("SELECT volunteer_id, state FROM matches WHERE need_id = $1 AND live = 1")
                .bind(need.id.to_string())
                .fetch_all(&self.read)
                .await?;
        let mut agreed = Vec::new();
        let mut pending = Vec::new();
        for r in rows {
            let v = UserId(stored_id("match volunteer id", r.get(0))?);
            let s: MatchState = stored("match state", r.get(1))?;
            if s.is_agreed() {
                agreed.push(v);
            } else {
                pending.push(v);
            }
        }
        Ok(NeedParties {
            requester: need.requester,
            entered_by: need.entered_by,
            organization: need.organization,
            agreed_volunteers: agreed,
            pending_volunteers: pending,
        })
    }

    /// Moves a need from one state to another, if it is still in `from`.
    pub async fn set_need_state(&self, id: NeedId, from: NeedState, to: NeedState) -> Result<bool> {
        let now = to_micros(self.now());
        Ok(sqlx::query(
            "UPDATE needs SET state = $1, modified_at = $2 WHERE id = $3 AND state = $4",
        )
        .bind(to.as_str())
        .bind(now)
        .bind(id.to_string())
        .bind(from.as_str())
        .execute(&self.write)
        .await?
        .rows_affected()
            == 1)
    }

    /// Open needs by public area (never points).
    pub async fn open_needs_by_area(&self, campaign: Option<CampaignId>) -> Result<Vec<AreaCount>> {
        let mut sql = Sql::new(
            "SELECT area_kind, area_code, area_name, COUNT(*), \
             SUM(CASE WHEN urgency IN ('high', 'critical') THEN 1 ELSE 0 END) \
             FROM needs WHERE state = 'open'",
        );
        if let Some(c) = campaign {
            sql.push(" AND campaign_id = ")
                .bind(Val::Text(c.to_string()));
        }
        sql.push(" GROUP BY area_kind, area_code, area_name ORDER BY COUNT(*) DESC, area_code");
        let rows = sql.build().fetch_all(&self.read).await?;
        // Where to draw an area's marker: the area's own centre (a cell's centre, an imported
        // area's centroid), never anything computed from the needs' points: an average of
        // points, however rounded, gives a point away to whoever can add points of their own.
        let mut centroids: std::collections::HashMap<(String, String), Coordinates> =
            Default::default();
        let kinds: std::collections::BTreeSet<String> =
            rows.iter().map(|r| r.get::<String, _>(0)).collect();
        for kind in kinds.iter().filter(|k| k.as_str() != "cell") {
            for a in self.areas(kind).await? {
                if let Some(c) = a.centroid {
                    centroids.insert((a.kind, a.code), c);
                }
            }
        }
        Ok(rows
            .iter()
            .map(|r| {
                let open: i64 = r.get(3);
                let (kind, code): (String, String) = (r.get(0), r.get(1));
                let center = if open < AREA_MIN_COUNT_FOR_MARKER {
                    None
                } else if kind == "cell" {
                    cell_centre(&code)
                } else {
                    centroids
                        .get(&(kind.clone(), code.clone()))
                        .map(|c| (c.lat(), c.lon()))
                };
                AreaCount {
                    kind,
                    code,
                    name: r.get(2),
                    open,
                    urgent: r.get::<Option<i64>, _>(4).unwrap_or(0),
                    center,
                }
            })
            .collect())
    }

    pub async fn create_offer(
        &self,
        owner: UserId,
        o: &NewOffer,
        area: &PublicArea,
    ) -> Result<OfferId> {
        let id = OfferId::new();
        let now = to_micros(self.now());
        let mut tx = self.write.begin().await?;
        insert_offer(&mut tx, id, owner, o, area, now).await?;
        record_offer_change(&mut tx, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Many offers at once (a territory's help moved from another system, a benchmark), each
    /// checked as one offer is, in transactions of a thousand: all of a thousand or none.
    pub async fn create_offers(
        &self,
        offers: &[(UserId, NewOffer, PublicArea)],
    ) -> Result<Vec<OfferId>> {
        let now = to_micros(self.now());
        let mut ids = Vec::with_capacity(offers.len());
        for chunk in offers.chunks(1000) {
            let mut tx = self.write.begin().await?;
            for (owner, o, area) in chunk {
                let id = OfferId::new();
                insert_offer(&mut tx, id, *owner, o, area, now).await?;
                ids.push(id);
            }
            record_offer_change(&mut tx, None).await?;
            tx.commit().await?;
        }
        Ok(ids)
    }

    /// Rewrites an offer (its owner and organisation stay). Refused as a conflict when the
    /// offer was withdrawn meanwhile, or when more people now count on it than `o.capacity`
    /// places: both checked in the same statement that writes.
    pub async fn update_offer(&self, id: OfferId, o: &NewOffer, area: &PublicArea) -> Result<()> {
        let now = to_micros(self.now());
        let mut tx = self.write.begin().await?;
        for (i, c) in o.categories.iter().enumerate() {
            if !term_exists(&mut tx, *c).await? {
                return Err(reference(&format!("categories[{i}]"), "no such category"));
            }
        }
        let changed = sqlx::query(
            "UPDATE offers SET categories = $1, description = $2, latitude = $3, longitude = $4, \
             area_code = $5, area_name = $6, radius_km = $7, availability = $8, \
             hours_per_week = $9, capacity = $10, languages = $11, skills = $12, \
             modified_at = $13 WHERE id = $14 AND state <> 'withdrawn' AND active <= $10",
        )
        .bind(json(&o.categories))
        .bind(o.description.clone())
        .bind(o.point.lat())
        .bind(o.point.lon())
        .bind(area.code.clone())
        .bind(area.name.clone())
        .bind(o.radius_km)
        .bind(json(&o.availability))
        .bind(o.hours_per_week)
        .bind(o.capacity as i64)
        .bind(json(&o.languages))
        .bind(json(&o.skills))
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed != 1 {
            return Err(conflict(
                "offer",
                "the offer was withdrawn, or more people count on it than its places",
            ));
        }
        sqlx::query("DELETE FROM offer_categories WHERE offer_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        for c in &o.categories {
            sqlx::query("INSERT INTO offer_categories (offer_id, category_id) VALUES ($1, $2)")
                .bind(id.to_string())
                .bind(c.to_string())
                .execute(&mut *tx)
                .await?;
        }
        record_offer_change(&mut tx, Some(id)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn offer(&self, id: OfferId) -> Result<Option<OfferRow>> {
        let sql = format!(
            "SELECT {OFFER_COLUMNS} FROM offers o JOIN users u ON u.id = o.owner_id WHERE o.id = $1"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .one(&self.read, offer_from_row)
            .await
    }

    /// Moves an offer from `from` to `to`; false when it was no longer `from`.
    pub async fn set_offer_state(
        &self,
        id: OfferId,
        from: trama_core::matching::lifecycle::OfferState,
        to: trama_core::matching::lifecycle::OfferState,
    ) -> Result<bool> {
        let now = to_micros(self.now());
        let mut tx = self.write.begin().await?;
        let moved = sqlx::query(
            "UPDATE offers SET state = $1, modified_at = $2 WHERE id = $3 AND state = $4",
        )
        .bind(to.as_str())
        .bind(now)
        .bind(id.to_string())
        .bind(from.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if moved {
            record_offer_change(&mut tx, Some(id)).await?;
        }
        tx.commit().await?;
        Ok(moved)
    }

    pub async fn offers_of(&self, owner: UserId) -> Result<Vec<OfferRow>> {
        let sql = format!(
            "SELECT {OFFER_COLUMNS} FROM offers o JOIN users u ON u.id = o.owner_id \
             WHERE o.owner_id = $1 ORDER BY o.created_at DESC"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner.to_string())
            .rows(&self.read, offer_from_row)
            .await
    }

    /// Reads the in-memory offer index, brought up to date first: every offer that can be
    /// suggested, what changed since a version, one offer (`offer_cache::OfferIndex`).
    pub async fn with_offer_index<R>(
        &self,
        f: impl FnOnce(&crate::offer_cache::OfferIndex) -> R,
    ) -> Result<R> {
        self.offer_index.refresh(&self.read).await?;
        Ok(self.offer_index.read(f))
    }

    /// Builds (or brings up to date) the in-memory offer index now, rather than at the first
    /// suggestion; how many offers it holds.
    pub async fn warm_offer_index(&self) -> Result<usize> {
        self.offer_index.refresh(&self.read).await?;
        Ok(self.offer_index.read(|i| i.len()))
    }

    /// Every active offer with room left (for batch assignment).
    pub async fn offers_with_room(&self) -> Result<Vec<OfferRow>> {
        let sql = format!(
            "SELECT {OFFER_COLUMNS} FROM offers o JOIN users u ON u.id = o.owner_id \
             WHERE o.state = 'active' AND o.active < o.capacity ORDER BY o.id"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .rows(&self.read, offer_from_row)
            .await
    }

    /// Open needs of these categories whose point lies within the box.
    pub async fn open_needs_near(
        &self,
        categories: &[TaxonomyTermId],
        bbox: &trama_core::geo::BoundingBox,
    ) -> Result<Vec<NeedRow>> {
        if categories.is_empty() {
            return Ok(vec![]);
        }
        let mut sql = Sql::new("SELECT ");
        sql.push(NEED_COLUMNS)
            .push(" FROM ")
            .push(NEED_FROM)
            .push(" WHERE n.state = 'open' AND n.covered < n.people AND n.category_id IN (");
        for (i, c) in categories.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(Val::Text(c.to_string()));
        }
        sql.push(") AND n.latitude BETWEEN ")
            .bind(Val::F64(bbox.min_lat))
            .push(" AND ")
            .bind(Val::F64(bbox.max_lat))
            .push(" AND n.longitude BETWEEN ")
            .bind(Val::F64(bbox.min_lon))
            .push(" AND ")
            .bind(Val::F64(bbox.max_lon));
        sql.build().rows(&self.read, need_from_row).await
    }

    /// Offers that helped this person before (confirmed at least once), for continuity.
    pub async fn previous_offers_of(&self, requester: UserId) -> Result<Vec<OfferId>> {
        let rows = sqlx::query(
            "SELECT DISTINCT m.offer_id FROM matches m JOIN needs n ON n.id = m.need_id \
             WHERE n.requester_id = $1 AND m.occurrences > 0",
        )
        .bind(requester.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| stored_id("offer id", r.get(0)).map(OfferId))
            .collect()
    }

    /// Creates a match, taking a place in the need and in the offer in one transaction. A need
    /// with no place left is a conflict on `need`; an offer with no room, on `offer`.
    pub async fn create_match(&self, m: &NewMatch) -> Result<MatchRow> {
        let id = MatchId::new();
        let now = to_micros(self.now());
        let mut tx = self.write.begin().await?;
        if let Some(limit) = m.waiting_limit {
            // The volunteer's row, locked: their takes are counted one after the other.
            let owner: Option<String> = sqlx::query("SELECT owner_id FROM offers WHERE id = $1")
                .bind(m.offer.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.get(0));
            let Some(owner) = owner else {
                return Err(conflict("offer", "no such offer"));
            };
            sqlx::query("UPDATE users SET locale = locale WHERE id = $1")
                .bind(&owner)
                .execute(&mut *tx)
                .await?;
            let waiting: i64 = sqlx::query(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM matches \
                 WHERE volunteer_id = $1 AND live = 1 AND state = 'accepted_by_volunteer'",
            )
            .bind(&owner)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
            if waiting >= limit as i64 {
                return Err(conflict(
                    "need",
                    &format!(
                        "you have taken {waiting} requests that wait for the person's answer; take another once one is confirmed or declined"
                    ),
                ));
            }
            let answered: i64 = sqlx::query(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM matches WHERE volunteer_id = $1 AND need_id = $2",
            )
            .bind(&owner)
            .bind(m.need.to_string())
            .fetch_one(&mut *tx)
            .await?
            .get(0);
            if answered >= 2 {
                return Err(conflict(
                    "need",
                    "you have already answered this request twice",
                ));
            }
        }
        let took = sqlx::query(
            "UPDATE needs SET covered = covered + 1, modified_at = $1 \
             WHERE id = $2 AND state = 'open' AND covered < people",
        )
        .bind(now)
        .bind(m.need.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if took != 1 {
            return Err(conflict(
                "need",
                "this need has all the helpers it asked for, or is no longer open",
            ));
        }
        let room = sqlx::query(
            "UPDATE offers SET active = active + 1, modified_at = $1 \
             WHERE id = $2 AND state = 'active' AND active < capacity",
        )
        .bind(now)
        .bind(m.offer.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if room != 1 {
            return Err(conflict(
                "offer",
                "this offer has no room left or is not active",
            ));
        }
        record_offer_change(&mut tx, Some(m.offer)).await?;
        let volunteer: String = sqlx::query("SELECT owner_id FROM offers WHERE id = $1")
            .bind(m.offer.to_string())
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        let inserted = sqlx::query(
            "INSERT INTO matches (id, need_id, offer_id, volunteer_id, state, live, live_pair, score, \
             distance_km, origin, occurrences, minutes_confirmed, created_at, modified_at) VALUES \
             ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, 0, 0, $10, $10)",
        )
        .bind(id.to_string())
        .bind(m.need.to_string())
        .bind(m.offer.to_string())
        .bind(volunteer)
        .bind(m.state.as_str())
        .bind(format!("{}/{}", m.need, m.offer))
        .bind(m.score as i64)
        .bind(m.distance_km)
        .bind(m.origin.clone())
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(d)) if d.message().to_lowercase().contains("unique") => {
                return Err(conflict(
                    "offer",
                    "this offer is already matched with this need",
                ));
            }
            Err(e) => return Err(e.into()),
        }
        // The need is matched once every place is taken.
        sqlx::query(
            "UPDATE needs SET state = 'matched' WHERE id = $1 AND state = 'open' AND covered >= people",
        )
        .bind(m.need.to_string())
        .execute(&mut *tx)
        .await?;
        insert_match_event(
            &mut tx,
            id,
            m.actor,
            m.on_behalf_of,
            "create",
            "none",
            m.state.as_str(),
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        self.match_row(id)
            .await?
            .ok_or_else(|| reference("match", "vanished after insert"))
    }

    pub async fn match_row(&self, id: MatchId) -> Result<Option<MatchRow>> {
        let sql = format!("SELECT {MATCH_COLUMNS} FROM {MATCH_FROM} WHERE m.id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .one(&self.read, match_from_row)
            .await
    }

    /// Matches of a need.
    pub async fn matches_of_need(&self, need: NeedId) -> Result<Vec<MatchRow>> {
        let sql = format!(
            "SELECT {MATCH_COLUMNS} FROM {MATCH_FROM} WHERE m.need_id = $1 ORDER BY m.created_at"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(need.to_string())
            .rows(&self.read, match_from_row)
            .await
    }

    /// Matches where the person is the volunteer or the requester, newest first.
    pub async fn matches_of_person(
        &self,
        person: UserId,
        live_only: bool,
    ) -> Result<Vec<MatchRow>> {
        let sql = format!(
            "SELECT {MATCH_COLUMNS} FROM {MATCH_FROM} WHERE (m.volunteer_id = $1 OR n.requester_id = $1) {} \
             ORDER BY COALESCE(m.next_at, m.modified_at) DESC LIMIT 500",
            if live_only { "AND m.live = 1" } else { "" }
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(person.to_string())
            .rows(&self.read, match_from_row)
            .await
    }

    pub async fn match_history(&self, id: MatchId) -> Result<Vec<MatchEventRow>> {
        let rows = sqlx::query(
            "SELECT e.at, e.actor_id, u.display_name, e.on_behalf_of, e.event, e.from_state, \
             e.to_state, e.note FROM match_events e LEFT JOIN users u ON u.id = e.actor_id \
             WHERE e.match_id = $1 ORDER BY e.at, e.id",
        )
        .bind(id.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MatchEventRow {
                    at: from_micros(r.get(0)),
                    actor: stored_opt_id("match event actor", r.get(1))?.map(UserId),
                    actor_name: r.get(2),
                    on_behalf_of: stored_opt_id("match event on behalf of", r.get(3))?.map(UserId),
                    event: r.get(4),
                    from_state: r.get(5),
                    to_state: r.get(6),
                    note: r.get(7),
                })
            })
            .collect()
    }

    /// Applies one event to a match under the lifecycle's rules. A match changed by someone else
    /// in the meantime is a conflict, never a lost update.
    pub async fn apply_match_event(
        &self,
        id: MatchId,
        change: &MatchChange,
    ) -> Result<MatchOutcome> {
        let now_t = self.now();
        let now = to_micros(now_t);
        let row = self
            .match_row(id)
            .await?
            .ok_or_else(|| reference("match", "no such match"))?;
        let before = row.state;
        let after = before.apply(change.event, row.recurring).map_err(|e| {
            StoreError::Invalid(trama_core::FieldError::new("event", e.to_string()))
        })?;
        trama_core::matching::lifecycle::check_timing(change.event, row.next_at, now_t).map_err(
            |e| StoreError::Invalid(trama_core::FieldError::new("event", e.to_string())),
        )?;
        let mut tx = self.write.begin().await?;
        let mut sql = Sql::new("UPDATE matches SET state = ");
        sql.bind(Val::Text(after.as_str().into()))
            .push(", modified_at = ")
            .bind(Val::I64(now));
        if change.event == MatchEvent::Schedule {
            let at = change.next_at.ok_or_else(|| {
                StoreError::Invalid(trama_core::FieldError::new(
                    "next_at",
                    "scheduling needs a date and time",
                ))
            })?;
            sql.push(", next_at = ").bind(Val::I64(to_micros(at)));
        }
        let mut contributions = Vec::new();
        let confirmed = after == MatchState::Confirmed;
        if confirmed {
            let minutes = change.minutes.unwrap_or(row.duration_minutes as u32);
            let effort = EffortMinutes::new("minutes", minutes)?;
            sql.push(", occurrences = occurrences + 1, minutes_confirmed = minutes_confirmed + ")
                .bind(Val::I64(minutes as i64));
            let code: Option<String> = sqlx::query("SELECT code FROM taxonomy_terms WHERE id = $1")
                .bind(row.category.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .and_then(|r| r.get(0));
            contributions = ContributionEvent::pair_for_completion(
                row.id.as_uuid(),
                Agent::Person(row.volunteer.as_uuid()),
                Agent::Person(row.requester.as_uuid()),
                code.as_deref().unwrap_or(&row.category.to_string()),
                effort,
                now_t,
                &change.scope,
            )
            .to_vec();
        }
        // Leaving the live states frees the places: ended without help, or a one-off confirmed.
        let frees = row.live && (after.reopens_need() || (confirmed && !row.recurring));
        if frees {
            sql.push(", live = 0, live_pair = NULL");
        }
        sql.push(" WHERE id = ")
            .bind(Val::Text(id.to_string()))
            .push(" AND state = ")
            .bind(Val::Text(before.as_str().into()));
        if sql.build().execute(&mut *tx).await?.rows_affected() != 1 {
            return Err(conflict(
                "match",
                "the match changed meanwhile; reload and try again",
            ));
        }
        if frees {
            sqlx::query("UPDATE offers SET active = active - 1, modified_at = $1 WHERE id = $2 AND active > 0")
                .bind(now)
                .bind(row.offer.to_string())
                .execute(&mut *tx)
                .await?;
            record_offer_change(&mut tx, Some(row.offer)).await?;
            if after.reopens_need() {
                sqlx::query(
                    "UPDATE needs SET covered = covered - 1, state = CASE WHEN state = 'matched' \
                     THEN 'open' ELSE state END, modified_at = $1 WHERE id = $2 AND covered > 0",
                )
                .bind(now)
                .bind(row.need.to_string())
                .execute(&mut *tx)
                .await?;
            } else {
                // A one-off need whose help was confirmed is fulfilled.
                sqlx::query(
                    "UPDATE needs SET state = 'fulfilled', modified_at = $1 WHERE id = $2 AND state = 'matched'",
                )
                .bind(now)
                .bind(row.need.to_string())
                .execute(&mut *tx)
                .await?;
            }
        }
        for ev in &contributions {
            sqlx::query(
                "INSERT INTO contribution_events (id, match_id, action, provider_id, receiver_id, \
                 category_id, effort_minutes, at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(ev.id.to_string())
            .bind(row.id.to_string())
            .bind(ev.action.as_str())
            .bind(row.volunteer.to_string())
            .bind(row.requester.to_string())
            .bind(row.category.to_string())
            .bind(ev.effort.map(|e| e.minutes() as i64))
            .bind(now)
            .bind(ev.to_valueflows().to_string())
            .execute(&mut *tx)
            .await?;
        }
        insert_match_event(
            &mut tx,
            id,
            Some(change.actor),
            change.on_behalf_of,
            &format!("{:?}", change.event).to_lowercase(),
            before.as_str(),
            after.as_str(),
            change.note.as_deref(),
            now,
        )
        .await?;
        tx.commit().await?;
        let row = self
            .match_row(id)
            .await?
            .ok_or_else(|| reference("match", "vanished"))?;
        Ok(MatchOutcome {
            before,
            after,
            row,
            contributions,
        })
    }

    /// Ends proposals nobody answered within `older_than`; their needs re-open.
    pub async fn expire_stale_proposals(&self, older_than: time::Duration) -> Result<usize> {
        let cutoff = to_micros(self.now() - older_than);
        let rows = sqlx::query(
            "SELECT id FROM matches WHERE live = 1 AND state IN ('proposed', \
             'accepted_by_requester', 'accepted_by_volunteer') AND modified_at < $1",
        )
        .bind(cutoff)
        .fetch_all(&self.read)
        .await?;
        let mut n = 0;
        for r in rows {
            let id = MatchId(stored_id("match id", r.get(0))?);
            let change = MatchChange {
                event: MatchEvent::Expire,
                actor: UserId(Uuid::nil()),
                on_behalf_of: None,
                next_at: None,
                minutes: None,
                note: Some("no answer in time".into()),
                scope: String::new(),
            };
            if self.apply_match_event(id, &change).await.is_ok() {
                n += 1;
            }
        }
        Ok(n)
    }

    /// The contribution events where the person gave help, newest first.
    pub async fn contributions_of(&self, person: UserId) -> Result<Vec<serde_json::Value>> {
        let rows = sqlx::query(
            "SELECT doc FROM contribution_events WHERE provider_id = $1 ORDER BY at DESC, id LIMIT 1000",
        )
        .bind(person.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let s: String = r.get(0);
                parse_json("contribution event", "", &s)
            })
            .collect()
    }

    /// Total minutes a person has given (confirmed `work` events).
    pub async fn minutes_given(&self, person: UserId) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT CAST(COALESCE(SUM(effort_minutes), 0) AS BIGINT) FROM contribution_events \
             WHERE provider_id = $1 AND action = 'work'",
        )
        .bind(person.to_string())
        .fetch_one(&self.read)
        .await?
        .get::<i64, _>(0))
    }

    /// Contribution events not yet taken by the register, oldest first.
    pub async fn pending_contributions(
        &self,
        limit: i64,
    ) -> Result<Vec<(String, serde_json::Value)>> {
        let rows = sqlx::query(
            "SELECT id, doc FROM contribution_events WHERE appended_at IS NULL ORDER BY at, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.get(0);
                let doc: String = r.get(1);
                Ok((id.clone(), parse_json("contribution event", &id, &doc)?))
            })
            .collect()
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_match_event(
    tx: &mut sqlx::AnyConnection,
    id: MatchId,
    actor: Option<UserId>,
    on_behalf_of: Option<UserId>,
    event: &str,
    from: &str,
    to: &str,
    note: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO match_events (id, match_id, at, actor_id, on_behalf_of, event, from_state, \
         to_state, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(id.to_string())
    .bind(now)
    .bind(
        actor
            .filter(|a| !a.as_uuid().is_nil())
            .map(|a| a.to_string()),
    )
    .bind(on_behalf_of.map(|a| a.to_string()))
    .bind(event.to_string())
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(note.map(str::to_string))
    .execute(&mut *tx)
    .await?;
    Ok(())
}
