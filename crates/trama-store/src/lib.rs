//! `trama-store`: everything Trama keeps, on SQLite or PostgreSQL, from one codebase.
//!
//! The store speaks to both databases through sqlx's `Any` driver with portable SQL (`$1`
//! placeholders, `ON CONFLICT`, `RETURNING`, `WITH RECURSIVE`) and portable column types
//! (TEXT, BIGINT, DOUBLE PRECISION). Where the two databases must differ, [`Backend`] says which
//! one we are on. Nothing here knows about HTTP; nothing above this crate writes SQL.

// A corrupt row or a bad input is an error for its caller, never a panic of the server.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod accounts;
mod areas;
mod assisted;
mod budget_control;
mod budgets;
mod campaigns;
mod consent;
mod directory;
mod hubs;
mod needs;
mod notifications;
pub mod offer_cache;
mod places;
mod privacy;
mod register;
mod search_cache;
mod sql;

pub use accounts::{ApiTokenRow, AuditEntry, NewUser, SessionRow, Signup, UserRow};
pub use assisted::AssistedPerson;
pub use budgets::{
    AllocationRow, BudgetBookingRow, FunderRow, HelpReceived, Idempotency, NewAllocation,
    NewBudgetBooking, PlanRow, ProgrammeRow, ProviderBookingRow,
};
pub use campaigns::{CampaignCounts, CampaignRow, NewCampaign};
pub use consent::{ConsentRecord, ConsentRow, DelegationRow, GrantTerms};
pub use directory::{ImportProgress, SearchHit, SearchResult, ServiceDetail, TermRow};
pub use hubs::{BookingRow, HubRecord, HubRow, RoomRow};
pub use needs::{
    AREA_MIN_COUNT_FOR_MARKER, AreaCount, MatchChange, MatchEventRow, MatchOutcome, MatchRow,
    NeedFilter, NeedRecord, NeedRow, NewMatch, OfferRow, from_day, to_day,
};
pub use notifications::{NotificationRow, PendingEmail};
pub use places::PlaceRow;
pub use privacy::{ERASED_NAME, ErasureReport};
pub use register::{CheckpointRow, NewEntry, PendingContribution};
pub use sqlx::Error as SqlxError;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;
use time::OffsetDateTime;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("stored document {what} {id} is corrupt: {source}")]
    CorruptDocument {
        what: &'static str,
        id: String,
        source: serde_json::Error,
    },
    /// A stored id that is not one (a corrupt row): an error, never a silent nil id.
    #[error("stored {what} '{value}' is not an id")]
    CorruptId { what: &'static str, value: String },
    /// A reference to something that does not exist (an unknown organisation or location).
    #[error("{field}: {reason}")]
    Reference { field: String, reason: String },
    /// A uniqueness rule was broken (an e-mail already registered).
    #[error("{field}: {reason}")]
    Conflict { field: String, reason: String },
    /// Imported data that breaks a rule, with where it was found.
    #[error("{0}")]
    Invalid(#[from] trama_core::FieldError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A database URL with any password replaced, fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***@{}", &url[..s], &url[at + 1..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections for reads (PostgreSQL: all queries).
    pub max_connections: u32,
    /// How long a query waits for a connection or a lock before giving up.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The store. Cheap to clone (it holds connection pools).
///
/// On SQLite, writes go through a pool of one connection so they queue in the process rather
/// than fail on the database lock; reads use the other pool, concurrently (WAL mode). On
/// PostgreSQL both are the same pool.
#[derive(Clone, Debug)]
pub struct Store {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    cache: std::sync::Arc<search_cache::SearchCache>,
    /// The offers that can be suggested, in memory (`offer_cache`).
    offer_index: std::sync::Arc<offer_cache::OfferCache>,
    /// What time it is for every row written (`with_clock` in tests).
    clock: std::sync::Arc<dyn trama_core::clock::Clock>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The migrations this build carries: (version, SHA-384 checksum in hex). A shipped migration
/// never changes: a test compares these with the checksums recorded when each shipped.
pub fn migration_checksums() -> Vec<(i64, String)> {
    MIGRATOR
        .iter()
        .map(|m| {
            (
                m.version,
                m.checksum.iter().map(|b| format!("{b:02x}")).collect(),
            )
        })
        .collect()
}

impl Store {
    /// Connects to `url` (`sqlite://PATH` creates the file when missing; `postgres://...`).
    /// Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str, opts: &StoreOptions) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_string(),
        };
        let conn_opts = AnyConnectOptions::from_str(&url)?;
        let pool = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(opts.acquire_timeout)
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            // WAL lets readers go on while one writer commits; synchronous=FULL
                            // makes every acknowledged commit durable across a power cut.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                                 PRAGMA cache_size = -32000;",
                            )
                            .await?;
                        }
                        Ok(())
                    })
                })
        };
        let (read, write) = match backend {
            Backend::Sqlite => {
                let write = pool(1).connect_with(conn_opts.clone()).await?;
                let read = pool(opts.max_connections.max(1))
                    .connect_with(conn_opts)
                    .await?;
                (read, write)
            }
            Backend::Postgres => {
                let p = pool(opts.max_connections.max(2))
                    .connect_with(conn_opts)
                    .await?;
                (p.clone(), p)
            }
        };
        Ok(Self {
            read,
            write,
            backend,
            cache: Default::default(),
            offer_index: Default::default(),
            clock: trama_core::clock::system(),
        })
    }

    /// The same store telling time by `clock` (a test sets the time instead of sleeping).
    pub fn with_clock(mut self, clock: std::sync::Arc<dyn trama_core::clock::Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The clock the store tells time by (the server asks the same one).
    pub fn clock(&self) -> std::sync::Arc<dyn trama_core::clock::Clock> {
        self.clock.clone()
    }

    /// What time it is now, by the store's clock.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Brings the schema up to date (forward-only migrations, the same files on both databases).
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.write).await?;
        self.fill_booking_needs().await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Refreshes the query planner's statistics (after a large import or the demo's load).
    pub async fn optimize(&self) -> Result<()> {
        let sql = match self.backend {
            Backend::Sqlite => "ANALYZE",
            Backend::Postgres => "ANALYZE",
        };
        sqlx::query(sql).execute(&self.write).await?;
        Ok(())
    }

    /// Forgets the in-memory indexes' change logs (`directory_changes`, `offer_changes`)
    /// older than the last `keep` versions, so they do not grow for ever. In the same
    /// transaction a `*` row takes their place at the last version forgotten: an index that
    /// was still behind it reloads in full instead of missing a change. Returns the rows
    /// removed.
    pub async fn prune_change_logs(&self, keep: i64) -> Result<u64> {
        use sqlx::Row;
        let mut removed = 0;
        for (log, versions, id) in [
            ("directory_changes", "directory_version", "service_id"),
            ("offer_changes", "offers_version", "offer_id"),
        ] {
            let mut tx = self.write.begin().await?;
            let current: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT version FROM {versions} WHERE id = 1"
            )))
            .fetch_one(&mut *tx)
            .await?
            .get(0);
            let through = current - keep.max(1);
            if through <= 0 {
                continue;
            }
            removed += sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {log} WHERE version <= $1 AND {id} <> '*'"
            )))
            .bind(through)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {log} WHERE version < $1 AND {id} = '*'"
            )))
            .bind(through)
            .execute(&mut *tx)
            .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO {log} (version, {id}) VALUES ($1, '*') ON CONFLICT DO NOTHING"
            )))
            .bind(through)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Ok(removed)
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// Reads a node setting.
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        use sqlx::Row;
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// Writes a node setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.write)
        .await?;
        Ok(())
    }
}

/// A list or small value as the JSON text a column keeps.
pub(crate) fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

/// Reads back a JSON column; a value that does not parse is a corrupt row, named.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    id: &str,
    s: &str,
) -> Result<T> {
    serde_json::from_str(s).map_err(|source| StoreError::CorruptDocument {
        what,
        id: id.to_string(),
        source,
    })
}

/// Microseconds since 1970 UTC, the stored form of every time.
/// A reference to something that does not exist (a 422 `invalid_reference` above).
/// A stored id, read back: a corrupt one is an error naming what it was.
pub(crate) fn stored_id(what: &'static str, s: String) -> Result<uuid::Uuid> {
    s.parse()
        .map_err(|_| StoreError::CorruptId { what, value: s })
}

/// A stored value of a closed set (a state, an urgency, a role): a corrupt one is an error.
pub(crate) fn stored<T: std::str::FromStr>(what: &'static str, s: String) -> Result<T> {
    s.parse()
        .map_err(|_| StoreError::CorruptId { what, value: s })
}

/// A stored whole number read into a narrower type: a value that does not fit is a corrupt
/// row, never a wrapped number.
pub(crate) fn stored_int<T: TryFrom<i64>>(what: &'static str, v: i64) -> Result<T> {
    T::try_from(v).map_err(|_| StoreError::CorruptId {
        what,
        value: v.to_string(),
    })
}

/// An optional stored id: none, or an id (a corrupt one is an error, never "none").
pub(crate) fn stored_opt_id(what: &'static str, s: Option<String>) -> Result<Option<uuid::Uuid>> {
    s.map(|s| stored_id(what, s)).transpose()
}

pub(crate) fn reference(field: &str, reason: &str) -> StoreError {
    StoreError::Reference {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Maps a foreign-key violation of a write to [`reference`]; other errors pass through.
pub(crate) fn foreign_key_as(field: &str, reason: &str) -> impl FnOnce(sqlx::Error) -> StoreError {
    let (field, reason) = (field.to_string(), reason.to_string());
    move |e| match e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => reference(&field, &reason),
        e => e.into(),
    }
}

pub fn to_micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1000) as i64
}

pub fn from_micros(m: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(m as i128 * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl Store {
    /// Deletes everything Trama keeps except the schema (for `trama demo --reset`).
    pub async fn wipe(&self) -> Result<()> {
        let mut tx = self.write.begin().await?;
        for sql in [
            "DELETE FROM idempotency_keys",
            "DELETE FROM places",
            "DELETE FROM budget_plans",
            "DELETE FROM budget_followers",
            "DELETE FROM budget_postings",
            "DELETE FROM budget_billing_exceptions",
            "DELETE FROM budget_bookings",
            "DELETE FROM allocations",
            "DELETE FROM programmes",
            "DELETE FROM funders",
            "DELETE FROM register_agents",
            "DELETE FROM register_checkpoints",
            "DELETE FROM register_hashes",
            "DELETE FROM register_entries",
            "DELETE FROM notifications",
            "DELETE FROM contribution_events",
            "DELETE FROM match_events",
            "DELETE FROM matches",
            "DELETE FROM offer_categories",
            "DELETE FROM offers",
            "DELETE FROM needs",
            "DELETE FROM campaigns",
            "DELETE FROM assisted_people",
            "DELETE FROM room_bookings",
            "DELETE FROM hub_rooms",
            "DELETE FROM hubs",
            "DELETE FROM service_term_points",
            "DELETE FROM service_points",
            "DELETE FROM service_words",
            "DELETE FROM service_funders",
            "DELETE FROM service_terms",
            "DELETE FROM service_at_locations",
            "DELETE FROM services",
            "DELETE FROM locations",
            "DELETE FROM organizations",
            "DELETE FROM taxonomy_terms",
            "DELETE FROM taxonomies",
            "DELETE FROM areas",
            "DELETE FROM sessions",
            "DELETE FROM account_tokens",
            "DELETE FROM api_tokens",
            "DELETE FROM role_grants",
            "DELETE FROM users",
            "DELETE FROM audit_log",
            "DELETE FROM settings",
            "DELETE FROM directory_changes",
            "DELETE FROM offer_changes",
        ] {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        directory::record_changes(&mut tx, &[], true).await?;
        offer_cache::record_offer_change(&mut tx, None).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::from_url("mysql://x").is_err());
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://a.db"), "sqlite://a.db");
    }
}
