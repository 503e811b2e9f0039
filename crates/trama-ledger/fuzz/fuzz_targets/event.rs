//! Entries: bytes that read as an event are exactly its canonical form (one event, one byte
//! string); times and ValueFlows documents never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use trama_ledger::EconomicEvent;
use trama_ledger::event::{events_from_valueflows, format_point_in_time, parse_point_in_time};

fuzz_target!(|data: &[u8]| {
    if let Ok(ev) = EconomicEvent::from_canonical_bytes(data) {
        assert_eq!(ev.canonical_bytes().expect("valid"), data);
        assert!(ev.validate().is_ok());
    }
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(t) = parse_point_in_time(s)
    {
        let printed = format_point_in_time(t);
        assert_eq!(parse_point_in_time(&printed).ok(), Some(t));
    }
    if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) {
        let when = parse_point_in_time("2026-01-01T00:00:00Z").expect("valid");
        if let Ok(events) = events_from_valueflows(&doc, "urn:trama:territory:fuzz", when) {
            for ev in events {
                let bytes = ev.canonical_bytes().expect("an imported event serialises");
                assert_eq!(EconomicEvent::from_canonical_bytes(&bytes).ok(), Some(ev));
            }
        }
    }
});
