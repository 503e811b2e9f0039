//! The register's tables: entries, stored hashes, checkpoints, pseudonym links.
//!
//! The store does not compute hashes: the register service hands it the entries and the hashes
//! they add, and [`Store::register_append`] commits them in one transaction, refusing if the
//! log grew under it (another writer) so two writers can never interleave.

use sqlx::Row;
use trama_ledger::Hash;

use crate::{Result, StoreError};

/// One entry to append.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub event_id: String,
    /// The canonical bytes, as text (canonical JSON is UTF-8).
    pub entry: String,
    pub provider: String,
    pub receiver: String,
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRow {
    pub size: u64,
    pub root: Hash,
    pub note: String,
    pub signed_at: i64,
}

fn hash_of(s: &str, what: &'static str, id: i64) -> Result<Hash> {
    Hash::from_base64(s).map_err(|e| StoreError::CorruptDocument {
        what,
        id: id.to_string(),
        source: serde::de::Error::custom(e.to_string()),
    })
}

/// The size of the log from the primary key (one index probe), not `COUNT(*)`, which reads
/// every row and made each group commit slower as the log grew. Positions are contiguous
/// from 0 (every append checks the size it starts from), so the last one plus one is the size.
const SIZE_SQL: &str = "SELECT CAST(COALESCE(MAX(idx) + 1, 0) AS BIGINT) FROM register_entries";

impl crate::Store {
    /// The number of entries in the log.
    pub async fn register_size(&self) -> Result<u64> {
        let n: i64 = sqlx::query(SIZE_SQL).fetch_one(&self.read).await?.get(0);
        Ok(n as u64)
    }

    /// Every stored hash, in index order, and the number of entries.
    pub async fn register_load_hashes(&self) -> Result<(u64, Vec<Hash>)> {
        let size = self.register_size().await?;
        let rows = sqlx::query("SELECT idx, hash FROM register_hashes ORDER BY idx")
            .fetch_all(&self.read)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            let idx: i64 = r.get(0);
            if idx != i as i64 {
                return Err(StoreError::Invalid(trama_core::FieldError::new(
                    "register_hashes",
                    format!("stored hash {i} is missing (found {idx})"),
                )));
            }
            out.push(hash_of(&r.get::<String, _>(1), "register hash", idx)?);
        }
        Ok((size, out))
    }

    /// Appends entries at `start` and their stored hashes starting at `first_hash`, marking
    /// the contribution events in `outbox` as taken, all in one transaction. Fails with
    /// [`StoreError::Conflict`] when the log no longer has `start` entries or an event was
    /// appended before.
    pub async fn register_append(
        &self,
        start: u64,
        entries: &[NewEntry],
        first_hash: u64,
        hashes: &[Hash],
        outbox: &[String],
        now: i64,
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let size: i64 = sqlx::query(SIZE_SQL).fetch_one(&mut *tx).await?.get(0);
        if size as u64 != start {
            return Err(StoreError::Conflict {
                field: "register".into(),
                reason: format!("the log has {size} entries, {start} expected: another writer"),
            });
        }
        // Multi-row inserts. SQLite looks each bound parameter up by walking the statement's
        // list of them (sqlite3_bind_parameter_name), so a statement's cost grows with the
        // square of its parameters: short statements there, a few hundred rows on PostgreSQL.
        let (entry_rows, hash_rows) = match self.backend {
            crate::Backend::Sqlite => (32, 96),
            crate::Backend::Postgres => (200, 400),
        };
        for chunk in entries.chunks(entry_rows).enumerate() {
            let (c, chunk) = chunk;
            let mut sql = crate::sql::Sql::new(
                "INSERT INTO register_entries (idx, event_id, entry, provider, receiver, appended_at) VALUES ",
            );
            for (i, e) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                let idx = start as i64 + (c * entry_rows + i) as i64;
                sql.push("(")
                    .bind(crate::sql::Val::I64(idx))
                    .push(", ")
                    .bind_text(e.event_id.clone())
                    .push(", ")
                    .bind_text(e.entry.clone())
                    .push(", ")
                    .bind_text(e.provider.clone())
                    .push(", ")
                    .bind_text(e.receiver.clone())
                    .push(", ")
                    .bind(crate::sql::Val::I64(now))
                    .push(")");
            }
            sql.build().execute(&mut *tx).await.map_err(|e| match e {
                sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict {
                    field: "@id".into(),
                    reason: "an event with this @id is already in the register".into(),
                },
                e => e.into(),
            })?;
        }
        for (c, chunk) in hashes.chunks(hash_rows).enumerate() {
            let mut sql = crate::sql::Sql::new("INSERT INTO register_hashes (idx, hash) VALUES ");
            for (i, h) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.push("(")
                    .bind(crate::sql::Val::I64(
                        first_hash as i64 + (c * hash_rows + i) as i64,
                    ))
                    .push(", ")
                    .bind_text(h.to_base64())
                    .push(")");
            }
            sql.build().execute(&mut *tx).await?;
        }
        for chunk in outbox.chunks(200) {
            let mut sql = crate::sql::Sql::new("UPDATE contribution_events SET appended_at = ");
            sql.bind(crate::sql::Val::I64(now))
                .push(" WHERE id IN ")
                .bind_list(chunk.iter().cloned());
            sql.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Which of these event ids are already in the log.
    pub async fn register_known_ids(&self, ids: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let mut sql =
                crate::sql::Sql::new("SELECT event_id FROM register_entries WHERE event_id IN ");
            sql.bind_list(chunk.iter().cloned());
            for r in sql.build().fetch_all(&self.read).await? {
                out.push(r.get::<String, _>(0));
            }
        }
        Ok(out)
    }

    /// Entries `[from, to)` in order.
    pub async fn register_entries(&self, from: u64, to: u64) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT entry FROM register_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(from as i64)
        .bind(to as i64)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
    }

    /// The entries where `agent` is provider or receiver: (index, entry), in log order.
    pub async fn register_entries_of(&self, agent: &str) -> Result<Vec<(u64, String)>> {
        let rows = sqlx::query(
            "SELECT idx, entry FROM register_entries WHERE provider = $1 OR receiver = $1 ORDER BY idx",
        )
        .bind(agent)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<i64, _>(0) as u64, r.get::<String, _>(1)))
            .collect())
    }

    /// Every signed checkpoint, smallest first.
    pub async fn register_checkpoints(&self) -> Result<Vec<CheckpointRow>> {
        let rows = sqlx::query(
            "SELECT size, root, note, signed_at FROM register_checkpoints ORDER BY size",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let size: i64 = r.get(0);
                Ok(CheckpointRow {
                    size: size as u64,
                    root: hash_of(&r.get::<String, _>(1), "register checkpoint", size)?,
                    note: r.get(2),
                    signed_at: r.get(3),
                })
            })
            .collect()
    }

    /// The newest signed checkpoint.
    pub async fn register_latest_checkpoint(&self) -> Result<Option<CheckpointRow>> {
        let row = sqlx::query(
            "SELECT size, root, note, signed_at FROM register_checkpoints ORDER BY size DESC LIMIT 1",
        )
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            let size: i64 = r.get(0);
            Ok(CheckpointRow {
                size: size as u64,
                root: hash_of(&r.get::<String, _>(1), "register checkpoint", size)?,
                note: r.get(2),
                signed_at: r.get(3),
            })
        })
        .transpose()
    }

    /// Keeps a signed checkpoint (one per size).
    pub async fn register_save_checkpoint(&self, c: &CheckpointRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO register_checkpoints (size, root, note, signed_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(c.size as i64)
        .bind(c.root.to_base64())
        .bind(c.note.clone())
        .bind(c.signed_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The pseudonym linked to an agent, if any.
    pub async fn register_pseudonym(&self, agent: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query("SELECT pseudonym FROM register_agents WHERE agent = $1")
                .bind(agent)
                .fetch_optional(&self.read)
                .await?
                .map(|r| r.get::<String, _>(0)),
        )
    }

    /// Links an agent to a pseudonym unless it has one; returns the pseudonym in force.
    pub async fn register_link_pseudonym(
        &self,
        agent: &str,
        pseudonym: &str,
        salt: &str,
        now: i64,
    ) -> Result<String> {
        sqlx::query(
            "INSERT INTO register_agents (agent, pseudonym, salt, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (agent) DO NOTHING",
        )
        .bind(agent)
        .bind(pseudonym)
        .bind(salt)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(self
            .register_pseudonym(agent)
            .await?
            .unwrap_or_else(|| pseudonym.to_string()))
    }

    /// Erases the link from an agent to their pseudonym (and its salt). Their entries stay in
    /// the log, unlinkable. Returns whether there was a link.
    pub async fn register_forget_agent(&self, agent: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM register_agents WHERE agent = $1")
            .bind(agent)
            .execute(&self.write)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Total bytes of the register's rows as stored text (entries, hashes, checkpoints), for
    /// the bytes-per-entry figure.
    pub async fn register_text_bytes(&self) -> Result<(i64, i64)> {
        let e: i64 = sqlx::query(
            "SELECT CAST(COALESCE(SUM(LENGTH(entry) + LENGTH(event_id) + LENGTH(provider) + LENGTH(receiver)), 0) AS BIGINT) FROM register_entries",
        )
        .fetch_one(&self.read)
        .await?
        .get(0);
        let h: i64 = sqlx::query(
            "SELECT CAST(COALESCE(SUM(LENGTH(hash)), 0) AS BIGINT) FROM register_hashes",
        )
        .fetch_one(&self.read)
        .await?
        .get(0);
        Ok((e, h))
    }
}

/// A contribution event waiting for the register, with the public area of the need it
/// answered (for "in which neighbourhoods").
#[derive(Debug, Clone)]
pub struct PendingContribution {
    pub id: String,
    pub doc: serde_json::Value,
    pub area_code: Option<String>,
}

impl crate::Store {
    /// Contribution events not yet in the register, oldest first.
    pub async fn register_pending_contributions(
        &self,
        limit: i64,
    ) -> Result<Vec<PendingContribution>> {
        let rows = sqlx::query(
            "SELECT c.id, c.doc, n.area_code FROM contribution_events c \
             LEFT JOIN matches m ON m.id = c.match_id LEFT JOIN needs n ON n.id = m.need_id \
             WHERE c.appended_at IS NULL ORDER BY c.at, c.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.get(0);
                let doc: String = r.get(1);
                Ok(PendingContribution {
                    doc: crate::parse_json("contribution event", &id, &doc)?,
                    id,
                    area_code: r.get(2),
                })
            })
            .collect()
    }
}

impl crate::Store {
    /// Bytes the register's tables and indexes take on disk (SQLite: dbstat pages; PostgreSQL:
    /// total relation sizes).
    pub async fn register_disk_bytes(&self) -> Result<i64> {
        let sql = match self.backend {
            crate::Backend::Sqlite => {
                "SELECT CAST(COALESCE(SUM(pgsize), 0) AS BIGINT) FROM dbstat \
                 WHERE name LIKE 'register%' OR name LIKE 'sqlite_autoindex_register%'"
            }
            crate::Backend::Postgres => {
                "SELECT CAST(COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS BIGINT) \
                 FROM pg_class c WHERE c.relname LIKE 'register_%' AND c.relkind = 'r'"
            }
        };
        Ok(sqlx::query(sql).fetch_one(&self.read).await?.get(0))
    }
}
