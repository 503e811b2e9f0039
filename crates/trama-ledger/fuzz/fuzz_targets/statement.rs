//! Statements: any JSON is checked or refused with a reason, never a panic; nothing passes
//! that is not signed by the key (the fuzzer cannot forge an Ed25519 signature).
#![no_main]
use libfuzzer_sys::fuzz_target;
use trama_ledger::NoteSigner;
use trama_ledger::statement::{Statement, verify_statement};

fuzz_target!(|data: &[u8]| {
    let key = NoteSigner::from_seed("fuzz.invalid/log", [5u8; 32])
        .expect("valid name")
        .verifier();
    if let Ok(st) = serde_json::from_slice::<Statement>(data) {
        assert!(verify_statement(&st, &key).is_err());
    }
});
