//! The territory's own base map: its areas (Municipi, NIL) drawn as the background of every
//! map, so a map reads without internet tiles. A [`Frame`] fits a set of points into the
//! drawing (keeping the true proportions at the territory's latitude); [`draw_areas`] turns
//! the areas in view into SVG paths with their names.

use crate::areas::Area;

/// The drawing's size, in SVG user units.
pub const WIDTH: f64 = 600.0;
pub const HEIGHT: f64 = 400.0;

/// What part of the territory a map shows, and how a place lands on the drawing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    min_lon: f64,
    max_lat: f64,
    /// Drawing units per degree of longitude and of latitude.
    per_lon: f64,
    per_lat: f64,
}

impl Frame {
    /// The smallest frame that shows every point (`(lat, lon)`) with a margin, at least
    /// `min_span_km` across; none without points.
    pub fn around(points: &[(f64, f64)], min_span_km: f64) -> Option<Frame> {
        let first = points.first()?;
        let (mut s, mut n, mut w, mut e) = (first.0, first.0, first.1, first.1);
        for (lat, lon) in points {
            s = s.min(*lat);
            n = n.max(*lat);
            w = w.min(*lon);
            e = e.max(*lon);
        }
        let mid_lat = (s + n) / 2.0;
        let km_per_lat = 111.32;
        let km_per_lon = 111.32 * mid_lat.to_radians().cos().max(0.01);
        // In kilometres, with a tenth of margin on each side and the minimum span.
        let span_x = ((e - w) * km_per_lon * 1.2).max(min_span_km);
        let span_y = ((n - s) * km_per_lat * 1.2).max(min_span_km * HEIGHT / WIDTH);
        // Widen the narrower side so the drawing keeps the true proportions.
        let km_per_unit = (span_x / WIDTH).max(span_y / HEIGHT);
        let (half_x, half_y) = (
            WIDTH * km_per_unit / 2.0 / km_per_lon,
            HEIGHT * km_per_unit / 2.0 / km_per_lat,
        );
        let (cx, cy) = ((w + e) / 2.0, mid_lat);
        Some(Frame {
            min_lon: cx - half_x,
            max_lat: cy + half_y,
            per_lon: km_per_lon / km_per_unit,
            per_lat: km_per_lat / km_per_unit,
        })
    }

    /// Where a place lands on the drawing, rounded to a tenth of a unit.
    pub fn xy(&self, lat: f64, lon: f64) -> (f64, f64) {
        let r = |v: f64| (v * 10.0).round() / 10.0;
        (
            r((lon - self.min_lon) * self.per_lon),
            r((self.max_lat - lat) * self.per_lat),
        )
    }

    /// (min_lon, min_lat, max_lon, max_lat) of what the frame shows.
    pub fn bounds(&self) -> [f64; 4] {
        [
            self.min_lon,
            self.max_lat - HEIGHT / self.per_lat,
            self.min_lon + WIDTH / self.per_lon,
            self.max_lat,
        ]
    }

    fn overlaps(&self, b: [f64; 4]) -> bool {
        let f = self.bounds();
        b[0] <= f[2] && b[2] >= f[0] && b[1] <= f[3] && b[3] >= f[1]
    }
}

/// An area as the map draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnArea {
    pub name: String,
    /// The SVG path (`M x y L x y … Z`, one subpath a ring).
    pub path: String,
    /// Where its name goes, when the area is wide enough in view to carry it.
    pub label: Option<(f64, f64)>,
    /// The rings drawn, as (lon, lat): the same shape for a map drawn in the browser.
    pub rings: Vec<Vec<[f64; 2]>>,
}

/// The areas that show in the frame, as paths: a point closer than a unit to the last one
/// drawn is skipped (a neighbourhood's thousand vertices become what the eye can see).
pub fn draw_areas(frame: &Frame, areas: &[Area]) -> Vec<DrawnArea> {
    let mut out = Vec::new();
    for a in areas {
        if a.polygons.is_empty() {
            // Only its centre is known: its name, where it is.
            if let Some(c) = a.centroid {
                let (x, y) = frame.xy(c.lat(), c.lon());
                if (20.0..WIDTH - 20.0).contains(&x) && (12.0..HEIGHT).contains(&y) {
                    out.push(DrawnArea {
                        name: a.name.clone(),
                        path: String::new(),
                        label: Some((x, y)),
                        rings: vec![],
                    });
                }
            }
            continue;
        }
        let shown: Vec<_> = a
            .polygons
            .iter()
            .filter(|p| frame.overlaps(p.bounds()))
            .collect();
        if shown.is_empty() {
            continue;
        }
        let mut rings = Vec::new();
        let mut path = String::new();
        let (mut lo, mut hi) = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
        for ring in shown.iter().flat_map(|p| p.0.iter()) {
            let mut last: Option<(f64, f64)> = None;
            let mut n = 0;
            let mut kept = Vec::new();
            for [lon, lat] in ring {
                let (x, y) = frame.xy(*lat, *lon);
                if last.is_some_and(|(lx, ly)| (x - lx).abs() < 1.0 && (y - ly).abs() < 1.0) {
                    continue;
                }
                path.push_str(if n == 0 { "M" } else { " L" });
                path.push_str(&format!("{x} {y}"));
                lo = (lo.0.min(x), lo.1.min(y));
                hi = (hi.0.max(x), hi.1.max(y));
                last = Some((x, y));
                kept.push([(lon * 1e5).round() / 1e5, (lat * 1e5).round() / 1e5]);
                n += 1;
            }
            if n > 0 {
                path.push_str(" Z ");
                rings.push(kept);
            }
        }
        let label = a
            .centroid
            .or_else(|| a.polygons.first().and_then(|p| p.centroid()))
            .map(|c| frame.xy(c.lat(), c.lon()))
            .filter(|(x, y)| {
                hi.0 - lo.0 >= 90.0
                    && (20.0..WIDTH - 20.0).contains(x)
                    && (12.0..HEIGHT).contains(y)
            });
        out.push(DrawnArea {
            name: a.name.clone(),
            path: path.trim_end().to_string(),
            label,
            rings,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::areas::Polygon;

    fn square(name: &str, lon: f64, lat: f64, side: f64) -> Area {
        Area {
            kind: "nil".into(),
            code: name.into(),
            name: name.into(),
            parent_code: None,
            population: None,
            centroid: None,
            polygons: vec![Polygon(vec![vec![
                [lon, lat],
                [lon + side, lat],
                [lon + side, lat + side],
                [lon, lat + side],
                [lon, lat],
            ]])],
            facts: None,
        }
    }

    #[test]
    fn a_frame_keeps_the_points_inside_and_the_true_proportions() {
        let pts = [(45.45, 9.15), (45.48, 9.20)];
        let f = Frame::around(&pts, 1.0).unwrap();
        for (lat, lon) in pts {
            let (x, y) = f.xy(lat, lon);
            assert!(
                (0.0..=WIDTH).contains(&x) && (0.0..=HEIGHT).contains(&y),
                "{x} {y}"
            );
        }
        // A kilometre east and a kilometre north are as long on the drawing.
        let (x0, y0) = f.xy(45.46, 9.17);
        let (x1, _) = f.xy(45.46, 9.17 + 1.0 / (111.32 * 45.465f64.to_radians().cos()));
        let (_, y1) = f.xy(45.46 + 1.0 / 111.32, 9.17);
        assert!(
            ((x1 - x0) - (y0 - y1)).abs() < 1.0,
            "{} {}",
            x1 - x0,
            y0 - y1
        );
        // One point alone still gets a frame, the minimum span across.
        assert!(Frame::around(&[(45.46, 9.19)], 2.0).is_some());
        assert!(Frame::around(&[], 2.0).is_none());
    }

    #[test]
    fn only_the_areas_in_view_are_drawn_and_named_when_they_fit() {
        let f = Frame::around(&[(45.46, 9.19)], 3.0).unwrap();
        let near = square("Brera", 9.17, 45.45, 0.03);
        let far = square("Lontano", 10.5, 46.5, 0.01);
        let drawn = draw_areas(&f, &[near, far]);
        assert_eq!(drawn.len(), 1);
        assert_eq!(drawn[0].name, "Brera");
        assert!(drawn[0].path.starts_with('M') && drawn[0].path.ends_with('Z'));
        assert!(drawn[0].label.is_some());
        assert_eq!(drawn[0].rings.len(), 1);
        // An area known only by its centre is named where it is.
        let mut centre_only = square("Centro", 9.19, 45.46, 0.0);
        centre_only.polygons.clear();
        centre_only.centroid = Some(crate::geo::Coordinates::new(45.461, 9.191).unwrap());
        let d = draw_areas(&f, &[centre_only]);
        assert!(d[0].path.is_empty() && d[0].label.is_some());
        // A tiny area is drawn but not named.
        let tiny = square("Minuscolo", 9.19, 45.46, 0.0005);
        assert!(draw_areas(&f, &[tiny])[0].label.is_none());
    }
}
