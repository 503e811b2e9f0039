//! Statements: a person's own events with inclusion proofs against a signed checkpoint, and the
//! earlier checkpoints that first covered them with consistency proofs to it. Checked offline
//! with nothing but the territory's public key.

use serde::{Deserialize, Serialize};

use crate::accounting::{Credits, credits_of};
use crate::checkpoint::{Checkpoint, open_checkpoint};
use crate::event::EconomicEvent;
use crate::merkle::{Hash, leaf_hash, verify_consistency, verify_inclusion};
use crate::note::NoteVerifier;
use crate::{LedgerError, b64_decode};

pub const FORMAT: &str = "trama-statement/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementEntry {
    pub index: u64,
    /// The entry exactly as stored and hashed (canonical JSON).
    pub entry: String,
    /// The inclusion proof against the statement's checkpoint, base64 hashes leaf to root.
    pub proof: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlierCheckpoint {
    /// A signed checkpoint the node published earlier.
    pub checkpoint: String,
    /// The consistency proof from it to the statement's checkpoint.
    pub consistency: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    pub format: String,
    pub origin: String,
    /// The agent the statement is about (a pseudonym).
    pub agent: String,
    /// The signed checkpoint every proof is against.
    pub checkpoint: String,
    pub entries: Vec<StatementEntry>,
    #[serde(default)]
    pub history: Vec<EarlierCheckpoint>,
}

/// What a statement proves once checked.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementReport {
    pub origin: String,
    pub agent: String,
    pub size: u64,
    pub root: Hash,
    pub entries: usize,
    pub earlier_checkpoints: usize,
    pub credits: Credits,
}

fn hashes(field: &str, list: &[String]) -> Result<Vec<Hash>, LedgerError> {
    list.iter()
        .map(|s| {
            b64_decode(s)
                .and_then(|b| Hash::from_slice(&b).ok())
                .ok_or_else(|| LedgerError::Invalid {
                    field: field.to_string(),
                    reason: format!("'{s}' is not a base64 SHA-256 hash"),
                })
        })
        .collect()
}

fn bad(field: impl Into<String>, reason: impl Into<String>) -> LedgerError {
    LedgerError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Checks a statement with the territory's key. Every entry must be included in the signed
/// tree, be a canonical event and involve the statement's agent; every earlier checkpoint must
/// be signed by the same key and be a prefix of the statement's tree.
pub fn verify_statement(
    st: &Statement,
    key: &NoteVerifier,
) -> Result<StatementReport, LedgerError> {
    if st.format != FORMAT {
        return Err(bad("format", format!("'{}' is not {FORMAT}", st.format)));
    }
    let head = open_checkpoint(st.checkpoint.as_bytes(), &st.origin, key, &[])?.checkpoint;
    let mut events = Vec::with_capacity(st.entries.len());
    for (i, e) in st.entries.iter().enumerate() {
        let field = format!("entries[{i}]");
        let proof = hashes(&format!("{field}.proof"), &e.proof)?;
        verify_inclusion(
            e.index,
            head.size,
            leaf_hash(e.entry.as_bytes()),
            &proof,
            head.root,
        )
        .map_err(|err| {
            bad(
                &field,
                format!("entry {} is not in the signed tree: {err}", e.index),
            )
        })?;
        let ev = EconomicEvent::from_canonical_bytes(e.entry.as_bytes())
            .map_err(|err| bad(&field, err.to_string()))?;
        if ev.provider != st.agent && ev.receiver != st.agent {
            return Err(bad(
                &field,
                format!("entry {} does not involve {}", e.index, st.agent),
            ));
        }
        events.push(ev);
    }
    for (i, h) in st.history.iter().enumerate() {
        let field = format!("history[{i}]");
        let c: Checkpoint = open_checkpoint(h.checkpoint.as_bytes(), &st.origin, key, &[])
            .map_err(|e| bad(&field, e.to_string()))?
            .checkpoint;
        let proof = hashes(&format!("{field}.consistency"), &h.consistency)?;
        if c.size == 0 {
            continue;
        }
        verify_consistency(c.size, head.size, &proof, c.root, head.root).map_err(|e| {
            bad(
                &field,
                format!(
                    "the register was rewritten: size {} is not a prefix of size {}: {e}",
                    c.size, head.size
                ),
            )
        })?;
    }
    let credits = credits_of(&st.agent, events.iter());
    Ok(StatementReport {
        origin: st.origin.clone(),
        agent: st.agent.clone(),
        size: head.size,
        root: head.root,
        entries: st.entries.len(),
        earlier_checkpoints: st.history.len(),
        credits,
    })
}
