//! Territorial areas.

use sqlx::Row;
use trama_core::areas::{Area, Polygon};
use trama_core::geo::Coordinates;

use crate::{Result, Store, StoreError, parse_json};

impl Store {
    /// Writes areas (replacing those of the same kind and code), in one transaction.
    pub async fn put_areas(&self, areas: &[Area]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        for a in areas {
            sqlx::query(
                "INSERT INTO areas (id, kind, code, name, parent_code, population, latitude, longitude, geometry, facts) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (kind, code) DO UPDATE SET \
                 name = excluded.name, parent_code = excluded.parent_code, population = COALESCE(excluded.population, areas.population), \
                 latitude = excluded.latitude, longitude = excluded.longitude, \
                 geometry = COALESCE(excluded.geometry, areas.geometry), facts = COALESCE(excluded.facts, areas.facts)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(a.kind.clone())
            .bind(a.code.clone())
            .bind(a.name.clone())
            .bind(a.parent_code.clone())
            .bind(a.population)
            .bind(a.centroid.map(|c| c.lat()))
            .bind(a.centroid.map(|c| c.lon()))
            .bind(if a.polygons.is_empty() { None } else { Some(serde_json::to_string(&a.polygons).expect("serialisable")) })
            .bind(a.facts.as_ref().map(|f| f.to_string()))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The areas of one kind, by code.
    pub async fn areas(&self, kind: &str) -> Result<Vec<Area>> {
        let rows = sqlx::query(
            "SELECT kind, code, name, parent_code, population, latitude, longitude, geometry, facts FROM areas WHERE kind = $1",
        )
        .bind(kind.to_string())
        .fetch_all(&self.read)
        .await?;
        // A stored area was checked when written: a centroid, geometry or facts that no longer
        // read is a corrupt row, named, never an area without its shape.
        let mut out: Vec<Area> =
            rows.iter()
                .map(|r| {
                    let code: String = r.get(1);
                    let centroid = match (r.get::<Option<f64>, _>(5), r.get::<Option<f64>, _>(6)) {
                        (Some(lat), Some(lon)) => Some(Coordinates::new(lat, lon).map_err(
                            |_| StoreError::CorruptId {
                                what: "area centroid",
                                value: format!("{code}: {lat}, {lon}"),
                            },
                        )?),
                        _ => None,
                    };
                    let polygons: Vec<Polygon> = match r.get::<Option<String>, _>(7) {
                        Some(g) => parse_json("area geometry", &code, &g)?,
                        None => vec![],
                    };
                    let facts = match r.get::<Option<String>, _>(8) {
                        Some(f) => Some(parse_json("area facts", &code, &f)?),
                        None => None,
                    };
                    Ok(Area {
                        kind: r.get(0),
                        code,
                        name: r.get(2),
                        parent_code: r.get(3),
                        population: r.get(4),
                        centroid,
                        polygons,
                        facts,
                    })
                })
                .collect::<Result<_>>()?;
        out.sort_by(|a, b| {
            natural(&a.code)
                .cmp(&natural(&b.code))
                .then(a.code.cmp(&b.code))
        });
        Ok(out)
    }
}

fn natural(code: &str) -> (u64, String) {
    (code.parse().unwrap_or(u64::MAX), code.to_string())
}
