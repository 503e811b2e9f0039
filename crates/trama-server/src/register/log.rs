//! The register service: one writer that appends economic events durably, signs checkpoints
//! in batches, and answers heads, proofs, tiles and statements from a Merkle tree kept in
//! memory beside the database.
//!
//! Appends queue on a channel; the writer takes every queued job (up to `batch_max` entries)
//! into one transaction (group commit) and acknowledges each job only after the commit. If the
//! commit fails, the in-memory tree is rolled back to the committed size.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Mutex, OnceCell, mpsc, oneshot};

use trama_ledger::checkpoint::{Checkpoint, CheckpointSigner};
use trama_ledger::event::{EconomicEvent, events_from_valueflows};
use trama_ledger::merkle::{Hash, MemoryTree, leaf_hash, stored_hash_count};
use trama_ledger::note::{NoteSigner, NoteVerifier};
use trama_ledger::statement::{EarlierCheckpoint, FORMAT, Statement, StatementEntry};
use trama_ledger::tiles::{Tile, TileLevel, entry_bundle, tile_exists, tile_hashes};
use trama_ledger::{LedgerError, base64_encode, pseudonym};
use trama_store::{CheckpointRow, NewEntry, Store, StoreError};

use crate::config::Config;

/// Errors of the register service.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the register is not available: {0}")]
    Unavailable(String),
    #[error("the key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
}

type Reply = oneshot::Sender<Result<Vec<u64>, String>>;

struct Job {
    events: Vec<EconomicEvent>,
    /// Contribution events (by id) these entries come from, marked taken in the same commit.
    outbox: Vec<String>,
    reply: Reply,
}

struct Loaded {
    tree: MemoryTree,
    signer: CheckpointSigner,
    secret: Vec<u8>,
    latest_note: Option<String>,
    /// Set when the stored tree does not extend the last signed checkpoint: the node then
    /// refuses to sign anything, and says why.
    broken: Option<String>,
}

/// The register of one territory.
pub struct Register {
    store: Store,
    origin: String,
    territory: String,
    key_file: Option<std::path::PathBuf>,
    batch_max: usize,
    interval: Duration,
    state: Mutex<Option<Loaded>>,
    queue: OnceCell<mpsc::Sender<Job>>,
}

impl std::fmt::Debug for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Register({})", self.origin)
    }
}

/// The territory's IRI, the scope of every event.
pub fn territory_iri(name: &str) -> String {
    format!("urn:trama:territory:{}", slug(name))
}

fn slug(s: &str) -> String {
    let s: String = s
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "territory".into() } else { s }
}

/// The checkpoint origin from the settings.
pub fn origin_of(config: &Config) -> String {
    if let Some(o) = &config.register.origin {
        return o.clone();
    }
    if let Some(url) = &config.public_url {
        let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
        let rest = rest.trim_end_matches('/');
        if !rest.is_empty() && !rest.contains(char::is_whitespace) && !rest.contains('+') {
            return format!("{rest}/register");
        }
    }
    format!("trama.invalid/{}", slug(&config.territory_name))
}

fn now_micros(store: &Store) -> i64 {
    trama_store::to_micros(store.clock().now())
}

impl Register {
    pub fn new(store: Store, config: &Config) -> Self {
        Self {
            store,
            origin: origin_of(config),
            territory: territory_iri(&config.territory_name),
            key_file: config.register.key_file.clone(),
            batch_max: config.register.batch_max.max(1),
            interval: Duration::from_millis(config.register.checkpoint_interval_ms.max(10)),
            state: Mutex::new(None),
            queue: OnceCell::new(),
        }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn territory(&self) -> &str {
        &self.territory
    }

    async fn signing_key(&self) -> Result<NoteSigner, RegisterError> {
        if let Some(path) = &self.key_file {
            let err = |reason: String| RegisterError::KeyFile {
                path: path.display().to_string(),
                reason,
            };
            return match tokio::fs::read_to_string(path).await {
                Ok(s) => NoteSigner::parse(s.trim()).map_err(|e| err(e.to_string())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let signer = NoteSigner::from_seed(&self.origin, rand::rng().random())
                        .map_err(|e| err(e.to_string()))?;
                    write_private(path, &signer.encode()).map_err(|e| err(e.to_string()))?;
                    Ok(signer)
                }
                Err(e) => Err(err(e.to_string())),
            };
        }
        match self.store.setting("register.signing_key").await? {
            Some(s) => Ok(NoteSigner::parse(&s).map_err(LedgerError::from)?),
            None => {
                let signer = NoteSigner::from_seed(&self.origin, rand::rng().random())
                    .map_err(LedgerError::from)?;
                self.store
                    .set_setting("register.signing_key", &signer.encode())
                    .await?;
                Ok(signer)
            }
        }
    }

    async fn secret(&self) -> Result<Vec<u8>, RegisterError> {
        match self.store.setting("register.pseudonym_secret").await? {
            Some(s) => Ok(s.into_bytes()),
            None => {
                let bytes: [u8; 32] = rand::rng().random();
                let s = base64_encode(&bytes);
                self.store
                    .set_setting("register.pseudonym_secret", &s)
                    .await?;
                Ok(s.into_bytes())
            }
        }
    }

    async fn load(&self) -> Result<Loaded, RegisterError> {
        let signer = self.signing_key().await?;
        let secret = self.secret().await?;
        let (size, hashes) = self.store.register_load_hashes().await?;
        // Entries whose hashes were not all written (cannot happen with one transaction, but
        // a damaged database is named rather than trusted).
        let tree = MemoryTree::from_stored(size, hashes)?;
        let last = self.store.register_latest_checkpoint().await?;
        let mut broken = None;
        let last_cp = match &last {
            Some(row) => {
                let c = trama_ledger::checkpoint::open_checkpoint(
                    row.note.as_bytes(),
                    &self.origin,
                    &signer.verifier(),
                    &[],
                )
                .map_err(LedgerError::from)?
                .checkpoint;
                match tree.root_at(c.size) {
                    Ok(root) if root == c.root => {}
                    Ok(root) => {
                        broken = Some(format!(
                            "the stored tree has root {root} at size {}, the signed checkpoint {}",
                            c.size, c.root
                        ))
                    }
                    Err(_) => {
                        broken = Some(format!(
                            "the database holds {} entries, fewer than the {} signed",
                            tree.size(),
                            c.size
                        ))
                    }
                }
                Some(c)
            }
            None => None,
        };
        if let Some(b) = &broken {
            tracing::error!(problem = %b, "register: refusing to sign checkpoints");
        }
        Ok(Loaded {
            tree,
            signer: CheckpointSigner::new(signer, last_cp),
            secret,
            latest_note: last.map(|r| r.note),
            broken,
        })
    }

    /// Runs `f` on the loaded state, loading it on first use.
    async fn with_state<T>(
        &self,
        f: impl FnOnce(&mut Loaded) -> Result<T, RegisterError>,
    ) -> Result<T, RegisterError> {
        let mut guard = self.state.lock().await;
        if guard.is_none() {
            *guard = Some(self.load().await?);
        }
        f(guard.as_mut().expect("loaded above"))
    }

    /// The verifier key, `name+id+key`.
    pub async fn verifier(&self) -> Result<NoteVerifier, RegisterError> {
        self.with_state(|s| Ok(s.signer.verifier())).await
    }

    /// The number of entries committed.
    pub async fn size(&self) -> Result<u64, RegisterError> {
        self.with_state(|s| Ok(s.tree.size())).await
    }

    /// How a person appears in the register for one purpose: a pseudonym, created on first
    /// use, one per person *and* purpose, so that the care a person receives cannot be linked
    /// to the help they give or get from neighbours. Organisations and territories appear as
    /// themselves.
    pub async fn agent_iri(&self, iri: &str, purpose: Purpose) -> Result<String, RegisterError> {
        if !iri.starts_with("urn:trama:person:") {
            return Ok(iri.to_string());
        }
        let agent = purpose.agent(iri);
        if let Some(p) = self.store.register_pseudonym(&agent).await? {
            return Ok(p);
        }
        let secret = self.with_state(|s| Ok(s.secret.clone())).await?;
        let salt = base64_encode(&rand::rng().random::<[u8; 16]>());
        let p = pseudonym::derive(&secret, &agent, salt.as_bytes());
        Ok(self
            .store
            .register_link_pseudonym(&agent, &p, &salt, now_micros(&self.store))
            .await?)
    }

    /// The pseudonym of a person if they have one (without creating it).
    pub async fn existing_pseudonym(&self, iri: &str) -> Result<Option<String>, RegisterError> {
        Ok(self.store.register_pseudonym(iri).await?)
    }

    fn sender(&self) -> Result<&mpsc::Sender<Job>, RegisterError> {
        self.queue
            .get()
            .ok_or_else(|| RegisterError::Unavailable("the writer is not started".into()))
    }

    /// Starts the writer and the checkpoint loop. Idempotent.
    pub async fn start(self: &Arc<Self>) -> Result<(), RegisterError> {
        self.with_state(|_| Ok(())).await?;
        let me = self.clone();
        self.queue
            .get_or_init(|| async move {
                let (tx, rx) = mpsc::channel::<Job>(1024);
                let writer = me.clone();
                tokio::spawn(async move { writer.writer_loop(rx).await });
                tx
            })
            .await;
        Ok(())
    }

    /// Also runs the periodic work: contribution events into the log, then a checkpoint.
    pub fn spawn_checkpointer(self: &Arc<Self>) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(me.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = me.take_contributions().await {
                    tracing::warn!(error = %e, "register: contributions not taken");
                }
                if let Err(e) = me.checkpoint().await {
                    tracing::warn!(error = %e, "register: no checkpoint signed");
                }
            }
        });
    }

    /// Appends events (already pseudonymous) and returns their indexes once committed.
    pub async fn append(
        self: &Arc<Self>,
        events: Vec<EconomicEvent>,
    ) -> Result<Vec<u64>, RegisterError> {
        self.append_with_outbox(events, Vec::new()).await
    }

    async fn append_with_outbox(
        self: &Arc<Self>,
        events: Vec<EconomicEvent>,
        outbox: Vec<String>,
    ) -> Result<Vec<u64>, RegisterError> {
        self.start().await?;
        for e in &events {
            e.validate()?;
        }
        let (reply, rx) = oneshot::channel();
        self.sender()?
            .send(Job {
                events,
                outbox,
                reply,
            })
            .await
            .map_err(|_| RegisterError::Unavailable("the writer stopped".into()))?;
        rx.await
            .map_err(|_| RegisterError::Unavailable("the writer stopped".into()))?
            .map_err(|reason| {
                RegisterError::Store(StoreError::Conflict {
                    field: "events".into(),
                    reason,
                })
            })
    }

    async fn writer_loop(self: Arc<Self>, mut rx: mpsc::Receiver<Job>) {
        while let Some(first) = rx.recv().await {
            let mut jobs = vec![first];
            let mut n = jobs[0].events.len();
            while n < self.batch_max {
                match rx.try_recv() {
                    Ok(j) => {
                        n += j.events.len();
                        jobs.push(j);
                    }
                    Err(_) => break,
                }
            }
            match self.commit(&jobs).await {
                Ok(indexes) => {
                    for (job, idx) in jobs.into_iter().zip(indexes) {
                        let _ = job.reply.send(Ok(idx));
                    }
                }
                Err(_) if jobs.len() > 1 => {
                    // One job spoiled the batch (a repeated event): commit them one by one so
                    // the others still land and the bad one gets its own answer.
                    for job in jobs {
                        let r = self
                            .commit(std::slice::from_ref(&job))
                            .await
                            .map(|mut v| v.pop().unwrap_or_default())
                            .map_err(|e| e.to_string());
                        let _ = job.reply.send(r);
                    }
                }
                Err(e) => {
                    for job in jobs {
                        let _ = job.reply.send(Err(e.to_string()));
                    }
                }
            }
        }
    }

    /// Commits the jobs' events as one transaction; returns each job's indexes.
    async fn commit(&self, jobs: &[Job]) -> Result<Vec<Vec<u64>>, RegisterError> {
        let mut guard = self.state.lock().await;
        if guard.is_none() {
            *guard = Some(self.load().await?);
        }
        let st = guard.as_mut().expect("loaded above");
        let start = st.tree.size();
        let first_hash = stored_hash_count(start);
        let mut entries = Vec::new();
        let mut indexes = Vec::with_capacity(jobs.len());
        let mut outbox = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut prepared = Vec::new();
        for job in jobs {
            let mut idx = Vec::with_capacity(job.events.len());
            for e in &job.events {
                if !seen.insert(e.id.clone()) {
                    return Err(RegisterError::Store(StoreError::Conflict {
                        field: "@id".into(),
                        reason: format!("{} appears twice", e.id),
                    }));
                }
                let bytes = e.canonical_bytes()?;
                prepared.push(leaf_hash(&bytes));
                idx.push(start + entries.len() as u64);
                entries.push(NewEntry {
                    event_id: e.id.clone(),
                    entry: String::from_utf8(bytes).expect("canonical JSON is UTF-8"),
                    provider: e.provider.clone(),
                    receiver: e.receiver.clone(),
                });
            }
            outbox.extend(job.outbox.iter().cloned());
            indexes.push(idx);
        }
        for leaf in prepared {
            st.tree.push_leaf(leaf);
        }
        let new_hashes = st.tree.hashes()[first_hash as usize..].to_vec();
        let r = self
            .store
            .register_append(
                start,
                &entries,
                first_hash,
                &new_hashes,
                &outbox,
                now_micros(&self.store),
            )
            .await;
        if let Err(e) = r {
            st.tree.truncate(start);
            if matches!(&e, StoreError::Conflict { field, .. } if field == "register") {
                // Another writer grew the log: reload from the database next time.
                *guard = None;
            }
            return Err(e.into());
        }
        Ok(indexes)
    }

    /// Signs a checkpoint for the current size if it grew (or none exists yet).
    pub async fn checkpoint(&self) -> Result<String, RegisterError> {
        let (note, row) = {
            let mut guard = self.state.lock().await;
            if guard.is_none() {
                *guard = Some(self.load().await?);
            }
            let st = guard.as_mut().expect("loaded above");
            if let Some(b) = &st.broken {
                return Err(LedgerError::Inconsistent(b.clone()).into());
            }
            let size = st.tree.size();
            if let (Some(last), Some(note)) = (st.signer.last(), &st.latest_note)
                && last.size == size
            {
                return Ok(note.clone());
            }
            let proof = match st.signer.last() {
                Some(last) if last.size > 0 => st.tree.consistency_proof(last.size, size)?,
                _ => Vec::new(),
            };
            let root = st.tree.root();
            let note = st
                .signer
                .sign(Checkpoint::new(&self.origin, size, root), &proof)?;
            st.latest_note = Some(note.clone());
            (
                note.clone(),
                CheckpointRow {
                    size,
                    root,
                    note,
                    signed_at: now_micros(&self.store),
                },
            )
        };
        self.store.register_save_checkpoint(&row).await?;
        Ok(note)
    }

    /// The latest signed checkpoint (signing the first one if there is none).
    pub async fn latest_checkpoint(&self) -> Result<String, RegisterError> {
        if let Some(n) = self.with_state(|s| Ok(s.latest_note.clone())).await? {
            return Ok(n);
        }
        self.checkpoint().await
    }

    /// The size and root of the latest signed checkpoint.
    pub async fn signed_head(&self) -> Result<(u64, Hash), RegisterError> {
        self.latest_checkpoint().await?;
        self.with_state(|s| {
            let c = s.signer.last().expect("a checkpoint was signed");
            Ok((c.size, c.root))
        })
        .await
    }

    pub async fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<(Hash, Vec<Hash>, Hash), RegisterError> {
        self.with_state(|s| {
            let proof = s.tree.inclusion_proof(index, size)?;
            Ok((s.tree.leaf(index)?, proof, s.tree.root_at(size)?))
        })
        .await
    }

    pub async fn consistency_proof(
        &self,
        from: u64,
        to: u64,
    ) -> Result<(Vec<Hash>, Hash, Hash), RegisterError> {
        self.with_state(|s| {
            Ok((
                s.tree.consistency_proof(from, to)?,
                s.tree.root_at(from)?,
                s.tree.root_at(to)?,
            ))
        })
        .await
    }

    /// A tile's bytes, or `None` if the log does not hold all of it yet. Only sizes up to the
    /// latest checkpoint are served, so a client never sees an unsigned tree.
    pub async fn tile(&self, tile: Tile) -> Result<Option<Vec<u8>>, RegisterError> {
        let (signed, _) = self.signed_head().await?;
        if !tile_exists(&tile, signed) {
            return Ok(None);
        }
        match tile.level {
            TileLevel::Hashes(_) => Ok(Some(
                self.with_state(|s| Ok(tile_hashes(&tile, s.tree.hashes())?))
                    .await?,
            )),
            TileLevel::Entries => {
                let from = tile.n * 256;
                let rows = self
                    .store
                    .register_entries(from, from + tile.w as u64)
                    .await?;
                Ok(Some(entry_bundle(rows.iter().map(|r| r.as_bytes()))?))
            }
        }
    }

    /// Entries `[from, to)`.
    pub async fn entries(&self, from: u64, to: u64) -> Result<Vec<String>, RegisterError> {
        Ok(self.store.register_entries(from, to).await?)
    }

    /// A person's statement: their entries with inclusion proofs against the latest
    /// checkpoint, and the checkpoints that first covered them with consistency proofs.
    pub async fn statement(&self, agent: &str) -> Result<Statement, RegisterError> {
        let note = self.latest_checkpoint().await?;
        let (size, _) = self.signed_head().await?;
        let rows = self.store.register_entries_of(agent).await?;
        let checkpoints = self.store.register_checkpoints().await?;
        let mut earlier: Vec<&CheckpointRow> = Vec::new();
        for (idx, _) in rows.iter().filter(|(i, _)| *i < size) {
            if let Some(c) = checkpoints.iter().find(|c| c.size > *idx)
                && c.size < size
                && !earlier.iter().any(|e| e.size == c.size)
            {
                earlier.push(c);
            }
        }
        self.with_state(|s| {
            let mut entries = Vec::new();
            for (index, entry) in rows.iter().filter(|(i, _)| *i < size) {
                let proof = s.tree.inclusion_proof(*index, size)?;
                entries.push(StatementEntry {
                    index: *index,
                    entry: entry.clone(),
                    proof: proof.iter().map(|h| h.to_base64()).collect(),
                });
            }
            let mut history = Vec::new();
            for c in &earlier {
                history.push(EarlierCheckpoint {
                    checkpoint: c.note.clone(),
                    consistency: s
                        .tree
                        .consistency_proof(c.size, size)?
                        .iter()
                        .map(|h| h.to_base64())
                        .collect(),
                });
            }
            Ok(Statement {
                format: FORMAT.into(),
                origin: self.origin.clone(),
                agent: agent.to_string(),
                checkpoint: note.clone(),
                entries,
                history,
            })
        })
        .await
    }

    /// Every event in the log (for credits and flows).
    pub async fn all_events(&self) -> Result<Vec<EconomicEvent>, RegisterError> {
        let size = self.size().await?;
        let mut out = Vec::with_capacity(size as usize);
        let mut from = 0;
        while from < size {
            let to = (from + 10_000).min(size);
            for e in self.store.register_entries(from, to).await? {
                out.push(EconomicEvent::from_canonical_bytes(e.as_bytes())?);
            }
            from = to;
        }
        Ok(out)
    }

    /// The events of one agent.
    pub async fn events_of(&self, agent: &str) -> Result<Vec<(u64, EconomicEvent)>, RegisterError> {
        let rows = self.store.register_entries_of(agent).await?;
        rows.into_iter()
            .map(|(i, e)| Ok((i, EconomicEvent::from_canonical_bytes(e.as_bytes())?)))
            .collect()
    }

    /// Moves confirmed contribution events (from matching) into the log, pseudonymous.
    pub async fn take_contributions(self: &Arc<Self>) -> Result<usize, RegisterError> {
        let mut total = 0;
        loop {
            let pending = self.store.register_pending_contributions(1000).await?;
            if pending.is_empty() {
                return Ok(total);
            }
            let mut events = Vec::with_capacity(pending.len());
            let mut outbox = Vec::with_capacity(pending.len());
            let now = self.store.clock().now();
            for p in &pending {
                let mut evs = events_from_valueflows(&p.doc, &self.territory, now)?;
                for mut e in evs.drain(..) {
                    let purpose = Purpose::of(&e);
                    e.provider = self.agent_iri(&e.provider, purpose).await?;
                    e.receiver = self.agent_iri(&e.receiver, purpose).await?;
                    e.in_scope_of = self.territory.clone();
                    e.at_location = p.area_code.as_ref().map(|a| format!("urn:trama:area:{a}"));
                    events.push(e);
                }
                outbox.push(p.id.clone());
            }
            // Events already in the log (a crash between the log commit and nothing else is
            // impossible, but an operator may have re-run an import) are skipped.
            let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
            let known = self.store.register_known_ids(&ids).await?;
            events.retain(|e| !known.contains(&e.id));
            total += events.len();
            self.append_with_outbox(events, outbox).await?;
        }
    }
}

/// Why a person appears in the register: each purpose gives them another pseudonym.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Help given and received between neighbours (hours of `work`): statements and time
    /// credits count it under one pseudonym.
    Help,
    /// Care paid from a person's budget (`transfer` of euros, `deliverService`).
    Care,
}

impl Purpose {
    pub const ALL: [Purpose; 2] = [Purpose::Help, Purpose::Care];

    /// The purpose of an event that names a person: between people (hours of work, the help
    /// they stand for) it is help; facing a funder or an organisation (a budget's euros, a
    /// service delivered by a provider) it is care.
    pub fn of(e: &EconomicEvent) -> Self {
        let institutional = |iri: &str| {
            iri.starts_with("urn:trama:funder:") || iri.starts_with("urn:trama:organization:")
        };
        if e.action != trama_ledger::event::Action::Work
            && (institutional(&e.provider) || institutional(&e.receiver))
        {
            Purpose::Care
        } else {
            Purpose::Help
        }
    }

    /// The key the person's link is kept under (help keeps the bare IRI, as it always had).
    pub fn agent(self, iri: &str) -> String {
        match self {
            Purpose::Help => iri.to_string(),
            Purpose::Care => format!("{iri}#care"),
        }
    }
}

fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}
