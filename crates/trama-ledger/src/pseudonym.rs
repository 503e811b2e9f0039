//! Pseudonyms: how a person appears in the register.
//!
//! `pseudonym = HMAC-SHA256(node secret, "trama-agent-v1\n" || agent IRI || "\n" || salt)`,
//! truncated to 128 bits. The salt is drawn once per person and kept beside the link from the
//! person to their pseudonym; erasing the person deletes both. Without the salt no one, not
//! even the node holding the secret, can recompute the pseudonym from the person's identifier,
//! so the entries already in the log stay valid while the person becomes unlinkable.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The IRI prefix of a pseudonymous agent.
pub const PREFIX: &str = "urn:trama:pseudonym:";

/// Derives the pseudonym IRI of `agent_iri`.
pub fn derive(node_secret: &[u8], agent_iri: &str, salt: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(node_secret).expect("HMAC takes a key of any length");
    mac.update(b"trama-agent-v1\n");
    mac.update(agent_iri.as_bytes());
    mac.update(b"\n");
    mac.update(salt);
    let out = mac.finalize().into_bytes();
    format!("{PREFIX}{}", crate::hex_encode(&out[..16]))
}

/// Whether an agent IRI is a pseudonym.
pub fn is_pseudonym(iri: &str) -> bool {
    iri.strip_prefix(PREFIX)
        .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_on_secret_agent_and_salt() {
        let a = derive(b"secret", "urn:trama:person:1", b"salt");
        assert!(is_pseudonym(&a));
        assert_eq!(a, derive(b"secret", "urn:trama:person:1", b"salt"));
        assert_ne!(a, derive(b"secret2", "urn:trama:person:1", b"salt"));
        assert_ne!(a, derive(b"secret", "urn:trama:person:2", b"salt"));
        assert_ne!(a, derive(b"secret", "urn:trama:person:1", b"salt2"));
    }
}
