//! Checking a whole copy of a log: recompute every leaf and the tree, check every checkpoint's
//! signature and root, the consistency between consecutive checkpoints, and name the first
//! entry that does not match.

use crate::checkpoint::{Checkpoint, open_checkpoint};
use crate::event::EconomicEvent;
use crate::merkle::{Hash, MemoryTree, leaf_hash, verify_consistency};
use crate::note::NoteVerifier;

/// What was checked, when everything holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogReport {
    pub entries: u64,
    pub checkpoints: usize,
    /// The newest signed checkpoint (size 0 and the empty root when there is none).
    pub latest_size: u64,
    pub latest_root: Hash,
    /// Entries after the newest checkpoint: present, but not yet signed.
    pub unsigned_entries: u64,
}

/// The first thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogProblem {
    #[error("checkpoint {position}: {reason}")]
    BadCheckpoint { position: usize, reason: String },
    #[error("entry {index} does not match the signed tree: {reason}")]
    BadEntry { index: u64, reason: String },
    #[error(
        "the entries {from}..{to} do not produce the root signed at size {to}, and the copy's \
         own leaf hashes are not authentic either, so the bad entry cannot be named more closely"
    )]
    BadRange { from: u64, to: u64 },
    #[error("checkpoint {position} signs size {size}, but the copy holds only {entries} entries")]
    MissingEntries {
        position: usize,
        size: u64,
        entries: u64,
    },
    #[error("checkpoints at sizes {size1} and {size2} are not consistent: {reason}")]
    Inconsistent {
        size1: u64,
        size2: u64,
        reason: String,
    },
}

/// Verifies a copy of a log.
///
/// `entries` are the stored entry bytes in order; `claimed_leaves`, when the copy has them (a
/// database's stored hashes, level-0 tiles), are used only to name the bad entry once they are
/// shown authentic against a signed root. `checkpoints` are signed notes, in any order.
pub fn verify_log(
    origin: &str,
    key: &NoteVerifier,
    entries: &[Vec<u8>],
    claimed_leaves: Option<&[Hash]>,
    checkpoints: &[String],
) -> Result<LogReport, LogProblem> {
    let mut heads: Vec<Checkpoint> = Vec::with_capacity(checkpoints.len());
    for (position, note) in checkpoints.iter().enumerate() {
        let c = open_checkpoint(note.as_bytes(), origin, key, &[]).map_err(|e| {
            LogProblem::BadCheckpoint {
                position,
                reason: e.to_string(),
            }
        })?;
        heads.push(c.checkpoint);
    }
    heads.sort_by_key(|c| c.size);
    for w in heads.windows(2) {
        if w[0].size == w[1].size && w[0].root != w[1].root {
            return Err(LogProblem::Inconsistent {
                size1: w[0].size,
                size2: w[1].size,
                reason: "two different roots signed for the same size".into(),
            });
        }
    }

    // The first entry that is not a canonical economic event.
    let first_unparsable = first_unparsable(entries);

    let mut tree = MemoryTree::new();
    for e in entries {
        tree.push_leaf(leaf_hash(e));
    }
    let n = entries.len() as u64;

    let mut prev: Option<&Checkpoint> = None;
    for (position, c) in heads.iter().enumerate() {
        if c.size > n {
            return Err(LogProblem::MissingEntries {
                position,
                size: c.size,
                entries: n,
            });
        }
        let root = tree.root_at(c.size).expect("size checked");
        if root != c.root {
            let from = prev.map(|p| p.size).unwrap_or(0);
            if let Some((i, reason)) = first_unparsable.as_ref().filter(|(i, _)| *i < c.size) {
                return Err(LogProblem::BadEntry {
                    index: *i,
                    reason: reason.clone(),
                });
            }
            return Err(name_bad_entry(&tree, claimed_leaves, from, c));
        }
        if let Some(p) = prev
            && p.size > 0
        {
            let proof = tree
                .consistency_proof(p.size, c.size)
                .expect("sizes within the tree");
            verify_consistency(p.size, c.size, &proof, p.root, c.root).map_err(|e| {
                LogProblem::Inconsistent {
                    size1: p.size,
                    size2: c.size,
                    reason: e.to_string(),
                }
            })?;
        }
        prev = Some(c);
    }
    if let Some((index, reason)) = first_unparsable {
        return Err(LogProblem::BadEntry { index, reason });
    }
    let (latest_size, latest_root) = prev
        .map(|c| (c.size, c.root))
        .unwrap_or((0, crate::merkle::empty_root()));
    Ok(LogReport {
        entries: n,
        checkpoints: heads.len(),
        latest_size,
        latest_root,
        unsigned_entries: n - latest_size,
    })
}

fn name_bad_entry(
    recomputed: &MemoryTree,
    claimed: Option<&[Hash]>,
    from: u64,
    c: &Checkpoint,
) -> LogProblem {
    if let Some(claimed) = claimed.filter(|c2| c2.len() as u64 >= c.size) {
        let authentic = crate::merkle::root_of_leaves(&claimed[..c.size as usize]) == c.root;
        if authentic {
            for i in from..c.size {
                let got = recomputed.leaf(i).expect("index within the tree");
                if got != claimed[i as usize] {
                    return LogProblem::BadEntry {
                        index: i,
                        reason: format!(
                            "its bytes hash to {got}, the signed tree holds {}",
                            claimed[i as usize]
                        ),
                    };
                }
            }
        }
    }
    LogProblem::BadRange { from, to: c.size }
}

/// The first entry that is not a canonical economic event, with the reason. Parsing is most of
/// a verification's work, so the entries are read in parallel, one slice per core; the answer
/// is the same as a sequential scan's (the lowest index wins).
fn first_unparsable(entries: &[Vec<u8>]) -> Option<(u64, String)> {
    let scan = |offset: usize, part: &[Vec<u8>]| {
        part.iter().enumerate().find_map(|(i, e)| {
            EconomicEvent::from_canonical_bytes(e)
                .err()
                .map(|err| ((offset + i) as u64, err.to_string()))
        })
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || entries.len() < 10_000 {
        return scan(0, entries);
    }
    let chunk = entries.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = entries
            .chunks(chunk)
            .enumerate()
            .map(|(k, part)| s.spawn(move || scan(k * chunk, part)))
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().expect("a parsing thread panicked"))
            .min_by_key(|(i, _)| *i)
    })
}
