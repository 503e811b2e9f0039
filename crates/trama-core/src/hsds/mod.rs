//! The Open Referral HSDS 3.0 model and the API's paging envelope.

mod bundle;
pub mod form;
pub mod json;
mod model;
pub mod tabular;

pub use bundle::{Bundle, Collection, attribute_term_ids};
pub use form::ServiceForm;

pub use model::*;

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// The HSDS version Trama speaks.
pub const HSDS_VERSION: &str = "3.0";

/// The paginated list envelope of the HSDS API (`components.schemas.Page` plus `contents`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Page<T> {
    pub total_items: u64,
    pub total_pages: u64,
    pub page_number: u64,
    /// The number of items in this page.
    pub size: u64,
    pub first_page: bool,
    pub last_page: bool,
    pub empty: bool,
    pub contents: Vec<T>,
}

impl<T> Page<T> {
    pub fn new(contents: Vec<T>, total_items: u64, req: PageRequest) -> Self {
        let total_pages = total_items.div_ceil(req.per_page as u64);
        let page_number = req.page as u64;
        Page {
            total_items,
            total_pages,
            page_number,
            size: contents.len() as u64,
            first_page: page_number == 1,
            last_page: page_number >= total_pages,
            empty: contents.is_empty(),
            contents,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            total_items: self.total_items,
            total_pages: self.total_pages,
            page_number: self.page_number,
            size: self.size,
            first_page: self.first_page,
            last_page: self.last_page,
            empty: self.empty,
            contents: self.contents.into_iter().map(f).collect(),
        }
    }
}

/// A page request: `page` counts from 1, `per_page` from 1 to [`PageRequest::MAX_PER_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: Self::DEFAULT_PER_PAGE,
        }
    }
}

impl PageRequest {
    pub const DEFAULT_PER_PAGE: u32 = 20;
    pub const MAX_PER_PAGE: u32 = 500;
    /// Pages beyond this are refused: nobody pages that deep, and offsets stay small.
    pub const MAX_PAGE: u32 = 100_000;

    pub fn parse(page: Option<&str>, per_page: Option<&str>) -> Result<Self, FieldError> {
        let page = match page {
            None => 1,
            Some(s) => match s.trim().parse::<i64>() {
                Ok(n) if (1..=Self::MAX_PAGE as i64).contains(&n) => n as u32,
                Ok(n) => {
                    return Err(FieldError::new(
                        "page",
                        format!(
                            "{n} is out of range: pages count from 1 to {}",
                            Self::MAX_PAGE
                        ),
                    ));
                }
                Err(_) => {
                    return Err(FieldError::new(
                        "page",
                        format!("'{s}' is not a whole number"),
                    ));
                }
            },
        };
        let per_page = match per_page {
            None => Self::DEFAULT_PER_PAGE,
            Some(s) => match s.trim().parse::<i64>() {
                Ok(n) if (1..=Self::MAX_PER_PAGE as i64).contains(&n) => n as u32,
                Ok(n) => {
                    return Err(FieldError::new(
                        "per_page",
                        format!("{n} is out of range: from 1 to {}", Self::MAX_PER_PAGE),
                    ));
                }
                Err(_) => {
                    return Err(FieldError::new(
                        "per_page",
                        format!("'{s}' is not a whole number"),
                    ));
                }
            },
        };
        Ok(Self { page, per_page })
    }

    pub fn offset(&self) -> u64 {
        (self.page as u64 - 1) * self.per_page as u64
    }

    /// Refuses a page past the last one (page 1 of an empty list is allowed).
    pub fn check_within(&self, total_items: u64) -> Result<(), FieldError> {
        let total_pages = total_items.div_ceil(self.per_page as u64).max(1);
        if self.page as u64 > total_pages {
            return Err(FieldError::new(
                "page",
                format!("page {} is past the last page ({total_pages})", self.page),
            ));
        }
        Ok(())
    }
}

/// The HSDS service status codelist.
pub const SERVICE_STATUSES: &[&str] = &["active", "inactive", "defunct", "temporarily closed"];

/// Checks the rules of a service document that serde cannot: the status codelist, non-empty
/// name, the e-mail's shape, ages. Names the field at fault.
pub fn validate_service(s: &Service) -> Result<(), FieldError> {
    if s.name.trim().is_empty() {
        return Err(FieldError::new("name", "must not be empty"));
    }
    if s.name.chars().count() > 300 {
        return Err(FieldError::new("name", "is longer than 300 characters"));
    }
    // Text people read: no control characters (a NUL is not even storable in PostgreSQL); a
    // name is one line, longer texts may break lines.
    if s.name.chars().any(char::is_control) {
        return Err(FieldError::new("name", "contains control characters"));
    }
    let long_texts = [
        ("description", &s.description),
        ("eligibility_description", &s.eligibility_description),
        ("fees_description", &s.fees_description),
        ("application_process", &s.application_process),
        ("alternate_name", &s.alternate_name),
        ("email", &s.email),
    ];
    for (field, text) in long_texts {
        if text.as_deref().is_some_and(|t| {
            t.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        }) {
            return Err(FieldError::new(field, "contains control characters"));
        }
    }
    for (i, f) in s.funding.iter().enumerate() {
        if f.source
            .as_deref()
            .is_some_and(|t| t.chars().any(char::is_control))
        {
            return Err(FieldError::new(
                format!("funding[{i}].source"),
                "contains control characters",
            ));
        }
    }
    if !SERVICE_STATUSES.contains(&s.status.as_str()) {
        return Err(FieldError::new(
            "status",
            format!(
                "'{}' is not one of: {}",
                s.status,
                SERVICE_STATUSES.join(", ")
            ),
        ));
    }
    if let Some(e) = &s.email {
        crate::auth::Email::parse(e)
            .map_err(|_| FieldError::new("email", format!("'{e}' is not an e-mail address")))?;
    }
    for (field, v) in [
        ("minimum_age", s.minimum_age),
        ("maximum_age", s.maximum_age),
    ] {
        if let Some(a) = v
            && (!a.is_finite() || !(0.0..=150.0).contains(&a))
        {
            return Err(FieldError::new(field, format!("{a} is not an age")));
        }
    }
    if let (Some(min), Some(max)) = (s.minimum_age, s.maximum_age)
        && min > max
    {
        return Err(FieldError::new(
            "minimum_age",
            "is greater than maximum_age",
        ));
    }
    for (i, c) in s.cost_options.iter().enumerate() {
        if let Some(a) = c.amount {
            crate::money::Cents::from_decimal(&format!("cost_options[{i}].amount"), a)?;
        }
    }
    crate::schedule::WeeklyHours::from_schedules(&s.schedules)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_with_control_characters_is_refused_wherever_it_is_read() {
        let ok = Service {
            name: "Pasti a domicilio".into(),
            status: "active".into(),
            description: Some("Due righe:\r\nla seconda\tcon un tab".into()),
            ..Default::default()
        };
        assert!(validate_service(&ok).is_ok());
        let field = |s: Service| validate_service(&s).unwrap_err().field;
        assert_eq!(
            field(Service {
                name: "Pasti\u{0}".into(),
                ..ok.clone()
            }),
            "name"
        );
        assert_eq!(
            field(Service {
                name: "Pasti\na domicilio".into(),
                ..ok.clone()
            }),
            "name"
        );
        assert_eq!(
            field(Service {
                eligibility_description: Some("a\u{7}".into()),
                ..ok.clone()
            }),
            "eligibility_description"
        );
        let funded = Service {
            funding: vec![Funding {
                source: Some("Comune\u{0}".into()),
                ..Default::default()
            }],
            ..ok.clone()
        };
        assert_eq!(field(funded), "funding[0].source");
    }

    #[test]
    fn a_service_email_must_be_one() {
        let mut s = Service {
            name: "Pasti a domicilio".into(),
            status: "active".into(),
            ..Default::default()
        };
        assert!(validate_service(&s).is_ok());
        s.email = Some("info@melograno.it".into());
        assert!(validate_service(&s).is_ok());
        s.email = Some("not-an-email".into());
        assert_eq!(validate_service(&s).unwrap_err().field, "email");
    }

    #[test]
    fn paging_rules() {
        assert_eq!(
            PageRequest::parse(None, None).unwrap(),
            PageRequest::default()
        );
        assert_eq!(
            PageRequest::parse(Some("0"), None).unwrap_err().field,
            "page"
        );
        assert_eq!(
            PageRequest::parse(Some("-3"), None).unwrap_err().field,
            "page"
        );
        assert_eq!(
            PageRequest::parse(Some("x"), None).unwrap_err().field,
            "page"
        );
        assert_eq!(
            PageRequest::parse(Some("99999999999999999999"), None)
                .unwrap_err()
                .field,
            "page"
        );
        assert_eq!(
            PageRequest::parse(None, Some("501")).unwrap_err().field,
            "per_page"
        );
        let r = PageRequest::parse(Some("3"), Some("10")).unwrap();
        assert_eq!(r.offset(), 20);
        assert!(r.check_within(21).is_ok());
        assert!(r.check_within(20).is_err());
        assert!(PageRequest::default().check_within(0).is_ok());
        let p = Page::new(vec![1, 2], 12, r);
        assert_eq!(
            (p.total_pages, p.size, p.first_page, p.last_page),
            (2, 2, false, true)
        );
    }
}
