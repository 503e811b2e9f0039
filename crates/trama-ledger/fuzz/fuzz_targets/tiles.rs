//! Tile paths, entry bundles and hash tiles: never a panic, and every parse round-trips.
#![no_main]
use libfuzzer_sys::fuzz_target;
use trama_ledger::tiles::{Tile, entry_bundle, parse_entry_bundle, parse_tile_hashes};

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = parse_entry_bundle(data) {
        let again = entry_bundle(entries.iter().map(Vec::as_slice)).expect("entries fit");
        assert_eq!(again, data, "an entry bundle has one byte form");
    }
    if let Ok(hashes) = parse_tile_hashes(data) {
        assert_eq!(hashes.len() * 32, data.len());
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(t) = Tile::parse_path(s) {
            assert_eq!(Tile::parse_path(&t.path()).ok(), Some(t));
        }
        if let Ok(t) = Tile::parse_go_path(s) {
            assert_eq!(Tile::parse_go_path(&t.go_path()).ok(), Some(t));
        }
    }
});
