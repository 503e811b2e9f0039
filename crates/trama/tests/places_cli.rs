//! `trama places import` reads a territory's address gazetteer: all of it, or none with the
//! file and line at fault.

use std::process::Command;

fn trama(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trama"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("run trama")
}

#[test]
fn a_gazetteer_imports_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "street,number,lat,lon\nVia Torino,43,45.4612,9.1860\nVia Torino,45,north,9.1859\n",
    )
    .unwrap();
    let out = trama(&data, &["places", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv") && err.contains("line 3: lat"),
        "{err}"
    );
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "street,number,lat,lon\nVia Torino,43,45.4612,9.1860\nVia Torino,45,45.4611,9.1859\n",
    )
    .unwrap();
    let out = trama(&data, &["places", "import", good.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Imported 2 addresses"));
}
