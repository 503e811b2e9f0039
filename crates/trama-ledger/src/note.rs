//! C2SP signed notes (the format of `golang.org/x/mod/sumdb/note`) with Ed25519 keys.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
//! `— <name> <base64(key id || signature)>`. The key id is the first four bytes of
//! SHA-256(name || "\n" || 0x01 || public key). Keys are written as `name+hexid+base64(0x01 ||
//! key)`; private keys with a `PRIVATE+KEY+` prefix and the 32-byte seed.

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::{b64_decode, b64_encode};

/// The signature algorithm byte of Ed25519 note keys.
pub const ALG_ED25519: u8 = 0x01;
/// The most signatures a note may carry.
pub const MAX_SIGNATURES: usize = 100;
const SIG_PREFIX: &str = "\u{2014} ";

/// Why a note or a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed note")]
    Malformed,
    #[error("note has no verifiable signatures")]
    NoVerifiableSignatures,
    #[error("invalid signature for key {name}+{id:08x}")]
    InvalidSignature { name: String, id: u32 },
    #[error("malformed verifier id")]
    VerifierId,
    #[error("invalid verifier hash")]
    VerifierHash,
    #[error("unknown verifier algorithm")]
    VerifierAlgorithm,
    #[error("malformed signer id")]
    SignerId,
    #[error("invalid signer hash")]
    SignerHash,
    #[error(
        "the text to sign must be valid UTF-8, end in a newline and hold no control characters"
    )]
    BadText,
}

/// A key name: non-empty, no spaces, no `+`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(char::is_whitespace) && !name.contains('+')
}

/// The key id of an Ed25519 note key.
pub fn key_id(name: &str, alg_and_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(alg_and_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A public key that checks note signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses `name+hexid+base64key`.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let (name, rest) = vkey.split_once('+').ok_or(NoteError::VerifierId)?;
        let (hex_id, key64) = rest.split_once('+').ok_or(NoteError::VerifierId)?;
        let id = parse_hex_id(hex_id).ok_or(NoteError::VerifierId)?;
        let key = b64_decode(key64).ok_or(NoteError::VerifierId)?;
        if !is_valid_name(name) || key.is_empty() {
            return Err(NoteError::VerifierId);
        }
        if key_id(name, &key) != id {
            return Err(NoteError::VerifierHash);
        }
        if key[0] != ALG_ED25519 {
            return Err(NoteError::VerifierAlgorithm);
        }
        let raw: [u8; 32] = key[1..].try_into().map_err(|_| NoteError::VerifierId)?;
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| NoteError::VerifierId)?;
        Ok(Self {
            name: name.to_string(),
            id,
            key,
        })
    }

    pub fn from_key(name: &str, key: VerifyingKey) -> Result<Self, NoteError> {
        if !is_valid_name(name) {
            return Err(NoteError::VerifierId);
        }
        let mut k = vec![ALG_ED25519];
        k.extend_from_slice(key.as_bytes());
        Ok(Self {
            name: name.to_string(),
            id: key_id(name, &k),
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// The key in the `name+hexid+base64key` form.
    pub fn encode(&self) -> String {
        let mut k = vec![ALG_ED25519];
        k.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, b64_encode(&k))
    }

    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match Signature::from_slice(sig) {
            Ok(s) => self.key.verify(msg, &s).is_ok(),
            Err(_) => false,
        }
    }
}

fn parse_hex_id(s: &str) -> Option<u32> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// A private key that signs notes.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    id: u32,
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoteSigner({}+{:08x})", self.name, self.id)
    }
}

impl NoteSigner {
    /// A signer from a 32-byte Ed25519 seed (the caller draws it from a secure source).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        if !is_valid_name(name) {
            return Err(NoteError::SignerId);
        }
        let key = SigningKey::from_bytes(&seed);
        let v = NoteVerifier::from_key(name, key.verifying_key())?;
        Ok(Self {
            name: name.to_string(),
            id: v.id,
            key,
        })
    }

    /// Parses `PRIVATE+KEY+name+hexid+base64(0x01 || seed)`.
    pub fn parse(skey: &str) -> Result<Self, NoteError> {
        let rest = skey
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::SignerId)?;
        let (name, rest) = rest.split_once('+').ok_or(NoteError::SignerId)?;
        let (hex_id, key64) = rest.split_once('+').ok_or(NoteError::SignerId)?;
        let id = parse_hex_id(hex_id).ok_or(NoteError::SignerId)?;
        let key = b64_decode(key64).ok_or(NoteError::SignerId)?;
        if !is_valid_name(name) || key.len() != 33 || key[0] != ALG_ED25519 {
            return Err(NoteError::SignerId);
        }
        let seed: [u8; 32] = key[1..].try_into().map_err(|_| NoteError::SignerId)?;
        let signer = Self::from_seed(name, seed)?;
        if signer.id != id {
            return Err(NoteError::SignerHash);
        }
        Ok(signer)
    }

    /// The key in the `PRIVATE+KEY+name+hexid+base64` form. Keep it secret.
    pub fn encode(&self) -> String {
        let mut k = vec![ALG_ED25519];
        k.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id,
            b64_encode(&k)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// The signature line for `text` (without checking the text).
    pub fn signature_line(&self, text: &str) -> String {
        let sig = self.key.sign(text.as_bytes());
        let mut blob = self.id.to_be_bytes().to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}\n", self.name, b64_encode(&blob))
    }

    /// Signs `text`: the text, a blank line and the signature line.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        if !text.ends_with('\n') || has_control_chars(text) {
            return Err(NoteError::BadText);
        }
        Ok(format!("{text}\n{}", self.signature_line(text)))
    }
}

fn has_control_chars(text: &str) -> bool {
    text.chars().any(|c| (c as u32) < 0x20 && c != '\n')
}

/// A signature found on a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub id: u32,
    /// base64(key id || signature), as written on the line.
    pub base64: String,
}

/// A note whose signatures were checked against the known keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending in a newline.
    pub text: String,
    /// Signatures by known keys, all valid.
    pub verified: Vec<NoteSignature>,
    /// Signatures by keys we do not know, unchecked.
    pub unverified: Vec<NoteSignature>,
}

/// A signature line read but not checked: who signed, and the raw signature bytes.
pub type RawSignature = (NoteSignature, Vec<u8>);

/// Splits a note into its text and signature lines without checking signatures.
pub fn parse_note(msg: &[u8]) -> Result<(String, Vec<RawSignature>), NoteError> {
    let msg = std::str::from_utf8(msg).map_err(|_| NoteError::Malformed)?;
    if has_control_chars(msg) {
        return Err(NoteError::Malformed);
    }
    let split = msg.rfind("\n\n").ok_or(NoteError::Malformed)?;
    let (text, sigs) = (&msg[..split + 1], &msg[split + 2..]);
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(NoteError::Malformed);
    }
    let mut out = Vec::new();
    for line in sigs[..sigs.len() - 1].split('\n') {
        let line = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed)?;
        let (name, b64) = line.split_once(' ').ok_or(NoteError::Malformed)?;
        let blob = b64_decode(b64).ok_or(NoteError::Malformed)?;
        if !is_valid_name(name) || b64.is_empty() || blob.len() < 5 {
            return Err(NoteError::Malformed);
        }
        out.push((
            NoteSignature {
                name: name.to_string(),
                id: u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]),
                base64: b64.to_string(),
            },
            blob[4..].to_vec(),
        ));
        if out.len() > MAX_SIGNATURES {
            return Err(NoteError::Malformed);
        }
    }
    Ok((text.to_string(), out))
}

/// Opens a signed note: every signature by a known key must be valid, and at least one must
/// be by a known key. Repeated signatures by the same key count once.
pub fn open(msg: &[u8], known: &[NoteVerifier]) -> Result<Note, NoteError> {
    let (text, sigs) = parse_note(msg)?;
    let mut note = Note {
        text,
        verified: Vec::new(),
        unverified: Vec::new(),
    };
    for (sig, raw) in sigs {
        if note
            .verified
            .iter()
            .any(|s| s.name == sig.name && s.id == sig.id)
        {
            continue;
        }
        match known.iter().find(|k| k.name == sig.name && k.id == sig.id) {
            None => {
                if !note.unverified.contains(&sig) {
                    note.unverified.push(sig);
                }
            }
            Some(k) => {
                if !k.verify(note.text.as_bytes(), &raw) {
                    return Err(NoteError::InvalidSignature {
                        name: sig.name,
                        id: sig.id,
                    });
                }
                note.verified.push(sig);
            }
        }
    }
    if note.verified.is_empty() {
        return Err(NoteError::NoVerifiableSignatures);
    }
    Ok(note)
}
