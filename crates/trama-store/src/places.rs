//! The address gazetteer (`trama_core::places`): imported whole, looked up by street and number.

use sqlx::Row;
use trama_core::geo::Coordinates;
use trama_core::places::Address;

use crate::{Result, Store};

/// An address found in the gazetteer: how the open data writes it, and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceRow {
    pub street: String,
    pub number: String,
    pub point: Coordinates,
}

impl Store {
    /// Imports addresses in one transaction: all of them or, on any error, none. An address
    /// already there (same street and number) is moved to its new coordinates.
    pub async fn put_places(&self, places: &[Address]) -> Result<u64> {
        let mut tx = self.write.begin().await?;
        for p in places {
            sqlx::query(
                "INSERT INTO places (street_key, number, street, latitude, longitude) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (street_key, number) DO UPDATE SET \
                 street = excluded.street, latitude = excluded.latitude, longitude = excluded.longitude",
            )
            .bind(p.key())
            .bind(p.number.clone())
            .bind(p.street.clone())
            .bind(p.point.lat())
            .bind(p.point.lon())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(places.len() as u64)
    }

    /// An address: the number on the street when the gazetteer has it, else the street as a
    /// whole (the middle of its numbers); none when the street is unknown.
    pub async fn find_place(
        &self,
        street_key: &str,
        number: Option<&str>,
    ) -> Result<Option<PlaceRow>> {
        if let Some(n) = number {
            let row = sqlx::query(
                "SELECT street, number, latitude, longitude FROM places WHERE street_key = $1 AND number = $2",
            )
            .bind(street_key.to_string())
            .bind(n.to_string())
            .fetch_optional(&self.read)
            .await?;
            if let Some(r) = row {
                return Ok(Some(PlaceRow {
                    street: r.get(0),
                    number: r.get(1),
                    point: stored_point(r.get(2), r.get(3))?,
                }));
            }
        }
        let row = sqlx::query(
            "SELECT MIN(street), AVG(latitude), AVG(longitude), COUNT(*) FROM places WHERE street_key = $1",
        )
        .bind(street_key.to_string())
        .fetch_one(&self.read)
        .await?;
        if row.get::<i64, _>(3) == 0 {
            return Ok(None);
        }
        Ok(Some(PlaceRow {
            street: row.get(0),
            number: String::new(),
            point: stored_point(row.get(1), row.get(2))?,
        }))
    }

    /// How many addresses the gazetteer holds.
    pub async fn count_places(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM places")
            .fetch_one(&self.read)
            .await?
            .get::<i64, _>(0))
    }
}

fn stored_point(lat: f64, lon: f64) -> Result<Coordinates> {
    // A stored place that is not on the globe is a corrupt row: an error, never a guess.
    Ok(Coordinates::new(lat, lon)?)
}
