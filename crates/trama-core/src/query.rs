//! The directory search, parsed. The HTTP layer hands over the raw query parameters; what comes
//! back is either a [`ServiceQuery`] whose every field is valid or a [`FieldError`] naming the
//! parameter at fault.

use time::OffsetDateTime;

use crate::FieldError;
use crate::geo::{Coordinates, RadiusKm};
use crate::hsds::PageRequest;
use crate::ids::{OrganizationId, TaxonomyId, TaxonomyTermId};

/// Radius used when a point is given without `radius_km`.
pub const DEFAULT_RADIUS_KM: f64 = 10.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Near {
    pub point: Coordinates,
    pub radius: RadiusKm,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceQuery {
    /// Free text, matched on name, alternate name, description and categories (Italian and English stems).
    pub search: Option<String>,
    pub taxonomy_term_id: Option<TaxonomyTermId>,
    pub taxonomy_id: Option<TaxonomyId>,
    pub organization_id: Option<OrganizationId>,
    pub modified_after: Option<OffsetDateTime>,
    pub near: Option<Near>,
    pub open_now: bool,
    /// A funder's name (HSDS `funding.source`), matched case-insensitively.
    pub funder: Option<String>,
    pub page: PageRequest,
}

/// Parses a boolean query parameter (`true`/`false`/`1`/`0`/`yes`/`no`).
pub fn parse_bool(field: &str, s: &str) -> Result<bool, FieldError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err(FieldError::new(
            field,
            format!("'{s}' is not true or false"),
        )),
    }
}

fn parse_f64(field: &str, s: &str) -> Result<f64, FieldError> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| FieldError::new(field, format!("'{s}' is not a number")))
}

/// Parses an RFC 3339 date-time, or a bare date (taken as midnight UTC).
pub fn parse_datetime(field: &str, s: &str) -> Result<OffsetDateTime, FieldError> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Ok(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| {
            FieldError::new(
                field,
                format!("'{s}' is not a date-time like 2026-01-31T10:00:00Z"),
            )
        })
}

impl ServiceQuery {
    /// Builds a query from raw parameters; `get` returns a parameter's value if given.
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, FieldError> {
        let mut q = ServiceQuery {
            page: PageRequest::parse(get("page"), get("per_page"))?,
            ..Default::default()
        };
        if let Some(s) = get("search") {
            let s = s.trim();
            if s.chars().count() > 200 {
                return Err(FieldError::new("search", "is longer than 200 characters"));
            }
            if !s.is_empty() {
                q.search = Some(s.to_string());
            }
        }
        let nonempty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        if let Some(s) = nonempty("taxonomy_term_id") {
            q.taxonomy_term_id = Some(TaxonomyTermId::parse("taxonomy_term_id", s)?);
        }
        if let Some(s) = nonempty("taxonomy_id") {
            q.taxonomy_id = Some(TaxonomyId::parse("taxonomy_id", s)?);
        }
        if let Some(s) = nonempty("organization_id") {
            q.organization_id = Some(OrganizationId::parse("organization_id", s)?);
        }
        if let Some(s) = nonempty("modified_after") {
            q.modified_after = Some(parse_datetime("modified_after", s)?);
        }
        let lat = nonempty("lat").map(|s| parse_f64("lat", s)).transpose()?;
        let lon = nonempty("lon").map(|s| parse_f64("lon", s)).transpose()?;
        let radius = nonempty("radius_km")
            .map(|s| parse_f64("radius_km", s))
            .transpose()?;
        q.near = match (lat, lon) {
            (Some(lat), Some(lon)) => Some(Near {
                point: Coordinates::new(lat, lon)?,
                radius: RadiusKm::new(radius.unwrap_or(DEFAULT_RADIUS_KM))?,
            }),
            (None, None) if radius.is_some() => {
                return Err(FieldError::new("radius_km", "needs lat and lon"));
            }
            (None, None) => None,
            (Some(_), None) => return Err(FieldError::new("lon", "is required with lat")),
            (None, Some(_)) => return Err(FieldError::new("lat", "is required with lon")),
        };
        if let Some(s) = get("open_now") {
            q.open_now = parse_bool("open_now", s)?;
        }
        if let Some(s) = nonempty("funder") {
            if s.chars().count() > 200 {
                return Err(FieldError::new("funder", "is longer than 200 characters"));
            }
            q.funder = Some(normalize_funder(s));
        }
        Ok(q)
    }
}

/// The key a funder is matched by: trimmed, lower-case, inner spaces collapsed.
pub fn normalize_funder(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<ServiceQuery, FieldError> {
        let m: HashMap<&str, &str> = pairs.iter().copied().collect();
        ServiceQuery::parse(|k| m.get(k).copied())
    }

    #[test]
    fn good_queries() {
        let q = parse(&[
            ("lat", "45.46"),
            ("lon", "9.19"),
            ("radius_km", "2"),
            ("open_now", "true"),
            ("funder", "  Comune  di Milano "),
        ])
        .unwrap();
        assert_eq!(q.near.unwrap().radius.km(), 2.0);
        assert!(q.open_now);
        assert_eq!(q.funder.as_deref(), Some("comune di milano"));
        let q = parse(&[("lat", "45.46"), ("lon", "9.19")]).unwrap();
        assert_eq!(q.near.unwrap().radius.km(), DEFAULT_RADIUS_KM);
        assert!(
            parse(&[("modified_after", "2026-01-01")])
                .unwrap()
                .modified_after
                .is_some()
        );
    }

    #[test]
    fn bad_queries_name_the_parameter() {
        for (pairs, field) in [
            (vec![("lat", "abc"), ("lon", "9")], "lat"),
            (vec![("lat", "45")], "lon"),
            (vec![("lat", "95"), ("lon", "9")], "lat"),
            (vec![("radius_km", "3")], "radius_km"),
            (
                vec![("lat", "45"), ("lon", "9"), ("radius_km", "0")],
                "radius_km",
            ),
            (vec![("taxonomy_term_id", "nope")], "taxonomy_term_id"),
            (vec![("organization_id", "123")], "organization_id"),
            (vec![("modified_after", "yesterday")], "modified_after"),
            (vec![("open_now", "maybe")], "open_now"),
            (vec![("per_page", "0")], "per_page"),
        ] {
            assert_eq!(parse(&pairs).unwrap_err().field, field, "{pairs:?}");
        }
    }
}
