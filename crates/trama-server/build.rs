//! Embeds Leaflet from `web/node_modules/leaflet/dist` when it is there (after `npm ci` in
//! `web/`). Without it the binary still builds; the map is then the server-drawn SVG only.

use std::path::Path;

fn main() {
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/node_modules/leaflet/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let files = [
        ("leaflet/leaflet.js", "leaflet.js"),
        ("leaflet/leaflet.css", "leaflet.css"),
        ("leaflet/images/marker-icon.png", "images/marker-icon.png"),
        (
            "leaflet/images/marker-icon-2x.png",
            "images/marker-icon-2x.png",
        ),
        (
            "leaflet/images/marker-shadow.png",
            "images/marker-shadow.png",
        ),
    ];
    let mut code = String::from(
        "/// Leaflet's files, by the path they are served under /static/.\npub static LEAFLET: &[(&str, &[u8])] = &[\n",
    );
    for (served, file) in files {
        let p = dist.join(file);
        if p.exists() {
            code.push_str(&format!(
                "    ({served:?}, include_bytes!({:?})),\n",
                p.canonicalize().expect("path").display().to_string()
            ));
        }
    }
    code.push_str("];\n");
    std::fs::write(Path::new(&out).join("leaflet_assets.rs"), code)
        .expect("write leaflet_assets.rs");
}
