//! The offers that can be suggested, answered from memory.
//!
//! Each `Store` keeps every active offer with room left (the engine's compiled picture of
//! them is the server's, `help::suggest_index`). Before answering, it reads the offers' version (one small query);
//! when a write has happened (in this process or another one sharing the database) it reads
//! the offers named in `offer_changes` since and patches the index in place, or reloads it
//! whole after a change to many (`*`: a wipe, a renamed person). Every statement that changes
//! an offer row records its id in the same transaction (`record_offer_change`).

use sqlx::{AnyConnection, AnyPool, Row};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use trama_core::ids::{OfferId, UserId};

use crate::needs::{OFFER_COLUMNS, OfferRow, offer_from_row};
use crate::{Result, StoreError};

/// Every offer that can be suggested now, and what changed lately.
#[derive(Debug, Default)]
pub struct OfferIndex {
    version: i64,
    offers: HashMap<OfferId, Arc<OfferRow>>,
    /// The offers changed since `loaded_at` (the version of the last whole load), in order, so
    /// that a reader holding an older picture knows what to look at again (the last
    /// [`CHANGES_KEPT`]).
    changes: std::collections::VecDeque<(i64, OfferId)>,
    loaded_at: i64,
}

/// How many changes the index remembers for readers with an older picture.
const CHANGES_KEPT: usize = 100_000;

impl OfferIndex {
    /// Files `o` if it can be suggested: active, with room left.
    fn insert(&mut self, o: OfferRow) {
        if o.state != "active" || o.active >= o.capacity {
            return;
        }
        self.offers.insert(o.id, Arc::new(o));
    }

    fn remove(&mut self, id: OfferId) {
        self.offers.remove(&id);
    }

    /// How many offers can be suggested.
    pub fn len(&self) -> usize {
        self.offers.len()
    }

    /// No offer can be suggested.
    pub fn is_empty(&self) -> bool {
        self.offers.is_empty()
    }

    /// The version of this picture.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Every offer that can be suggested.
    pub fn all(&self) -> Vec<Arc<OfferRow>> {
        self.offers.values().cloned().collect()
    }

    /// The offer, if it can be suggested now.
    pub fn get(&self, id: OfferId) -> Option<Arc<OfferRow>> {
        self.offers.get(&id).cloned()
    }

    /// The offers changed after version `since`; `None` when the index no longer knows (it
    /// was loaded whole since, or forgot that far back).
    pub fn changed_since(&self, since: i64) -> Option<Vec<OfferId>> {
        if since < self.loaded_at
            || self
                .changes
                .front()
                .is_some_and(|(v, _)| *v > since + 1 && self.changes.len() >= CHANGES_KEPT)
        {
            return None;
        }
        let mut out: Vec<OfferId> = self
            .changes
            .iter()
            .filter(|(v, _)| *v > since)
            .map(|(_, id)| *id)
            .collect();
        out.sort_unstable_by_key(|id| id.as_uuid());
        out.dedup();
        Some(out)
    }
}

/// The index and the lock that lets one refresh run at a time.
#[derive(Default)]
pub(crate) struct OfferCache {
    index: RwLock<Option<OfferIndex>>,
    refresh: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for OfferCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self
            .index
            .read()
            .ok()
            .and_then(|s| s.as_ref().map(|s| s.version));
        f.debug_struct("OfferCache").field("version", &v).finish()
    }
}

async fn rows(pool: &AnyPool, ids: Option<&[String]>) -> Result<Vec<OfferRow>> {
    let mut sql = crate::sql::Sql::new(&format!(
        "SELECT {OFFER_COLUMNS} FROM offers o JOIN users u ON u.id = o.owner_id WHERE "
    ));
    match ids {
        None => {
            sql.push("o.state = 'active' AND o.active < o.capacity");
        }
        Some(ids) => {
            sql.push("o.id IN (");
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind_text(id.clone());
            }
            sql.push(")");
        }
    }
    sql.build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(offer_from_row)
        .collect()
}

impl OfferCache {
    /// Brings the index to the database's current version; then `read` answers from it.
    pub async fn refresh(&self, pool: &AnyPool) -> Result<()> {
        let version: i64 = sqlx::query("SELECT version FROM offers_version WHERE id = 1")
            .fetch_one(pool)
            .await?
            .get(0);
        let known = |c: &Self| {
            c.index
                .read()
                .expect("offer index lock")
                .as_ref()
                .map(|i| i.version)
        };
        if known(self).is_some_and(|v| v >= version) {
            return Ok(());
        }
        let _one_at_a_time = self.refresh.lock().await;
        let Some(from) = known(self) else {
            let mut index = OfferIndex {
                version,
                loaded_at: version,
                ..Default::default()
            };
            for o in rows(pool, None).await? {
                index.insert(o);
            }
            *self.index.write().expect("offer index lock") = Some(index);
            return Ok(());
        };
        if from >= version {
            return Ok(());
        }
        let changed: HashSet<String> = sqlx::query(
            "SELECT DISTINCT offer_id FROM offer_changes WHERE version > $1 AND version <= $2",
        )
        .bind(from)
        .bind(version)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
        if changed.contains("*") {
            *self.index.write().expect("offer index lock") = None;
            drop(_one_at_a_time);
            return Box::pin(self.refresh(pool)).await;
        }
        // Read the changed rows first; then patch under the write lock, briefly.
        let ids: Vec<String> = changed.into_iter().collect();
        let mut fresh = Vec::new();
        for chunk in ids.chunks(500) {
            fresh.extend(rows(pool, Some(chunk)).await?);
        }
        let mut guard = self.index.write().expect("offer index lock");
        let index = guard
            .as_mut()
            .ok_or(StoreError::Invalid(trama_core::FieldError::new(
                "offer index",
                "gone while refreshing",
            )))?;
        for id in &ids {
            if let Ok(u) = id.parse() {
                index.remove(OfferId(u));
                index.changes.push_back((version, OfferId(u)));
            }
        }
        while index.changes.len() > CHANGES_KEPT {
            index.changes.pop_front();
        }
        for o in fresh {
            index.insert(o);
        }
        index.version = version;
        Ok(())
    }

    /// Answers from the index (call `refresh` first).
    pub fn read<R>(&self, f: impl FnOnce(&OfferIndex) -> R) -> R {
        let guard = self.index.read().expect("offer index lock");
        match guard.as_ref() {
            Some(i) => f(i),
            None => f(&OfferIndex::default()),
        }
    }
}

/// Records, in the writing transaction, that an offer changed (`None`: many did, reload all).
pub(crate) async fn record_offer_change(
    conn: &mut AnyConnection,
    offer: Option<OfferId>,
) -> Result<()> {
    let v: i64 = sqlx::query(
        "UPDATE offers_version SET version = version + 1 WHERE id = 1 RETURNING version",
    )
    .fetch_one(&mut *conn)
    .await?
    .get(0);
    sqlx::query("INSERT INTO offer_changes (version, offer_id) VALUES ($1, $2)")
        .bind(v)
        .bind(offer.map_or_else(|| "*".to_string(), |o| o.to_string()))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records that every offer of `owner` changed (their name, shown with each, changed).
pub(crate) async fn record_offers_of(conn: &mut AnyConnection, owner: UserId) -> Result<()> {
    let ids: Vec<String> = sqlx::query("SELECT id FROM offers WHERE owner_id = $1")
        .bind(owner.to_string())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    for id in ids {
        if let Ok(u) = id.parse() {
            record_offer_change(conn, Some(OfferId(u))).await?;
        }
    }
    Ok(())
}
