//! The service form an organisation fills in on the web: the fields a person edits, as typed,
//! and how they are parsed and applied to an HSDS service document (everything the form does
//! not show is kept). The web page only collects the fields and shows the error.

use uuid::Uuid;

use super::{Attribute, Funding, Phone, Schedule, Service, ServiceAtLocation};
use crate::FieldError;
use crate::schedule::{DAYS, daytime_interval};

/// The service form's values, as typed.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ServiceForm {
    pub organization_id: String,
    pub name: String,
    pub description: String,
    pub status: String,
    pub category: String,
    pub funder: String,
    pub phone: String,
    pub email: String,
    pub location: String,
    /// The day codes ticked, as sent (`MO`..`SU`; anything else is refused by [`Self::apply`]).
    pub days: Vec<String>,
    pub opens: String,
    pub closes: String,
}

impl ServiceForm {
    /// A new service's form: active, open Monday to Friday, 09:00–17:00.
    pub fn new_service(organization_id: Option<Uuid>) -> Self {
        Self {
            organization_id: organization_id.map(|u| u.to_string()).unwrap_or_default(),
            status: "active".into(),
            opens: "09:00".into(),
            closes: "17:00".into(),
            days: DAYS[..5].iter().map(|d| d.to_string()).collect(),
            ..Default::default()
        }
    }

    /// The form showing a service's current values.
    pub fn from_service(s: &Service) -> Self {
        let sched = s.schedules.first();
        let days = sched.and_then(|x| x.byday.clone()).unwrap_or_default();
        Self {
            organization_id: s.organization_id.map(|u| u.to_string()).unwrap_or_default(),
            name: s.name.clone(),
            description: s.description.clone().unwrap_or_default(),
            status: s.status.clone(),
            category: s
                .attributes
                .iter()
                .find(|a| a.link_type.as_deref() != Some("audience"))
                .and_then(|a| a.taxonomy_term_id)
                .map(|u| u.to_string())
                .unwrap_or_default(),
            funder: s
                .funding
                .first()
                .and_then(|f| f.source.clone())
                .unwrap_or_default(),
            phone: s
                .phones
                .first()
                .map(|p| p.number.clone())
                .unwrap_or_default(),
            email: s.email.clone().unwrap_or_default(),
            location: s
                .service_at_locations
                .first()
                .and_then(|x| x.location_id)
                .map(|u| u.to_string())
                .unwrap_or_default(),
            days: DAYS
                .iter()
                .filter(|d| days.split(',').any(|x| x.trim() == **d))
                .map(|d| d.to_string())
                .collect(),
            opens: sched
                .and_then(|x| x.opens_at.clone())
                .unwrap_or_else(|| "09:00".into()),
            closes: sched
                .and_then(|x| x.closes_at.clone())
                .unwrap_or_else(|| "17:00".into()),
        }
    }

    /// Whether the day `code` (`MO`..`SU`) is ticked.
    pub fn has_day(&self, code: &str) -> bool {
        self.days.iter().any(|d| d == code)
    }

    /// Parses the form and applies it to a service document, keeping everything the form does
    /// not show, and checks the result as every service is checked ([`super::validate_service`]).
    /// The first field in error is named.
    pub fn apply(&self, mut s: Service) -> Result<Service, FieldError> {
        let organization = Uuid::parse_str(self.organization_id.trim())
            .map_err(|_| FieldError::new("organization_id", "choose an organisation"))?;
        let category = Uuid::parse_str(self.category.trim())
            .map_err(|_| FieldError::new("category", "choose a category"))?;
        if let Some(d) = self.days.iter().find(|d| !DAYS.contains(&d.as_str())) {
            return Err(FieldError::new(
                "days",
                format!("'{d}' is not a day (MO..SU)"),
            ));
        }
        let days: Vec<&str> = DAYS.iter().copied().filter(|d| self.has_day(d)).collect();
        let hours = if days.is_empty() {
            None
        } else {
            Some(daytime_interval(
                ("opens", &self.opens),
                ("closes", &self.closes),
            )?)
        };
        let phone = crate::bounded::phone("phone", &self.phone)?;
        let location = Uuid::parse_str(self.location.trim())
            .map_err(|_| FieldError::new("location", "choose a place"))?;

        s.organization_id = Some(organization);
        s.name = self.name.trim().to_string();
        s.description = Some(self.description.trim().to_string()).filter(|d| !d.is_empty());
        s.status = self.status.clone();
        s.email = Some(self.email.trim().to_string()).filter(|d| !d.is_empty());
        s.attributes
            .retain(|a| a.link_type.as_deref() == Some("audience"));
        s.attributes.insert(
            0,
            Attribute {
                id: Uuid::now_v7(),
                link_id: Some(s.id),
                taxonomy_term_id: Some(category),
                link_type: Some("category".into()),
                link_entity: Some("service".into()),
                ..Default::default()
            },
        );
        let funder = self.funder.trim();
        s.funding = if funder.is_empty() {
            vec![]
        } else {
            vec![Funding {
                id: s.funding.first().map(|f| f.id).unwrap_or_else(Uuid::now_v7),
                service_id: Some(s.id),
                source: Some(funder.into()),
                ..Default::default()
            }]
        };
        match phone {
            None => s.phones.clear(),
            Some(number) => match s.phones.first_mut() {
                Some(p) => p.number = number,
                None => s.phones.push(Phone {
                    id: Uuid::now_v7(),
                    service_id: Some(s.id),
                    number,
                    ..Default::default()
                }),
            },
        }
        s.schedules = match hours {
            None => vec![],
            Some(_) => vec![Schedule {
                id: Uuid::now_v7(),
                service_id: Some(s.id),
                freq: Some("WEEKLY".into()),
                byday: Some(days.join(",")),
                opens_at: Some(self.opens.trim().to_string()),
                closes_at: Some(self.closes.trim().to_string()),
                ..Default::default()
            }],
        };
        let keep = s
            .service_at_locations
            .iter()
            .find(|x| x.location_id == Some(location))
            .cloned();
        s.service_at_locations = vec![keep.unwrap_or(ServiceAtLocation {
            id: Uuid::now_v7(),
            service_id: Some(s.id),
            location_id: Some(location),
            ..Default::default()
        })];
        for sal in &mut s.service_at_locations {
            sal.location = None;
        }
        s.organization = None;
        super::validate_service(&s)?;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled() -> ServiceForm {
        ServiceForm {
            organization_id: Uuid::now_v7().to_string(),
            name: " Pasti a domicilio ".into(),
            category: Uuid::now_v7().to_string(),
            location: Uuid::now_v7().to_string(),
            ..ServiceForm::new_service(None)
        }
    }

    #[test]
    fn a_filled_form_becomes_a_weekly_schedule_and_a_category() {
        let s = filled().apply(Service::default()).unwrap();
        assert_eq!(s.name, "Pasti a domicilio");
        assert_eq!(s.schedules[0].byday.as_deref(), Some("MO,TU,WE,TH,FR"));
        assert_eq!(s.attributes[0].link_type.as_deref(), Some("category"));
        assert_eq!(ServiceForm::from_service(&s).days, filled().days);
    }

    #[test]
    fn each_mistake_names_its_field() {
        let field = |f: ServiceForm| f.apply(Service::default()).unwrap_err().field;
        assert_eq!(
            field(ServiceForm {
                organization_id: "x".into(),
                ..filled()
            }),
            "organization_id"
        );
        assert_eq!(
            field(ServiceForm {
                name: "  ".into(),
                ..filled()
            }),
            "name"
        );
        assert_eq!(
            field(ServiceForm {
                days: vec!["XX".into()],
                ..filled()
            }),
            "days"
        );
        assert_eq!(
            field(ServiceForm {
                closes: "08:00".into(),
                ..filled()
            }),
            "closes"
        );
        assert_eq!(
            field(ServiceForm {
                opens: "9".into(),
                ..filled()
            }),
            "opens"
        );
        assert_eq!(
            field(ServiceForm {
                phone: "abc".into(),
                ..filled()
            }),
            "phone"
        );
        assert_eq!(
            field(ServiceForm {
                location: String::new(),
                ..filled()
            }),
            "location"
        );
    }

    #[test]
    fn no_days_means_no_schedule_whatever_the_hours() {
        let s = ServiceForm {
            days: vec![],
            closes: "08:00".into(),
            ..filled()
        }
        .apply(Service::default())
        .unwrap();
        assert!(s.schedules.is_empty());
    }
}
