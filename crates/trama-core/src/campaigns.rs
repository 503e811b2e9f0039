//! Campaigns the territory opens (a heat wave, the flu season): what a campaign must say.

use serde::Deserialize;
use time::Date;

use crate::FieldError;
use crate::bounded::BoundedText;
use crate::ids::TaxonomyTermId;
use crate::moment::parse_date;

/// The kinds of campaign.
pub const KINDS: [&str; 3] = ["heatwave", "flu_season", "other"];

/// A campaign as the territory admin asks for it (`POST /api/campaigns`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    pub name: String,
    /// heatwave, flu_season, other
    pub kind: String,
    #[serde(default)]
    pub description: String,
    /// The kinds of help its intake form offers (term ids or codes).
    pub categories: Vec<String>,
    /// Its first day, `2026-12-01` (today when left out).
    #[serde(default)]
    pub starts_on: Option<String>,
    /// Its last day, when it has one; a campaign without one runs until it is closed.
    #[serde(default)]
    pub ends_on: Option<String>,
    /// The codes of the districts (Municipi) it covers; none means the whole territory.
    #[serde(default)]
    pub areas: Vec<String>,
}

/// A campaign with every field checked (whether each kind of help is in the taxonomy is the
/// store's question).
#[derive(Debug, Clone, PartialEq)]
pub struct NewCampaign {
    pub name: BoundedText,
    pub kind: &'static str,
    pub description: Option<BoundedText>,
    /// With the text each was given as, for a message naming the one the taxonomy lacks.
    pub categories: Vec<(TaxonomyTermId, String)>,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    /// District codes, each once, in the order given (whether the territory has each is the
    /// store's question).
    pub areas: Vec<String>,
}

/// Where a campaign stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignPhase {
    /// Its first day has not come yet: the intake form is not open.
    Upcoming,
    /// Gathering needs.
    Running,
    /// Its last day is past, or the territory closed it.
    Ended,
}

impl CampaignPhase {
    /// The phase of a campaign that starts on `starts_on`, ends after `ends_on` (if set) and was
    /// or was not closed by hand, seen on `today`.
    pub fn on(today: Date, starts_on: Date, ends_on: Option<Date>, closed: bool) -> Self {
        if closed || ends_on.is_some_and(|e| e < today) {
            Self::Ended
        } else if starts_on > today {
            Self::Upcoming
        } else {
            Self::Running
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upcoming => "upcoming",
            Self::Running => "running",
            Self::Ended => "ended",
        }
    }
}

impl CampaignRequest {
    pub const NAME_MAX: usize = 200;
    pub const DESCRIPTION_MAX: usize = 2000;

    /// The most districts a campaign names.
    pub const AREAS_MAX: usize = 100;
    /// The most kinds of help its form offers.
    pub const CATEGORIES_MAX: usize = 50;

    /// Checks every field; `today` bounds the dates (a campaign cannot end before it starts,
    /// nor be opened already over).
    pub fn parse(&self, today: Date) -> Result<NewCampaign, FieldError> {
        let name = BoundedText::line("name", &self.name, Self::NAME_MAX)?;
        let kind = KINDS
            .iter()
            .copied()
            .find(|k| *k == self.kind.trim())
            .ok_or_else(|| FieldError::new("kind", "must be heatwave, flu_season or other"))?;
        let description =
            BoundedText::optional("description", &self.description, Self::DESCRIPTION_MAX)?;
        if self.categories.is_empty() {
            return Err(FieldError::new(
                "categories",
                "choose at least one kind of help",
            ));
        }
        if self.categories.len() > Self::CATEGORIES_MAX {
            return Err(FieldError::new(
                "categories",
                format!("at most {} kinds of help", Self::CATEGORIES_MAX),
            ));
        }
        // Each kind of help once, however it was written (a code, its id).
        let mut categories: Vec<(TaxonomyTermId, String)> = Vec::new();
        for (i, c) in self.categories.iter().enumerate() {
            let t = crate::needs::parse_category(&format!("categories[{i}]"), c)?;
            if !categories.iter().any(|(x, _)| *x == t) {
                categories.push((t, c.clone()));
            }
        }
        let day = |field: &str, s: &Option<String>| {
            s.as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(|s| parse_date(field, s))
                .transpose()
        };
        let starts_on = day("starts_on", &self.starts_on)?.unwrap_or(today);
        let ends_on = day("ends_on", &self.ends_on)?;
        // A campaign answers an emergency of the season: it is planned within a year of today
        // and lasts at most a year.
        let year = time::Duration::days(366);
        if starts_on < today - year || starts_on > today + year {
            return Err(FieldError::new(
                "starts_on",
                "must be within a year of today",
            ));
        }
        if ends_on.is_some_and(|e| e > starts_on + year) {
            return Err(FieldError::new(
                "ends_on",
                "a campaign lasts at most a year",
            ));
        }
        if let Some(end) = ends_on {
            if end < starts_on {
                return Err(FieldError::new(
                    "ends_on",
                    "must not be before the first day",
                ));
            }
            if end < today {
                return Err(FieldError::new("ends_on", "is in the past"));
            }
        }
        if self.areas.len() > Self::AREAS_MAX {
            return Err(FieldError::new(
                "areas",
                format!("at most {} districts", Self::AREAS_MAX),
            ));
        }
        let mut areas: Vec<String> = Vec::new();
        for (i, a) in self.areas.iter().enumerate() {
            let code = a.trim();
            if code.is_empty() || code.len() > 40 {
                return Err(FieldError::new(
                    format!("areas[{i}]"),
                    "is not a district code",
                ));
            }
            if !areas.iter().any(|x| x == code) {
                areas.push(code.to_string());
            }
        }
        Ok(NewCampaign {
            name,
            kind,
            description,
            categories,
            starts_on,
            ends_on,
            areas,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked() -> CampaignRequest {
        CampaignRequest {
            name: "Estate 2026: ondate di calore".into(),
            kind: "heatwave".into(),
            description: String::new(),
            categories: vec!["H1".into()],
            starts_on: None,
            ends_on: None,
            areas: vec![],
        }
    }

    const TODAY: Date = time::macros::date!(2026 - 12 - 07);

    #[test]
    fn a_campaign_names_each_mistake() {
        assert!(asked().parse(TODAY).is_ok());
        let field = |r: CampaignRequest| r.parse(TODAY).unwrap_err().field;
        assert_eq!(
            field(CampaignRequest {
                name: " ".into(),
                ..asked()
            }),
            "name"
        );
        assert_eq!(
            field(CampaignRequest {
                kind: "flood".into(),
                ..asked()
            }),
            "kind"
        );
        assert_eq!(
            field(CampaignRequest {
                description: "x".repeat(2001),
                ..asked()
            }),
            "description"
        );
        assert_eq!(
            field(CampaignRequest {
                categories: vec![],
                ..asked()
            }),
            "categories"
        );
        assert_eq!(
            field(CampaignRequest {
                categories: vec!["H1".into(), "??".into()],
                ..asked()
            }),
            "categories[1]"
        );
    }

    #[test]
    fn a_campaign_has_sensible_days_and_districts() {
        let c = asked().parse(TODAY).unwrap();
        assert_eq!((c.starts_on, c.ends_on), (TODAY, None));
        let field = |r: CampaignRequest| r.parse(TODAY).unwrap_err().field;
        let days = |from: &str, to: &str| CampaignRequest {
            starts_on: Some(from.into()),
            ends_on: Some(to.into()),
            ..asked()
        };
        assert_eq!(field(days("2026-12-10", "2026-12-09")), "ends_on");
        assert_eq!(field(days("2026-11-01", "2026-12-06")), "ends_on");
        assert_eq!(field(days("10/12/2026", "")), "starts_on");
        assert_eq!(field(days("0001-01-01", "")), "starts_on");
        assert_eq!(field(days("9999-12-30", "")), "starts_on");
        assert_eq!(field(days("2026-12-07", "2028-01-01")), "ends_on");
        let c = CampaignRequest {
            categories: vec!["H1".into(), "H1".into(), "H2".into()],
            ..asked()
        }
        .parse(TODAY)
        .unwrap();
        assert_eq!(c.categories.len(), 2);
        let c = days("2026-12-10", "2027-01-31").parse(TODAY).unwrap();
        assert_eq!(c.ends_on, Some(time::macros::date!(2027 - 01 - 31)));
        let c = CampaignRequest {
            areas: vec![" 8 ".into(), "2".into(), "8".into()],
            ..asked()
        }
        .parse(TODAY)
        .unwrap();
        assert_eq!(c.areas, ["8", "2"]);
        assert_eq!(
            field(CampaignRequest {
                areas: vec!["2".into(), " ".into()],
                ..asked()
            }),
            "areas[1]"
        );
    }

    #[test]
    fn a_campaign_runs_between_its_days_until_closed() {
        use CampaignPhase as P;
        let d = |s: &str| parse_date("d", s).unwrap();
        let (from, to) = (d("2026-12-10"), Some(d("2026-12-20")));
        assert_eq!(
            CampaignPhase::on(d("2026-12-09"), from, to, false),
            P::Upcoming
        );
        assert_eq!(
            CampaignPhase::on(d("2026-12-10"), from, to, false),
            P::Running
        );
        assert_eq!(
            CampaignPhase::on(d("2026-12-20"), from, to, false),
            P::Running
        );
        assert_eq!(
            CampaignPhase::on(d("2026-12-21"), from, to, false),
            P::Ended
        );
        assert_eq!(CampaignPhase::on(d("2026-12-15"), from, to, true), P::Ended);
        assert_eq!(
            CampaignPhase::on(d("2030-01-01"), from, None, false),
            P::Running
        );
    }
}
