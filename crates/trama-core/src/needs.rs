//! Needs and offers as people post them: what a need or an offer must say, how the input is
//! checked, who may see what of a need, and the public area that stands in for an address.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Date, Weekday};

use crate::FieldError;
use crate::areas::Area;
use crate::auth::{Principal, Role};
use crate::geo::{Coordinates, RadiusKm};
use crate::ids::{CampaignId, OrganizationId, TaxonomyTermId, UserId};
use crate::matching::instance::{WindowSpec, parse_day};
use crate::matching::model::{Urgency, WeekWindow};
use crate::schedule::parse_clock;
use crate::taxonomy;

/// Languages people can ask for, by ISO 639-1 code, with their names in Italian and English.
pub const LANGUAGES: &[(&str, &str, &str)] = &[
    ("it", "italiano", "Italian"),
    ("en", "inglese", "English"),
    ("es", "spagnolo", "Spanish"),
    ("fr", "francese", "French"),
    ("ar", "arabo", "Arabic"),
    ("zh", "cinese", "Chinese"),
    ("ro", "rumeno", "Romanian"),
    ("uk", "ucraino", "Ukrainian"),
    ("ru", "russo", "Russian"),
    ("tl", "tagalog", "Tagalog"),
    ("bn", "bengalese", "Bengali"),
    ("sq", "albanese", "Albanian"),
    ("pt", "portoghese", "Portuguese"),
    ("de", "tedesco", "German"),
    (
        "lis",
        "lingua dei segni (LIS)",
        "Italian Sign Language (LIS)",
    ),
];

/// Skills a need may require and an offer may bring.
pub const SKILLS: &[(&str, &str, &str)] = &[
    ("driving", "patente e auto", "driving licence and car"),
    ("first_aid", "primo soccorso", "first aid"),
    ("personal_care", "cura della persona", "personal care"),
    (
        "digital",
        "computer e smartphone",
        "computers and smartphones",
    ),
    ("diy", "piccole riparazioni", "small repairs"),
    ("tutoring", "ripetizioni", "tutoring"),
    ("childcare", "cura dei bambini", "childcare"),
    ("cooking", "cucina", "cooking"),
    ("lifting", "lavori pesanti", "heavy lifting"),
    ("paperwork", "pratiche e moduli", "forms and paperwork"),
];

fn checked_list(
    field: &str,
    given: &[String],
    known: &[(&str, &str, &str)],
    what: &str,
) -> Result<Vec<String>, FieldError> {
    let mut out = Vec::new();
    for g in given {
        let g = g.trim().to_lowercase();
        if g.is_empty() {
            continue;
        }
        if !known.iter().any(|(code, _, _)| *code == g) {
            let list: Vec<&str> = known.iter().map(|k| k.0).collect();
            return Err(FieldError::new(
                field,
                format!("'{g}' is not a known {what} ({})", list.join(", ")),
            ));
        }
        if !out.contains(&g) {
            out.push(g);
        }
    }
    Ok(out)
}

pub fn parse_languages(field: &str, given: &[String]) -> Result<Vec<String>, FieldError> {
    checked_list(field, given, LANGUAGES, "language")
}

pub fn parse_skills(field: &str, given: &[String]) -> Result<Vec<String>, FieldError> {
    checked_list(field, given, SKILLS, "skill")
}

/// A kind of neighbourly help, given as its code (`H1`) or its term UUID: one of
/// [`taxonomy::AIUTI`]. The directory's categories (`C1`, home care by a provider) are not
/// kinds of help a neighbour gives, and are refused like any unknown code.
pub fn parse_category(field: &str, s: &str) -> Result<TaxonomyTermId, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, "a category is required"));
    }
    let by_code = taxonomy::AIUTI
        .iter()
        .find(|t| t.code.eq_ignore_ascii_case(s))
        .map(|t| taxonomy::term_id(t.code));
    let by_id = TaxonomyTermId::parse(field, s).ok().filter(|id| {
        taxonomy::AIUTI
            .iter()
            .any(|t| taxonomy::term_id(t.code) == *id)
    });
    by_code.or(by_id).ok_or_else(|| {
        FieldError::new(
            field,
            format!(
                "'{s}' is not a kind of help (H1 to H{})",
                taxonomy::AIUTI.len()
            ),
        )
    })
}

fn text(field: &str, s: &str, max: usize, required: bool) -> Result<String, FieldError> {
    let t = s.trim();
    if required && t.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldError::new(field, "contains control characters"));
    }
    Ok(t.to_string())
}

fn parse_windows(field: &str, specs: &[WindowSpec]) -> Result<Vec<WeekWindow>, FieldError> {
    if specs.len() > 21 {
        return Err(FieldError::new(field, "at most 21 time windows"));
    }
    let mut out = Vec::new();
    for (i, w) in specs.iter().enumerate() {
        let at = format!("{field}[{i}]");
        // People write a window within one day: one that ends at or before its start
        // (12:00–09:00) is a slip, not a night shift, and is refused naming `to`. A window
        // past midnight is two: until 24:00, and from 00:00 on the next day.
        parse_day(&format!("{at}.day"), &w.day)?;
        let from = parse_clock(&format!("{at}.from"), &w.from)?;
        let to = parse_clock(&format!("{at}.to"), &w.to)?;
        if to <= from {
            return Err(FieldError::new(
                format!("{at}.to"),
                format!(
                    "must be after from ({} is not after {}); a window past midnight is two windows, until 24:00 and from 00:00 the next day",
                    w.to.trim(),
                    w.from.trim()
                ),
            ));
        }
        out.extend(w.parse(&at)?);
    }
    Ok(out)
}

use crate::moment::parse_date;

fn weekday_index(d: Weekday) -> u8 {
    d.number_days_from_monday()
}

/// Which needs a list shows (`GET /api/needs?scope=`): one's own, those of the people one's
/// organisations follow at a desk, or every open one (what strangers see of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeedScope {
    Mine,
    Desk,
    Open,
}

impl NeedScope {
    /// The scope named, or the default: one's own when signed in, the open ones otherwise.
    pub fn parse(field: &str, s: Option<&str>, signed_in: bool) -> Result<Self, FieldError> {
        match s.map(str::trim) {
            None if signed_in => Ok(Self::Mine),
            None => Ok(Self::Open),
            Some("mine") => Ok(Self::Mine),
            Some("desk") => Ok(Self::Desk),
            Some("open") => Ok(Self::Open),
            Some(other) => Err(FieldError::new(
                field,
                format!("'{other}' is not mine, desk or open"),
            )),
        }
    }
}

/// A need as a client sends it (JSON API or web form).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeedForm {
    pub category: String,
    #[serde(default)]
    pub description: String,
    /// The exact address: private.
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    #[serde(default)]
    pub windows: Vec<WindowSpec>,
    /// Weekly (true) or once, on `date` (false).
    #[serde(default)]
    pub recurring: bool,
    /// The day of a one-off need (`2026-12-01`).
    #[serde(default)]
    pub date: Option<String>,
    /// The last day of a recurring need, if it ends.
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default = "default_duration")]
    pub duration_minutes: u16,
    #[serde(default)]
    pub urgency: Urgency,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default = "default_people")]
    pub people: u8,
    /// Operators: the person this need is entered for (assisted mode).
    #[serde(default)]
    pub on_behalf_of: Option<String>,
    #[serde(default)]
    pub campaign_id: Option<String>,
}

fn default_duration() -> u16 {
    60
}
fn default_people() -> u8 {
    1
}

/// A need that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNeed {
    pub category: TaxonomyTermId,
    pub description: String,
    pub address: String,
    pub point: Coordinates,
    pub windows: Vec<WeekWindow>,
    pub recurring: bool,
    pub date: Option<Date>,
    pub until: Option<Date>,
    pub duration_minutes: u16,
    pub urgency: Urgency,
    pub languages: Vec<String>,
    pub skills: Vec<String>,
    pub people: u8,
    pub on_behalf_of: Option<UserId>,
    pub campaign: Option<CampaignId>,
}

impl NeedForm {
    /// Checks every field; `today` bounds the dates (no one-off need in the past).
    pub fn parse(&self, today: Date) -> Result<NewNeed, FieldError> {
        let category = parse_category("category", &self.category)?;
        let description = text("description", &self.description, 2000, false)?;
        let address = text("address", &self.address, 300, true)?;
        let point = Coordinates::new(self.lat, self.lon)?;
        let windows = parse_windows("windows", &self.windows)?;
        if self.duration_minutes == 0 || self.duration_minutes > 12 * 60 {
            return Err(FieldError::new(
                "duration_minutes",
                "must be between 1 and 720",
            ));
        }
        if self.people == 0 || self.people > 10 {
            return Err(FieldError::new("people", "must be between 1 and 10"));
        }
        let date = self
            .date
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_date("date", s))
            .transpose()?;
        let until = self
            .until
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_date("until", s))
            .transpose()?;
        if !self.recurring {
            let d = date.ok_or_else(|| FieldError::new("date", "a one-off need needs a date"))?;
            if d < today {
                return Err(FieldError::new("date", "is in the past"));
            }
            let wd = weekday_index(d.weekday());
            if let Some((i, _)) = windows.iter().enumerate().find(|(_, w)| w.day() != wd) {
                return Err(FieldError::new(
                    format!("windows[{i}].day"),
                    format!("{d} is a {}", d.weekday()),
                ));
            }
        } else if windows.is_empty() {
            return Err(FieldError::new(
                "windows",
                "a weekly need needs at least one time window",
            ));
        }
        if let Some(u) = until
            && u < today
        {
            return Err(FieldError::new("until", "is in the past"));
        }
        let on_behalf_of = self
            .on_behalf_of
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| UserId::parse("on_behalf_of", s))
            .transpose()?;
        let campaign = self
            .campaign_id
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| CampaignId::parse("campaign_id", s))
            .transpose()?;
        Ok(NewNeed {
            category,
            description,
            address,
            point,
            windows,
            recurring: self.recurring,
            date,
            until,
            duration_minutes: self.duration_minutes,
            urgency: self.urgency,
            languages: parse_languages("languages", &self.languages)?,
            skills: parse_skills("skills", &self.skills)?,
            people: self.people,
            on_behalf_of,
            campaign,
        })
    }
}

/// An offer as a client sends it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferForm {
    pub categories: Vec<String>,
    #[serde(default)]
    pub description: String,
    pub lat: f64,
    pub lon: f64,
    pub radius_km: f64,
    #[serde(default)]
    pub availability: Vec<WindowSpec>,
    pub hours_per_week: f64,
    #[serde(default = "default_capacity")]
    pub capacity: u16,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub skills: Vec<String>,
    /// Offered by an organisation the user works for.
    #[serde(default)]
    pub organization_id: Option<String>,
}

fn default_capacity() -> u16 {
    1
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewOffer {
    pub categories: Vec<TaxonomyTermId>,
    pub description: String,
    pub point: Coordinates,
    pub radius_km: f64,
    pub availability: Vec<WeekWindow>,
    pub hours_per_week: f64,
    pub capacity: u16,
    pub languages: Vec<String>,
    pub skills: Vec<String>,
    pub organization: Option<OrganizationId>,
}

impl OfferForm {
    pub fn parse(&self) -> Result<NewOffer, FieldError> {
        if self.categories.is_empty() {
            return Err(FieldError::new(
                "categories",
                "choose at least one kind of help",
            ));
        }
        if self.categories.len() > 20 {
            return Err(FieldError::new("categories", "at most 20"));
        }
        let mut categories = Vec::new();
        for (i, c) in self.categories.iter().enumerate() {
            let id = parse_category(&format!("categories[{i}]"), c)?;
            if !categories.contains(&id) {
                categories.push(id);
            }
        }
        let radius =
            RadiusKm::new(self.radius_km).map_err(|e| FieldError::new("radius_km", e.reason))?;
        if !self.hours_per_week.is_finite()
            || self.hours_per_week <= 0.0
            || self.hours_per_week > 60.0
        {
            return Err(FieldError::new(
                "hours_per_week",
                "must be above 0 and at most 60",
            ));
        }
        if self.capacity == 0 || self.capacity > 50 {
            return Err(FieldError::new("capacity", "must be between 1 and 50"));
        }
        Ok(NewOffer {
            categories,
            description: text("description", &self.description, 2000, false)?,
            point: Coordinates::new(self.lat, self.lon)?,
            radius_km: radius.km(),
            availability: parse_windows("availability", &self.availability)?,
            hours_per_week: self.hours_per_week,
            capacity: self.capacity,
            languages: parse_languages("languages", &self.languages)?,
            skills: parse_skills("skills", &self.skills)?,
            organization: self
                .organization_id
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(|s| OrganizationId::parse("organization_id", s))
                .transpose()?,
        })
    }
}

/// The public place of a need: a neighbourhood (NIL) or a Municipio, or a coarse grid cell
/// when the territory has no areas. Never finer than a neighbourhood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicArea {
    pub kind: String,
    pub code: String,
    pub name: String,
}

pub use crate::geo::COARSE_CELL_DEG;

/// Whether a point lies in the territory: inside one of its areas' outlines; where the
/// territory knows its areas only by their centres, within 10 km of one; with no areas at
/// all, anywhere. A need or an offer outside it would have no neighbourhood to be shown in
/// and no operator to reach.
pub fn in_territory(point: &Coordinates, nils: &[Area], municipi: &[Area]) -> bool {
    let all = || nils.iter().chain(municipi);
    if all().any(|a| !a.polygons.is_empty()) {
        return all().any(|a| a.contains(point));
    }
    let mut centres = all().filter_map(|a| a.centroid).peekable();
    centres.peek().is_none() || centres.any(|c| c.distance_km(point) < 10.0)
}

/// The public area of a point, and the Municipio that routes it to operators. NIL polygons win
/// over Municipio polygons; with neither, the nearest Municipio centroid gives the Municipio and
/// the public area is a grid cell.
pub fn public_area(
    point: &Coordinates,
    nils: &[Area],
    municipi: &[Area],
) -> (PublicArea, Option<String>) {
    let municipio = municipi.iter().find(|a| a.contains(point)).or_else(|| {
        municipi
            .iter()
            .filter_map(|a| a.centroid.map(|c| (c.distance_km(point), a)))
            .filter(|(d, _)| *d < 10.0)
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, a)| a)
    });
    let code = municipio.map(|m| m.code.clone());
    if let Some(nil) = nils.iter().find(|a| a.contains(point)) {
        return (
            PublicArea {
                kind: nil.kind.clone(),
                code: nil.code.clone(),
                name: nil.name.clone(),
            },
            code.or_else(|| nil.parent_code.clone()),
        );
    }
    if let Some(m) = municipio.filter(|m| m.contains(point)) {
        return (
            PublicArea {
                kind: m.kind.clone(),
                code: m.code.clone(),
                name: m.name.clone(),
            },
            code,
        );
    }
    let (i, j) = (
        (point.lat() / COARSE_CELL_DEG).floor() as i64,
        (point.lon() / COARSE_CELL_DEG).floor() as i64,
    );
    let (lat, lon) = (
        (i as f64 + 0.5) * COARSE_CELL_DEG,
        (j as f64 + 0.5) * COARSE_CELL_DEG,
    );
    // A cell is named by the Municipio it routes to, as people name places; coordinates only
    // where the territory has no areas at all.
    let name = municipio
        .map(|m| m.name.clone())
        .unwrap_or_else(|| format!("≈ {lat:.3}, {lon:.3}"));
    (
        PublicArea {
            kind: "cell".into(),
            code: format!("cell:{i}:{j}"),
            name,
        },
        code,
    )
}

/// How much of a need someone may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NeedAccess {
    /// Category, public area and time. Everyone.
    Public,
    /// Also the description, urgency, languages and skills: a volunteer in a match that is not
    /// yet agreed by both sides.
    Party,
    /// Also the exact address and point and the person's name: the person, whoever entered the
    /// need for them, the operators of the responsible organisation, the auditor, and a
    /// volunteer once both sides accepted.
    Full,
}

impl fmt::Display for NeedAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NeedAccess::Public => "public",
            NeedAccess::Party => "party",
            NeedAccess::Full => "full",
        })
    }
}

/// The facts about a need that decide who sees what.
#[derive(Debug, Clone, PartialEq)]
pub struct NeedParties {
    pub requester: UserId,
    pub entered_by: UserId,
    pub organization: Option<OrganizationId>,
    /// Volunteers whose match with this need both sides accepted (and not ended without help).
    pub agreed_volunteers: Vec<UserId>,
    /// Volunteers in a live match not yet agreed.
    pub pending_volunteers: Vec<UserId>,
}

/// What `viewer` may see of a need.
pub fn need_access(viewer: Option<&Principal>, parties: &NeedParties) -> NeedAccess {
    let Some(p) = viewer else {
        return NeedAccess::Public;
    };
    if p.user_id == parties.requester
        || p.user_id == parties.entered_by
        || p.has_role(Role::Auditor)
        || parties.organization.is_some_and(|o| p.operates_for(o))
        || parties.agreed_volunteers.contains(&p.user_id)
    {
        NeedAccess::Full
    } else if parties.pending_volunteers.contains(&p.user_id) {
        NeedAccess::Party
    } else {
        NeedAccess::Public
    }
}

/// Who may act for the requester (accept a volunteer, confirm, cancel): the person, whoever
/// entered the need for them, and the operators of the responsible organisation.
pub fn acts_for_requester(viewer: &Principal, parties: &NeedParties) -> bool {
    viewer.user_id == parties.requester
        || viewer.user_id == parties.entered_by
        || parties.organization.is_some_and(|o| viewer.operates_for(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_is_in_the_territory_by_its_outlines_else_near_a_centre() {
        let p = |lat, lon| Coordinates::new(lat, lon).unwrap();
        let municipi = crate::areas::milano_municipi();
        assert!(in_territory(&p(45.4642, 9.19), &[], &municipi), "the Duomo");
        assert!(!in_territory(&p(41.9028, 12.4964), &[], &municipi), "Rome");
        assert!(
            in_territory(&p(41.9028, 12.4964), &[], &[]),
            "no areas: anywhere"
        );
        let square = Area {
            kind: "nil".into(),
            code: "1".into(),
            name: "Quadrato".into(),
            parent_code: None,
            population: None,
            centroid: None,
            polygons: vec![crate::areas::Polygon(vec![vec![
                [9.0, 45.0],
                [9.1, 45.0],
                [9.1, 45.1],
                [9.0, 45.1],
                [9.0, 45.0],
            ]])],
            facts: None,
        };
        let nils = [square];
        assert!(in_territory(&p(45.05, 9.05), &nils, &municipi));
        assert!(
            !in_territory(&p(45.4642, 9.19), &nils, &municipi),
            "with outlines, a centre nearby is not enough"
        );
    }

    #[test]
    fn only_kinds_of_help_are_categories_of_needs_and_offers() {
        assert_eq!(
            parse_category("c", " h10 ").unwrap(),
            taxonomy::term_id("H10")
        );
        let id = taxonomy::term_id("H2").0.to_string();
        assert_eq!(parse_category("c", &id).unwrap(), taxonomy::term_id("H2"));
        for bad in [
            "C1",
            "B2",
            "H13",
            "ZZZ",
            "H",
            &taxonomy::term_id("C1").0.to_string(),
        ] {
            let e = parse_category("c", bad).unwrap_err();
            assert!(e.reason.contains("is not a kind of help"), "{bad}: {e:?}");
        }
    }
    use crate::auth::RoleGrant;

    fn form() -> NeedForm {
        NeedForm {
            category: "H1".into(),
            description: "La spesa del martedì".into(),
            address: "Via Giambellino 58".into(),
            lat: 45.4531,
            lon: 9.1402,
            windows: vec![WindowSpec {
                day: "tue".into(),
                from: "09:00".into(),
                to: "12:00".into(),
            }],
            recurring: true,
            duration_minutes: 90,
            languages: vec!["IT".into()],
            people: 1,
            ..Default::default()
        }
    }

    #[test]
    fn a_weekly_need_parses_and_bad_fields_are_named() {
        let today = time::macros::date!(2026 - 11 - 24);
        let n = form().parse(today).unwrap();
        assert_eq!(n.category, taxonomy::term_id("H1"));
        assert_eq!(n.languages, vec!["it"]);
        let mut f = form();
        f.languages = vec!["klingon".into()];
        assert_eq!(f.parse(today).unwrap_err().field, "languages");
        let mut f = form();
        f.recurring = false;
        assert_eq!(f.parse(today).unwrap_err().field, "date");
        f.date = Some("2026-12-02".into()); // a Wednesday
        let e = f.parse(today).unwrap_err();
        assert_eq!(e.field, "windows[0].day");
        assert!(e.reason.contains("Wednesday"), "{e}");
        f.date = Some("2026-12-01".into());
        assert!(f.parse(today).is_ok());
        f.date = Some("2026-11-17".into());
        assert_eq!(f.parse(today).unwrap_err().field, "date");
        let mut f = form();
        f.address = "  ".into();
        assert_eq!(f.parse(today).unwrap_err().field, "address");
        let mut f = form();
        f.lat = 91.0;
        assert_eq!(f.parse(today).unwrap_err().field, "lat");
    }

    #[test]
    fn a_window_must_end_after_it_starts() {
        let today = time::macros::date!(2026 - 11 - 24);
        for (from, to) in [("12:00", "09:00"), ("10:00", "10:00"), ("22:00", "02:00")] {
            let mut f = form();
            f.windows[0].from = from.into();
            f.windows[0].to = to.into();
            let e = f.parse(today).unwrap_err();
            assert_eq!(e.field, "windows[0].to", "{from}-{to}: {e}");
        }
        let mut f = form();
        f.windows[0].from = "20:00".into();
        f.windows[0].to = "24:00".into();
        assert!(f.parse(today).is_ok(), "until midnight is a window");
        let offer = OfferForm {
            categories: vec!["H1".into()],
            description: "Faccio la spesa".into(),
            lat: 45.46,
            lon: 9.18,
            radius_km: 3.0,
            availability: vec![WindowSpec {
                day: "tue".into(),
                from: "12:00".into(),
                to: "09:00".into(),
            }],
            hours_per_week: 4.0,
            capacity: 1,
            ..Default::default()
        };
        assert_eq!(offer.parse().unwrap_err().field, "availability[0].to");
    }

    #[test]
    fn access_follows_the_parties() {
        let (req, op, vol, other) = (UserId::new(), UserId::new(), UserId::new(), UserId::new());
        let org = OrganizationId::new();
        let parties = NeedParties {
            requester: req,
            entered_by: op,
            organization: Some(org),
            agreed_volunteers: vec![],
            pending_volunteers: vec![vol],
        };
        let who = |id, grants: Vec<RoleGrant>| Principal {
            user_id: id,
            display_name: "x".into(),
            grants,
        };
        assert_eq!(need_access(None, &parties), NeedAccess::Public);
        assert_eq!(
            need_access(Some(&who(req, vec![])), &parties),
            NeedAccess::Full
        );
        assert_eq!(
            need_access(Some(&who(op, vec![])), &parties),
            NeedAccess::Full
        );
        assert_eq!(
            need_access(Some(&who(vol, vec![])), &parties),
            NeedAccess::Party
        );
        assert_eq!(
            need_access(Some(&who(other, vec![])), &parties),
            NeedAccess::Public
        );
        let colleague = who(
            other,
            vec![RoleGrant::new(Role::Operator, Some(org)).unwrap()],
        );
        assert_eq!(need_access(Some(&colleague), &parties), NeedAccess::Full);
        let elsewhere = who(
            other,
            vec![RoleGrant::new(Role::Operator, Some(OrganizationId::new())).unwrap()],
        );
        assert_eq!(need_access(Some(&elsewhere), &parties), NeedAccess::Public);
        let admin = who(
            other,
            vec![RoleGrant::new(Role::TerritoryAdmin, None).unwrap()],
        );
        assert_eq!(
            need_access(Some(&admin), &parties),
            NeedAccess::Public,
            "admins plan with counts, not addresses"
        );
        let agreed = NeedParties {
            agreed_volunteers: vec![vol],
            pending_volunteers: vec![],
            ..parties
        };
        assert_eq!(
            need_access(Some(&who(vol, vec![])), &agreed),
            NeedAccess::Full
        );
    }

    #[test]
    fn public_area_falls_back_to_a_coarse_cell() {
        let p = Coordinates::new(45.4531, 9.1402).unwrap();
        let (a, muni) = public_area(&p, &[], &crate::areas::milano_municipi());
        assert_eq!(a.kind, "cell");
        assert!(muni.is_some());
        // Named as people name places: by its Municipio, not by coordinates.
        assert!(a.name.starts_with("Municipio"), "{}", a.name);
        let (a2, _) = public_area(&Coordinates::new(45.4539, 9.1449).unwrap(), &[], &[]);
        assert_eq!(
            a.code, a2.code,
            "points a few hundred metres apart share a cell"
        );
    }
}
