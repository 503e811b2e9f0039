//! The JSON form of a matching problem (what `trama match INSTANCE.json` reads) and of its
//! solution (what it prints). Identifiers, categories, languages and skills are plain strings
//! here; [`Vocabulary`] interns them into the engine's integers and bit sets.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::assign::{AssignOptions, Objective, Outcome};
use super::model::{MAX_WEIGHT, Need, Offer, Problem, Urgency, WeekWindow, need_weight};
use crate::FieldError;
use crate::geo::{Coordinates, RadiusKm};
use crate::schedule::parse_clock;

/// A time window as written by people: `{"day": "tue", "from": "09:00", "to": "12:00"}`.
/// `to` earlier than `from` runs past midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    pub day: String,
    pub from: String,
    pub to: String,
}

const DAY_NAMES: [[&str; 3]; 7] = [
    ["mon", "lun", "1"],
    ["tue", "mar", "2"],
    ["wed", "mer", "3"],
    ["thu", "gio", "4"],
    ["fri", "ven", "5"],
    ["sat", "sab", "6"],
    ["sun", "dom", "7"],
];

/// The day of the week: `mon`…`sun`, `lun`…`dom`, or `1`…`7` (ISO, Monday = 1); 0 = Monday.
pub fn parse_day(field: &str, s: &str) -> Result<u8, FieldError> {
    let s = s.trim().to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .position(|names| {
            names
                .iter()
                .any(|n| s.starts_with(n) && (n.len() > 1 || s.len() == 1))
        })
        .map(|d| d as u8)
        .ok_or_else(|| FieldError::new(field, format!("'{s}' is not a day of the week (mon…sun)")))
}

impl WindowSpec {
    pub fn parse(&self, field: &str) -> Result<Vec<WeekWindow>, FieldError> {
        let day = parse_day(&format!("{field}.day"), &self.day)?;
        let from = parse_clock(&format!("{field}.from"), &self.from)?;
        let to = parse_clock(&format!("{field}.to"), &self.to)?;
        WeekWindow::split_overnight(field, day, from, to)
    }

    /// The spec of an engine window (for printing); windows never cross midnight.
    pub fn of(w: &WeekWindow) -> Self {
        let clock = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        let day = w.day();
        let base = day as u16 * 24 * 60;
        Self {
            day: DAY_NAMES[day as usize][0].to_string(),
            from: clock(w.start - base),
            to: clock(w.end - base),
        }
    }
}

fn default_one() -> u8 {
    1
}
fn default_duration() -> u16 {
    60
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeedSpec {
    pub id: String,
    pub lat: f64,
    pub lon: f64,
    pub category: String,
    #[serde(default)]
    pub windows: Vec<WindowSpec>,
    #[serde(default = "default_duration")]
    pub duration_minutes: u16,
    #[serde(default)]
    pub urgency: Urgency,
    #[serde(default)]
    pub waiting_days: u32,
    /// Overrides the weight computed from urgency and waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default = "default_one")]
    pub people: u8,
    #[serde(default)]
    pub previous_offers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferSpec {
    pub id: String,
    pub lat: f64,
    pub lon: f64,
    pub radius_km: f64,
    pub categories: Vec<String>,
    #[serde(default)]
    pub availability: Vec<WindowSpec>,
    pub hours_per_week: f64,
    #[serde(default = "default_capacity")]
    pub capacity: u16,
    #[serde(default)]
    pub load: u16,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub skills: Vec<String>,
}

fn default_capacity() -> u16 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionsSpec {
    /// Candidates kept per need; 0 keeps them all.
    #[serde(default = "default_max_candidates")]
    pub max_candidates: usize,
    /// Also run the greedy assignment and report the difference.
    #[serde(default = "default_true")]
    pub compare_greedy: bool,
}

fn default_max_candidates() -> usize {
    32
}
fn default_true() -> bool {
    true
}

impl Default for OptionsSpec {
    fn default() -> Self {
        Self {
            max_candidates: default_max_candidates(),
            compare_greedy: true,
        }
    }
}

impl OptionsSpec {
    pub fn assign_options(&self) -> AssignOptions {
        AssignOptions {
            max_candidates: (self.max_candidates > 0).then_some(self.max_candidates),
        }
    }
}

/// A batch instance as planners write it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    pub needs: Vec<NeedSpec>,
    pub offers: Vec<OfferSpec>,
    #[serde(default)]
    pub options: OptionsSpec,
}

/// Interns categories, languages and skills. Languages and skills become bit sets, so at most
/// 64 distinct ones of each per problem.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    categories: HashMap<String, u32>,
    languages: HashMap<String, u32>,
    skills: HashMap<String, u32>,
}

fn bits(
    table: &mut HashMap<String, u32>,
    field: &str,
    what: &str,
    words: &[String],
) -> Result<u64, FieldError> {
    let mut set = 0u64;
    for w in words {
        let key = w.trim().to_lowercase();
        if key.is_empty() {
            return Err(FieldError::new(field, format!("an empty {what}")));
        }
        let next = table.len() as u32;
        let bit = *table.entry(key).or_insert(next);
        if bit >= 64 {
            return Err(FieldError::new(
                field,
                format!("more than 64 distinct {what}s in one problem"),
            ));
        }
        set |= 1 << bit;
    }
    Ok(set)
}

impl Vocabulary {
    pub fn category(&mut self, name: &str) -> u32 {
        let next = self.categories.len() as u32;
        *self
            .categories
            .entry(name.trim().to_string())
            .or_insert(next)
    }
    pub fn languages(&mut self, field: &str, words: &[String]) -> Result<u64, FieldError> {
        bits(&mut self.languages, field, "language", words)
    }
    pub fn skills(&mut self, field: &str, words: &[String]) -> Result<u64, FieldError> {
        bits(&mut self.skills, field, "skill", words)
    }
}

fn windows(field: &str, specs: &[WindowSpec]) -> Result<Vec<WeekWindow>, FieldError> {
    let mut out = Vec::new();
    for (i, w) in specs.iter().enumerate() {
        out.extend(w.parse(&format!("{field}[{i}]"))?);
    }
    Ok(out)
}

impl Instance {
    /// The engine's problem, refusing the first invalid value with its path
    /// (`offers[3].radius_km`).
    pub fn to_problem(&self) -> Result<Problem, FieldError> {
        let mut vocab = Vocabulary::default();
        let mut offer_ids: HashMap<&str, u32> = HashMap::new();
        let mut offers = Vec::with_capacity(self.offers.len());
        for (i, o) in self.offers.iter().enumerate() {
            let f = |name: &str| format!("offers[{i}].{name}");
            if offer_ids.insert(o.id.as_str(), i as u32).is_some() {
                return Err(FieldError::new(
                    f("id"),
                    format!("'{}' is used twice", o.id),
                ));
            }
            let radius = RadiusKm::new(o.radius_km)
                .map_err(|e| FieldError::new(f("radius_km"), e.reason))?;
            if o.categories.is_empty() {
                return Err(FieldError::new(
                    f("categories"),
                    "an offer needs at least one category",
                ));
            }
            if !o.hours_per_week.is_finite() || !(0.0..=168.0).contains(&o.hours_per_week) {
                return Err(FieldError::new(
                    f("hours_per_week"),
                    "must be between 0 and 168",
                ));
            }
            offers.push(Offer {
                point: Coordinates::named(o.lat, o.lon, &f("lat"), &f("lon"))?,
                radius_km: radius.km(),
                categories: o.categories.iter().map(|c| vocab.category(c)).collect(),
                availability: windows(&f("availability"), &o.availability)?,
                hours_per_week: o.hours_per_week,
                capacity: o.capacity,
                load: o.load,
                languages: vocab.languages(&f("languages"), &o.languages)?,
                skills: vocab.skills(&f("skills"), &o.skills)?,
            });
        }
        let mut need_ids: HashMap<&str, ()> = HashMap::new();
        let mut needs = Vec::with_capacity(self.needs.len());
        for (i, n) in self.needs.iter().enumerate() {
            let f = |name: &str| format!("needs[{i}].{name}");
            if need_ids.insert(n.id.as_str(), ()).is_some() {
                return Err(FieldError::new(
                    f("id"),
                    format!("'{}' is used twice", n.id),
                ));
            }
            if n.people == 0 || n.people > 20 {
                return Err(FieldError::new(f("people"), "must be between 1 and 20"));
            }
            if n.duration_minutes == 0 || n.duration_minutes > 24 * 60 {
                return Err(FieldError::new(
                    f("duration_minutes"),
                    "must be between 1 and 1440",
                ));
            }
            let weight = match n.weight {
                Some(w) if w == 0 || w > MAX_WEIGHT => {
                    return Err(FieldError::new(
                        f("weight"),
                        format!("must be between 1 and {MAX_WEIGHT}"),
                    ));
                }
                Some(w) => w,
                None => need_weight(n.urgency, n.waiting_days),
            };
            let mut previous = Vec::new();
            for (k, p) in n.previous_offers.iter().enumerate() {
                let o = offer_ids.get(p.as_str()).ok_or_else(|| {
                    FieldError::new(
                        format!("needs[{i}].previous_offers[{k}]"),
                        format!("no offer '{p}'"),
                    )
                })?;
                previous.push(*o);
            }
            needs.push(Need {
                point: Coordinates::named(n.lat, n.lon, &f("lat"), &f("lon"))?,
                category: vocab.category(&n.category),
                windows: windows(&f("windows"), &n.windows)?,
                duration_min: n.duration_minutes,
                weight,
                languages: vocab.languages(&f("languages"), &n.languages)?,
                skills: vocab.skills(&f("skills"), &n.skills)?,
                people: n.people,
                previous_offers: previous,
            });
        }
        Ok(Problem { needs, offers })
    }

    /// Reads an instance, naming the field at fault (`offers[0].capacity`) and the line and
    /// column; a JSON syntax error, where no field is at fault yet, by its line and column.
    pub fn from_json(text: &str) -> Result<Self, FieldError> {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let at = format!("line {}, column {}", inner.line(), inner.column());
            // serde_json's message ends with its own "at line L column C".
            let msg = inner.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            if path.is_empty() || path == "." {
                FieldError::new(at, msg)
            } else {
                FieldError::new(path, format!("{msg} ({at})"))
            }
        })
    }
}

/// One row of a printed assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentRow {
    pub need: String,
    pub offer: String,
    pub distance_km: f64,
    pub score: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UncoveredRow {
    pub need: String,
    /// Helpers still missing.
    pub missing: u8,
}

/// How the optimal assignment compares with the greedy one on the same candidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GreedyComparison {
    pub objective: Objective,
    /// Units covered by the optimum minus those covered by greedy.
    pub units_gained: i64,
    /// Weighted coverage gained, as a percentage of greedy's.
    pub weight_gained_percent: f64,
}

/// What `trama match` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Solution {
    pub objective: Objective,
    pub needs: usize,
    pub need_units: u64,
    pub offers: usize,
    pub candidate_pairs: usize,
    pub assignments: Vec<AssignmentRow>,
    pub uncovered: Vec<UncoveredRow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greedy: Option<GreedyComparison>,
}

impl Solution {
    pub fn new(
        instance: &Instance,
        problem: &Problem,
        optimal: &Outcome,
        greedy: Option<&Outcome>,
    ) -> Self {
        Self {
            objective: optimal.objective,
            needs: problem.needs.len(),
            need_units: problem.needs.iter().map(|n| n.people as u64).sum(),
            offers: problem.offers.len(),
            candidate_pairs: optimal.edges,
            assignments: optimal
                .assignments
                .iter()
                .map(|a| AssignmentRow {
                    need: instance.needs[a.need as usize].id.clone(),
                    offer: instance.offers[a.offer as usize].id.clone(),
                    distance_km: (a.distance_km * 1000.0).round() / 1000.0,
                    score: a.score,
                })
                .collect(),
            uncovered: optimal
                .uncovered(problem)
                .into_iter()
                .map(|(n, missing)| UncoveredRow {
                    need: instance.needs[n as usize].id.clone(),
                    missing,
                })
                .collect(),
            greedy: greedy.map(|g| GreedyComparison {
                objective: g.objective,
                units_gained: optimal.objective.covered_units as i64
                    - g.objective.covered_units as i64,
                weight_gained_percent: if g.objective.covered_weight == 0 {
                    0.0
                } else {
                    let gain =
                        optimal.objective.covered_weight as f64 - g.objective.covered_weight as f64;
                    (gain * 10_000.0 / g.objective.covered_weight as f64).round() / 100.0
                },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_in_english_italian_and_iso() {
        assert_eq!(parse_day("d", "tue").unwrap(), 1);
        assert_eq!(parse_day("d", "Martedì").unwrap(), 1);
        assert_eq!(parse_day("d", "7").unwrap(), 6);
        assert_eq!(parse_day("d", "dom").unwrap(), 6);
        assert!(parse_day("d", "x").is_err());
        assert!(parse_day("d", "8").is_err());
    }

    #[test]
    fn instance_errors_name_the_field() {
        let text = r#"{"needs":[{"id":"n","lat":45.4,"lon":9.1,"category":"A"}],
            "offers":[{"id":"o","lat":45.4,"lon":9.1,"radius_km":500,"categories":["A"],"hours_per_week":2}]}"#;
        let err = Instance::from_json(text).unwrap().to_problem().unwrap_err();
        assert_eq!(err.field, "offers[0].radius_km");
        let err = Instance::from_json(r#"{"needs":[{"id":"n"}]"#).unwrap_err();
        assert_eq!(err.field, "needs[0]", "{err}");
        assert!(err.reason.contains("missing field `lat`"), "{err}");
        // A syntax error: where it is (and in which field, once inside one).
        let err = Instance::from_json("{\"needs\": [").unwrap_err();
        assert!(err.to_string().contains("line 1, column 11"), "{err}");
        let err = Instance::from_json("").unwrap_err();
        assert!(err.field.starts_with("line 1"), "{err}");
        // A value of the wrong kind names its field, and still where it is.
        let text = r#"{"needs":[],"offers":[{"id":"o","lat":45.4,"lon":9.1,"radius_km":1,"categories":["A"],"hours_per_week":2,"capacity":-1}]}"#;
        let err = Instance::from_json(text).unwrap_err();
        assert_eq!(err.field, "offers[0].capacity", "{err}");
        assert!(err.reason.contains("line 1, column"), "{err}");
        let text = r#"{"needs":[{"id":"n","lat":"NaN","lon":9.1,"category":"A"}],"offers":[]}"#;
        assert_eq!(Instance::from_json(text).unwrap_err().field, "needs[0].lat");
        let text = r#"{"needs":[{"id":"n","lat":45.4,"lon":9.1,"category":"A","windows":[{"day":"tue","from":"25:00","to":"12:00"}]}],"offers":[]}"#;
        let err = Instance::from_json(text).unwrap().to_problem().unwrap_err();
        assert_eq!(err.field, "needs[0].windows[0].from");
    }
}
