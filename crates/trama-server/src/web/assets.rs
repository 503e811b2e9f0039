//! Static files, built into the binary: our CSS and script, and Leaflet when `web/node_modules`
//! held it at build time (see build.rs). Without Leaflet the map stays the server-drawn SVG.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/leaflet_assets.rs"));

const TRAMA_CSS: &[u8] = include_bytes!("../../static/trama.css");
const MAP_JS: &[u8] = include_bytes!("../../static/map.js");
const FAVICON: &[u8] = include_bytes!("../../static/favicon.svg");

/// `/favicon.ico`, which browsers ask for whatever the page says: the same icon.
pub async fn favicon() -> Response {
    serve(Path("favicon.svg".to_string())).await
}

pub async fn serve(Path(path): Path<String>) -> Response {
    let (body, ctype): (&'static [u8], &str) = match path.as_str() {
        "trama.css" => (TRAMA_CSS, "text/css; charset=utf-8"),
        "map.js" => (MAP_JS, "text/javascript; charset=utf-8"),
        "favicon.svg" => (FAVICON, "image/svg+xml"),
        other => match LEAFLET.iter().find(|(name, _)| *name == other) {
            Some((name, bytes)) => {
                let ctype = if name.ends_with(".js") {
                    "text/javascript; charset=utf-8"
                } else if name.ends_with(".css") {
                    "text/css; charset=utf-8"
                } else {
                    "image/png"
                };
                (*bytes, ctype)
            }
            None => return (StatusCode::NOT_FOUND, "not found").into_response(),
        },
    };
    (
        [
            (header::CONTENT_TYPE, ctype),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
