//! `trama match` solves an instance file offline and prints the assignment as JSON; bad input
//! gets a message that names the field, and a failing exit status.

use std::process::Command;

fn trama(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trama"))
        .args(args)
        .output()
        .expect("run trama")
}

#[test]
fn solves_a_generated_instance_and_reports_greedy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("instance.json");
    let out = trama(&[
        "match-instance",
        "--needs",
        "300",
        "--offers",
        "900",
        "--seed",
        "7",
    ]);
    assert!(out.status.success());
    std::fs::write(&path, &out.stdout).unwrap();
    let out = trama(&["match", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["needs"], 300);
    let covered = v["objective"]["covered_units"].as_u64().unwrap();
    assert_eq!(v["assignments"].as_array().unwrap().len() as u64, covered);
    assert!(covered > 0);
    let greedy = v["greedy"]["objective"]["covered_weight"].as_u64().unwrap();
    assert!(v["objective"]["covered_weight"].as_u64().unwrap() >= greedy);
    // Exact for the instance with every candidate kept: never worse than with a cap.
    let all = trama(&[
        "match",
        path.to_str().unwrap(),
        "--max-candidates",
        "0",
        "--greedy",
        "false",
    ]);
    let w: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    assert!(w["objective"]["covered_weight"].as_u64() >= v["objective"]["covered_weight"].as_u64());
    assert!(w.get("greedy").is_none());
}

#[test]
fn a_bad_instance_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(
        &path,
        r#"{"needs": [], "offers": [{"id": "o", "lat": 45.4, "lon": 9.1, "radius_km": -1,
            "categories": ["H1"], "hours_per_week": 2}]}"#,
    )
    .unwrap();
    let out = trama(&["match", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("offers[0].radius_km"), "{err}");
}
