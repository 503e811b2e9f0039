//! C2SP tlog-checkpoint: the signed head of a log, and the node's guard that never signs a
//! head inconsistent with one it signed before.

use crate::merkle::{Hash, ProofError, verify_consistency_or_empty};
use crate::note::{self, NoteError, NoteSigner, NoteVerifier};
use crate::{LedgerError, b64_decode};

/// The body of a checkpoint: origin, tree size, root hash, and optional extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Lines after the root hash, each ending in a newline, kept verbatim.
    pub extensions: String,
}

/// Why a checkpoint body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("a checkpoint needs an origin, a size and a root hash line, each ending in a newline")]
    MissingLines,
    #[error("the origin line is empty")]
    EmptyOrigin,
    #[error("the size '{0}' is not a decimal number of at most 20 digits")]
    BadSize(String),
    #[error("the root hash is not base64")]
    BadRoot,
    #[error("the root hash has {0} bytes; a SHA-256 log needs 32")]
    RootLength(usize),
    #[error("the checkpoint origin is '{got}', '{want}' expected")]
    WrongOrigin { got: String, want: String },
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error("the checkpoint is not signed by the log's key {0}")]
    NotSignedByLog(String),
}

impl Checkpoint {
    pub fn new(origin: &str, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.to_string(),
            size,
            root,
            extensions: String::new(),
        }
    }

    /// Parses a checkpoint body (the text of the note).
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let mut rest = text;
        let mut lines = [""; 3];
        for l in &mut lines {
            let (line, r) = rest.split_once('\n').ok_or(CheckpointError::MissingLines)?;
            *l = line;
            rest = r;
        }
        let [origin, size, root] = lines;
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        // Decimal digits only: no sign, no 0x, no spaces, and (C2SP tlog-checkpoint) no
        // leading zeroes unless the tree is empty, so one size has one text (found by
        // `scripts/fuzz`: "00" was read as 0).
        if size.is_empty()
            || size.len() > 20
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(CheckpointError::BadSize(size.to_string()));
        }
        let size: u64 = size
            .parse()
            .map_err(|_| CheckpointError::BadSize(size.to_string()))?;
        let root = b64_decode(root).ok_or(CheckpointError::BadRoot)?;
        let root = Hash::from_slice(&root).map_err(|_| CheckpointError::RootLength(root.len()))?;
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
            extensions: rest.to_string(),
        })
    }

    /// The body as signed.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.origin,
            self.size,
            self.root.to_base64(),
            self.extensions
        )
    }
}

/// A checkpoint opened from a signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub note: note::Note,
}

/// Opens a signed checkpoint: the log's own key must have signed it and the origin must be
/// the expected one. `others` are further known keys (witnesses) whose signatures are checked
/// too when present.
pub fn open_checkpoint(
    msg: &[u8],
    origin: &str,
    log_key: &NoteVerifier,
    others: &[NoteVerifier],
) -> Result<SignedCheckpoint, CheckpointError> {
    let mut known = vec![log_key.clone()];
    known.extend_from_slice(others);
    let note = note::open(msg, &known)?;
    if !note
        .verified
        .iter()
        .any(|s| s.name == log_key.name() && s.id == log_key.id())
    {
        return Err(CheckpointError::NotSignedByLog(log_key.encode()));
    }
    let checkpoint = Checkpoint::parse(&note.text)?;
    if checkpoint.origin != origin {
        return Err(CheckpointError::WrongOrigin {
            got: checkpoint.origin,
            want: origin.to_string(),
        });
    }
    Ok(SignedCheckpoint { checkpoint, note })
}

/// The node's checkpoint signer. It remembers the last head it signed and refuses to sign one
/// that is not a consistent extension of it: a smaller tree, the same size with another root,
/// or a larger tree whose consistency proof does not verify. This is the rule that makes a
/// rewritten history impossible to sign, even if the database under the node was altered.
#[derive(Debug)]
pub struct CheckpointSigner {
    signer: NoteSigner,
    last: Option<Checkpoint>,
}

impl CheckpointSigner {
    /// `last` is the newest checkpoint this key signed (read back from storage).
    pub fn new(signer: NoteSigner, last: Option<Checkpoint>) -> Self {
        Self { signer, last }
    }

    pub fn last(&self) -> Option<&Checkpoint> {
        self.last.as_ref()
    }

    pub fn verifier(&self) -> NoteVerifier {
        self.signer.verifier()
    }

    /// Signs `next` given the consistency proof from the last signed size to `next.size`.
    pub fn sign(
        &mut self,
        next: Checkpoint,
        proof_from_last: &[Hash],
    ) -> Result<String, LedgerError> {
        if let Some(last) = &self.last {
            if next.origin != last.origin {
                return Err(LedgerError::Inconsistent(format!(
                    "origin '{}' differs from the signed '{}'",
                    next.origin, last.origin
                )));
            }
            verify_consistency_or_empty(
                last.size,
                next.size,
                proof_from_last,
                last.root,
                next.root,
            )
            .map_err(|e: ProofError| {
                LedgerError::Inconsistent(format!(
                    "size {} root {} does not extend the signed size {} root {}: {e}",
                    next.size, next.root, last.size, last.root
                ))
            })?;
        }
        let signed = self
            .signer
            .sign(&next.text())
            .map_err(|e| LedgerError::Malformed {
                what: "checkpoint",
                reason: e.to_string(),
            })?;
        self.last = Some(next);
        Ok(signed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_have_one_text() {
        let root = Hash([0; 32]).to_base64();
        let body = |size: &str| format!("example.com/log\n{size}\n{root}\n");
        assert_eq!(Checkpoint::parse(&body("0")).map(|c| c.size), Ok(0));
        assert_eq!(Checkpoint::parse(&body("120")).map(|c| c.size), Ok(120));
        for bad in ["00", "012", "+1", " 1", "1 ", "0x1", ""] {
            assert_eq!(
                Checkpoint::parse(&body(bad)),
                Err(CheckpointError::BadSize(bad.to_string())),
                "{bad:?}"
            );
        }
    }
}
