//! Shared services: needs of the same kind, close in space and time, served together (one
//! caregiver for three neighbours in a building, one babysitter for two families), with the
//! cost split among them.

use serde::Serialize;

use super::model::{Need, WeekWindow};
use crate::money::Cents;

/// The price of a shared service as an operator asks for its proposal: the hourly rate in
/// euros (22.00 unless given; above zero) and the surcharge for each member beyond the first,
/// in percent (25 unless given; at most 100).
pub fn pricing(
    hourly_rate: Option<f64>,
    extra_percent: Option<u32>,
) -> Result<(Cents, u32), crate::FieldError> {
    let rate = Cents::from_decimal("hourly_rate", hourly_rate.unwrap_or(22.0))?;
    if rate.0 <= 0 {
        return Err(crate::FieldError::new("hourly_rate", "must be above 0"));
    }
    let extra = crate::bounded::within("extra_percent", extra_percent.unwrap_or(25), 0, 100)?;
    Ok((rate, extra))
}

/// How needs are grouped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SharingRules {
    /// Every two members of a group live at most this far apart.
    pub max_distance_km: f64,
    /// At most this many needs per group.
    pub max_members: usize,
}

impl Default for SharingRules {
    fn default() -> Self {
        Self {
            max_distance_km: 0.3,
            max_members: 4,
        }
    }
}

/// A proposed shared service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharedGroup {
    /// Indexes of the needs, in the order they joined.
    pub members: Vec<u32>,
    /// When all of them can be served together.
    pub windows: Vec<WeekWindow>,
    /// The longest of the members' durations: how long the shared visit takes.
    pub duration_min: u16,
}

fn intersect(a: &[WeekWindow], b: &[WeekWindow]) -> Vec<WeekWindow> {
    if a.is_empty() {
        return b.to_vec();
    }
    if b.is_empty() {
        return a.to_vec();
    }
    let mut out = Vec::new();
    for x in a {
        for y in b {
            let (s, e) = (x.start.max(y.start), x.end.min(y.end));
            if s < e {
                out.push(WeekWindow { start: s, end: e });
            }
        }
    }
    out.sort();
    out
}

fn fits(windows: &[WeekWindow], duration: u16, any_time: bool) -> bool {
    any_time || windows.iter().any(|w| w.minutes() >= duration)
}

/// Groups of two or more needs that can share one service. Each need is in at most one group.
/// Deterministic: seeds are taken in index order, and each seed gathers its nearest compatible
/// neighbours first.
pub fn propose_groups(needs: &[Need], rules: SharingRules) -> Vec<SharedGroup> {
    let mut taken = vec![false; needs.len()];
    let mut groups = Vec::new();
    for seed in 0..needs.len() {
        if taken[seed] {
            continue;
        }
        let s = &needs[seed];
        let mut near: Vec<(f64, usize)> = (seed + 1..needs.len())
            .filter(|&j| !taken[j] && needs[j].category == s.category)
            .map(|j| (s.point.distance_km(&needs[j].point), j))
            .filter(|(d, _)| *d <= rules.max_distance_km)
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut members = vec![seed];
        let mut windows = s.windows.clone();
        let mut any_time = s.windows.is_empty();
        let mut duration = s.duration_min;
        for (_, j) in near {
            if members.len() >= rules.max_members {
                break;
            }
            let n = &needs[j];
            if members
                .iter()
                .any(|&m| needs[m].point.distance_km(&n.point) > rules.max_distance_km)
            {
                continue;
            }
            let w = intersect(&windows, &n.windows);
            let at = any_time && n.windows.is_empty();
            let d = duration.max(n.duration_min);
            if !fits(&w, d, at) {
                continue;
            }
            members.push(j);
            windows = w;
            any_time = at;
            duration = d;
        }
        if members.len() >= 2 {
            for &m in &members {
                taken[m] = true;
            }
            groups.push(SharedGroup {
                members: members.into_iter().map(|m| m as u32).collect(),
                windows,
                duration_min: duration,
            });
        }
    }
    groups
}

/// The cost of a shared visit: the hourly rate for the visit's length, plus `extra_percent` for
/// each member after the first (one carer for three people works harder than for one).
pub fn shared_cost(hourly_rate: Cents, minutes: u16, members: usize, extra_percent: u32) -> Cents {
    let base = hourly_rate.0 as i128 * minutes as i128;
    let factor = 100 + extra_percent as i128 * members.saturating_sub(1) as i128;
    // Rounded to the nearest cent: base/60 × factor/100.
    Cents(((base * factor + 3000) / 6000) as i64)
}

/// Splits `total` in proportion to `weights` (largest remainder method): the shares always sum
/// to `total` exactly, and differ from the exact proportion by less than one cent. Equal weights
/// give equal shares, the odd cents going to the first members.
pub fn split_cost(total: Cents, weights: &[u32]) -> Vec<Cents> {
    let sum: i128 = weights.iter().map(|&w| w as i128).sum();
    if weights.is_empty() {
        return Vec::new();
    }
    if sum == 0 {
        return split_cost(total, &vec![1; weights.len()]);
    }
    let t = total.0 as i128;
    let mut shares: Vec<i128> = weights
        .iter()
        .map(|&w| (t * w as i128).div_euclid(sum))
        .collect();
    let mut rest = t - shares.iter().sum::<i128>();
    // Hand out the remaining cents to the largest remainders (stable by position).
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| {
        (
            std::cmp::Reverse((t * weights[i] as i128).rem_euclid(sum)),
            i,
        )
    });
    let mut k = 0;
    while rest > 0 {
        shares[order[k % order.len()]] += 1;
        rest -= 1;
        k += 1;
    }
    shares.into_iter().map(|s| Cents(s as i64)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::Coordinates;
    use proptest::prelude::*;

    fn need(lat: f64, lon: f64, cat: u32, day: u8, from: u16, to: u16) -> Need {
        Need {
            point: Coordinates::new(lat, lon).unwrap(),
            category: cat,
            windows: vec![WeekWindow::on_day("w", day, from, to).unwrap()],
            duration_min: 60,
            weight: 14,
            languages: 0,
            skills: 0,
            people: 1,
            previous_offers: vec![],
        }
    }

    #[test]
    fn three_neighbours_in_one_building_share_a_carer() {
        let needs = vec![
            need(45.4600, 9.1500, 1, 0, 540, 720),
            need(45.4601, 9.1501, 1, 0, 600, 780),
            need(45.4602, 9.1499, 1, 0, 570, 700),
            need(45.4601, 9.1500, 2, 0, 540, 720), // another kind of need
            need(45.4700, 9.1500, 1, 0, 540, 720), // a kilometre away
            need(45.4600, 9.1500, 1, 3, 540, 720), // another day
        ];
        let groups = propose_groups(&needs, SharingRules::default());
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].members, vec![0, 1, 2]);
        assert_eq!(
            groups[0].windows,
            vec![WeekWindow {
                start: 600,
                end: 700
            }]
        );
    }

    #[test]
    fn shared_cost_adds_a_share_per_extra_person() {
        // 20 €/h for 90 minutes, three people, +25% each after the first: 30 € × 1.5 = 45 €.
        assert_eq!(shared_cost(Cents(2000), 90, 3, 25), Cents(4500));
        assert_eq!(split_cost(Cents(4500), &[1, 1, 1]), vec![Cents(1500); 3]);
        assert_eq!(
            split_cost(Cents(100), &[1, 1, 1]),
            vec![Cents(34), Cents(33), Cents(33)]
        );
    }

    proptest! {
        #[test]
        fn shares_sum_to_the_total_and_follow_the_weights(
            total in 0i64..10_000_000,
            weights in proptest::collection::vec(0u32..1000, 1..8),
        ) {
            let shares = split_cost(Cents(total), &weights);
            prop_assert_eq!(shares.iter().map(|c| c.0).sum::<i64>(), total);
            let sum: u64 = weights.iter().map(|&w| w as u64).sum();
            if sum > 0 {
                for (s, &w) in shares.iter().zip(&weights) {
                    let exact = total as f64 * w as f64 / sum as f64;
                    prop_assert!((s.0 as f64 - exact).abs() < 1.0 + 1e-9);
                }
            }
        }
    }
}
