//! Checkpoints: parsing never panics, and what parses prints back to the same text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use trama_ledger::{Checkpoint, NoteSigner, open_checkpoint};

fuzz_target!(|data: &[u8]| {
    let signer = NoteSigner::from_seed("fuzz.invalid/log", [9u8; 32]).expect("valid name");
    let _ = open_checkpoint(data, "fuzz.invalid/log", &signer.verifier(), &[]);
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(c) = Checkpoint::parse(s)
    {
        assert_eq!(c.text(), s, "a checkpoint has one text form");
        assert_eq!(Checkpoint::parse(&c.text()), Ok(c));
    }
});
