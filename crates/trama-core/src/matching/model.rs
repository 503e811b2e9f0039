//! What the matching engine reasons about: needs and offers reduced to the facts that decide a
//! match (where, what, when, who can talk to whom, how much) and the rules that turn those facts
//! into feasibility, a weight and a penalty. Nothing here knows about users or databases.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::FieldError;
use crate::geo::Coordinates;

/// Minutes in a week; a [`WeekWindow`] lives in `0..MINUTES_PER_WEEK`, Monday 00:00 = 0.
pub const MINUTES_PER_WEEK: u16 = 7 * 24 * 60;

/// Penalties are integers in `0..=MAX_PENALTY` per assigned unit (edge part plus load part).
pub const MAX_PENALTY: i64 = 1000;
/// Largest weight one need may carry, so objectives stay far inside `i64`.
pub const MAX_WEIGHT: u32 = 10_000;

/// A stretch of the week in local time: `[start, end)` minutes from Monday 00:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WeekWindow {
    pub start: u16,
    pub end: u16,
}

impl WeekWindow {
    /// A window on `day` (0 = Monday … 6 = Sunday) from `from` to `to` minutes after midnight.
    /// A window that ends before it starts runs past midnight and is refused here: callers split it
    /// with [`WeekWindow::split_overnight`].
    pub fn on_day(field: &str, day: u8, from: u16, to: u16) -> Result<Self, FieldError> {
        if day > 6 {
            return Err(FieldError::new(field, format!("day {day} is not 0..6")));
        }
        if from >= to || to > 24 * 60 {
            return Err(FieldError::new(
                field,
                format!("the window must start before it ends within the day ({from}..{to})"),
            ));
        }
        let base = day as u16 * 24 * 60;
        Ok(Self {
            start: base + from,
            end: base + to,
        })
    }

    /// A window that may run past midnight (22:00–02:00), as one or two windows; Sunday night runs
    /// into Monday morning.
    pub fn split_overnight(
        field: &str,
        day: u8,
        from: u16,
        to: u16,
    ) -> Result<Vec<Self>, FieldError> {
        if to > from {
            return Ok(vec![Self::on_day(field, day, from, to)?]);
        }
        if from == to {
            return Err(FieldError::new(field, "the window is empty"));
        }
        let mut out = vec![Self::on_day(field, day, from, 24 * 60)?];
        if to > 0 {
            out.push(Self::on_day(field, (day + 1) % 7, 0, to)?);
        }
        Ok(out)
    }

    pub fn minutes(&self) -> u16 {
        self.end - self.start
    }

    /// Minutes shared by two windows.
    pub fn overlap(&self, other: &WeekWindow) -> u16 {
        let s = self.start.max(other.start);
        let e = self.end.min(other.end);
        e.saturating_sub(s)
    }

    pub fn day(&self) -> u8 {
        (self.start / (24 * 60)) as u8
    }
}

/// The longest stretch two sets of windows share, in minutes. Shared pieces that touch are one
/// stretch: a window past midnight is stored as two (Monday 22:00–24:00 and Tuesday 00:00–02:00)
/// and still shares four hours with another that runs past midnight, and Sunday night runs on
/// into Monday morning.
pub fn longest_overlap(a: &[WeekWindow], b: &[WeekWindow]) -> u16 {
    let mut pieces: Vec<(u16, u16)> = a
        .iter()
        .flat_map(|x| {
            b.iter().filter_map(move |y| {
                let (s, e) = (x.start.max(y.start), x.end.min(y.end));
                (e > s).then_some((s, e))
            })
        })
        .collect();
    longest_stretch(&mut pieces)
}

/// The longest stretch a set of windows covers, in minutes (touching windows joined, the week
/// wrapping round).
pub fn longest_window(windows: &[WeekWindow]) -> u16 {
    let mut pieces: Vec<(u16, u16)> = windows.iter().map(|w| (w.start, w.end)).collect();
    longest_stretch(&mut pieces)
}

fn longest_stretch(pieces: &mut [(u16, u16)]) -> u16 {
    pieces.sort_unstable();
    let mut merged: Vec<(u16, u16)> = Vec::new();
    for &(s, e) in pieces.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let mut best = merged.iter().map(|(s, e)| e - s).max().unwrap_or(0);
    // Sunday night into Monday morning.
    if merged.len() > 1
        && let (Some(first), Some(last)) = (merged.first(), merged.last())
        && first.0 == 0
        && last.1 == MINUTES_PER_WEEK
    {
        best = best.max((last.1 - last.0) + (first.1 - first.0));
    }
    best
}

/// The hours of the week (168 bits) that any of the windows touches; every hour when there are
/// no windows ("any time"). Two sets of windows that share a minute share an hour bit, so a
/// zero `AND` proves there is no common time without looking at minutes.
pub fn hour_mask(windows: &[WeekWindow]) -> [u64; 3] {
    if windows.is_empty() {
        return [u64::MAX; 3];
    }
    let mut m = [0u64; 3];
    for w in windows {
        for h in (w.start / 60)..w.end.div_ceil(60) {
            m[(h / 64) as usize] |= 1 << (h % 64);
        }
    }
    m
}

/// Do two hour masks share an hour?
pub fn masks_meet(a: &[u64; 3], b: &[u64; 3]) -> bool {
    (a[0] & b[0]) | (a[1] & b[1]) | (a[2] & b[2]) != 0
}

/// How pressing a need is. The weight doubles with each step.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Low,
    #[default]
    Normal,
    High,
    Critical,
}

impl Urgency {
    pub const ALL: [Urgency; 4] = [
        Urgency::Low,
        Urgency::Normal,
        Urgency::High,
        Urgency::Critical,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::High => "high",
            Urgency::Critical => "critical",
        }
    }

    /// 1, 2, 4, 8.
    pub fn points(&self) -> u32 {
        1 << (*self as u32)
    }
}

impl fmt::Display for Urgency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Urgency {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        Urgency::ALL
            .into_iter()
            .find(|u| u.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "urgency",
                    format!("'{s}' is not one of low, normal, high, critical"),
                )
            })
    }
}

/// The weight of one covered unit of a need: urgency points times (7 + days waited, at most 28).
/// A critical need waiting four weeks weighs 8 × 35 = 280; a low one posted today 1 × 7 = 7.
pub fn need_weight(urgency: Urgency, waiting_days: u32) -> u32 {
    urgency.points() * (7 + waiting_days.min(28))
}

/// A need as the engine sees it. Categories, languages and skills are interned to small integers
/// by whoever builds the [`Problem`] (see `instance.rs` and the store).
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    pub point: Coordinates,
    pub category: u32,
    /// When the help may happen (local time). Empty means "any time".
    pub windows: Vec<WeekWindow>,
    /// How long one occurrence takes.
    pub duration_min: u16,
    /// Weight per covered unit (see [`need_weight`]), 1..=[`MAX_WEIGHT`].
    pub weight: u32,
    /// Languages the person speaks, as a bit set; 0 means "no preference".
    pub languages: u64,
    /// Skills the helper must have, as a bit set (all of them).
    pub skills: u64,
    /// How many helpers are wanted (each a different offer).
    pub people: u8,
    /// Offers that helped this person before, for continuity.
    pub previous_offers: Vec<u32>,
}

/// An offer of help as the engine sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub point: Coordinates,
    pub radius_km: f64,
    pub categories: Vec<u32>,
    /// When the volunteer is available (local time). Empty means "any time".
    pub availability: Vec<WeekWindow>,
    /// Hours a week the volunteer still has free.
    pub hours_per_week: f64,
    /// How many more needs the offer can take on.
    pub capacity: u16,
    /// Needs the offer already follows (for spreading the load).
    pub load: u16,
    pub languages: u64,
    pub skills: u64,
}

/// A whole territory's worth of needs and offers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Problem {
    pub needs: Vec<Need>,
    pub offers: Vec<Offer>,
}

/// Why an offer cannot serve a need, for explanations in the UI and in tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unfit {
    Category,
    TooFar,
    NoCommonTime,
    Language,
    Skills,
    Hours,
    Full,
}

/// Can `offer` serve `need`? The distance is computed once and returned for scoring.
pub fn feasibility(need: &Need, offer: &Offer) -> Result<f64, Unfit> {
    if !offer.categories.contains(&need.category) {
        return Err(Unfit::Category);
    }
    OfferTerms::of(offer).fit(need)
}

/// What decides whether an offer can serve a need once the category is known to match: the
/// one place the rules live, for [`feasibility`] and for the index, which keeps these terms in
/// its cells so a search need not go back to the offers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OfferTerms<'a> {
    pub point: Coordinates,
    pub radius_km: f64,
    pub capacity: u16,
    pub skills: u64,
    pub languages: u64,
    pub hours_per_week: f64,
    pub availability: &'a [WeekWindow],
}

impl<'a> OfferTerms<'a> {
    pub fn of(offer: &'a Offer) -> Self {
        Self {
            point: offer.point,
            radius_km: offer.radius_km,
            capacity: offer.capacity,
            skills: offer.skills,
            languages: offer.languages,
            hours_per_week: offer.hours_per_week,
            availability: &offer.availability,
        }
    }

    /// [`feasibility`] but for the category.
    pub fn fit(&self, need: &Need) -> Result<f64, Unfit> {
        if self.capacity == 0 {
            return Err(Unfit::Full);
        }
        if need.skills & !self.skills != 0 {
            return Err(Unfit::Skills);
        }
        if need.languages != 0 && self.languages != 0 && need.languages & self.languages == 0 {
            return Err(Unfit::Language);
        }
        if (need.duration_min as f64) > self.hours_per_week * 60.0 + 1e-9 {
            return Err(Unfit::Hours);
        }
        if !time_fits(&need.windows, need.duration_min, self.availability) {
            return Err(Unfit::NoCommonTime);
        }
        let d = need.point.distance_km(&self.point);
        if d > self.radius_km {
            return Err(Unfit::TooFar);
        }
        Ok(d)
    }
}

/// Whether one occurrence fits in the time both sides have: no windows on a side means "any
/// time", and the other side alone must then hold a stretch as long as the occurrence.
fn time_fits(windows: &[WeekWindow], duration_min: u16, availability: &[WeekWindow]) -> bool {
    let needed = duration_min.max(1);
    // Pieces join only across midnight: without a window starting at a day's start, the
    // longest single piece is the answer, found without allocating (the engine's hot path).
    let joins = |ws: &[WeekWindow]| ws.iter().any(|w| w.start % (24 * 60) == 0);
    match (windows.is_empty(), availability.is_empty()) {
        (true, true) => true,
        (true, false) => {
            availability.iter().any(|w| w.minutes() >= needed)
                || (joins(availability) && longest_window(availability) >= needed)
        }
        (false, true) => {
            windows.iter().any(|w| w.minutes() >= needed)
                || (joins(windows) && longest_window(windows) >= needed)
        }
        (false, false) => {
            let simple = windows
                .iter()
                .flat_map(|x| availability.iter().map(move |y| x.overlap(y)))
                .max()
                .unwrap_or(0);
            simple >= needed
                || ((joins(windows) || joins(availability))
                    && longest_overlap(windows, availability) >= needed)
        }
    }
}

/// Distances count in the penalty up to this far: 100 points per kilometre.
pub const DISTANCE_SCALE_KM: f64 = 5.0;

/// The distance part of the penalty: `500 × distance / 5 km`, at most 500.
pub fn distance_penalty(distance_km: f64) -> i64 {
    ((distance_km / DISTANCE_SCALE_KM).clamp(0.0, 1.0) * 500.0).round() as i64
}

/// The part of the penalty that belongs to the pair: the distance (0..=500, see
/// [`distance_penalty`]; the nearer helper is better whatever radius they offered) and the lack
/// of continuity (250 unless this offer helped this person before). Lower is better; 0..=750.
pub fn edge_penalty(need: &Need, offer_index: u32, distance_km: f64) -> i64 {
    let distance = distance_penalty(distance_km);
    let continuity = if need.previous_offers.contains(&offer_index) {
        0
    } else {
        250
    };
    distance + continuity
}

/// The marginal load penalty of giving an offer one more need when it already carries `used`
/// more than its standing load: 0..=250, never decreasing in `used`, so the cost is convex and a
/// flow spreads work across volunteers.
pub fn load_penalty(offer: &Offer, used: u16) -> i64 {
    let total = offer.load as i64 + offer.capacity as i64;
    if total == 0 {
        return 0;
    }
    250 * (offer.load as i64 + used as i64) / total
}

/// A score in 0..=100 for people to read (100 = perfect), from the full penalty of a pair.
pub fn score_from_penalty(penalty: i64) -> u8 {
    (100 - (penalty.clamp(0, MAX_PENALTY) * 100 / MAX_PENALTY)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lat: f64, lon: f64) -> Coordinates {
        Coordinates::new(lat, lon).unwrap()
    }

    pub(crate) fn need() -> Need {
        Need {
            point: p(45.4530, 9.1400),
            category: 1,
            windows: vec![WeekWindow::on_day("w", 1, 9 * 60, 12 * 60).unwrap()],
            duration_min: 90,
            weight: need_weight(Urgency::High, 3),
            languages: 0b1,
            skills: 0,
            people: 1,
            previous_offers: vec![],
        }
    }

    pub(crate) fn offer() -> Offer {
        Offer {
            point: p(45.4560, 9.1420),
            radius_km: 1.0,
            categories: vec![1, 2],
            availability: vec![WeekWindow::on_day("a", 1, 8 * 60, 11 * 60).unwrap()],
            hours_per_week: 4.0,
            capacity: 2,
            load: 0,
            languages: 0b11,
            skills: 0b100,
        }
    }

    #[test]
    fn a_fitting_pair_is_feasible_and_each_rule_can_refuse_it() {
        let (n, o) = (need(), offer());
        let d = feasibility(&n, &o).unwrap();
        assert!(d > 0.3 && d < 0.5, "{d}");

        let mut x = o.clone();
        x.categories = vec![2];
        assert_eq!(feasibility(&n, &x), Err(Unfit::Category));
        let mut x = o.clone();
        x.radius_km = 0.2;
        assert_eq!(feasibility(&n, &x), Err(Unfit::TooFar));
        let mut x = o.clone();
        x.availability = vec![WeekWindow::on_day("a", 1, 11 * 60, 13 * 60).unwrap()];
        assert_eq!(
            feasibility(&n, &x),
            Err(Unfit::NoCommonTime),
            "only 60 minutes shared"
        );
        let mut x = o.clone();
        x.languages = 0b10;
        assert_eq!(feasibility(&n, &x), Err(Unfit::Language));
        let mut y = n.clone();
        y.skills = 0b1000;
        assert_eq!(feasibility(&y, &o), Err(Unfit::Skills));
        let mut x = o.clone();
        x.hours_per_week = 1.0;
        assert_eq!(feasibility(&n, &x), Err(Unfit::Hours));
        let mut x = o.clone();
        x.capacity = 0;
        assert_eq!(feasibility(&n, &x), Err(Unfit::Full));
    }

    #[test]
    fn a_window_past_midnight_is_one_stretch() {
        // Need: Monday 22:00–02:00 for three hours; offer: Monday 21:00–03:00.
        let need = WeekWindow::split_overnight("w", 0, 22 * 60, 2 * 60).unwrap();
        let offer = WeekWindow::split_overnight("a", 0, 21 * 60, 3 * 60).unwrap();
        assert_eq!(longest_overlap(&need, &offer), 240);
        assert!(time_fits(&need, 180, &offer));
        // Sunday 23:00–01:00 against the same hours: two hours across the week's end.
        let sunday = WeekWindow::split_overnight("w", 6, 23 * 60, 60).unwrap();
        assert_eq!(longest_overlap(&sunday, &sunday), 120);
        // Two stretches that do not touch are not one.
        let a = [
            WeekWindow::on_day("w", 0, 9 * 60, 10 * 60).unwrap(),
            WeekWindow::on_day("w", 0, 11 * 60, 12 * 60).unwrap(),
        ];
        assert_eq!(longest_window(&a), 60);
    }

    #[test]
    fn any_time_still_needs_a_stretch_long_enough_on_the_other_side() {
        let one_hour = [WeekWindow::on_day("a", 1, 9 * 60, 10 * 60).unwrap()];
        assert!(
            !time_fits(&[], 120, &one_hour),
            "a two-hour need, an hour free"
        );
        assert!(time_fits(&[], 60, &one_hour));
        assert!(!time_fits(&one_hour, 120, &[]));
        assert!(time_fits(&[], 600, &[]));
    }

    #[test]
    fn overnight_windows_split_and_wrap_the_week() {
        let w = WeekWindow::split_overnight("w", 6, 22 * 60, 2 * 60).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[1].start, 0);
        assert_eq!(w[1].end, 120);
        assert!(WeekWindow::on_day("w", 7, 0, 10).is_err());
        assert!(WeekWindow::on_day("w", 0, 10, 10).is_err());
    }

    #[test]
    fn weights_grow_with_urgency_and_waiting() {
        assert_eq!(need_weight(Urgency::Low, 0), 7);
        assert_eq!(need_weight(Urgency::Critical, 100), 280);
        assert!(need_weight(Urgency::High, 0) > need_weight(Urgency::Normal, 6));
    }

    #[test]
    fn load_penalty_is_convex_and_bounded() {
        let mut o = offer();
        o.load = 3;
        o.capacity = 5;
        let steps: Vec<i64> = (0..=5).map(|u| load_penalty(&o, u)).collect();
        assert!(steps.windows(2).all(|w| w[0] <= w[1]));
        assert!(steps.iter().all(|&s| (0..=250).contains(&s)));
        assert_eq!(score_from_penalty(0), 100);
        assert_eq!(score_from_penalty(MAX_PENALTY), 0);
    }
}
