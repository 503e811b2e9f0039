//! The forms of care budgets, parsed once at the edge (a booking, a grant), and the rule of
//! what an allocation pays for.
//!
//! The JSON API and the case manager's page both read a [`BookingForm`]; `parse` turns it into
//! a [`NewBooking`] of typed values, so nothing after it parses a field again.
//! [`may_pay`] is the one home of the rule "this allocation pays for this category in this
//! month": the programme's categories and validity, and the allocation's own expiry.

use serde::Deserialize;

use crate::FieldError;
use crate::bounded::BoundedText;
use crate::budget::funding::PlanLine;
use crate::budget::programme::{ProgrammeRules, YearMonth};
use crate::ids::{AllocationId, OrganizationId, ProgrammeId, ServiceId, optional};
use crate::money::Cents;

/// The longest category code a booking may carry (the nomenclature's codes are a few letters).
const MAX_CATEGORY: usize = 40;

/// The key a client sends with every call that moves money (the `Idempotency-Key` header, a
/// form's hidden field): a retry with the same key and the same request answers the first
/// answer again, the same key with another request is refused. 1 to 200 visible ASCII
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX: usize = 200;

    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let k = s.trim();
        if k.is_empty() || k.len() > Self::MAX || !k.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(FieldError::new(
                field,
                "a call that moves money needs a key of 1 to 200 visible ASCII characters (on a page: reload it)",
            ));
        }
        Ok(Self(k.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A booking as a client asks for it (`POST /api/budget/bookings`, the caseload page).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = BookingRequest))]
#[serde(deny_unknown_fields)]
pub struct BookingForm {
    pub allocation_id: String,
    /// Cents.
    pub amount: i64,
    /// The taxonomy code of the service.
    pub category: String,
    /// The month of the service, YYYY-MM.
    pub month: String,
    /// The organisation that delivers.
    pub provider_organization_id: Option<String>,
    pub service_id: Option<String>,
}

/// A booking with every field checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBooking {
    pub allocation: AllocationId,
    /// Above zero.
    pub amount: Cents,
    /// Trimmed, not empty.
    pub category: String,
    pub month: YearMonth,
    pub provider: Option<OrganizationId>,
    pub service: Option<ServiceId>,
}

impl NewBooking {
    /// The call as its idempotency key remembers it: the checked values, so a retry written
    /// differently (spaces, letter case in an id) is the same call.
    pub fn fingerprint(&self) -> String {
        let opt = |v: Option<String>| v.unwrap_or_default();
        format!(
            "book {} {} {} {} {} {}",
            self.allocation,
            self.amount.0,
            self.category,
            self.month,
            opt(self.provider.map(|o| o.to_string())),
            opt(self.service.map(|o| o.to_string()))
        )
    }
}

impl BookingForm {
    /// Checks every field: an amount above zero (cents), a category, a month, ids that are ids.
    pub fn parse(&self) -> Result<NewBooking, FieldError> {
        let amount = crate::budget::book::amount("amount", self.amount)?;
        let allocation = AllocationId::parse("allocation_id", &self.allocation_id)?;
        let category = self.category.trim();
        if category.is_empty() || category.chars().count() > MAX_CATEGORY {
            return Err(FieldError::new(
                "category",
                format!("a taxonomy code of 1 to {MAX_CATEGORY} characters"),
            ));
        }
        Ok(NewBooking {
            allocation,
            amount,
            category: category.to_string(),
            month: YearMonth::parse("month", &self.month)?,
            provider: optional(
                "provider_organization_id",
                self.provider_organization_id.as_deref(),
                OrganizationId::parse,
            )?,
            service: optional("service_id", self.service_id.as_deref(), ServiceId::parse)?,
        })
    }
}

/// An allocation a funder grants a person, as a client asks for it
/// (`POST /api/people/{id}/allocations`).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = GrantRequest))]
#[serde(deny_unknown_fields)]
pub struct GrantForm {
    pub programme_id: String,
    /// Cents.
    pub amount: i64,
    /// The decision that grants it (determina, protocol number).
    pub decision_reference: String,
    /// Last month it can be spent in, YYYY-MM.
    pub expires: String,
    /// The code of the Municipio whose services decided it (its spending is counted there);
    /// must be an area of kind `municipio` the territory knows.
    pub area_code: Option<String>,
}

/// A grant with every field checked (whether the programme gives that much to one person, and
/// in those months, is `consent::check_grant`'s question).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    pub programme: ProgrammeId,
    /// Above zero.
    pub amount: Cents,
    pub decision_reference: BoundedText,
    pub expires: YearMonth,
    pub area_code: Option<String>,
}

impl GrantForm {
    pub fn parse(&self) -> Result<NewGrant, FieldError> {
        let programme = ProgrammeId::parse("programme_id", &self.programme_id)?;
        Ok(NewGrant {
            programme,
            amount: crate::budget::book::amount("amount", self.amount)?,
            decision_reference: crate::budget::consent::decision_reference(
                "decision_reference",
                &self.decision_reference,
            )?,
            expires: YearMonth::parse("expires", &self.expires)?,
            area_code: self
                .area_code
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string),
        })
    }

    /// The call as its idempotency key remembers it.
    pub fn fingerprint(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.programme_id,
            self.amount,
            self.decision_reference,
            self.expires,
            self.area_code.as_deref().unwrap_or("")
        )
    }
}

/// One month of a plan's line as a client writes it.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = PlanMonthRequest))]
#[serde(deny_unknown_fields)]
pub struct PlanMonthForm {
    /// YYYY-MM.
    pub month: String,
    /// Cents.
    pub cost: i64,
}

/// One service of a plan to fund, as a client writes it.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = PlanLineRequest))]
#[serde(deny_unknown_fields)]
pub struct PlanLineForm {
    /// The taxonomy code of the service.
    pub category: String,
    pub months: Vec<PlanMonthForm>,
}

/// The lines of a plan to fund, checked: 1 to 50 lines of 1 to 60 months each, costs from
/// nothing to 1,000,000.00 € in cents; errors name the line and month.
pub fn parse_plan_lines(lines: &[PlanLineForm]) -> Result<Vec<PlanLine>, FieldError> {
    if lines.is_empty() || lines.len() > 50 {
        return Err(FieldError::new("lines", "a plan has 1 to 50 lines"));
    }
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        if l.months.is_empty() || l.months.len() > 60 {
            return Err(FieldError::new(
                format!("lines[{i}].months"),
                "1 to 60 months",
            ));
        }
        let mut months = Vec::with_capacity(l.months.len());
        for (k, m) in l.months.iter().enumerate() {
            let field = format!("lines[{i}].months[{k}]");
            let month = YearMonth::parse(&format!("{field}.month"), &m.month)?;
            if !(0..=100_000_000).contains(&m.cost) {
                return Err(FieldError::new(
                    format!("{field}.cost"),
                    "0 to 1,000,000.00 € in cents",
                ));
            }
            months.push((month, Cents(m.cost)));
        }
        out.push(PlanLine {
            category: l.category.trim().to_string(),
            months,
        });
    }
    Ok(out)
}

/// Whether an allocation under `rules`, expiring after `expires`, pays for `category` in
/// `month`; if not, the field at fault and why.
pub fn may_pay(
    rules: &ProgrammeRules,
    programme: &str,
    expires: YearMonth,
    category: &str,
    month: YearMonth,
) -> Result<(), FieldError> {
    if !rules.covers_category(category) {
        return Err(FieldError::new(
            "category",
            format!("the programme '{programme}' does not pay for {category}"),
        ));
    }
    if !rules.covers_month(month) || month > expires {
        return Err(FieldError::new(
            "month",
            format!(
                "the allocation pays from {} to {}",
                rules.valid_from,
                expires.min(rules.valid_to)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idempotency_key_is_short_visible_ascii() {
        assert_eq!(
            IdempotencyKey::parse("k", " abc-123 ").unwrap().as_str(),
            "abc-123"
        );
        for bad in ["", "   ", "chiave con spazi", "perché", &"x".repeat(201)] {
            assert_eq!(
                IdempotencyKey::parse("k", bad).unwrap_err().field,
                "k",
                "{bad:?}"
            );
        }
    }
    use crate::budget::programme::{BasisPoints, FunderKind, IseeBand};

    fn form() -> BookingForm {
        BookingForm {
            allocation_id: AllocationId::new().to_string(),
            amount: 12_000,
            category: " A1.1 ".into(),
            month: "2026-03".into(),
            provider_organization_id: Some(String::new()),
            service_id: None,
        }
    }

    #[test]
    fn a_booking_is_parsed_once_and_names_the_field_at_fault() {
        let b = form().parse().unwrap();
        assert_eq!((b.amount, b.category.as_str()), (Cents(12_000), "A1.1"));
        assert_eq!(b.provider, None);
        for (change, field) in [
            (
                BookingForm {
                    amount: 0,
                    ..form()
                },
                "amount",
            ),
            (
                BookingForm {
                    amount: -5,
                    ..form()
                },
                "amount",
            ),
            (
                BookingForm {
                    allocation_id: "x".into(),
                    ..form()
                },
                "allocation_id",
            ),
            (
                BookingForm {
                    category: "  ".into(),
                    ..form()
                },
                "category",
            ),
            (
                BookingForm {
                    month: "2026-13".into(),
                    ..form()
                },
                "month",
            ),
            (
                BookingForm {
                    service_id: Some("not-an-id".into()),
                    ..form()
                },
                "service_id",
            ),
        ] {
            assert_eq!(change.parse().unwrap_err().field, field);
        }
    }

    #[test]
    fn an_allocation_pays_for_its_categories_within_its_months() {
        let m = |s| YearMonth::parse("m", s).unwrap();
        let rules = ProgrammeRules {
            name: "SAD".into(),
            funder_kind: FunderKind::Municipal,
            categories: vec!["A1".into()],
            valid_from: m("2026-01"),
            valid_to: m("2026-12"),
            monthly_cap: None,
            copay_bands: vec![IseeBand {
                isee_max: None,
                copay: BasisPoints::new("copay", 0).unwrap(),
            }],
            combinable: true,
            individual_reports: false,
        };
        assert!(may_pay(&rules, "SAD", m("2026-10"), "A1.1", m("2026-03")).is_ok());
        let e = may_pay(&rules, "SAD", m("2026-10"), "B2", m("2026-03")).unwrap_err();
        assert_eq!(e.field, "category");
        let e = may_pay(&rules, "SAD", m("2026-10"), "A1.1", m("2026-11")).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.reason.contains("2026-10")),
            ("month", true)
        );
        let e = may_pay(&rules, "SAD", m("2026-12"), "A1", m("2025-12")).unwrap_err();
        assert_eq!(e.field, "month");
    }
}
