//! The search near a point, answered from memory.
//!
//! Each `Store` keeps a read model of what a search near a point needs: every place a service
//! is delivered at, by grid cell and by (category, cell), and each service's summary, hours,
//! organisation and funders. Before answering, it reads the directory's version (one small
//! query); when another write has happened (in this process or another one sharing the
//! database) it applies the recorded changes: the services named in `directory_changes`, or a
//! full reload when a write may have changed what many services show (`*`). Searches with
//! words or a whole taxonomy go to SQL instead (`Store::search_services` decides).

use sqlx::{AnyPool, Row};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use uuid::Uuid;

use trama_core::geo::Coordinates;
use trama_core::hsds::Service;
use trama_core::ids::LocationId;
use trama_core::schedule::WeeklyHours;

use crate::sql::Sql;
use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    pub service: Uuid,
    pub location: LocationId,
    pub at: Coordinates,
}

#[derive(Debug)]
pub(crate) struct CachedService {
    pub summary: Service,
    pub organization_name: Option<String>,
    pub organization_id: Option<Uuid>,
    pub hours: WeeklyHours,
    pub modified_at: i64,
    pub funders: Vec<String>,
    /// Where its points are filed, to take them out again: (category or none, cell).
    cells: Vec<(Option<Uuid>, i64)>,
}

#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub version: i64,
    pub services: HashMap<Uuid, Arc<CachedService>>,
    pub by_cell: HashMap<i64, Vec<Point>>,
    pub by_term_cell: HashMap<(Uuid, i64), Vec<Point>>,
    /// Each term's children, for category sub-trees.
    pub children: HashMap<Uuid, Vec<Uuid>>,
}

impl Snapshot {
    /// A term and every term below it.
    pub fn subtree(&self, root: Uuid) -> Vec<Uuid> {
        let mut out = vec![root];
        let mut i = 0;
        while i < out.len() {
            if let Some(c) = self.children.get(&out[i]) {
                for k in c {
                    if !out.contains(k) {
                        out.push(*k);
                    }
                }
            }
            i += 1;
        }
        out
    }

    fn remove(&mut self, id: &Uuid) {
        if let Some(old) = self.services.remove(id) {
            for &(term, cell) in &old.cells {
                let list = match term {
                    Some(t) => self.by_term_cell.get_mut(&(t, cell)),
                    None => self.by_cell.get_mut(&cell),
                };
                if let Some(list) = list {
                    list.retain(|p| p.service != *id);
                }
            }
        }
    }
}

#[derive(Default)]
pub struct SearchCache {
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    refresh: tokio::sync::Mutex<()>,
}

fn corrupt(what: &'static str, id: &str, e: serde_json::Error) -> StoreError {
    StoreError::CorruptDocument {
        what,
        id: id.to_string(),
        source: e,
    }
}

/// Loads the services whose ids are given (all when `None`) with their points.
async fn load(pool: &AnyPool, snap: &mut Snapshot, ids: Option<&[String]>) -> Result<()> {
    let filter = |base: &str, col: &str| {
        let mut sql = Sql::new(base);
        if let Some(ids) = ids {
            sql.push(" WHERE ").push(col).push(" IN ");
            sql.bind_list(ids.iter().cloned());
        }
        sql
    };
    let rows = filter(
        "SELECT s.id, s.doc, s.weekly_hours, s.organization_id, s.modified_at, o.name FROM services s \
         LEFT JOIN organizations o ON o.id = s.organization_id",
        "s.id",
    )
    .build()
    .fetch_all(pool)
    .await?;
    for r in rows {
        let id: String = r.get(0);
        let uuid: Uuid = id.parse().map_err(|_| StoreError::Reference {
            field: "services.id".into(),
            reason: id.clone(),
        })?;
        let doc: Service =
            serde_json::from_str(&r.get::<String, _>(1)).map_err(|e| corrupt("service", &id, e))?;
        let hours: WeeklyHours = serde_json::from_str(&r.get::<String, _>(2))
            .map_err(|e| corrupt("service hours", &id, e))?;
        snap.services.insert(
            uuid,
            Arc::new(CachedService {
                summary: doc.summary(),
                organization_name: r.get(5),
                organization_id: r.get::<Option<String>, _>(3).and_then(|s| s.parse().ok()),
                hours,
                modified_at: r.get(4),
                funders: vec![],
                cells: vec![],
            }),
        );
    }
    for r in filter(
        "SELECT service_id, funder FROM service_funders",
        "service_id",
    )
    .build()
    .fetch_all(pool)
    .await?
    {
        let id: Option<Uuid> = r.get::<String, _>(0).parse().ok();
        if let Some(s) = id
            .and_then(|id| snap.services.get_mut(&id))
            .and_then(Arc::get_mut)
        {
            s.funders.push(r.get(1));
        }
    }
    let point = |r: &sqlx::any::AnyRow, off: usize| -> Option<Point> {
        Some(Point {
            service: r.get::<String, _>(off).parse().ok()?,
            location: r.get::<String, _>(off + 1).parse().ok()?,
            at: Coordinates::new(r.get(off + 2), r.get(off + 3)).ok()?,
        })
    };
    for r in filter(
        "SELECT service_id, location_id, latitude, longitude, cell FROM service_points",
        "service_id",
    )
    .build()
    .fetch_all(pool)
    .await?
    {
        let (Some(p), cell) = (point(&r, 0), r.get::<i64, _>(4)) else {
            continue;
        };
        if let Some(s) = snap.services.get_mut(&p.service).and_then(Arc::get_mut) {
            s.cells.push((None, cell));
            snap.by_cell.entry(cell).or_default().push(p);
        }
    }
    for r in filter(
        "SELECT term_id, service_id, location_id, latitude, longitude, cell FROM service_term_points",
        "service_id",
    )
    .build()
    .fetch_all(pool)
    .await?
    {
        let term: Option<Uuid> = r.get::<String, _>(0).parse().ok();
        let (Some(term), Some(p), cell) = (term, point(&r, 1), r.get::<i64, _>(5)) else { continue };
        if let Some(s) = snap.services.get_mut(&p.service).and_then(Arc::get_mut) {
            s.cells.push((Some(term), cell));
            snap.by_term_cell.entry((term, cell)).or_default().push(p);
        }
    }
    Ok(())
}

async fn full(pool: &AnyPool, version: i64) -> Result<Snapshot> {
    let mut snap = Snapshot {
        version,
        ..Default::default()
    };
    load(pool, &mut snap, None).await?;
    for r in sqlx::query("SELECT id, parent_id FROM taxonomy_terms WHERE parent_id IS NOT NULL")
        .fetch_all(pool)
        .await?
    {
        if let (Ok(id), Ok(parent)) = (
            r.get::<String, _>(0).parse::<Uuid>(),
            r.get::<String, _>(1).parse::<Uuid>(),
        ) {
            snap.children.entry(parent).or_default().push(id);
        }
    }
    Ok(snap)
}

impl std::fmt::Debug for SearchCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self
            .snapshot
            .read()
            .ok()
            .and_then(|s| s.as_ref().map(|s| s.version));
        f.debug_struct("SearchCache").field("version", &v).finish()
    }
}

impl SearchCache {
    /// The snapshot at the database's current version.
    pub async fn current(&self, pool: &AnyPool) -> Result<Arc<Snapshot>> {
        let version: i64 = sqlx::query("SELECT version FROM directory_version WHERE id = 1")
            .fetch_one(pool)
            .await?
            .get(0);
        if let Some(s) = self.snapshot.read().expect("cache lock").as_ref()
            && s.version == version
        {
            return Ok(s.clone());
        }
        let _one_at_a_time = self.refresh.lock().await;
        let old = self.snapshot.read().expect("cache lock").clone();
        if let Some(s) = &old
            && s.version >= version
        {
            return Ok(s.clone());
        }
        let next = match old {
            None => full(pool, version).await?,
            Some(old) => {
                let rows = sqlx::query("SELECT DISTINCT service_id FROM directory_changes WHERE version > $1 AND version <= $2")
                    .bind(old.version)
                    .bind(version)
                    .fetch_all(pool)
                    .await?;
                let ids: HashSet<String> = rows.iter().map(|r| r.get::<String, _>(0)).collect();
                if ids.contains("*") {
                    full(pool, version).await?
                } else {
                    // Copy, then patch: readers keep the old snapshot until the new one is ready.
                    let mut snap = clone_snapshot(&old);
                    snap.version = version;
                    for id in &ids {
                        if let Ok(u) = id.parse() {
                            snap.remove(&u);
                        }
                    }
                    let ids: Vec<String> = ids.into_iter().collect();
                    for chunk in ids.chunks(500) {
                        load(pool, &mut snap, Some(chunk)).await?;
                    }
                    snap
                }
            }
        };
        let next = Arc::new(next);
        *self.snapshot.write().expect("cache lock") = Some(next.clone());
        Ok(next)
    }
}

fn clone_snapshot(s: &Snapshot) -> Snapshot {
    Snapshot {
        version: s.version,
        services: s.services.clone(),
        by_cell: s.by_cell.clone(),
        by_term_cell: s.by_term_cell.clone(),
        children: s.children.clone(),
    }
}
