//! The ledger's own rules: canonical events, the ValueFlows examples, the signer that refuses
//! to sign a rewritten history, whole-log verification that names the bad entry, statements,
//! credits and flows, and parsers fed random bytes.

use proptest::prelude::*;
use serde_json::Value;
use time::macros::datetime;
use trama_ledger::accounting::{all_credits, credits_of, flows};
use trama_ledger::checkpoint::{Checkpoint, CheckpointSigner};
use trama_ledger::event::{
    Action, EconomicEvent, Measure, Unit, events_from_valueflows, parse_point_in_time,
};
use trama_ledger::merkle::{Hash, MemoryTree, leaf_hash};
use trama_ledger::note::NoteSigner;
use trama_ledger::statement::{
    EarlierCheckpoint, FORMAT, Statement, StatementEntry, verify_statement,
};
use trama_ledger::tiles::{Tile, entry_bundle, parse_entry_bundle, parse_tile_hashes, tile_hashes};
use trama_ledger::verify::{LogProblem, verify_log};
use trama_ledger::{LedgerError, base64_encode};

const ORIGIN: &str = "trama.test/register";

fn signer() -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, [7u8; 32]).unwrap()
}

fn work(i: u32, provider: &str, receiver: &str, hours: f64) -> EconomicEvent {
    EconomicEvent {
        id: format!("urn:uuid:00000000-0000-4000-8000-{i:012}"),
        action: Action::Work,
        provider: provider.into(),
        receiver: receiver.into(),
        resource_conforms_to: Some("urn:trama:taxonomy:A2".into()),
        resource_quantity: None,
        effort_quantity: Some(Measure::hours(hours).unwrap()),
        has_point_in_time: format!("2026-0{}-1{}T10:00:00Z", 1 + i % 9, i % 10),
        in_scope_of: "urn:trama:territory:milano".into(),
        at_location: Some("urn:trama:area:NIL-51".into()),
        note: None,
    }
}

#[test]
fn canonical_bytes_are_rfc8785_and_round_trip() {
    let e = work(1, "urn:trama:pseudonym:aa", "urn:trama:pseudonym:bb", 1.5);
    let b = e.canonical_bytes().unwrap();
    let s = std::str::from_utf8(&b).unwrap();
    // Keys sorted by UTF-16 code units, no spaces, numbers in ES6 form.
    assert!(s.starts_with(r#"{"@id":"urn:uuid:"#), "{s}");
    assert!(
        s.contains(r#""effortQuantity":{"hasNumericalValue":1.5,"hasUnit":"hour"}"#),
        "{s}"
    );
    assert!(!s.contains(' '));
    assert_eq!(EconomicEvent::from_canonical_bytes(&b).unwrap(), e);
    // Same meaning, other bytes: refused, so a stored entry has one form only.
    let pretty = serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&b).unwrap()).unwrap();
    assert!(EconomicEvent::from_canonical_bytes(&pretty).is_err());
    // Whole numbers are written without a fraction.
    let e2 = work(2, "urn:trama:pseudonym:aa", "urn:trama:pseudonym:bb", 2.0);
    let s2 = String::from_utf8(e2.canonical_bytes().unwrap()).unwrap();
    assert!(s2.contains(r#""hasNumericalValue":2,"#), "{s2}");
}

#[test]
fn events_are_validated() {
    let mut e = work(1, "urn:trama:pseudonym:aa", "urn:trama:pseudonym:bb", 1.0);
    e.effort_quantity = None;
    assert!(
        matches!(e.validate(), Err(LedgerError::Invalid { field, .. }) if field == "resourceQuantity")
    );
    let mut e = work(1, "urn:trama:pseudonym:aa", "urn:trama:pseudonym:bb", 1.0);
    e.has_point_in_time = "2026-01-01T10:00:00+01:00".into();
    assert!(e.validate().is_err(), "times are stored in UTC");
    let mut e = work(1, "not an iri", "urn:trama:pseudonym:bb", 1.0);
    assert!(e.validate().is_err());
    e.provider = "urn:x:y".into();
    e.effort_quantity = Some(Measure {
        value: -1.0,
        unit: Unit::Hour,
    });
    assert!(e.validate().is_err());
    assert!(
        Measure::new(10.005, Unit::Euro).is_err(),
        "euros in whole cents"
    );
    assert!(Measure::new(10.05, Unit::Euro).is_ok());
    assert!(Measure::new(f64::NAN, Unit::Kilogram).is_err());
}

#[test]
fn actions_match_the_valueflows_vocabulary() {
    let p = trama_testkit::require_shared_data().join("valueflows/actions.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), 19);
    assert_eq!(Action::ALL.len(), 19);
    let effect = |s: &str| -> String {
        match s {
            "increment" => "Increment",
            "decrement" => "Decrement",
            "decrementIncrement" => "DecrementIncrement",
            "incrementTo" => "IncrementTo",
            "notApplicable" => "NotApplicable",
            other => panic!("effect {other} not modelled"),
        }
        .to_string()
    };
    for (name, a) in obj {
        let ours = Action::parse(name).unwrap_or_else(|| panic!("action {name} missing"));
        assert_eq!(ours.name(), name);
        assert_eq!(
            ours.input_output(),
            a["inputOutput"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            format!("{:?}", ours.accounting_effect()),
            effect(a["accountingEffect"].as_str().unwrap()),
            "{name}"
        );
        assert_eq!(
            format!("{:?}", ours.onhand_effect()),
            effect(a["onhandEffect"].as_str().unwrap()),
            "{name}"
        );
    }
}

#[test]
fn valueflows_examples_of_single_events_import() {
    let dir = trama_testkit::require_shared_data().join("valueflows/examples");
    let fallback = datetime!(2026-01-01 00:00 UTC);
    let (mut imported, mut refused, mut single) = (0, Vec::new(), 0);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for p in names {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("ex-") || !name.ends_with(".json") {
            continue;
        }
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let nodes: Vec<&Value> = match &doc {
            Value::Array(a) => a.iter().collect(),
            _ => doc["@graph"]
                .as_array()
                .map(|g| g.iter().collect())
                .unwrap_or_default(),
        };
        let n_events = nodes
            .iter()
            .filter(|n| n["@type"] == "EconomicEvent")
            .count();
        match events_from_valueflows(&doc, "urn:trama:territory:test", fallback) {
            Ok(evs) => {
                assert_eq!(evs.len(), n_events, "{name}");
                for e in &evs {
                    let b = e.canonical_bytes().unwrap();
                    assert_eq!(&EconomicEvent::from_canonical_bytes(&b).unwrap(), e);
                }
                imported += evs.len();
                if n_events == 1 {
                    single += 1;
                }
            }
            Err(e) => refused.push(format!("{name}: {e}")),
        }
    }
    eprintln!(
        "ValueFlows examples: {imported} events imported, {single} single-event examples; refused: {refused:#?}"
    );
    // Every example that describes a single event imports.
    assert!(single >= 4, "{single} single-event examples imported");
    // Those refused name the node and the reason (units such as gallon-US or metre).
    for r in &refused {
        assert!(r.contains("@graph["), "{r}");
    }
}

#[test]
fn single_digit_offsets_are_read_as_what_they_mean() {
    let t = parse_point_in_time("2019-04-18T08:30:08-5:00").unwrap();
    assert_eq!(t, datetime!(2019-04-18 13:30:08 UTC));
    assert_eq!(parse_point_in_time("2019-04-18T08:30:08-05:00").unwrap(), t);
    assert!(parse_point_in_time("2019-04-18T08:30:08-5:0").is_err());
    assert!(parse_point_in_time("yesterday").is_err());
}

fn tree_of(events: &[EconomicEvent]) -> (MemoryTree, Vec<Vec<u8>>) {
    let mut t = MemoryTree::new();
    let mut entries = Vec::new();
    for e in events {
        let b = e.canonical_bytes().unwrap();
        t.push_leaf(leaf_hash(&b));
        entries.push(b);
    }
    (t, entries)
}

#[test]
fn the_signer_refuses_an_inconsistent_checkpoint() {
    let events: Vec<_> = (0..20)
        .map(|i| work(i, "urn:trama:pseudonym:aa", "urn:trama:pseudonym:bb", 1.0))
        .collect();
    let (t, _) = tree_of(&events);
    let mut s = CheckpointSigner::new(signer(), None);
    s.sign(Checkpoint::new(ORIGIN, 10, t.root_at(10).unwrap()), &[])
        .unwrap();
    // Growing consistently is signed.
    let p = t.consistency_proof(10, 15).unwrap();
    s.sign(Checkpoint::new(ORIGIN, 15, t.root_at(15).unwrap()), &p)
        .unwrap();
    // A history rewritten under the node: entry 3 changed.
    let mut other = events.clone();
    other[3].note = Some("rewritten".into());
    let (t2, _) = tree_of(&other);
    let p2 = t2.consistency_proof(15, 20).unwrap();
    let err = s
        .sign(Checkpoint::new(ORIGIN, 20, t2.root_at(20).unwrap()), &p2)
        .unwrap_err();
    assert!(matches!(err, LedgerError::Inconsistent(_)), "{err}");
    // Shrinking, or the same size with another root, is refused too.
    assert!(
        s.sign(Checkpoint::new(ORIGIN, 12, t.root_at(12).unwrap()), &[])
            .is_err()
    );
    assert!(
        s.sign(Checkpoint::new(ORIGIN, 15, t2.root_at(15).unwrap()), &[])
            .is_err()
    );
    // And the honest continuation still is signed.
    let p = t.consistency_proof(15, 20).unwrap();
    s.sign(Checkpoint::new(ORIGIN, 20, t.root_at(20).unwrap()), &p)
        .unwrap();
    assert_eq!(s.last().unwrap().size, 20);
}

fn signed_log(n: u32) -> (Vec<Vec<u8>>, Vec<Hash>, Vec<String>, MemoryTree) {
    let events: Vec<_> = (0..n)
        .map(|i| {
            work(
                i,
                &format!("urn:trama:pseudonym:{:032x}", i % 3),
                "urn:trama:pseudonym:bb",
                1.0 + (i % 4) as f64,
            )
        })
        .collect();
    let (t, entries) = tree_of(&events);
    let mut s = CheckpointSigner::new(signer(), None);
    let mut notes = Vec::new();
    let mut last = 0;
    for size in [5u64, 17, 40, n as u64] {
        let p = if last == 0 {
            vec![]
        } else {
            t.consistency_proof(last, size).unwrap()
        };
        notes.push(
            s.sign(Checkpoint::new(ORIGIN, size, t.root_at(size).unwrap()), &p)
                .unwrap(),
        );
        last = size;
    }
    let leaves = (0..t.size()).map(|i| t.leaf(i).unwrap()).collect();
    (entries, leaves, notes, t)
}

#[test]
fn verify_log_names_the_flipped_entry_for_any_byte() {
    let (entries, leaves, notes, _) = signed_log(50);
    let key = signer().verifier();
    let r = verify_log(ORIGIN, &key, &entries, Some(&leaves), &notes).unwrap();
    assert_eq!((r.entries, r.checkpoints, r.latest_size), (50, 4, 50));
    // Flip every byte of a few entries in turn, one at a time.
    for index in [0usize, 4, 5, 16, 33, 49] {
        for pos in 0..entries[index].len() {
            let mut bad = entries.clone();
            bad[index][pos] ^= 0x01;
            let err = verify_log(ORIGIN, &key, &bad, Some(&leaves), &notes).unwrap_err();
            assert_eq!(
                match err {
                    LogProblem::BadEntry { index, .. } => index as usize,
                    ref other => panic!("{other}"),
                },
                index,
                "byte {pos} of entry {index}: {err}"
            );
        }
    }
    // Without the stored leaf hashes a flip is still caught, inside the checkpoint's range.
    let mut bad = entries.clone();
    let pos = bad[20].iter().position(|&b| b == b'h').unwrap();
    bad[20][pos] = b'H'; // still JSON, no longer a unit we know
    assert!(verify_log(ORIGIN, &key, &bad, None, &notes).is_err());
    // A checkpoint signed by another key, or a missing entry, is named.
    let other = NoteSigner::from_seed(ORIGIN, [9u8; 32]).unwrap();
    let forged = other
        .sign(&Checkpoint::new(ORIGIN, 50, Hash([0; 32])).text())
        .unwrap();
    let mut n2 = notes.clone();
    n2.push(forged);
    assert!(matches!(
        verify_log(ORIGIN, &key, &entries, None, &n2),
        Err(LogProblem::BadCheckpoint { position: 4, .. })
    ));
    assert!(matches!(
        verify_log(ORIGIN, &key, &entries[..45], None, &notes),
        Err(LogProblem::MissingEntries { .. })
    ));
}

#[test]
fn statements_verify_offline_and_catch_tampering() {
    let (entries, _, notes, t) = signed_log(50);
    let agent = format!("urn:trama:pseudonym:{:032x}", 1);
    let mine: Vec<StatementEntry> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| std::str::from_utf8(e).unwrap().contains(&agent))
        .map(|(i, e)| StatementEntry {
            index: i as u64,
            entry: String::from_utf8(e.clone()).unwrap(),
            proof: t
                .inclusion_proof(i as u64, 50)
                .unwrap()
                .iter()
                .map(|h| base64_encode(&h.0))
                .collect(),
        })
        .collect();
    assert!(mine.len() > 10);
    let history = [5u64, 17, 40]
        .iter()
        .zip(&notes)
        .map(|(&size, note)| EarlierCheckpoint {
            checkpoint: note.clone(),
            consistency: t
                .consistency_proof(size, 50)
                .unwrap()
                .iter()
                .map(|h| base64_encode(&h.0))
                .collect(),
        })
        .collect();
    let st = Statement {
        format: FORMAT.into(),
        origin: ORIGIN.into(),
        agent: agent.clone(),
        checkpoint: notes[3].clone(),
        entries: mine,
        history,
    };
    let key = signer().verifier();
    let r = verify_statement(&st, &key).unwrap();
    assert_eq!(r.entries, st.entries.len());
    assert!(r.credits.hours_given > 0.0);
    // Another key: refused.
    let other = NoteSigner::from_seed(ORIGIN, [9u8; 32]).unwrap().verifier();
    assert!(verify_statement(&st, &other).is_err());
    // An entry edited: refused, naming it.
    let mut bad = st.clone();
    bad.entries[2].entry = bad.entries[2]
        .entry
        .replace("\"hasNumericalValue\":", "\"hasNumericalValue\":1");
    let err = verify_statement(&bad, &key).unwrap_err().to_string();
    assert!(err.contains("entries[2]"), "{err}");
    // An entry moved to another index: refused.
    let mut bad = st.clone();
    bad.entries[0].index += 1;
    assert!(verify_statement(&bad, &key).is_err());
    // An entry about someone else: refused.
    let mut bad = st.clone();
    bad.agent = "urn:trama:pseudonym:ffffffffffffffffffffffffffffffff".into();
    assert!(verify_statement(&bad, &key).is_err());
    // A corrupted consistency proof: refused as a rewrite.
    let mut bad = st.clone();
    bad.history[1].consistency[0] = base64_encode(&[0u8; 32]);
    assert!(
        verify_statement(&bad, &key)
            .unwrap_err()
            .to_string()
            .contains("rewritten")
    );
}

#[test]
fn credits_and_flows() {
    let a = "urn:trama:pseudonym:aa";
    let b = "urn:trama:pseudonym:bb";
    let mut evs = vec![work(1, a, b, 2.0), work(2, a, b, 1.5), work(3, b, a, 1.0)];
    // A deliverService beside a work event adds no credits.
    let mut ds = work(4, a, b, 1.0);
    ds.action = Action::DeliverService;
    ds.effort_quantity = None;
    ds.resource_quantity = Some(Measure::new(1.0, Unit::One).unwrap());
    evs.push(ds);
    let c = credits_of(a, evs.iter());
    assert_eq!(
        (c.hours_given, c.hours_received, c.balance()),
        (3.5, 1.0, 2.5)
    );
    let (by, total) = all_credits(evs.iter());
    assert_eq!(by[b].hours_received, 3.5);
    assert_eq!(total.hours_given, 4.5);

    let energy = |i: u32, action: Action, kwh: f64| EconomicEvent {
        id: format!("urn:uuid:e-{i}"),
        action,
        provider: "urn:trama:organization:cer".into(),
        receiver: "urn:trama:organization:cer".into(),
        resource_conforms_to: Some("urn:trama:resource:energy".into()),
        resource_quantity: Some(Measure::new(kwh, Unit::KilowattHour).unwrap()),
        effort_quantity: None,
        has_point_in_time: "2026-03-05T12:00:00Z".into(),
        in_scope_of: "urn:trama:territory:milano".into(),
        at_location: None,
        note: None,
    };
    let evs = [
        energy(1, Action::Produce, 120.0),
        energy(2, Action::Transfer, 80.0),
        energy(3, Action::Consume, 30.5),
    ];
    let f = flows(evs.iter());
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].inflow, f[0].transferred, f[0].outflow, f[0].balance()),
        (120.0, 80.0, 30.5, 89.5)
    );
    assert_eq!(f[0].period, "2026-03");
}

#[test]
fn tiles_serve_the_tree() {
    let mut t = MemoryTree::new();
    let entries: Vec<Vec<u8>> = (0..70_000u32)
        .map(|i| format!("entry {i}").into_bytes())
        .collect();
    for e in &entries {
        t.push_leaf(leaf_hash(e));
    }
    // Level 1 tile 0: the roots of the first 256 full level-0 tiles... of which 273 exist.
    let l1 =
        parse_tile_hashes(&tile_hashes(&Tile::hashes(1, 0, 256), t.hashes()).unwrap()).unwrap();
    for (i, h) in l1.iter().enumerate().take(5) {
        let lo = i as u64 * 256;
        assert_eq!(
            *h,
            trama_ledger::merkle::subtree_hash(lo, lo + 256, t.hashes()).unwrap()
        );
    }
    // A partial level-0 tile of width 112 at index 273 (the spec's example size 70,000).
    assert_eq!(trama_ledger::tiles::partial_width(0, 70_000), 112);
    assert_eq!(trama_ledger::tiles::partial_width(1, 70_000), 17);
    assert_eq!(trama_ledger::tiles::partial_width(2, 70_000), 1);
    let p =
        parse_tile_hashes(&tile_hashes(&Tile::hashes(0, 273, 112), t.hashes()).unwrap()).unwrap();
    assert_eq!(p[0], leaf_hash(&entries[273 * 256]));
    let bundle = entry_bundle(entries[256..512].iter().map(Vec::as_slice)).unwrap();
    assert_eq!(
        parse_entry_bundle(&bundle).unwrap(),
        entries[256..512].to_vec()
    );
    assert!(trama_ledger::tiles::tile_exists(
        &Tile::hashes(0, 272, 256),
        70_000
    ));
    assert!(!trama_ledger::tiles::tile_exists(
        &Tile::hashes(0, 273, 256),
        70_000
    ));
    assert!(trama_ledger::tiles::tile_exists(
        &Tile::hashes(0, 273, 112),
        70_000
    ));
    assert!(!trama_ledger::tiles::tile_exists(
        &Tile::hashes(0, 273, 113),
        70_000
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    // Parsers fed arbitrary bytes return errors, never panic.
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let key = signer().verifier();
        let _ = trama_ledger::note::open(&bytes, std::slice::from_ref(&key));
        let s = String::from_utf8_lossy(&bytes);
        let _ = Checkpoint::parse(&s);
        let _ = trama_ledger::checkpoint::open_checkpoint(&bytes, ORIGIN, &key, &[]);
        let _ = Tile::parse_path(&s);
        let _ = Tile::parse_go_path(&s);
        let _ = parse_entry_bundle(&bytes);
        let _ = parse_tile_hashes(&bytes);
        let _ = EconomicEvent::from_canonical_bytes(&bytes);
        let _ = trama_ledger::note::NoteVerifier::parse(&s);
        let _ = NoteSigner::parse(&s);
        let _ = parse_point_in_time(&s);
    }

    // Structured inputs near the valid forms exercise deeper branches.
    #[test]
    fn near_valid_inputs_never_panic(
        origin in "[a-z./]{0,12}", size in "[0-9x-]{0,22}", root in "[A-Za-z0-9+/=]{0,48}",
        level in "[0-9a-z]{0,3}", idx in "(x[0-9]{3}/){0,3}[0-9]{0,4}", w in "(\\.p/[0-9]{0,4})?",
    ) {
        let _ = Checkpoint::parse(&format!("{origin}\n{size}\n{root}\n"));
        let _ = Tile::parse_path(&format!("tile/{level}/{idx}{w}"));
        let _ = Tile::parse_go_path(&format!("tile/8/{level}/{idx}{w}"));
    }

    // Any tree size and index: proofs from the stored hashes verify.
    #[test]
    fn proofs_verify_for_random_sizes(n in 1u64..600, seed in any::<u64>()) {
        let mut t = MemoryTree::new();
        for i in 0..n {
            t.push_leaf(leaf_hash(&(i ^ seed).to_be_bytes()));
        }
        let index = seed % n;
        let size = index + 1 + (seed >> 20) % (n - index);
        let root = t.root_at(size).unwrap();
        let p = t.inclusion_proof(index, size).unwrap();
        prop_assert!(trama_ledger::merkle::verify_inclusion(index, size, t.leaf(index).unwrap(), &p, root).is_ok());
        let m = 1 + (seed >> 7) % size;
        let c = t.consistency_proof(m, size).unwrap();
        prop_assert!(trama_ledger::merkle::verify_consistency(m, size, &c, t.root_at(m).unwrap(), root).is_ok());
        prop_assert_eq!(root, trama_ledger::merkle::root_of_leaves(&(0..size).map(|i| t.leaf(i).unwrap()).collect::<Vec<_>>()));
    }
}
