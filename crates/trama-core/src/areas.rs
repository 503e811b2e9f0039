//! Territorial areas (Milan's Municipi and NIL neighbourhoods, or any municipality's own):
//! their shapes, and which area a point falls in. Areas are territory data imported from open
//! data (`trama areas import`); [`MILANO_MUNICIPI`] is the small table Trama carries so the demo
//! runs where no open data is at hand.

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::geo::Coordinates;

/// A polygon: an outer ring and holes, each ring a list of (lon, lat) as GeoJSON writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Polygon(pub Vec<Vec<[f64; 2]>>);

fn ring_contains(ring: &[[f64; 2]], lon: f64, lat: f64) -> bool {
    // Even-odd rule.
    let mut inside = false;
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = (ring[i][0], ring[i][1]);
        let (xj, yj) = (ring[j][0], ring[j][1]);
        if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

impl Polygon {
    pub fn contains(&self, c: &Coordinates) -> bool {
        let Some(outer) = self.0.first() else {
            return false;
        };
        ring_contains(outer, c.lon(), c.lat())
            && !self.0[1..]
                .iter()
                .any(|hole| ring_contains(hole, c.lon(), c.lat()))
    }

    /// The centroid of the outer ring (area-weighted).
    pub fn centroid(&self) -> Option<Coordinates> {
        let ring = self.0.first()?;
        let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
        for w in ring.windows(2) {
            let cross = w[0][0] * w[1][1] - w[1][0] * w[0][1];
            a += cross;
            cx += (w[0][0] + w[1][0]) * cross;
            cy += (w[0][1] + w[1][1]) * cross;
        }
        if a.abs() < 1e-12 {
            return None;
        }
        Coordinates::new(cy / (3.0 * a), cx / (3.0 * a)).ok()
    }

    /// (min_lon, min_lat, max_lon, max_lat).
    pub fn bounds(&self) -> [f64; 4] {
        let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for p in self.0.iter().flatten() {
            b[0] = b[0].min(p[0]);
            b[1] = b[1].min(p[1]);
            b[2] = b[2].max(p[0]);
            b[3] = b[3].max(p[1]);
        }
        b
    }
}

/// A territorial area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Area {
    /// `municipio`, `nil`, or another kind the territory uses.
    pub kind: String,
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub population: Option<i64>,
    pub centroid: Option<Coordinates>,
    /// Empty when only the centroid is known.
    pub polygons: Vec<Polygon>,
    /// Public facts shown on the area's page (`area_km2`, ...), as JSON.
    pub facts: Option<serde_json::Value>,
}

impl Area {
    pub fn contains(&self, c: &Coordinates) -> bool {
        self.polygons.iter().any(|p| p.contains(c))
    }
}

/// Reads areas from a GeoJSON FeatureCollection of Polygon/MultiPolygon features. The code and
/// name come from the first property present among the usual open-data names (Milan's
/// `ID_NIL`/`NIL`, `MUNICIPIO`), or `code`/`name`.
pub fn areas_from_geojson(
    doc: &serde_json::Value,
    kind: Option<&str>,
) -> Result<Vec<Area>, FieldError> {
    let features = doc
        .get("features")
        .and_then(|f| f.as_array())
        .ok_or_else(|| FieldError::new("features", "is not a GeoJSON FeatureCollection"))?;
    let mut out = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let props = f.get("properties").cloned().unwrap_or_default();
        let pick = |keys: &[&str]| {
            keys.iter().find_map(|k| {
                props.get(*k).and_then(|v| match v {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
            })
        };
        let guessed = if props.get("ID_NIL").is_some() {
            "nil"
        } else if props.get("MUNICIPIO").is_some() {
            "municipio"
        } else {
            "area"
        };
        let kind = kind.unwrap_or(guessed).to_string();
        let code = pick(&["ID_NIL", "MUNICIPIO", "code", "id", "CODICE"]).ok_or_else(|| {
            FieldError::new(
                format!("features[{i}].properties"),
                "has no code (ID_NIL, MUNICIPIO, code)",
            )
        })?;
        let name = pick(&["NIL", "name", "NOME", "nome"]).unwrap_or_else(|| match kind.as_str() {
            "municipio" => format!("Municipio {code}"),
            _ => format!("{kind} {code}"),
        });
        let geom = f
            .get("geometry")
            .ok_or_else(|| FieldError::new(format!("features[{i}].geometry"), "is missing"))?;
        let coords = geom.get("coordinates").cloned().unwrap_or_default();
        let polygons: Vec<Polygon> = match geom.get("type").and_then(|t| t.as_str()) {
            Some("Polygon") => {
                vec![serde_json::from_value(coords).map_err(|e| {
                    FieldError::new(format!("features[{i}].geometry"), e.to_string())
                })?]
            }
            Some("MultiPolygon") => serde_json::from_value(coords)
                .map_err(|e| FieldError::new(format!("features[{i}].geometry"), e.to_string()))?,
            other => {
                return Err(FieldError::new(
                    format!("features[{i}].geometry.type"),
                    format!("{other:?} is not a Polygon or MultiPolygon"),
                ));
            }
        };
        let centroid = polygons.first().and_then(|p| p.centroid());
        out.push(Area {
            kind,
            code,
            name,
            parent_code: None,
            population: None,
            centroid,
            polygons,
            facts: None,
        });
    }
    Ok(out)
}

/// Milan's nine Municipi: name, centroid (approximate), residents (ISTAT, about 2021) and area in km².
pub const MILANO_MUNICIPI: [(&str, &str, f64, f64, i64, f64); 9] = [
    (
        "1",
        "Municipio 1 – Centro storico",
        45.4654,
        9.1866,
        97_000,
        9.67,
    ),
    (
        "2",
        "Municipio 2 – Stazione Centrale, Gorla, Turro, Greco, Crescenzago",
        45.4990,
        9.2180,
        160_000,
        12.58,
    ),
    (
        "3",
        "Municipio 3 – Città Studi, Lambrate, Venezia",
        45.4830,
        9.2350,
        142_000,
        14.23,
    ),
    (
        "4",
        "Municipio 4 – Vittoria, Forlanini",
        45.4470,
        9.2320,
        160_000,
        20.95,
    ),
    (
        "5",
        "Municipio 5 – Vigentino, Chiaravalle, Gratosoglio",
        45.4280,
        9.1900,
        125_000,
        29.87,
    ),
    (
        "6",
        "Municipio 6 – Barona, Lorenteggio",
        45.4420,
        9.1440,
        150_000,
        18.28,
    ),
    (
        "7",
        "Municipio 7 – Baggio, De Angeli, San Siro",
        45.4640,
        9.1160,
        175_000,
        31.34,
    ),
    (
        "8",
        "Municipio 8 – Fiera, Gallaratese, Quarto Oggiaro",
        45.4960,
        9.1450,
        188_000,
        23.72,
    ),
    (
        "9",
        "Municipio 9 – Stazione Garibaldi, Niguarda",
        45.5100,
        9.1850,
        185_000,
        21.12,
    ),
];

/// The fallback table as areas (centroids only).
pub fn milano_municipi() -> Vec<Area> {
    MILANO_MUNICIPI
        .iter()
        .map(|(code, name, lat, lon, pop, km2)| Area {
            kind: "municipio".into(),
            code: (*code).into(),
            name: (*name).into(),
            parent_code: None,
            population: Some(*pop),
            centroid: Coordinates::new(*lat, *lon).ok(),
            polygons: vec![],
            facts: Some(serde_json::json!({ "area_km2": km2 })),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_holds_its_middle_not_its_hole() {
        let outer = vec![[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0], [0.0, 0.0]];
        let hole = vec![[0.5, 0.5], [1.0, 0.5], [1.0, 1.0], [0.5, 1.0], [0.5, 0.5]];
        let p = Polygon(vec![outer, hole]);
        assert!(p.contains(&Coordinates::new(1.5, 1.5).unwrap()));
        assert!(!p.contains(&Coordinates::new(0.75, 0.75).unwrap()));
        assert!(!p.contains(&Coordinates::new(3.0, 1.0).unwrap()));
        let c = Polygon(vec![p.0[0].clone()]).centroid().unwrap();
        assert!((c.lat() - 1.0).abs() < 1e-9 && (c.lon() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_fallback_has_nine_municipi() {
        let m = milano_municipi();
        assert_eq!(m.len(), 9);
        assert_eq!(
            m.iter().map(|a| a.population.unwrap()).sum::<i64>(),
            1_382_000
        );
    }
}
