//! Spatial indexes for candidate search: offers by category and place, in bands of radius, and
//! needs by category and place.
//!
//! An offer reaches needs within its own radius, and radii differ (a walker 1 km, a driver
//! 10 km). Offers are kept in bands by radius (≤ 0.5, 1, 2, 3, 5, 10, 25, 100 km); each band has
//! its own grid with cells about as wide as the band's radius, so a query looks at a handful of
//! cells per band and only at offers that could reach the point.

use std::collections::HashMap;

use super::model::{
    DISTANCE_SCALE_KM, Need, Offer, Problem, edge_penalty, feasibility, hour_mask, load_penalty,
    masks_meet,
};
use crate::geo::{Coordinates, EARTH_RADIUS_KM};

const BANDS_KM: [f64; 8] = [0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 25.0, 100.0];

/// Cell of a point in a grid whose cells are `size_deg` degrees on each side.
fn cell(c: &Coordinates, size_deg: f64) -> (i32, i32) {
    (
        (c.lat() / size_deg).floor() as i32,
        (c.lon() / size_deg).floor() as i32,
    )
}

fn cells_within(
    c: &Coordinates,
    radius_km: f64,
    size_deg: f64,
) -> impl Iterator<Item = (i32, i32)> {
    let b = c.bounding_box(radius_km);
    let lo = cell(
        &Coordinates::new(b.min_lat, b.min_lon).unwrap_or(*c),
        size_deg,
    );
    let hi = cell(
        &Coordinates::new(b.max_lat, b.max_lon).unwrap_or(*c),
        size_deg,
    );
    (lo.0..=hi.0).flat_map(move |i| (lo.1..=hi.1).map(move |j| (i, j)))
}

/// The categories of an offer once each, however they were listed.
fn distinct(categories: &[u32]) -> Vec<u32> {
    let mut c = categories.to_vec();
    c.sort_unstable();
    c.dedup();
    c
}

fn degrees(km: f64) -> f64 {
    (km / EARTH_RADIUS_KM).to_degrees()
}

/// What a cell keeps of an offer: enough to throw most misfits out without touching the offer
/// itself (the exact check, [`feasibility`], runs on what is left).
/// 48 bytes, half an offer's worth, so a cell's entries stream through the cache.
#[derive(Debug, Clone, Copy)]
struct Entry {
    offer: u32,
    lat: f32,
    lon: f32,
    radius_km: f32,
    /// Hours of the week with availability (see [`hour_mask`]).
    hours: [u64; 3],
    /// Languages folded to 16 bits (bit i | bit i+16 | ...), a necessary condition only.
    languages: u16,
    /// Skills folded to 32 bits likewise.
    skills: u32,
}

fn fold16(x: u64) -> u16 {
    (x as u16) | ((x >> 16) as u16) | ((x >> 32) as u16) | ((x >> 48) as u16)
}

fn fold32(x: u64) -> u32 {
    (x as u32) | ((x >> 32) as u32)
}

/// What the scan compares a need against, computed once per query.
struct Probe {
    hours: [u64; 3],
    languages: u16,
    skills: u32,
    lat: f32,
    lon: f32,
    km_per_deg_lat: f32,
    km_per_deg_lon: f32,
}

impl Probe {
    fn of(need: &Need) -> Self {
        let km = EARTH_RADIUS_KM.to_radians() as f32;
        Self {
            hours: hour_mask(&need.windows),
            languages: fold16(need.languages),
            skills: fold32(need.skills),
            lat: need.point.lat() as f32,
            lon: need.point.lon() as f32,
            km_per_deg_lat: km,
            km_per_deg_lon: km * (need.point.lat().to_radians().cos() as f32),
        }
    }
}

impl Entry {
    /// A necessary condition for [`feasibility`]: a common day and hour of the day, the skills
    /// and a common language (on folded bits), and a distance (equirectangular, with a margin)
    /// within the radius. [`feasibility`] decides on what passes.
    #[inline]
    fn may_serve(&self, p: &Probe) -> bool {
        if !masks_meet(&self.hours, &p.hours) || p.skills & !self.skills != 0 {
            return false;
        }
        if p.languages != 0 && self.languages != 0 && p.languages & self.languages == 0 {
            return false;
        }
        let dy = (self.lat - p.lat) * p.km_per_deg_lat;
        let dx = (self.lon - p.lon) * p.km_per_deg_lon;
        let r = self.radius_km * 1.01 + 0.02;
        dx * dx + dy * dy <= r * r
    }
}

struct Band {
    max_km: f64,
    size_deg: f64,
    /// The narrowest a cell of this band gets (east–west, at the band's most poleward offer).
    cell_km_min: f64,
    categories: std::collections::HashSet<u32>,
    cells: HashMap<(u32, (i32, i32)), Vec<Entry>>,
}

/// Offers by category and place.
pub struct OfferIndex {
    bands: Vec<Band>,
}

/// One offer that can serve a need, with what the score needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub offer: u32,
    pub distance_km: f64,
    /// Pair penalty (distance, continuity), 0..=750.
    pub edge_penalty: i64,
}

impl OfferIndex {
    pub fn build(offers: &[Offer]) -> Self {
        let mut bands: Vec<Band> = BANDS_KM
            .iter()
            .map(|&km| Band {
                max_km: km,
                size_deg: degrees(km / 4.0).max(0.002),
                cell_km_min: f64::INFINITY,
                categories: Default::default(),
                cells: HashMap::new(),
            })
            .collect();
        for (i, o) in offers.iter().enumerate() {
            let b = BANDS_KM
                .iter()
                .position(|&km| o.radius_km <= km)
                .unwrap_or(BANDS_KM.len() - 1);
            let band = &mut bands[b];
            let key = cell(&o.point, band.size_deg);
            // A cell's east–west width shrinks with the cosine of its most poleward latitude.
            let lat = (o.point.lat().abs() + band.size_deg).min(89.9);
            let width = band.size_deg.to_radians() * EARTH_RADIUS_KM * lat.to_radians().cos();
            let height = band.size_deg.to_radians() * EARTH_RADIUS_KM;
            band.cell_km_min = band.cell_km_min.min(width.min(height));
            let entry = Entry {
                offer: i as u32,
                lat: o.point.lat() as f32,
                lon: o.point.lon() as f32,
                radius_km: o.radius_km as f32,
                hours: hour_mask(&o.availability),
                languages: fold16(o.languages),
                skills: fold32(o.skills),
            };
            for cat in distinct(&o.categories) {
                band.categories.insert(cat);
                band.cells.entry((cat, key)).or_default().push(entry);
            }
        }
        bands.retain(|b| !b.cells.is_empty());
        Self { bands }
    }

    /// Every offer that can serve `need` (see [`feasibility`]), in no particular order.
    pub fn candidates(&self, problem: &Problem, need: &Need) -> Vec<Candidate> {
        let mut out = Vec::new();
        for band in &self.bands {
            for c in cells_within(&need.point, band.max_km, band.size_deg) {
                let Some(list) = band.cells.get(&(need.category, c)) else {
                    continue;
                };
                for e in list {
                    let o = e.offer;
                    let offer = &problem.offers[o as usize];
                    if let Ok(d) = feasibility(need, offer) {
                        out.push(Candidate {
                            offer: o,
                            distance_km: d,
                            edge_penalty: edge_penalty(need, o, offer, d),
                        });
                    }
                }
            }
        }
        out
    }

    /// The best `k` offers for one need, best first, by [`rank_key`]: lowest penalty (pair
    /// plus the offer's standing load), then lowest index.
    ///
    /// Best-first over rings of cells: cells `r` rings away from the need's cell lie at least
    /// `d = (r - 1)` cell widths away, so nothing in them has a penalty below
    /// `250 + 500 · d / 5 km` (no continuity, the distance part at its least); once `k` offers
    /// better than the next ring's bound are in hand, the search stops. Offers that helped the person before (no
    /// continuity penalty) are looked at first, wherever they are. The answer is exactly the
    /// first `k` of [`OfferIndex::candidates`] sorted by the same key.
    pub fn suggest(&self, problem: &Problem, need: &Need, k: usize) -> Vec<(Candidate, i64)> {
        if k == 0 {
            return Vec::new();
        }
        let key = |c: &Candidate| rank_key(problem, c);
        // Max-heap of the best k so far, by key.
        let mut best: std::collections::BinaryHeap<((i64, u32), usize)> = Default::default();
        let mut found: Vec<Candidate> = Vec::new();
        let mut seen: Vec<u32> = Vec::new();
        let consider = |c: Candidate,
                        best: &mut std::collections::BinaryHeap<((i64, u32), usize)>,
                        found: &mut Vec<Candidate>| {
            let kc = key(&c);
            if best.len() < k {
                found.push(c);
                best.push((kc, found.len() - 1));
            } else if let Some(&(worst, _)) = best.peek()
                && kc < worst
            {
                found.push(c);
                best.pop();
                best.push((kc, found.len() - 1));
            }
        };
        for &o in &need.previous_offers {
            let offer = &problem.offers[o as usize];
            if let Ok(d) = feasibility(need, offer) {
                seen.push(o);
                consider(
                    Candidate {
                        offer: o,
                        distance_km: d,
                        edge_penalty: edge_penalty(need, o, offer, d),
                    },
                    &mut best,
                    &mut found,
                );
            }
        }
        let probe = Probe::of(need);
        // Rings of cells around the need, band by band, nearest first: ring r of a band lies at
        // least (r - 1) cell widths away, which bounds the penalty of anything in it.
        let mut rings: std::collections::BinaryHeap<std::cmp::Reverse<(i64, usize, i32)>> =
            Default::default();
        let ring_bound = |band: &Band, r: i32| -> Option<i64> {
            let d = (r - 1).max(0) as f64 * band.cell_km_min;
            (d <= band.max_km)
                .then(|| 250 + ((d / DISTANCE_SCALE_KM).min(1.0) * 500.0).floor() as i64)
        };
        for (b, band) in self.bands.iter().enumerate() {
            if band.categories.contains(&need.category) {
                rings.push(std::cmp::Reverse((250, b, 0)));
            }
        }
        while let Some(std::cmp::Reverse((bound, b, r))) = rings.pop() {
            if best.len() == k && best.peek().is_some_and(|&((worst, _), _)| worst < bound) {
                break;
            }
            let band = &self.bands[b];
            let (ci, cj) = cell(&need.point, band.size_deg);
            let mut visit = |i: i32, j: i32| {
                if let Some(list) = band.cells.get(&(need.category, (i, j))) {
                    for e in list {
                        if !e.may_serve(&probe) {
                            continue;
                        }
                        let o = e.offer;
                        if seen.contains(&o) {
                            continue;
                        }
                        let offer = &problem.offers[o as usize];
                        if let Ok(d) = feasibility(need, offer) {
                            consider(
                                Candidate {
                                    offer: o,
                                    distance_km: d,
                                    edge_penalty: edge_penalty(need, o, offer, d),
                                },
                                &mut best,
                                &mut found,
                            );
                        }
                    }
                }
            };
            if r == 0 {
                visit(ci, cj);
            } else {
                for t in -r..=r {
                    visit(ci - r, cj + t);
                    visit(ci + r, cj + t);
                }
                for t in (-r + 1)..r {
                    visit(ci + t, cj - r);
                    visit(ci + t, cj + r);
                }
            }
            if let Some(next) = ring_bound(band, r + 1) {
                rings.push(std::cmp::Reverse((next, b, r + 1)));
            }
        }
        let mut out: Vec<(Candidate, i64)> =
            best.into_iter().map(|((p, _), i)| (found[i], p)).collect();
        out.sort_by_key(|(c, p)| (*p, c.offer));
        out
    }
}

/// How candidates are ranked for one need: full penalty (pair plus standing load), then offer
/// index.
pub fn rank_key(problem: &Problem, c: &Candidate) -> (i64, u32) {
    (
        c.edge_penalty + load_penalty(&problem.offers[c.offer as usize], 0),
        c.offer,
    )
}

/// Needs by category and place, to suggest needs to an offer.
pub struct NeedIndex {
    size_deg: f64,
    cells: HashMap<(u32, (i32, i32)), Vec<u32>>,
}

impl NeedIndex {
    pub fn build(needs: &[Need]) -> Self {
        let size_deg = degrees(1.0);
        let mut cells: HashMap<(u32, (i32, i32)), Vec<u32>> = HashMap::new();
        for (i, n) in needs.iter().enumerate() {
            cells
                .entry((n.category, cell(&n.point, size_deg)))
                .or_default()
                .push(i as u32);
        }
        Self { size_deg, cells }
    }

    /// The best `k` needs for one offer: heaviest first (urgency and waiting), then lowest
    /// penalty, then lowest index.
    pub fn suggest(&self, problem: &Problem, offer_index: u32, k: usize) -> Vec<(u32, Candidate)> {
        let offer = &problem.offers[offer_index as usize];
        let mut out: Vec<(u32, Candidate)> = Vec::new();
        for cat in distinct(&offer.categories) {
            for c in cells_within(&offer.point, offer.radius_km, self.size_deg) {
                let Some(list) = self.cells.get(&(cat, c)) else {
                    continue;
                };
                for &n in list {
                    let need = &problem.needs[n as usize];
                    if let Ok(d) = feasibility(need, offer) {
                        out.push((
                            n,
                            Candidate {
                                offer: offer_index,
                                distance_km: d,
                                edge_penalty: edge_penalty(need, offer_index, offer, d),
                            },
                        ));
                    }
                }
            }
        }
        out.sort_by(|a, b| {
            let (wa, wb) = (
                problem.needs[a.0 as usize].weight,
                problem.needs[b.0 as usize].weight,
            );
            wb.cmp(&wa)
                .then(a.1.edge_penalty.cmp(&b.1.edge_penalty))
                .then(a.0.cmp(&b.0))
        });
        out.truncate(k);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::model::WeekWindow;

    fn pt(lat: f64, lon: f64) -> Coordinates {
        Coordinates::new(lat, lon).unwrap()
    }

    #[test]
    fn index_finds_exactly_what_a_linear_scan_finds() {
        // A deterministic scatter of offers with mixed radii around Milan.
        let mut offers = Vec::new();
        let mut needs = Vec::new();
        let mut x: u64 = 7;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as f64 / (1u64 << 31) as f64
        };
        for _ in 0..2000 {
            offers.push(Offer {
                point: pt(45.40 + next() * 0.12, 9.08 + next() * 0.18),
                radius_km: [0.3, 0.8, 1.5, 4.0, 12.0][(next() * 5.0) as usize % 5],
                categories: vec![(next() * 4.0) as u32, (next() * 4.0) as u32],
                availability: vec![],
                hours_per_week: 3.0,
                capacity: 1,
                load: 0,
                languages: 0,
                skills: 0,
            });
        }
        for _ in 0..200 {
            needs.push(Need {
                point: pt(45.40 + next() * 0.12, 9.08 + next() * 0.18),
                category: (next() * 4.0) as u32,
                windows: vec![WeekWindow::on_day("w", 2, 600, 700).unwrap()],
                duration_min: 60,
                weight: 10,
                languages: 0,
                skills: 0,
                people: 1,
                previous_offers: vec![],
            });
        }
        let problem = Problem { needs, offers };
        let index = OfferIndex::build(&problem.offers);
        for need in &problem.needs {
            let mut got: Vec<u32> = index
                .candidates(&problem, need)
                .iter()
                .map(|c| c.offer)
                .collect();
            got.sort();
            let want: Vec<u32> = (0..problem.offers.len() as u32)
                .filter(|&o| feasibility(need, &problem.offers[o as usize]).is_ok())
                .collect();
            assert_eq!(got, want);
        }
        for (i, need) in problem.needs.iter().enumerate() {
            let mut need = need.clone();
            if i % 3 == 0 {
                need.previous_offers = vec![(i * 7 % problem.offers.len()) as u32];
            }
            let mut all = index.candidates(&problem, &need);
            all.sort_by_key(|c| rank_key(&problem, c));
            for k in [1, 5, 32] {
                let got: Vec<u32> = index
                    .suggest(&problem, &need, k)
                    .iter()
                    .map(|(c, _)| c.offer)
                    .collect();
                let want: Vec<u32> = all.iter().take(k).map(|c| c.offer).collect();
                assert_eq!(got, want, "need {i}, k {k}");
            }
        }
        let needs_index = NeedIndex::build(&problem.needs);
        for o in 0..100u32 {
            let got = needs_index.suggest(&problem, o, usize::MAX);
            let want = problem
                .needs
                .iter()
                .filter(|n| feasibility(n, &problem.offers[o as usize]).is_ok())
                .count();
            assert_eq!(got.len(), want);
        }
    }
}
