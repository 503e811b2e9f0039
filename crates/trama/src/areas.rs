//! `trama areas import`: a municipality's areas from its own open data (GeoJSON polygons).

use anyhow::{Context, Result};
use std::path::Path;

use trama_server::AppState;

pub async fn import_geojson(state: &AppState, file: &Path, kind: Option<&str>) -> Result<usize> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let areas = trama_core::areas::areas_from_geojson(&doc, kind)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    trama_server::directory::service::import_areas(state, &areas).await?;
    Ok(areas.len())
}
