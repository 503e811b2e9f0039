//! Points on the WGS84 ellipsoid, distances and bounding boxes.
//!
//! A [`Coordinates`] value is always a valid WGS84 point: latitude in [-90, 90], longitude in
//! [-180, 180], both finite. Out-of-range coordinates met in imported data are kept verbatim
//! in the HSDS document but never become a `Coordinates` (see docs/ARCHITECTURE.md, "Coordinates").

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// Mean Earth radius in kilometres (IUGG).
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    lat: f64,
    lon: f64,
}

impl Coordinates {
    /// Parses a latitude/longitude pair; `field_prefix` names the fields in errors
    /// (`""` gives `lat`/`lon`, `"location."` gives `location.latitude`, ...).
    pub fn new(lat: f64, lon: f64) -> Result<Self, FieldError> {
        Self::named(lat, lon, "lat", "lon")
    }

    /// As [`Coordinates::new`], naming the two fields as the caller calls them.
    pub fn named(lat: f64, lon: f64, lat_field: &str, lon_field: &str) -> Result<Self, FieldError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(FieldError::new(
                lat_field,
                format!("latitude {lat} is outside [-90, 90]"),
            ));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(FieldError::new(
                lon_field,
                format!("longitude {lon} is outside [-180, 180]"),
            ));
        }
        Ok(Self { lat, lon })
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }
    pub fn lon(&self) -> f64 {
        self.lon
    }

    /// Great-circle distance in kilometres (haversine).
    pub fn distance_km(&self, other: &Coordinates) -> f64 {
        let (la1, la2) = (self.lat.to_radians(), other.lat.to_radians());
        let dlat = la2 - la1;
        let dlon = (other.lon - self.lon).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }

    /// The smallest latitude/longitude box that holds every point within `radius_km`.
    pub fn bounding_box(&self, radius_km: f64) -> BoundingBox {
        let dlat = (radius_km / EARTH_RADIUS_KM).to_degrees();
        let min_lat = (self.lat - dlat).max(-90.0);
        let max_lat = (self.lat + dlat).min(90.0);
        // Near the poles the box spans every longitude.
        let cos_lat = self.lat.to_radians().cos();
        let (min_lon, max_lon) = if max_lat >= 90.0 || min_lat <= -90.0 || cos_lat < 1e-9 {
            (-180.0, 180.0)
        } else {
            let dlon = (radius_km / (EARTH_RADIUS_KM * cos_lat))
                .to_degrees()
                .min(180.0);
            ((self.lon - dlon).max(-180.0), (self.lon + dlon).min(180.0))
        };
        BoundingBox {
            min_lat,
            max_lat,
            min_lon,
            max_lon,
        }
    }
}

/// Side of the coarse grid that stands for a private point before two people agree to meet, in
/// degrees (about 1.1 km north–south, 0.8 km east–west in Milan).
pub const COARSE_CELL_DEG: f64 = 0.01;

/// The widest a coarse cell is (its diagonal, in km, at the equator: wider than anywhere else).
pub const COARSE_CELL_DIAGONAL_KM: f64 = 1.58;

impl Coordinates {
    /// The centre of the coarse cell this point lies in. Everything computed for someone who
    /// is not yet entitled to a private point (suggestions, the fit of a proposal, the distance
    /// a match shows) is computed from this, so that no number of probes learns more than the
    /// cell, which the public area already says (docs/SECURITY.md, "Places").
    pub fn coarse(&self) -> Coordinates {
        let snap = |v: f64| ((v / COARSE_CELL_DEG).floor() + 0.5) * COARSE_CELL_DEG;
        Coordinates {
            lat: snap(self.lat).clamp(-90.0, 90.0),
            lon: snap(self.lon).clamp(-180.0, 180.0),
        }
    }
}

/// The distance two people may be told before they agree to meet: between the centres of
/// their coarse cells, to the half kilometre.
pub fn public_distance_km(a: &Coordinates, b: &Coordinates) -> f64 {
    (a.coarse().distance_km(&b.coarse()) * 2.0).round() / 2.0
}

/// An axis-aligned box in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lon: f64,
    pub max_lon: f64,
}

impl BoundingBox {
    pub fn contains(&self, c: &Coordinates) -> bool {
        (self.min_lat..=self.max_lat).contains(&c.lat)
            && (self.min_lon..=self.max_lon).contains(&c.lon)
    }
}

/// The grid cell of a point: cells are 0.01 degrees of latitude by 0.01 of longitude (about
/// 1.1 km by 0.8 km in Milan). The key is `floor(lat*100) * 100000 + floor(lon*100)`.
pub fn grid_cell(c: &Coordinates) -> i64 {
    let y = (c.lat * 100.0).floor() as i64;
    let x = (c.lon * 100.0).floor() as i64;
    y * 100_000 + x
}

/// Every grid cell a box touches, or `None` when there are more than `max` (the caller then
/// filters on latitude and longitude ranges instead).
pub fn grid_cells_covering(b: &BoundingBox, max: usize) -> Option<Vec<i64>> {
    let (y0, y1) = (
        (b.min_lat * 100.0).floor() as i64,
        (b.max_lat * 100.0).floor() as i64,
    );
    let (x0, x1) = (
        (b.min_lon * 100.0).floor() as i64,
        (b.max_lon * 100.0).floor() as i64,
    );
    let n = ((y1 - y0 + 1) * (x1 - x0 + 1)) as usize;
    if n > max {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    for y in y0..=y1 {
        for x in x0..=x1 {
            out.push(y * 100_000 + x);
        }
    }
    Some(out)
}

/// A search radius in kilometres: positive, finite, at most 100 km (a metropolitan area).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RadiusKm(f64);

impl RadiusKm {
    pub const MAX: f64 = 100.0;
    pub fn new(km: f64) -> Result<Self, FieldError> {
        if !km.is_finite() || km <= 0.0 || km > Self::MAX {
            return Err(FieldError::new(
                "radius_km",
                format!(
                    "{km} must be a number of kilometres above 0 and at most {}",
                    Self::MAX
                ),
            ));
        }
        Ok(Self(km))
    }
    pub fn km(&self) -> f64 {
        self.0
    }
}

#[cfg(test)]
mod coarse_tests {
    use super::*;

    #[test]
    fn every_point_of_a_cell_has_the_same_public_distance() {
        let a = Coordinates::new(45.4652, 9.1950).unwrap();
        let b = Coordinates::new(45.4781, 9.2250).unwrap();
        let d = public_distance_km(&a, &b);
        for (dl, dn) in [(0.0, 0.0), (0.0039, 0.0), (-0.0041, 0.0039), (0.0, -0.0045)] {
            let a2 = Coordinates::new(a.lat() + dl, a.lon() + dn).unwrap();
            assert_eq!(a2.coarse(), a.coarse());
            assert_eq!(public_distance_km(&a2, &b), d);
        }
        assert!(a.coarse().distance_km(&a) <= COARSE_CELL_DIAGONAL_KM / 2.0);
        assert_eq!(d * 2.0, (d * 2.0).round());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn duomo_to_central_station_is_about_two_and_a_half_km() {
        let duomo = Coordinates::new(45.4642, 9.1900).unwrap();
        let centrale = Coordinates::new(45.4861, 9.2045).unwrap();
        let d = duomo.distance_km(&centrale);
        assert!((2.5..2.9).contains(&d), "got {d}");
    }

    #[test]
    fn out_of_range_is_refused_and_names_the_field() {
        let e = Coordinates::new(100.0, 101.0).unwrap_err();
        assert_eq!(e.field, "lat");
        let e = Coordinates::named(45.0, 181.0, "latitude", "longitude").unwrap_err();
        assert_eq!(e.field, "longitude");
        assert!(Coordinates::new(f64::NAN, 0.0).is_err());
        assert!(RadiusKm::new(0.0).is_err());
        assert!(RadiusKm::new(-1.0).is_err());
        assert!(RadiusKm::new(f64::INFINITY).is_err());
    }

    proptest! {
        #[test]
        fn every_point_within_the_radius_lies_in_the_box(
            lat in -80.0f64..80.0, lon in -179.0f64..179.0,
            brg in 0.0f64..360.0, frac in 0.0f64..1.0, r in 0.1f64..100.0,
        ) {
            let c = Coordinates::new(lat, lon).unwrap();
            // Walk `frac * r` km along bearing `brg` (spherical destination formula).
            let d = frac * r / EARTH_RADIUS_KM;
            let (la, lo, b) = (lat.to_radians(), lon.to_radians(), brg.to_radians());
            let la2 = (la.sin() * d.cos() + la.cos() * d.sin() * b.cos()).asin();
            let lo2 = lo + (b.sin() * d.sin() * la.cos()).atan2(d.cos() - la.sin() * la2.sin());
            let lo2 = lo2.to_degrees();
            prop_assume!((-180.0..=180.0).contains(&lo2));
            let p = Coordinates::new(la2.to_degrees(), lo2).unwrap();
            prop_assert!(c.distance_km(&p) <= r + 1e-6);
            prop_assert!(c.bounding_box(r).contains(&p));
            if let Some(cells) = grid_cells_covering(&c.bounding_box(r), 100_000) {
                prop_assert!(cells.contains(&grid_cell(&p)));
            }
        }
    }
}
