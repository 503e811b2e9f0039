//! The engine's view of every offer that can be suggested, built once for the process and
//! rebuilt in the background once enough offers changed or it is old enough; a request adds the
//! offers changed since the picture was taken, compiled on the spot, so an answer always
//! reflects every change.
//!
//! The store's offer index (`trama_store::offer_cache`) is the truth, kept current by the
//! offers' change log; this is the engine's compiled copy of it (coarse points, interned
//! categories, languages and skills, `OfferIndex` over them), which takes about a second to
//! build at city scale and so is not rebuilt for each change.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use trama_core::ids::OfferId;
use trama_core::matching::index::{Candidate, OfferIndex};
use trama_core::matching::instance::Vocabulary;
use trama_core::matching::model::Problem;
use trama_store::{NeedRow, OfferRow};

use super::service::{Points, compile};
use crate::service_error::{ServiceError, ServiceResult};
use crate::state::AppState;

/// A compiled picture of the offers at one version of the store's index.
pub struct Picture {
    version: i64,
    vocab: Vocabulary,
    problem: Problem,
    rows: Vec<Arc<OfferRow>>,
    by_id: HashMap<OfferId, u32>,
    index: OfferIndex,
    built_at: std::time::Instant,
}

/// The current picture and whether a new one is being built.
#[derive(Default)]
pub struct SuggestIndex {
    picture: RwLock<Option<Arc<Picture>>>,
    building: AtomicBool,
}

impl std::fmt::Debug for SuggestIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SuggestIndex").finish_non_exhaustive()
    }
}

/// How many changed offers a request compiles itself before the picture is rebuilt at once.
const CHANGED_INLINE_MAX: usize = 2_000;

/// A picture behind the store is rebuilt in the background once this many offers changed since
/// it was taken, or once it is this old: rebuilding takes about a second of one core at city
/// scale, and a request compiles the few changed offers of its kind of help on the spot, so
/// rebuilding on every change would spend a core on pictures under a steady trickle of writes
/// (measured: 1,653 requests/s alone, 135 while owners changed 25 offers a second).
const REBUILD_AFTER_CHANGES: usize = 256;
const REBUILD_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

async fn build(state: &AppState) -> ServiceResult<Picture> {
    let (version, rows) = state
        .store
        .with_offer_index(|i| (i.version(), i.all()))
        .await?;
    let now = state.now();
    tokio::task::spawn_blocking(move || {
        let mut vocab = Vocabulary::default();
        let refs: Vec<&OfferRow> = rows.iter().map(|r| r.as_ref()).collect();
        let problem = compile(&mut vocab, &[], &refs, now, Points::Coarse)?.problem;
        let index = OfferIndex::build(&problem.offers);
        let by_id = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id, i as u32))
            .collect();
        Ok(Picture {
            version,
            vocab,
            problem,
            rows,
            by_id,
            index,
            built_at: std::time::Instant::now(),
        })
    })
    .await
    .map_err(|_| ServiceError::Internal)?
}

impl SuggestIndex {
    fn current(&self) -> Option<Arc<Picture>> {
        self.picture.read().expect("suggest index lock").clone()
    }

    fn put(&self, p: Picture) -> Arc<Picture> {
        let p = Arc::new(p);
        let mut slot = self.picture.write().expect("suggest index lock");
        if slot.as_ref().is_none_or(|old| old.version < p.version) {
            *slot = Some(p.clone());
        }
        p
    }

    /// Starts a rebuild in the background, unless one is running.
    fn rebuild_later(&self, state: &AppState) {
        if self.building.swap(true, Ordering::AcqRel) {
            return;
        }
        let state = state.clone();
        tokio::spawn(async move {
            match build(&state).await {
                Ok(p) => {
                    state.suggest.put(p);
                }
                Err(e) => tracing::warn!(error = %e, "rebuilding the suggestion index failed"),
            }
            state.suggest.building.store(false, Ordering::Release);
        });
    }
}

/// The store index's version, the offers changed after a version and those of them that can
/// be suggested now.
type Changes = (i64, Vec<OfferId>, Vec<Arc<OfferRow>>);

/// What changed after `since`; `None` when the index no longer knows (reloaded since, or
/// forgot that far back).
async fn changes_since(state: &AppState, since: i64) -> ServiceResult<Option<Changes>> {
    Ok(state
        .store
        .with_offer_index(|i| {
            i.changed_since(since).map(|ids| {
                let rows: Vec<Arc<OfferRow>> = ids.iter().filter_map(|id| i.get(*id)).collect();
                (i.version(), ids, rows)
            })
        })
        .await?)
}

/// The best `k` offers for `n` as (offer, candidate, ranking penalty), best first: from the
/// picture, and from the offers changed since it was taken as they are now. `skip` leaves
/// out offers (those already helping with the need, the requester's own).
pub async fn suggest(
    state: &AppState,
    n: &NeedRow,
    previous: &[OfferId],
    skip: &(dyn Fn(&OfferRow) -> bool + Sync),
    k: usize,
) -> ServiceResult<Vec<(Arc<OfferRow>, Candidate, i64)>> {
    let index = &state.suggest;
    let mut picture = match index.current() {
        Some(p) => p,
        None => index.put(build(state).await?),
    };
    // What changed since the picture, and each changed offer as it is now.
    let mut fresh = changes_since(state, picture.version).await?;
    if fresh
        .as_ref()
        .is_none_or(|(_, ids, _)| ids.len() > CHANGED_INLINE_MAX)
    {
        picture = index.put(build(state).await?);
        fresh = changes_since(state, picture.version).await?;
    }
    let (now_version, changed, rows) = fresh.unwrap_or_default();
    if now_version > picture.version
        && (changed.len() >= REBUILD_AFTER_CHANGES || picture.built_at.elapsed() >= REBUILD_AFTER)
    {
        index.rebuild_later(state);
    }
    let changed: HashSet<OfferId> = changed.into_iter().collect();

    // The need, in the picture's vocabulary (a copy: the picture is shared).
    let mut vocab = picture.vocab.clone();
    let prev_idx: Vec<u32> = previous
        .iter()
        .filter(|id| !changed.contains(id))
        .filter_map(|id| picture.by_id.get(id).copied())
        .collect();
    let need = compile(
        &mut vocab,
        &[(n, prev_idx)],
        &[],
        state.now(),
        Points::Coarse,
    )?
    .problem
    .needs
    .remove(0);

    let mut out: Vec<(Arc<OfferRow>, Candidate, i64)> = Vec::new();
    // Ask for more than k: some are left out below.
    let wanted = k + 16;
    for (c, penalty) in picture.index.suggest(&picture.problem, &need, wanted) {
        let row = &picture.rows[c.offer as usize];
        if changed.contains(&row.id) || skip(row) {
            continue;
        }
        out.push((row.clone(), c, penalty));
    }
    // The changed offers, as they are now, ranked the same way.
    let rows: Vec<Arc<OfferRow>> = rows
        .into_iter()
        .filter(|r| r.categories.contains(&n.category) && !skip(r))
        .collect();
    if !rows.is_empty() {
        let refs: Vec<&OfferRow> = rows.iter().map(|r| r.as_ref()).collect();
        let prev_idx: Vec<u32> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| previous.contains(&r.id))
            .map(|(i, _)| i as u32)
            .collect();
        let small = compile(
            &mut vocab,
            &[(n, prev_idx)],
            &refs,
            state.now(),
            Points::Coarse,
        )?
        .problem;
        let small_index = OfferIndex::build(&small.offers);
        for (c, penalty) in small_index.suggest(&small, &small.needs[0], k) {
            out.push((rows[c.offer as usize].clone(), c, penalty));
        }
    }
    out.sort_by(|a, b| a.2.cmp(&b.2).then(a.0.id.as_uuid().cmp(&b.0.id.as_uuid())));
    out.truncate(k);
    Ok(out)
}
