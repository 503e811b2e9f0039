//! `trama-ledger`: the contribution register as pure computation. RFC 6962 Merkle trees with
//! inclusion and consistency proofs, C2SP signed notes and checkpoints with Ed25519, C2SP
//! tlog-tiles, ValueFlows economic events in canonical JSON, pseudonyms, log verification,
//! statements, time credits and flow accounting.
//!
//! No I/O: no files, no network, no clock, no randomness. Storage hands in bytes and hashes;
//! the caller draws keys and secrets.

pub mod accounting;
pub mod checkpoint;
pub mod event;
pub mod merkle;
pub mod note;
pub mod pseudonym;
pub mod statement;
pub mod tiles;
pub mod verify;

pub use checkpoint::{Checkpoint, CheckpointError, CheckpointSigner, open_checkpoint};
pub use event::{Action, EconomicEvent, Measure, Unit};
pub use merkle::{Hash, MemoryTree, ProofError, leaf_hash};
pub use note::{NoteError, NoteSigner, NoteVerifier};

use base64::Engine as _;

/// Errors of the ledger.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LedgerError {
    #[error("a hash has {0} bytes, 32 expected")]
    HashLength(usize),
    #[error("stored hash {0} is missing")]
    MissingHash(u64),
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("proof: {0}")]
    Proof(String),
    #[error("refused to sign: {0}")]
    Inconsistent(String),
    #[error(transparent)]
    ProofFailed(#[from] ProofError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Note(#[from] NoteError),
}

pub(crate) fn b64_encode(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub(crate) fn b64_decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

pub(crate) fn hex_encode(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(HEX[(x >> 4) as usize] as char);
        s.push(HEX[(x & 15) as usize] as char);
    }
    s
}

pub(crate) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Base64 (standard alphabet, padded) for callers outside the crate.
pub fn base64_encode(b: &[u8]) -> String {
    b64_encode(b)
}

pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    b64_decode(s)
}
