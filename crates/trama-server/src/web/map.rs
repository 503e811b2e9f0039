//! The maps of the pages: numbered places over the territory's own areas, drawn here as SVG
//! (readable without scripts and without internet) and handed to Leaflet as the same data,
//! with tiles on top only where the territory configured them.

use serde_json::{Value, json};
use trama_core::basemap::{DrawnArea, Frame, draw_areas};
use trama_core::geo::Coordinates;

use crate::service_error::ServiceResult;
use crate::state::AppState;

/// A numbered place on a map.
pub struct MapPoint {
    pub lat: f64,
    pub lon: f64,
    pub n: usize,
    pub name: String,
    /// Where the place's page is, when it has one.
    pub url: Option<String>,
}

/// A map as a page shows it.
pub struct MapView {
    /// The areas in view, neighbourhoods where the territory has them, else Municipi.
    pub areas: Vec<DrawnArea>,
    /// Each point: x, y, its number, its name.
    pub points: Vec<(f64, f64, usize, String)>,
    /// The place searched from, when there is one.
    pub centre: Option<(f64, f64)>,
    /// The same, for Leaflet (`data-map`).
    pub json: String,
}

/// The map of `points` (and the place searched from): a frame around them at least
/// `min_span_km` across, the territory's areas in it; with neither, the territory around the
/// centre its configuration names.
pub async fn map_view(
    state: &AppState,
    points: &[MapPoint],
    centre: Option<Coordinates>,
    min_span_km: f64,
) -> ServiceResult<MapView> {
    let mut all: Vec<(f64, f64)> = points.iter().map(|p| (p.lat, p.lon)).collect();
    if let Some(c) = centre {
        all.push((c.lat(), c.lon()));
    }
    let default = json!([
        state.config.map.center_lat,
        state.config.map.center_lon,
        state.config.map.zoom
    ]);
    // No place to show (a search with no place named): the territory around its centre.
    let centre_of_territory = (state.config.map.center_lat, state.config.map.center_lon);
    let Some(frame) =
        Frame::around(&all, min_span_km).or_else(|| Frame::around(&[centre_of_territory], 12.0))
    else {
        return Ok(MapView {
            areas: vec![],
            points: vec![],
            centre: None,
            json: json!({"points": [], "default": default}).to_string(),
        });
    };
    let territory = crate::territory::areas(state).await?;
    let (nils, municipi) = (&territory.0, &territory.1);
    let mut areas = draw_areas(&frame, nils);
    if areas.is_empty() {
        areas = draw_areas(&frame, municipi);
    }
    let features: Vec<Value> = areas
        .iter()
        .filter(|a| !a.rings.is_empty())
        .map(|a| {
            json!({"type": "Feature", "properties": {"name": a.name},
                   "geometry": {"type": "Polygon", "coordinates": a.rings}})
        })
        .collect();
    let json = json!({
        "centre": centre.map(|c| [c.lat(), c.lon()]),
        "points": points.iter().map(|p| json!({"lat": p.lat, "lon": p.lon, "name": p.name, "n": p.n, "url": p.url})).collect::<Vec<_>>(),
        "areas": {"type": "FeatureCollection", "features": features},
        "default": default,
    })
    .to_string();
    Ok(MapView {
        points: points
            .iter()
            .map(|p| {
                let (x, y) = frame.xy(p.lat, p.lon);
                (x, y, p.n, p.name.clone())
            })
            .collect(),
        centre: centre.map(|c| frame.xy(c.lat(), c.lon())),
        areas,
        json,
    })
}
