//! Spatial indexes for candidate search: offers by category and place, in bands of radius, and
//! needs by category and place.
//!
//! An offer reaches needs within its own radius, and radii differ (a walker 1 km, a driver
//! 10 km). Offers are kept in bands by radius (≤ 0.5, 1, 2, 3, 5, 10, 25, 100 km); each band has
//! its own grid with cells about as wide as the band's radius, so a query looks at a handful of
//! cells per band and only at offers that could reach the point.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::model::{
    DISTANCE_SCALE_KM, Need, Offer, OfferTerms, Problem, Unfit, WeekWindow, distance_penalty,
    edge_penalty, feasibility, hour_mask, load_penalty, masks_meet,
};
use crate::geo::{Coordinates, EARTH_RADIUS_KM};

/// A small, fast hasher for cell keys (a few integers; the keys are ours, not an attacker's):
/// multiply-rotate in the manner of rustc's FxHash.
#[derive(Default, Clone, Copy)]
struct CellHasher(u64);

impl Hasher for CellHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(x as u64);
    }
    fn write_i32(&mut self, x: i32) {
        self.write_u64(x as u32 as u64);
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type CellMap<V> = HashMap<(u32, (i32, i32)), V, BuildHasherDefault<CellHasher>>;

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

/// A 32-bit Morton key of a point in a box: points near each other on the map get keys near
/// each other, mostly.
fn morton(lat: f64, lon: f64, min: (f64, f64), span: (f64, f64)) -> u32 {
    let q = |v: f64, lo: f64, s: f64| ((v - lo) / s * 65535.0).clamp(0.0, 65535.0) as u32;
    let spread = |mut x: u32| {
        x = (x | (x << 8)) & 0x00FF_00FF;
        x = (x | (x << 4)) & 0x0F0F_0F0F;
        x = (x | (x << 2)) & 0x3333_3333;
        (x | (x << 1)) & 0x5555_5555
    };
    spread(q(lat, min.0, span.0)) | (spread(q(lon, min.1, span.1)) << 1)
}

/// The indexes of `points` in map order (along a Morton curve over their bounding box), so
/// that work done point after point touches memory neighbourhood after neighbourhood.
pub fn spatial_order(points: impl Iterator<Item = Coordinates> + Clone) -> Vec<u32> {
    let (mut lo, mut hi) = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
    for p in points.clone() {
        lo = (lo.0.min(p.lat()), lo.1.min(p.lon()));
        hi = (hi.0.max(p.lat()), hi.1.max(p.lon()));
    }
    let span = ((hi.0 - lo.0).max(1e-9), (hi.1 - lo.1).max(1e-9));
    let mut keyed: Vec<(u32, u32)> = points
        .enumerate()
        .map(|(i, p)| (morton(p.lat(), p.lon(), lo, span), i as u32))
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// What a cell keeps of an offer: everything [`OfferTerms::fit`] needs (its windows sit in the
/// band's `windows`, cell by cell), so a search reads cells one after the other and never goes
/// back to the offers, which lie in whatever order the caller gave them.
#[derive(Debug, Clone, Copy)]
struct Entry {
    offer: u32,
    /// The offer's availability: `windows[windows_at..windows_at + windows_len]` of the band.
    windows_at: u32,
    windows_len: u16,
    languages: u64,
    skills: u64,
    point: Coordinates,
    radius_km: f64,
    hours_per_week: f64,
    capacity: u16,
}

/// The part of an entry a search reads for every offer in a cell, 40 bytes, kept apart from the
/// rest so a cell streams through the cache; the rest ([`Entry`]) is read only for what passes.
#[derive(Debug, Clone, Copy)]
struct Scan {
    /// Hours of the week with availability (see [`hour_mask`]).
    hours: [u64; 3],
    lat: f32,
    lon: f32,
    radius_km: f32,
    /// The offer's standing load penalty ([`load_penalty`] with nothing new), 0..=250.
    load: u8,
}

/// The days of the week (bits 0..7) and the hours of the day (bits 8..32) an hour mask touches:
/// four bytes that a search reads before anything else. Two windows that share an hour share a
/// day and an hour of the day, so lacking either proves they share nothing.
fn coarse_time(hours: &[u64; 3]) -> u32 {
    let mut out = 0u32;
    for h in 0..168u32 {
        if hours[(h / 64) as usize] & (1 << (h % 64)) != 0 {
            out |= (1 << (h / 24)) | (1 << (8 + h % 24));
        }
    }
    out
}

/// Can two coarse time masks share an hour (see [`coarse_time`])?
#[inline]
fn coarse_meet(a: u32, b: u32) -> bool {
    let both = a & b;
    both & 0x7f != 0 && both & !0xff != 0
}

/// What the scan compares a need against, computed once per query.
struct Probe {
    hours: [u64; 3],
    coarse: u32,
    lat: f64,
    lon: f64,
    lat32: f32,
    lon32: f32,
    km_per_deg_lat: f64,
    km_per_deg_lon: f64,
    cos_lat: f64,
}

impl Probe {
    fn of(need: &Need) -> Self {
        let km = EARTH_RADIUS_KM.to_radians();
        let hours = hour_mask(&need.windows);
        Self {
            hours,
            coarse: coarse_time(&hours),
            lat: need.point.lat(),
            lon: need.point.lon(),
            lat32: need.point.lat() as f32,
            lon32: need.point.lon() as f32,
            km_per_deg_lat: km,
            km_per_deg_lon: km * need.point.lat().to_radians().cos(),
            cos_lat: need.point.lat().to_radians().cos(),
        }
    }

    /// A lower bound of the distance in kilometres from the need to anything in cell `(i, j)`
    /// of a band (equirectangular, east–west at the band's most poleward latitude, with a
    /// margin).
    fn distance_to_cell(&self, band: &Band, i: i32, j: i32) -> f64 {
        let s = band.size_deg;
        let (lat0, lon0) = (i as f64 * s, j as f64 * s);
        let dlat = (lat0 - self.lat).max(self.lat - (lat0 + s)).max(0.0);
        let dlon = (lon0 - self.lon).max(self.lon - (lon0 + s)).max(0.0);
        let dy = dlat * self.km_per_deg_lat;
        let dx = dlon * self.km_per_deg_lat * band.cos_poleward.min(self.cos_lat);
        ((dx * dx + dy * dy).sqrt() * 0.99 - 0.02).max(0.0)
    }
}

impl Scan {
    /// A necessary condition for [`feasibility`]: a common hour of the week and a distance
    /// (equirectangular, with a margin) within the radius. What passes comes with a lower bound
    /// of its distance in kilometres; [`Entry::fit`] decides.
    #[inline]
    fn may_serve(&self, p: &Probe) -> Option<f64> {
        if !masks_meet(&self.hours, &p.hours) {
            return None;
        }
        let dy = (self.lat - p.lat32) * p.km_per_deg_lat as f32;
        let dx = (self.lon - p.lon32) * p.km_per_deg_lon as f32;
        let r = self.radius_km * 1.01 + 0.02;
        let d2 = dx * dx + dy * dy;
        (d2 <= r * r).then(|| (d2.sqrt() as f64 * 0.99 - 0.02).max(0.0))
    }

    /// The least full penalty ([`rank_key`]) this offer can have for the probed need when it
    /// is not one that helped the person before: no continuity, the distance at its lower
    /// bound, the standing load.
    #[inline]
    fn least_penalty(&self, distance_lower_km: f64) -> i64 {
        250 + distance_penalty(distance_lower_km) + self.load as i64
    }
}

impl Entry {
    /// [`feasibility`] for an offer of the need's category, from what the cell keeps.
    #[inline]
    fn fit(&self, need: &Need, windows: &[WeekWindow]) -> Result<f64, Unfit> {
        let at = self.windows_at as usize;
        OfferTerms {
            point: self.point,
            radius_km: self.radius_km,
            capacity: self.capacity,
            skills: self.skills,
            languages: self.languages,
            hours_per_week: self.hours_per_week,
            availability: &windows[at..at + self.windows_len as usize],
        }
        .fit(need)
    }
}

/// A step of the best-first search: open ring `r` of a band, or scan the entries of a cell
/// (`from..to` in the band's arrays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Ring(i32),
    Cell(u32, u32),
}

struct Band {
    max_km: f64,
    size_deg: f64,
    /// The narrowest a cell of this band gets (east–west, at the band's most poleward offer).
    cell_km_min: f64,
    /// The cosine of the most poleward latitude a cell of this band reaches: east–west
    /// distances in its cells are at least this many times the equator's.
    cos_poleward: f64,
    categories: std::collections::HashSet<u32, BuildHasherDefault<CellHasher>>,
    /// Each (category, cell)'s entries: `coarse[a..b]`, `scan[a..b]` and `entries[a..b]`.
    cells: CellMap<(u32, u32)>,
    /// [`coarse_time`] of each entry.
    coarse: Vec<u32>,
    scan: Vec<Scan>,
    entries: Vec<Entry>,
    /// The availability windows of the entries, cell after cell.
    windows: Vec<WeekWindow>,
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
                cos_poleward: 1.0,
                categories: Default::default(),
                cells: CellMap::default(),
                coarse: Vec::new(),
                scan: Vec::new(),
                entries: Vec::new(),
                windows: Vec::new(),
            })
            .collect();
        let mut lists: Vec<CellMap<Vec<(Scan, Entry)>>> = vec![CellMap::default(); bands.len()];
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
            band.cos_poleward = band.cos_poleward.min(lat.to_radians().cos());
            if o.capacity == 0 {
                // Never fits anything (see [`feasibility`]): not indexed.
                continue;
            }
            let entry = Entry {
                offer: i as u32,
                windows_at: band.windows.len() as u32,
                windows_len: u16::try_from(o.availability.len()).expect("at most 65,535 windows"),
                languages: o.languages,
                skills: o.skills,
                point: o.point,
                radius_km: o.radius_km,
                hours_per_week: o.hours_per_week,
                capacity: o.capacity,
            };
            let scan = Scan {
                hours: hour_mask(&o.availability),
                lat: o.point.lat() as f32,
                lon: o.point.lon() as f32,
                radius_km: o.radius_km as f32,
                load: load_penalty(o, 0).clamp(0, 250) as u8,
            };
            band.windows.extend_from_slice(&o.availability);
            for cat in distinct(&o.categories) {
                band.categories.insert(cat);
                lists[b].entry((cat, key)).or_default().push((scan, entry));
            }
        }
        // Lay each band's entries and windows out cell after cell, as a search reads them.
        for (band, lists) in bands.iter_mut().zip(lists) {
            let mut windows = Vec::with_capacity(band.windows.len());
            for (key, list) in lists {
                let from = band.entries.len() as u32;
                for (scan, mut e) in list {
                    let at = e.windows_at as usize;
                    let mine = &band.windows[at..at + e.windows_len as usize];
                    e.windows_at = windows.len() as u32;
                    windows.extend_from_slice(mine);
                    band.coarse.push(coarse_time(&scan.hours));
                    band.scan.push(scan);
                    band.entries.push(e);
                }
                band.cells.insert(key, (from, band.entries.len() as u32));
            }
            band.windows = windows;
        }
        bands.retain(|b| !b.cells.is_empty());
        Self { bands }
    }

    /// Every offer that can serve `need` (see [`feasibility`]), in no particular order.
    pub fn candidates(&self, problem: &Problem, need: &Need) -> Vec<Candidate> {
        let mut out = Vec::new();
        for band in &self.bands {
            for c in cells_within(&need.point, band.max_km, band.size_deg) {
                let Some(&(a, b)) = band.cells.get(&(need.category, c)) else {
                    continue;
                };
                for e in &band.entries[a as usize..b as usize] {
                    let o = e.offer;
                    let offer = &problem.offers[o as usize];
                    if let Ok(d) = feasibility(need, offer) {
                        out.push(Candidate {
                            offer: o,
                            distance_km: d,
                            edge_penalty: edge_penalty(need, o, d),
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
                        edge_penalty: edge_penalty(need, o, d),
                    },
                    &mut best,
                    &mut found,
                );
            }
        }
        let probe = Probe::of(need);
        // Best first over cells: rings of cells around the need, band by band, and the cells of
        // each ring on their own. Ring r of a band lies at least (r - 1) cell widths away; a
        // cell, at least its rectangle's distance from the need. Either bounds the penalty of
        // anything inside, so once the k in hand all beat the next bound, the search stops.
        let mut queue: std::collections::BinaryHeap<std::cmp::Reverse<(i64, usize, Step)>> =
            Default::default();
        let ring_bound = |band: &Band, r: i32| -> Option<i64> {
            let d = (r - 1).max(0) as f64 * band.cell_km_min;
            (d <= band.max_km)
                .then(|| 250 + ((d / DISTANCE_SCALE_KM).min(1.0) * 500.0).floor() as i64)
        };
        for (b, band) in self.bands.iter().enumerate() {
            if band.categories.contains(&need.category) {
                queue.push(std::cmp::Reverse((250, b, Step::Ring(0))));
            }
        }
        while let Some(std::cmp::Reverse((bound, b, step))) = queue.pop() {
            if best.len() == k && best.peek().is_some_and(|&((worst, _), _)| worst < bound) {
                break;
            }
            let band = &self.bands[b];
            let r = match step {
                Step::Cell(from, to) => {
                    for at in from as usize..to as usize {
                        if !coarse_meet(band.coarse[at], probe.coarse) {
                            continue;
                        }
                        let Some(lower_km) = band.scan[at].may_serve(&probe) else {
                            continue;
                        };
                        // Once k are in hand, one that cannot beat the worst of them is skipped
                        // without the exact check.
                        if best.len() == k
                            && best.peek().is_some_and(|&((worst, _), _)| {
                                band.scan[at].least_penalty(lower_km) > worst
                            })
                        {
                            continue;
                        }
                        let e = &band.entries[at];
                        let o = e.offer;
                        if seen.contains(&o) {
                            continue;
                        }
                        if let Ok(d) = e.fit(need, &band.windows) {
                            consider(
                                Candidate {
                                    offer: o,
                                    distance_km: d,
                                    edge_penalty: edge_penalty(need, o, d),
                                },
                                &mut best,
                                &mut found,
                            );
                        }
                    }
                    continue;
                }
                Step::Ring(r) => r,
            };
            let (ci, cj) = cell(&need.point, band.size_deg);
            let worst = match best.peek() {
                Some(&((worst, _), _)) if best.len() == k => worst,
                _ => i64::MAX,
            };
            let mut enqueue = |i: i32, j: i32| {
                // A cell out of the band's reach, or whose bound the k in hand already beat, is
                // not even looked up.
                let lower_km = probe.distance_to_cell(band, i, j);
                if lower_km > band.max_km * 1.01 + 0.02 {
                    return;
                }
                let cell_bound = (250 + distance_penalty(lower_km)).max(bound);
                if cell_bound > worst {
                    return;
                }
                if let Some(&(from, to)) = band.cells.get(&(need.category, (i, j))) {
                    queue.push(std::cmp::Reverse((cell_bound, b, Step::Cell(from, to))));
                }
            };
            if r == 0 {
                enqueue(ci, cj);
            } else {
                for t in -r..=r {
                    enqueue(ci - r, cj + t);
                    enqueue(ci + r, cj + t);
                }
                for t in (-r + 1)..r {
                    enqueue(ci + t, cj - r);
                    enqueue(ci + t, cj + r);
                }
            }
            if let Some(next) = ring_bound(band, r + 1) {
                queue.push(std::cmp::Reverse((next, b, Step::Ring(r + 1))));
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
    cells: CellMap<Vec<u32>>,
}

impl NeedIndex {
    pub fn build(needs: &[Need]) -> Self {
        let size_deg = degrees(1.0);
        let mut cells: CellMap<Vec<u32>> = CellMap::default();
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
                                edge_penalty: edge_penalty(need, offer_index, d),
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
        // Windows on random days and hours (none = any time), so the time filters are tried.
        let windows = |next: &mut dyn FnMut() -> f64, most: usize| -> Vec<WeekWindow> {
            (0..(next() * (most + 1) as f64) as usize)
                .map(|_| {
                    let day = (next() * 7.0) as u8 % 7;
                    let from = 7 * 60 + (next() * 13.0) as u16 * 60;
                    let to = from + 60 + (next() * 3.0) as u16 * 60;
                    WeekWindow::on_day("w", day, from, to).unwrap()
                })
                .collect()
        };
        for _ in 0..2000 {
            offers.push(Offer {
                point: pt(45.40 + next() * 0.12, 9.08 + next() * 0.18),
                radius_km: [0.3, 0.8, 1.5, 4.0, 12.0][(next() * 5.0) as usize % 5],
                categories: vec![(next() * 4.0) as u32, (next() * 4.0) as u32],
                availability: windows(&mut next, 3),
                hours_per_week: [0.5, 1.0, 3.0, 6.0][(next() * 4.0) as usize % 4],
                capacity: if next() < 0.05 {
                    0
                } else {
                    1 + (next() * 3.0) as u16
                },
                load: (next() * 4.0) as u16,
                languages: (next() * 8.0) as u64,
                skills: (next() * 4.0) as u64,
            });
        }
        for _ in 0..300 {
            needs.push(Need {
                point: pt(45.40 + next() * 0.12, 9.08 + next() * 0.18),
                category: (next() * 4.0) as u32,
                windows: windows(&mut next, 2),
                duration_min: [30, 60, 120][(next() * 3.0) as usize % 3],
                weight: 10,
                languages: (next() * 8.0) as u64,
                skills: if next() < 0.2 {
                    1 << ((next() * 2.0) as u64)
                } else {
                    0
                },
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
