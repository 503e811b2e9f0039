//! Funders, programmes and their rules.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::FieldError;
use crate::money::Cents;

/// Who pays: the kinds of funder a person's help comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunderKind {
    /// The national pension and welfare institute (INPS), national funds.
    National,
    /// The region (e.g. the fund for non-self-sufficient people).
    Regional,
    /// The municipality's social services.
    Municipal,
    /// The health authority (ATS / ASST).
    HealthAuthority,
    /// A company's welfare plan (welfare aziendale credits).
    CorporateWelfare,
    /// A community or foundation fund.
    CommunityFund,
    /// The person or their family.
    FamilySelf,
}

impl FunderKind {
    pub const ALL: [FunderKind; 7] = [
        FunderKind::National,
        FunderKind::Regional,
        FunderKind::Municipal,
        FunderKind::HealthAuthority,
        FunderKind::CorporateWelfare,
        FunderKind::CommunityFund,
        FunderKind::FamilySelf,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            FunderKind::National => "national",
            FunderKind::Regional => "regional",
            FunderKind::Municipal => "municipal",
            FunderKind::HealthAuthority => "health_authority",
            FunderKind::CorporateWelfare => "corporate_welfare",
            FunderKind::CommunityFund => "community_fund",
            FunderKind::FamilySelf => "family_self",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    format!(
                        "'{s}' is not a kind of funder ({})",
                        Self::ALL.map(|k| k.as_str()).join(", ")
                    ),
                )
            })
    }
}

/// A calendar month, the period caps and plans are counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct YearMonth {
    year: u16,
    month: u8,
}

impl YearMonth {
    /// A period of months as a report asks for it, each end optional (from 2000-01, to
    /// 2200-12 when not given); it must not start after it ends.
    pub fn period(
        (from_field, from): (&str, Option<&str>),
        (to_field, to): (&str, Option<&str>),
    ) -> Result<(YearMonth, YearMonth), FieldError> {
        let month = |field: &str, v: Option<&str>, default: YearMonth| match v.map(str::trim) {
            None | Some("") => Ok(default),
            Some(s) => YearMonth::parse(field, s),
        };
        let from = month(
            from_field,
            from,
            YearMonth {
                year: 2000,
                month: 1,
            },
        )?;
        let to = month(
            to_field,
            to,
            YearMonth {
                year: 2200,
                month: 12,
            },
        )?;
        if from > to {
            return Err(FieldError::new(
                from_field,
                "the period starts after it ends",
            ));
        }
        Ok((from, to))
    }

    pub fn new(field: &str, year: u16, month: u8) -> Result<Self, FieldError> {
        if !(2000..=2200).contains(&year) || !(1..=12).contains(&month) {
            return Err(FieldError::new(
                field,
                format!("{year}-{month:02} is not a month"),
            ));
        }
        Ok(Self { year, month })
    }

    /// Parses `YYYY-MM`.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let bad = || FieldError::new(field, format!("'{s}' is not a month as YYYY-MM"));
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        Self::new(
            field,
            y.parse().map_err(|_| bad())?,
            m.parse().map_err(|_| bad())?,
        )
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn year(&self) -> u16 {
        self.year
    }

    pub fn month(&self) -> u8 {
        self.month
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.year, self.month)
    }
}

impl TryFrom<String> for YearMonth {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse("month", &s)
    }
}

impl From<YearMonth> for String {
    fn from(m: YearMonth) -> Self {
        m.to_string()
    }
}

/// A share in basis points (1/100 of a percent): 2,000 is 20 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct BasisPoints(u16);

impl BasisPoints {
    pub const ZERO: BasisPoints = BasisPoints(0);
    pub const FULL: u16 = 10_000;

    pub fn new(field: &str, bp: u16) -> Result<Self, FieldError> {
        if bp > Self::FULL {
            return Err(FieldError::new(
                field,
                format!("{bp} basis points is more than 100 %"),
            ));
        }
        Ok(Self(bp))
    }

    pub fn get(&self) -> u16 {
        self.0
    }

    /// The share of an amount, rounded up to the cent (what a person pays is never
    /// understated, so what a programme pays never exceeds its rules).
    pub fn of_rounded_up(&self, amount: Cents) -> Cents {
        let a = amount.0 as i128 * self.0 as i128;
        Cents(((a + Self::FULL as i128 - 1) / Self::FULL as i128) as i64)
    }
}

impl TryFrom<u16> for BasisPoints {
    type Error = FieldError;
    fn try_from(bp: u16) -> Result<Self, Self::Error> {
        Self::new("basis_points", bp)
    }
}

impl From<BasisPoints> for u16 {
    fn from(b: BasisPoints) -> Self {
        b.0
    }
}

/// Whether taxonomy code `code` is `parent` or one of its descendants: `A1.2` is within `A1`
/// (dotted sub-entries), and `C1` is within the area `C` (the nomenclature's areas are letters,
/// their entries the letter and a number); `A12` is not within `A1`.
pub fn category_within(code: &str, parent: &str) -> bool {
    let code = code.trim();
    let parent = parent.trim();
    if parent.is_empty() {
        return false;
    }
    code == parent
        || code.strip_prefix(parent).is_some_and(|rest| {
            rest.starts_with('.')
                || (parent.chars().all(|ch| ch.is_ascii_alphabetic())
                    && rest.starts_with(|ch: char| ch.is_ascii_digit()))
        })
}

/// One band of the co-payment table: people whose ISEE is at most `isee_max` (cents; `None`:
/// any ISEE) pay `copay` of the cost the programme covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IseeBand {
    pub isee_max: Option<Cents>,
    pub copay: BasisPoints,
}

/// A programme as the territory admin fills in its web form, every field as typed: the
/// rules in plain fields (months, euros, percentages, ticked categories), never JSON.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgrammeForm {
    pub name: String,
    /// Nomenclature codes ticked (`A1`, `C3`, ...).
    pub categories: Vec<String>,
    /// `YYYY-MM`.
    pub valid_from: String,
    pub valid_to: String,
    /// Euros a month for one person; blank: no cap.
    pub monthly_cap: String,
    /// Euros one person may be granted.
    pub amount_per_beneficiary: String,
    /// Co-payment bands in order: (ISEE up to, in euros, blank on the last band for "any
    /// ISEE"; the person's share in percent). Rows left blank are ignored.
    pub bands: Vec<(String, String)>,
    pub combinable: bool,
    pub individual_reports: bool,
}

/// A percentage typed into a form (`20`, `12,5`) as basis points.
pub fn percent(field: &str, s: &str) -> Result<BasisPoints, FieldError> {
    let p = crate::bounded::decimal(field, s)?;
    if !(0.0..=100.0).contains(&p) {
        return Err(FieldError::new(field, "must be between 0 and 100"));
    }
    BasisPoints::new(field, (p * 100.0).round() as u16)
}

impl ProgrammeForm {
    /// The rules and the amount per person, checked as every programme is
    /// ([`ProgrammeRules::validate`]); the funder's kind comes from the funder chosen.
    pub fn parse(&self, funder_kind: FunderKind) -> Result<(ProgrammeRules, Cents), FieldError> {
        let name = crate::bounded::BoundedText::line("name", &self.name, 200)?;
        let mut categories = Vec::new();
        for c in &self.categories {
            let c = c.trim();
            if !crate::taxonomy::is_seeded_code(c) {
                return Err(FieldError::new(
                    "categories",
                    format!("'{c}' is not a code of the nomenclature"),
                ));
            }
            categories.push(c.to_string());
        }
        if categories.is_empty() {
            return Err(FieldError::new(
                "categories",
                "choose at least one kind of service the programme pays for",
            ));
        }
        let monthly_cap = match self.monthly_cap.trim() {
            "" => None,
            s => Some(Cents::parse_euros("monthly_cap", s)?),
        };
        let amount = Cents::parse_euros("amount_per_beneficiary", &self.amount_per_beneficiary)?;
        crate::budget::book::amount("amount_per_beneficiary", amount.0)?;
        let mut copay_bands = Vec::new();
        for (i, (max, share)) in self.bands.iter().enumerate() {
            if max.trim().is_empty() && share.trim().is_empty() {
                continue;
            }
            copay_bands.push(IseeBand {
                isee_max: match max.trim() {
                    "" => None,
                    s => Some(Cents::parse_euros(&format!("bands[{i}].isee_max"), s)?),
                },
                copay: percent(&format!("bands[{i}].copay"), share)?,
            });
        }
        let rules = ProgrammeRules {
            name: name.into_string(),
            funder_kind,
            categories,
            valid_from: YearMonth::parse("valid_from", &self.valid_from)?,
            valid_to: YearMonth::parse("valid_to", &self.valid_to)?,
            monthly_cap,
            copay_bands,
            combinable: self.combinable,
            individual_reports: self.individual_reports,
        };
        rules.validate()?;
        Ok((rules, amount))
    }
}

/// The rules of a programme, as the funding engine reads them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgrammeRules {
    pub name: String,
    pub funder_kind: FunderKind,
    /// Taxonomy codes the programme pays for; a code covers its descendants (`A1` covers
    /// `A1.2`). Empty: nothing.
    pub categories: Vec<String>,
    /// First and last month the programme pays for.
    pub valid_from: YearMonth,
    pub valid_to: YearMonth,
    /// The most it pays for one beneficiary in one month.
    pub monthly_cap: Option<Cents>,
    /// The co-payment table, bands in increasing `isee_max`; the first band whose maximum is at
    /// least the person's ISEE applies. Empty: no co-payment.
    pub copay_bands: Vec<IseeBand>,
    /// Whether it may pay for the same service as another programme (*cumulabile*).
    pub combinable: bool,
    /// Whether the funder's staff may see individual beneficiaries in its reports (otherwise
    /// only aggregates); set by the programme's own rules, off unless said.
    #[serde(default)]
    pub individual_reports: bool,
}

impl ProgrammeRules {
    /// The rule of the monthly cap: what is already booked in `month` (`used`, counted by
    /// the store where the money moves, under the allocation's lock) and `amount` stay within
    /// [`ProgrammeRules::monthly_cap`]. No cap, no limit.
    pub fn check_monthly_cap(
        &self,
        month: YearMonth,
        used: Cents,
        amount: Cents,
    ) -> Result<(), FieldError> {
        let Some(cap) = self.monthly_cap else {
            return Ok(());
        };
        if used.0.saturating_add(amount.0) > cap.0 {
            return Err(FieldError::new(
                "amount",
                format!(
                    "the programme pays at most {cap} a month; {used} is already booked in {month}, {amount} asked"
                ),
            ));
        }
        Ok(())
    }

    /// Checks the rules are coherent.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.name.trim().is_empty() {
            return Err(FieldError::new("name", "a programme needs a name"));
        }
        if self.valid_to < self.valid_from {
            return Err(FieldError::new(
                "valid_to",
                format!("{} is before {}", self.valid_to, self.valid_from),
            ));
        }
        if let Some(c) = self.monthly_cap
            && c.0 <= 0
        {
            return Err(FieldError::new("monthly_cap", "must be more than zero"));
        }
        let mut last: Option<Cents> = None;
        for (i, b) in self.copay_bands.iter().enumerate() {
            match (last, b.isee_max) {
                (Some(prev), Some(max)) if max <= prev => {
                    return Err(FieldError::new(
                        format!("copay_bands[{i}].isee_max"),
                        "bands must be in increasing order of ISEE",
                    ));
                }
                (_, None) if i + 1 != self.copay_bands.len() => {
                    return Err(FieldError::new(
                        format!("copay_bands[{i}].isee_max"),
                        "only the last band may have no maximum",
                    ));
                }
                _ => {}
            }
            last = b.isee_max;
        }
        Ok(())
    }

    /// Whether the programme pays for services of this taxonomy code.
    pub fn covers_category(&self, code: &str) -> bool {
        self.categories.iter().any(|c| category_within(code, c))
    }

    pub fn covers_month(&self, m: YearMonth) -> bool {
        self.valid_from <= m && m <= self.valid_to
    }

    /// The co-payment for a person with this ISEE (`None`: not declared, the last band).
    pub fn copay_for(&self, isee: Option<Cents>) -> BasisPoints {
        let band = match isee {
            Some(v) => self
                .copay_bands
                .iter()
                .find(|b| b.isee_max.is_none_or(|max| v <= max)),
            None => self.copay_bands.last(),
        };
        band.map_or(BasisPoints::ZERO, |b| b.copay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sad_form() -> ProgrammeForm {
        ProgrammeForm {
            name: "Servizio di assistenza domiciliare".into(),
            categories: vec!["C3".into()],
            valid_from: "2026-01".into(),
            valid_to: "2026-12".into(),
            monthly_cap: "600".into(),
            amount_per_beneficiary: "3.000,00".into(),
            bands: vec![
                ("10.000".into(), "0".into()),
                ("20000".into(), "12,5".into()),
                (String::new(), "30".into()),
                (String::new(), String::new()),
            ],
            combinable: true,
            individual_reports: false,
        }
    }

    #[test]
    fn a_programme_form_becomes_its_rules() {
        let (rules, amount) = sad_form().parse(FunderKind::Municipal).unwrap();
        assert_eq!(amount, Cents(300_000));
        assert_eq!(rules.monthly_cap, Some(Cents(60_000)));
        assert_eq!(rules.copay_bands.len(), 3);
        assert_eq!(rules.copay_bands[1].copay.get(), 1250);
        assert_eq!(rules.copay_bands[2].isee_max, None);
        assert_eq!(rules.copay_for(Some(Cents(1_500_000))).get(), 1250);
    }

    #[test]
    fn a_programme_form_names_each_mistake() {
        let field = |f: ProgrammeForm| f.parse(FunderKind::Municipal).unwrap_err().field;
        assert_eq!(
            field(ProgrammeForm {
                name: " ".into(),
                ..sad_form()
            }),
            "name"
        );
        assert_eq!(
            field(ProgrammeForm {
                categories: vec![],
                ..sad_form()
            }),
            "categories"
        );
        assert_eq!(
            field(ProgrammeForm {
                categories: vec!["Z9".into()],
                ..sad_form()
            }),
            "categories"
        );
        assert_eq!(
            field(ProgrammeForm {
                valid_to: "2025-12".into(),
                ..sad_form()
            }),
            "valid_to"
        );
        assert_eq!(
            field(ProgrammeForm {
                monthly_cap: "tanto".into(),
                ..sad_form()
            }),
            "monthly_cap"
        );
        assert_eq!(
            field(ProgrammeForm {
                amount_per_beneficiary: "0".into(),
                ..sad_form()
            }),
            "amount_per_beneficiary"
        );
        let mut f = sad_form();
        f.bands[1].1 = "120".into();
        assert_eq!(field(f), "bands[1].copay");
        let mut f = sad_form();
        f.bands[0].0 = String::new();
        assert_eq!(field(f), "copay_bands[0].isee_max");
    }

    fn rules() -> ProgrammeRules {
        ProgrammeRules {
            name: "Buono sociale".into(),
            funder_kind: FunderKind::Municipal,
            categories: vec!["A1".into(), "C3.2".into()],
            valid_from: YearMonth::parse("m", "2026-01").unwrap(),
            valid_to: YearMonth::parse("m", "2026-12").unwrap(),
            monthly_cap: Some(Cents(40_000)),
            copay_bands: vec![
                IseeBand {
                    isee_max: Some(Cents(800_000)),
                    copay: BasisPoints(0),
                },
                IseeBand {
                    isee_max: Some(Cents(2_000_000)),
                    copay: BasisPoints(2_000),
                },
                IseeBand {
                    isee_max: None,
                    copay: BasisPoints(5_000),
                },
            ],
            combinable: true,
            individual_reports: false,
        }
    }

    #[test]
    fn rules_read_as_written() {
        let r = rules();
        r.validate().unwrap();
        assert!(r.covers_category("A1") && r.covers_category("A1.4"));
        assert!(!r.covers_category("A12") && !r.covers_category("C3") && !r.covers_category("B1"));
        assert!(r.covers_category("C3.2.1"));
        assert!(category_within("C1", "C") && category_within("C12.3", "C"));
        assert!(
            !category_within("CA", "C")
                && !category_within("C", "C1")
                && !category_within("C1", "")
        );
        assert_eq!(r.copay_for(Some(Cents(500_000))).get(), 0);
        assert_eq!(r.copay_for(Some(Cents(800_000))).get(), 0);
        assert_eq!(r.copay_for(Some(Cents(800_001))).get(), 2_000);
        assert_eq!(r.copay_for(Some(Cents(9_000_000))).get(), 5_000);
        assert_eq!(r.copay_for(None).get(), 5_000);
        assert!(r.covers_month(YearMonth::parse("m", "2026-12").unwrap()));
        assert!(!r.covers_month(YearMonth::parse("m", "2027-01").unwrap()));
        assert_eq!(
            YearMonth::parse("m", "2026-12").unwrap().next().to_string(),
            "2027-01"
        );
        assert!(YearMonth::parse("m", "2026-13").is_err());
        assert!(YearMonth::parse("m", "26-01").is_err());
        assert_eq!(BasisPoints(2_000).of_rounded_up(Cents(1_001)), Cents(201));
        assert!(BasisPoints::new("copay", 10_001).is_err());
        let mut bad = rules();
        bad.copay_bands.swap(0, 1);
        assert!(bad.validate().is_err());
        let mut bad = rules();
        bad.copay_bands.swap(1, 2);
        assert!(bad.validate().is_err());
    }
}
