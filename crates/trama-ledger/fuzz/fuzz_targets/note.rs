//! Signed notes and note keys: any bytes give an answer, never a panic; a note that opens
//! with the key was signed by it, and a key that parses encodes back to the same text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use trama_ledger::note::{self, NoteSigner, NoteVerifier};

fuzz_target!(|data: &[u8]| {
    let signer = NoteSigner::from_seed("fuzz.invalid/log", [7u8; 32]).expect("valid name");
    let key = signer.verifier();
    let _ = note::parse_note(data);
    if let Ok(n) = note::open(data, std::slice::from_ref(&key)) {
        // Whatever opened must carry a signature line of the key that verifies the text.
        assert!(!n.verified.is_empty());
        let text = String::from_utf8(data.to_vec()).expect("an opened note is UTF-8");
        assert!(text.starts_with(&n.text));
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(v) = NoteVerifier::parse(s) {
            assert_eq!(v.encode(), s, "a verifier key has one text form");
        }
        if let Ok(k) = NoteSigner::parse(s) {
            assert_eq!(k.encode(), s, "a signer key has one text form");
        }
        // Signing any text either refuses it or makes a note that opens with the same key.
        if let Ok(signed) = signer.sign(s) {
            let opened = note::open(signed.as_bytes(), &[key]).expect("a fresh note opens");
            assert_eq!(opened.text, s);
        }
    }
});
