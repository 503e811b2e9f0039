//! The binary works through the server's services; only `main.rs` opens the store (wiring).
//! The demo's loaders and the benchmarks included: they act as the territory's people do.

use std::path::Path;

fn uses_the_store(text: &str) -> bool {
    let squeezed: String = text.split_whitespace().collect();
    squeezed.contains("trama_store") || squeezed.contains(".store.")
}

#[test]
fn the_cli_goes_through_the_services() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut checked = 0;
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !name.ends_with(".rs") || name == "main.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !uses_the_store(&text),
            "{name} calls the store: go through trama_server's services"
        );
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
}

#[test]
fn the_check_sees_a_store_call() {
    assert!(uses_the_store("let x = state\n    .store\n    .user(id)"));
    assert!(uses_the_store("use trama_store::NewUser;"));
    assert!(!uses_the_store(
        "trama_server::accounts::service::create_account(state)"
    ));
}
