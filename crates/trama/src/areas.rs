//! `trama areas import` and `trama places import`: a municipality's areas (GeoJSON polygons)
//! and its address gazetteer (CSV), from its own open data.

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

/// `trama places import`: an address gazetteer from CSV (street, number, lat, lon). All or
/// nothing; a bad row is named by file and line.
pub async fn import_places(state: &AppState, file: &Path) -> Result<u64> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let places = trama_core::places::parse_gazetteer(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    Ok(trama_server::directory::service::import_places(state, &places).await?)
}
