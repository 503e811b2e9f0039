//! The service form an organisation fills in on the web: the fields a person edits, as typed,
//! and how they are parsed and applied to an HSDS service document (everything the form does
//! not show is kept). The web page only collects the fields and shows the error.
//!
//! Opening hours are typed per day, in up to two spans (morning and afternoon, as Italian
//! offices open). Days with the same spans become one HSDS weekly schedule each span; the
//! schedules a form cannot show (seasonal, monthly, overnight, with dates or notes) are kept.

use uuid::Uuid;

use super::{
    Attribute, CostOption, Funding, Language, Phone, Schedule, Service, ServiceAtLocation,
};
use crate::FieldError;
use crate::bounded::BoundedText;
use crate::money::Cents;
use crate::schedule::{DAYS, daytime_interval, parse_clock};

/// How many opening spans a day has in the form.
pub const SPANS_PER_DAY: usize = 2;

/// One day's opening spans, as typed: `[opens, closes]` per span, both blank when closed.
pub type DaySpans = [[String; 2]; SPANS_PER_DAY];

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
    /// Opening spans per day, Monday first.
    pub hours: [DaySpans; 7],
    /// What it costs in words ("gratuito per chi ha ISEE sotto 10.000 euro").
    pub fees_description: String,
    /// One price, in euros as typed, and what it is for ("a pasto"); both blank: no price.
    pub cost_amount: String,
    pub cost_option: String,
    /// Who it is for, in words, and the ages it takes (blank: any).
    pub eligibility: String,
    pub minimum_age: String,
    pub maximum_age: String,
    /// How to ask for it.
    pub application_process: String,
    /// The ISO 639 codes ticked (of [`crate::needs::LANGUAGES`]).
    pub languages: Vec<String>,
}

/// The name of a span's field in the form: `mo_opens_1`, `we_closes_2`.
pub fn span_field(day: usize, span: usize, closes: bool) -> String {
    format!(
        "{}_{}_{}",
        DAYS[day].to_ascii_lowercase(),
        if closes { "closes" } else { "opens" },
        span + 1
    )
}

/// Which day, span and end a span field names (the reverse of [`span_field`]).
pub fn parse_span_field(field: &str) -> Option<(usize, usize, bool)> {
    let mut parts = field.split('_');
    let day = parts.next()?.to_ascii_uppercase();
    let day = DAYS.iter().position(|d| *d == day)?;
    let closes = match parts.next()? {
        "opens" => false,
        "closes" => true,
        _ => return None,
    };
    let span: usize = parts.next()?.parse().ok()?;
    (parts.next().is_none() && (1..=SPANS_PER_DAY).contains(&span)).then(|| (day, span - 1, closes))
}

/// A weekly schedule the form shows as spans: every day it names, one daytime span, and
/// nothing else that the form would lose (dates, counts, monthly rules, notes).
fn form_shows(s: &Schedule) -> bool {
    let weekly = match s.freq.as_deref() {
        None => true,
        Some(f) => f.eq_ignore_ascii_case("WEEKLY"),
    };
    let plain_days = s.byday.as_deref().is_some_and(|b| {
        b.split(',')
            .all(|d| DAYS.contains(&d.trim().to_ascii_uppercase().as_str()))
    });
    let daytime = match (&s.opens_at, &s.closes_at) {
        (Some(o), Some(c)) => matches!(
            (parse_clock("opens", o), parse_clock("closes", c)),
            (Ok(o), Ok(c)) if o < c
        ),
        _ => false,
    };
    weekly
        && plain_days
        && daytime
        && s.interval.is_none_or(|i| i == 1.0)
        && [
            &s.valid_from,
            &s.valid_to,
            &s.dtstart,
            &s.until,
            &s.byweekno,
            &s.bymonthday,
            &s.byyearday,
            &s.description,
            &s.notes,
            &s.schedule_link,
            &s.attending_type,
            &s.wkst,
        ]
        .iter()
        .all(|x| x.is_none())
        && s.count.is_none()
        && s.timezone.is_none()
        && s.location_id.is_none()
        && s.service_at_location_id.is_none()
        && s.attributes.is_empty()
}

/// Codes in order, to compare the languages ticked with those shown.
fn sorted(v: &[String]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|x| x.trim().to_string()).collect();
    v.sort();
    v.dedup();
    v
}

/// The spans as typed, without surrounding spaces, to compare with those shown.
fn trimmed(h: &[DaySpans; 7]) -> [DaySpans; 7] {
    let mut out = h.clone();
    for day in out.iter_mut() {
        for span in day.iter_mut() {
            for t in span.iter_mut() {
                *t = t.trim().to_string();
            }
        }
    }
    out
}

/// `HH:MM` of minutes since midnight.
fn clock(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Which of a service's schedules the form shows: those it can show ([`form_shows`]), as long
/// as no day gets more spans than the form has; the rest are kept as they are.
fn shown_schedules(schedules: &[Schedule]) -> Vec<bool> {
    let mut per_day = [0usize; 7];
    schedules
        .iter()
        .map(|s| {
            if !form_shows(s) {
                return false;
            }
            let days: Vec<usize> = DAYS
                .iter()
                .enumerate()
                .filter(|(_, d)| {
                    s.byday
                        .as_deref()
                        .unwrap_or_default()
                        .split(',')
                        .any(|x| x.trim().eq_ignore_ascii_case(d))
                })
                .map(|(i, _)| i)
                .collect();
            if days.iter().any(|&d| per_day[d] >= SPANS_PER_DAY) {
                return false;
            }
            for d in days {
                per_day[d] += 1;
            }
            true
        })
        .collect()
}

impl ServiceForm {
    /// A new service's form: active, open Monday to Friday, 09:00–17:00.
    pub fn new_service(organization_id: Option<Uuid>) -> Self {
        let mut hours: [DaySpans; 7] = Default::default();
        for day in hours.iter_mut().take(5) {
            day[0] = ["09:00".into(), "17:00".into()];
        }
        Self {
            organization_id: organization_id.map(|u| u.to_string()).unwrap_or_default(),
            status: "active".into(),
            hours,
            ..Default::default()
        }
    }

    /// The form showing a service's current values.
    pub fn from_service(s: &Service) -> Self {
        let mut spans: [Vec<(u16, u16)>; 7] = Default::default();
        for (sched, shown) in s.schedules.iter().zip(shown_schedules(&s.schedules)) {
            if !shown {
                continue;
            }
            let (Some(o), Some(c), Some(byday)) = (&sched.opens_at, &sched.closes_at, &sched.byday)
            else {
                continue;
            };
            let (Ok(o), Ok(c)) = (parse_clock("opens", o), parse_clock("closes", c)) else {
                continue;
            };
            for (d, code) in DAYS.iter().enumerate() {
                if byday
                    .split(',')
                    .any(|x| x.trim().eq_ignore_ascii_case(code))
                {
                    spans[d].push((o, c));
                }
            }
        }
        let mut hours: [DaySpans; 7] = Default::default();
        for (d, day) in spans.iter_mut().enumerate() {
            day.sort_unstable();
            for (k, (o, c)) in day.iter().take(SPANS_PER_DAY).enumerate() {
                hours[d][k] = [clock(*o), clock(*c)];
            }
        }
        let cost = s.cost_options.first();
        let known = |code: &str| crate::needs::LANGUAGES.iter().any(|(k, _, _)| *k == code);
        Self {
            organization_id: s.organization_id.map(|u| u.to_string()).unwrap_or_default(),
            name: s.name.clone(),
            description: s.description.clone().unwrap_or_default(),
            status: s.status.clone(),
            category: s
                .attributes
                .iter()
                .find(|a| {
                    a.link_type.as_deref() != Some("audience") && a.taxonomy_term_id.is_some()
                })
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
                .iter()
                .find_map(|x| x.location_id)
                .map(|u| u.to_string())
                .unwrap_or_default(),
            hours,
            fees_description: s.fees_description.clone().unwrap_or_default(),
            cost_amount: cost
                .and_then(|c| c.amount)
                .and_then(|a| Cents::from_decimal("amount", a).ok())
                .map(|c| c.to_string().replace('.', ","))
                .unwrap_or_default(),
            cost_option: cost.and_then(|c| c.option.clone()).unwrap_or_default(),
            eligibility: s.eligibility_description.clone().unwrap_or_default(),
            minimum_age: s.minimum_age.map(|a| a.to_string()).unwrap_or_default(),
            maximum_age: s.maximum_age.map(|a| a.to_string()).unwrap_or_default(),
            application_process: s.application_process.clone().unwrap_or_default(),
            languages: s
                .languages
                .iter()
                .filter_map(|g| g.code.as_deref().map(str::to_ascii_lowercase))
                .filter(|c| known(c))
                .collect(),
        }
    }

    /// What was typed into one span field (`day` 0 = Monday, `span` from 0).
    pub fn span(&self, day: usize, span: usize, closes: bool) -> &str {
        &self.hours[day][span][usize::from(closes)]
    }

    /// Sets a span field by its form name ([`span_field`]); false when the name is not one.
    pub fn set_span(&mut self, field: &str, value: &str) -> bool {
        match parse_span_field(field) {
            Some((d, k, closes)) => {
                self.hours[d][k][usize::from(closes)] = value.to_string();
                true
            }
            None => false,
        }
    }

    /// Whether the language `code` is ticked.
    pub fn speaks(&self, code: &str) -> bool {
        self.languages.iter().any(|c| c == code)
    }

    /// The spans typed, parsed: per day, in order, each after the one before.
    fn parse_hours(&self) -> Result<[Vec<(u16, u16)>; 7], FieldError> {
        let mut out: [Vec<(u16, u16)>; 7] = Default::default();
        for (d, day) in self.hours.iter().enumerate() {
            for (k, [o, c]) in day.iter().enumerate() {
                let (fo, fc) = (span_field(d, k, false), span_field(d, k, true));
                let span = match (o.trim().is_empty(), c.trim().is_empty()) {
                    (true, true) => continue,
                    (false, true) => return Err(FieldError::new(fc, "is missing")),
                    (true, false) => return Err(FieldError::new(fo, "is missing")),
                    (false, false) => daytime_interval((&fo, o), (&fc, c))?,
                };
                if let Some(&(_, before)) = out[d].last()
                    && span.0 < before
                {
                    return Err(FieldError::new(
                        fo,
                        format!("must come after the first span closes ({})", clock(before)),
                    ));
                }
                out[d].push(span);
            }
        }
        Ok(out)
    }

    /// Parses the form and applies it to a service document, keeping everything the form does
    /// not show, and checks the result as every service is checked ([`super::validate_service`]).
    /// The first field in error is named.
    pub fn apply(&self, mut s: Service) -> Result<Service, FieldError> {
        let organization = Uuid::parse_str(self.organization_id.trim())
            .map_err(|_| FieldError::new("organization_id", "choose an organisation"))?;
        let category = Uuid::parse_str(self.category.trim())
            .map_err(|_| FieldError::new("category", "choose a category"))?;
        // What the form showed: a part the person left as it was stays as it is in the document.
        let before = Self::from_service(&s);
        let hours = self.parse_hours()?;
        let phone = crate::bounded::phone("phone", &self.phone)?;
        let location = Uuid::parse_str(self.location.trim())
            .map_err(|_| FieldError::new("location", "choose a place"))?;
        // Browsers send line breaks as CRLF; the document keeps them as typed elsewhere (LF).
        let text = |field: &str, v: &str| {
            BoundedText::optional(field, &v.replace("\r\n", "\n"), 2000)
                .map(|t| t.map(BoundedText::into_string))
        };
        let name = BoundedText::line("name", &self.name, 300)?.into_string();
        let description =
            BoundedText::optional("description", &self.description.replace("\r\n", "\n"), 8000)?
                .map(BoundedText::into_string);
        let funder = match self.funder.trim() {
            "" => None,
            f => Some(BoundedText::line("funder", f, 300)?.into_string()),
        };
        let fees_description = text("fees_description", &self.fees_description)?;
        let cost_option = BoundedText::optional("cost_option", &self.cost_option, 200)?;
        let cost_amount = match self.cost_amount.trim() {
            "" => None,
            a => Some(Cents::parse_euros("cost_amount", a)?),
        };
        let eligibility = text("eligibility", &self.eligibility)?;
        let application_process = text("application_process", &self.application_process)?;
        let age = |field: &str, v: &str| -> Result<Option<f64>, FieldError> {
            if v.trim().is_empty() {
                return Ok(None);
            }
            let a = crate::bounded::decimal(field, v)?;
            Ok(Some(crate::bounded::within(field, a, 0.0, 120.0)?))
        };
        let minimum_age = age("minimum_age", &self.minimum_age)?;
        let maximum_age = age("maximum_age", &self.maximum_age)?;
        if let (Some(lo), Some(hi)) = (minimum_age, maximum_age)
            && hi < lo
        {
            return Err(FieldError::new(
                "maximum_age",
                format!("must not be below the minimum age ({lo})"),
            ));
        }
        if let Some(c) = self
            .languages
            .iter()
            .find(|c| !crate::needs::LANGUAGES.iter().any(|(k, _, _)| k == c))
        {
            return Err(FieldError::new(
                "languages",
                format!("'{c}' is not a language Trama knows"),
            ));
        }

        s.organization_id = Some(organization);
        s.name = name;
        s.description = description;
        s.status = self.status.clone();
        s.email = Some(self.email.trim().to_string()).filter(|d| !d.is_empty());
        s.fees_description = fees_description;
        s.eligibility_description = eligibility;
        s.application_process = application_process;
        s.minimum_age = minimum_age;
        s.maximum_age = maximum_age;
        if self.category.trim() != before.category {
            // The category the form shows is the first that is not an audience: it changes in
            // place (its id and value stay); the others stay as they are.
            match s.attributes.iter_mut().find(|a| {
                a.link_type.as_deref() != Some("audience") && a.taxonomy_term_id.is_some()
            }) {
                Some(a) => {
                    if a.taxonomy_term_id != Some(category) {
                        a.taxonomy_term_id = Some(category);
                        a.taxonomy_term = None;
                    }
                }
                None => s.attributes.insert(
                    0,
                    Attribute {
                        id: Uuid::now_v7(),
                        link_id: Some(s.id),
                        taxonomy_term_id: Some(category),
                        link_type: Some("category".into()),
                        link_entity: Some("service".into()),
                        ..Default::default()
                    },
                ),
            }
        }
        if self.funder.trim() != before.funder.trim() {
            // The funder the form shows is the first; the others stay.
            match (funder, s.funding.first_mut()) {
                (Some(f), Some(first)) => first.source = Some(f),
                (Some(f), None) => s.funding.push(Funding {
                    id: Uuid::now_v7(),
                    service_id: Some(s.id),
                    source: Some(f),
                    ..Default::default()
                }),
                (None, Some(_)) => {
                    s.funding.remove(0);
                }
                (None, None) => {}
            }
        }
        if self.phone.trim() != before.phone.trim() {
            match phone {
                None if !s.phones.is_empty() => {
                    s.phones.remove(0);
                }
                None => {}
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
            // The first price is the form's; any further ones stay.
        }
        if (self.cost_amount.trim(), self.cost_option.trim())
            != (before.cost_amount.trim(), before.cost_option.trim())
        {
            // A price, words without a price (as HSDS allows), or neither: the first option.
            let first_cost = (!s.cost_options.is_empty()).then(|| s.cost_options.remove(0));
            if cost_amount.is_some() || cost_option.is_some() {
                let first = first_cost.unwrap_or_default();
                let currency = first.currency.clone().unwrap_or_else(|| "EUR".into());
                s.cost_options.insert(
                    0,
                    CostOption {
                        id: if first.id.is_nil() {
                            Uuid::now_v7()
                        } else {
                            first.id
                        },
                        service_id: first.service_id.or(Some(s.id)),
                        option: cost_option.map(BoundedText::into_string),
                        currency: cost_amount.map(|_| currency),
                        amount: cost_amount.map(Cents::to_decimal),
                        ..first
                    },
                );
            }
        }
        if sorted(&self.languages) != sorted(&before.languages) {
            // Languages the form lists are as ticked; others the record names stay.
            let mut languages: Vec<Language> = std::mem::take(&mut s.languages)
                .into_iter()
                .filter(|g| {
                    let code = g.code.as_deref().map(str::to_ascii_lowercase);
                    match code {
                        Some(c) if crate::needs::LANGUAGES.iter().any(|(k, _, _)| *k == c) => {
                            self.speaks(&c)
                        }
                        _ => true,
                    }
                })
                .collect();
            for (code, it, _) in crate::needs::LANGUAGES {
                let has = languages.iter().any(|g| {
                    g.code
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(code))
                });
                if self.speaks(code) && !has {
                    languages.push(Language {
                        id: Uuid::now_v7(),
                        service_id: Some(s.id),
                        name: Some((*it).to_string()),
                        code: Some((*code).to_string()),
                        ..Default::default()
                    });
                }
            }
            s.languages = languages;
        }
        if trimmed(&self.hours) != before.hours {
            // The weekly spans are the form's; schedules it does not show stay.
            let shown = shown_schedules(&s.schedules);
            let (mut was_shown, mut kept) = (Vec::new(), Vec::new());
            for (x, shown) in std::mem::take(&mut s.schedules).into_iter().zip(shown) {
                if shown {
                    was_shown.push(x);
                } else {
                    kept.push(x);
                }
            }
            let mut schedules: Vec<Schedule> = Vec::new();
            // A span the form shows again as it was keeps its schedule's id.
            let same_clock = |a: &Option<String>, b: u16| {
                a.as_deref().and_then(|x| parse_clock("at", x).ok()) == Some(b)
            };
            let id_of = |days: &str, opens: u16, closes: u16| {
                was_shown
                    .iter()
                    .find(|x: &&Schedule| {
                        x.byday.as_deref() == Some(days)
                            && same_clock(&x.opens_at, opens)
                            && same_clock(&x.closes_at, closes)
                    })
                    .map(|x| x.id)
            };
            let mut groups: Vec<((u16, u16), Vec<&str>)> = vec![];
            for (d, spans) in hours.iter().enumerate() {
                for span in spans {
                    match groups.iter_mut().find(|(g, _)| g == span) {
                        Some((_, days)) => days.push(DAYS[d]),
                        None => groups.push((*span, vec![DAYS[d]])),
                    }
                }
            }
            for ((opens, closes), days) in groups {
                let byday = days.join(",");
                schedules.push(Schedule {
                    id: id_of(&byday, opens, closes).unwrap_or_else(Uuid::now_v7),
                    service_id: Some(s.id),
                    freq: Some("WEEKLY".into()),
                    byday: Some(byday),
                    opens_at: Some(clock(opens)),
                    closes_at: Some(clock(closes)),
                    ..Default::default()
                });
            }
            schedules.extend(kept);
            s.schedules = schedules;
        }
        if self.location.trim() != before.location {
            // The place the form shows is the first the service is delivered at: picking another
            // puts it first (moving the first there, unless it already is one); the others stay.
            let here = ServiceAtLocation {
                id: Uuid::now_v7(),
                service_id: Some(s.id),
                location_id: Some(location),
                ..Default::default()
            };
            match s
                .service_at_locations
                .iter()
                .position(|x| x.location_id == Some(location))
            {
                Some(i) => {
                    let at = s.service_at_locations.remove(i);
                    s.service_at_locations.insert(0, at);
                }
                None if !s.service_at_locations.is_empty() => s.service_at_locations[0] = here,
                None => s.service_at_locations.push(here),
            }
        }
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

    fn with_span(mut f: ServiceForm, field: &str, v: &str) -> ServiceForm {
        assert!(f.set_span(field, v), "{field}");
        f
    }

    #[test]
    fn a_filled_form_becomes_a_weekly_schedule_and_a_category() {
        let s = filled().apply(Service::default()).unwrap();
        assert_eq!(s.name, "Pasti a domicilio");
        assert_eq!(s.schedules.len(), 1);
        assert_eq!(s.schedules[0].byday.as_deref(), Some("MO,TU,WE,TH,FR"));
        assert_eq!(s.attributes[0].link_type.as_deref(), Some("category"));
        assert_eq!(ServiceForm::from_service(&s).hours, filled().hours);
    }

    #[test]
    fn days_with_the_same_spans_share_a_schedule_and_each_day_may_have_two() {
        let mut f = filled();
        f = with_span(f, "mo_closes_1", "12:30");
        f = with_span(f, "mo_opens_2", "14:00");
        f = with_span(f, "mo_closes_2", "17:30");
        f = with_span(f, "th_closes_1", "12:30");
        f = with_span(f, "th_opens_2", "14:00");
        f = with_span(f, "th_closes_2", "17:30");
        f = with_span(f, "sa_opens_1", "10:00");
        f = with_span(f, "sa_closes_1", "12:00");
        let s = f.apply(Service::default()).unwrap();
        let rows: Vec<(String, String, String)> = s
            .schedules
            .iter()
            .map(|x| {
                (
                    x.byday.clone().unwrap(),
                    x.opens_at.clone().unwrap(),
                    x.closes_at.clone().unwrap(),
                )
            })
            .collect();
        let row = |d: &str, o: &str, c: &str| (d.to_string(), o.to_string(), c.to_string());
        assert_eq!(
            rows,
            vec![
                row("MO,TH", "09:00", "12:30"),
                row("MO,TH", "14:00", "17:30"),
                row("TU,WE,FR", "09:00", "17:00"),
                row("SA", "10:00", "12:00"),
            ]
        );
        let h = crate::schedule::WeeklyHours::from_schedules(&s.schedules).unwrap();
        assert_eq!(h.on(0).count(), 2);
        assert_eq!(h.on(6).count(), 0);
        // Read back, the form shows what was typed.
        assert_eq!(ServiceForm::from_service(&s).hours, f.hours);
    }

    #[test]
    fn schedules_the_form_cannot_show_are_kept() {
        let mut s = filled().apply(Service::default()).unwrap();
        let summer = Schedule {
            id: Uuid::now_v7(),
            freq: Some("WEEKLY".into()),
            byday: Some("SA".into()),
            opens_at: Some("08:00".into()),
            closes_at: Some("11:00".into()),
            valid_from: Some("2026-06-01".into()),
            valid_to: Some("2026-08-31".into()),
            ..Default::default()
        };
        let night = Schedule {
            id: Uuid::now_v7(),
            byday: Some("FR".into()),
            opens_at: Some("22:00".into()),
            closes_at: Some("02:00".into()),
            ..Default::default()
        };
        s.schedules.push(summer.clone());
        s.schedules.push(night.clone());
        let f = ServiceForm::from_service(&s);
        assert_eq!(
            f.span(5, 0, false),
            "",
            "the summer Saturday is not a form span"
        );
        let again = f.apply(s).unwrap();
        assert!(again.schedules.contains(&summer));
        assert!(again.schedules.contains(&night));
        assert_eq!(again.schedules.len(), 3);
    }

    #[test]
    fn prices_eligibility_ages_and_languages_are_written_and_read_back() {
        let f = ServiceForm {
            fees_description: "Gratuito con ISEE sotto 10.000 euro".into(),
            cost_amount: "5,50".into(),
            cost_option: "a pasto".into(),
            eligibility: "Persone sole over 65".into(),
            minimum_age: "65".into(),
            maximum_age: String::new(),
            application_process: "Telefonare allo sportello".into(),
            languages: vec!["it".into(), "ar".into()],
            ..filled()
        };
        let mut base = Service::default();
        base.languages.push(Language {
            id: Uuid::now_v7(),
            name: Some("napoletano".into()),
            code: Some("nap".into()),
            ..Default::default()
        });
        base.languages.push(Language {
            id: Uuid::now_v7(),
            code: Some("en".into()),
            ..Default::default()
        });
        let s = f.apply(base).unwrap();
        assert_eq!(s.cost_options[0].amount, Some(5.5));
        assert_eq!(s.cost_options[0].currency.as_deref(), Some("EUR"));
        assert_eq!(s.minimum_age, Some(65.0));
        assert_eq!(s.maximum_age, None);
        let codes: Vec<_> = s.languages.iter().filter_map(|g| g.code.clone()).collect();
        assert_eq!(
            codes,
            ["nap", "it", "ar"],
            "unticked English goes; dialect stays"
        );
        let back = ServiceForm::from_service(&s);
        assert_eq!(back.cost_amount, "5,50");
        assert_eq!(back.minimum_age, "65");
        assert_eq!(back.languages, ["it", "ar"]);
        // Clearing the price removes it.
        let s = ServiceForm {
            cost_amount: String::new(),
            cost_option: String::new(),
            ..back
        }
        .apply(s)
        .unwrap();
        assert!(s.cost_options.is_empty());
    }

    #[test]
    fn each_mistake_names_its_field() {
        let field = |f: ServiceForm| f.apply(Service::default()).unwrap_err().field;
        let cases: Vec<(ServiceForm, &str)> = vec![
            (
                ServiceForm {
                    organization_id: "x".into(),
                    ..filled()
                },
                "organization_id",
            ),
            (
                ServiceForm {
                    name: "  ".into(),
                    ..filled()
                },
                "name",
            ),
            (with_span(filled(), "mo_closes_1", "08:00"), "mo_closes_1"),
            (with_span(filled(), "tu_opens_1", "9"), "tu_opens_1"),
            (with_span(filled(), "sa_opens_2", "10:00"), "sa_closes_2"),
            (with_span(filled(), "su_closes_1", "10:00"), "su_opens_1"),
            (
                with_span(
                    with_span(filled(), "we_opens_2", "16:00"),
                    "we_closes_2",
                    "18:00",
                ),
                "we_opens_2",
            ),
            (
                ServiceForm {
                    phone: "abc".into(),
                    ..filled()
                },
                "phone",
            ),
            (
                ServiceForm {
                    location: String::new(),
                    ..filled()
                },
                "location",
            ),
            (
                ServiceForm {
                    cost_amount: "cinque".into(),
                    ..filled()
                },
                "cost_amount",
            ),
            (
                ServiceForm {
                    name: "Pasti\u{0}".into(),
                    ..filled()
                },
                "name",
            ),
            (
                ServiceForm {
                    name: "Pasti\na domicilio".into(),
                    ..filled()
                },
                "name",
            ),
            (
                ServiceForm {
                    funder: "Comune\u{7}".into(),
                    ..filled()
                },
                "funder",
            ),
            (
                ServiceForm {
                    description: "a\u{0}b".into(),
                    ..filled()
                },
                "description",
            ),
            (
                ServiceForm {
                    minimum_age: "-3".into(),
                    ..filled()
                },
                "minimum_age",
            ),
            (
                ServiceForm {
                    minimum_age: "70".into(),
                    maximum_age: "60".into(),
                    ..filled()
                },
                "maximum_age",
            ),
            (
                ServiceForm {
                    languages: vec!["xx".into()],
                    ..filled()
                },
                "languages",
            ),
            (
                ServiceForm {
                    eligibility: "a\u{0}b".into(),
                    ..filled()
                },
                "eligibility",
            ),
        ];
        for (f, want) in cases {
            assert_eq!(field(f), want);
        }
    }

    #[test]
    fn a_form_saved_unchanged_leaves_the_document_as_it_was() {
        let id = Uuid::now_v7();
        let term = |value: Option<&str>| Attribute {
            id: Uuid::now_v7(),
            link_id: Some(id),
            taxonomy_term_id: Some(Uuid::now_v7()),
            link_type: Some("category".into()),
            link_entity: Some("service".into()),
            value: value.map(Into::into),
            ..Default::default()
        };
        let place = || ServiceAtLocation {
            id: Uuid::now_v7(),
            service_id: Some(id),
            location_id: Some(Uuid::now_v7()),
            ..Default::default()
        };
        let s = Service {
            id,
            organization_id: Some(Uuid::now_v7()),
            name: "Pasti a domicilio".into(),
            status: "active".into(),
            description: Some("Due righe:\nla seconda".into()),
            minimum_age: Some(16.5),
            attributes: vec![
                Attribute {
                    taxonomy_term_id: None,
                    value: Some("etichetta".into()),
                    ..term(None)
                },
                term(Some("principale")),
                term(None),
            ],
            service_at_locations: vec![
                ServiceAtLocation {
                    location_id: None,
                    ..place()
                },
                place(),
                place(),
            ],
            funding: vec![
                Funding {
                    id: Uuid::now_v7(),
                    organization_id: Some(Uuid::now_v7()),
                    ..Default::default()
                },
                Funding {
                    id: Uuid::now_v7(),
                    organization_id: Some(Uuid::now_v7()),
                    source: Some("Comune di Milano".into()),
                    ..Default::default()
                },
                Funding {
                    id: Uuid::now_v7(),
                    source: Some("Fondazione Cariplo".into()),
                    ..Default::default()
                },
            ],
            phones: vec![
                Phone {
                    id: Uuid::now_v7(),
                    number: "+39 02 1234567".into(),
                    ..Default::default()
                },
                Phone {
                    id: Uuid::now_v7(),
                    number: "+39 02 7654321".into(),
                    ..Default::default()
                },
            ],
            schedules: vec![
                Schedule {
                    id: Uuid::now_v7(),
                    service_id: Some(id),
                    freq: Some("WEEKLY".into()),
                    byday: Some("MO,TU".into()),
                    opens_at: Some("09:00".into()),
                    closes_at: Some("12:00".into()),
                    ..Default::default()
                },
                Schedule {
                    id: Uuid::now_v7(),
                    byday: Some("WE".into()),
                    opens_at: Some("09:00".into()),
                    closes_at: Some("12:00".into()),
                    ..Default::default()
                },
                Schedule {
                    id: Uuid::now_v7(),
                    freq: Some("WEEKLY".into()),
                    byday: Some("SA".into()),
                    opens_at: Some("09:00".into()),
                    closes_at: Some("12:00".into()),
                    attending_type: Some("in_person".into()),
                    ..Default::default()
                },
            ],
            cost_options: vec![
                CostOption {
                    id: Uuid::now_v7(),
                    service_id: Some(id),
                    option: Some("all'ora".into()),
                    currency: Some("USD".into()),
                    amount: Some(13.65),
                    amount_description: Some("listino 2026".into()),
                    ..Default::default()
                },
                CostOption {
                    id: Uuid::now_v7(),
                    service_id: Some(id),
                    option: Some("solo parole".into()),
                    ..Default::default()
                },
            ],
            languages: vec![
                Language {
                    id: Uuid::now_v7(),
                    code: Some("it".into()),
                    ..Default::default()
                },
                Language {
                    id: Uuid::now_v7(),
                    code: Some("nap".into()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let mut f = ServiceForm::from_service(&s);
        // As a browser sends it back: line breaks as CRLF.
        f.description = f.description.replace('\n', "\r\n");
        assert_eq!(f.apply(s.clone()).unwrap(), s);
        // A part changed changes only that part: a new phone leaves the hours' schedules as
        // they were (ids, the day written on its own, the schedule without `freq`).
        let mut f = ServiceForm::from_service(&s);
        f.phone = "+39 02 5555555".into();
        let changed = f.apply(s.clone()).unwrap();
        assert_eq!(changed.schedules, s.schedules);
        assert_eq!(changed.phones[0].number, "+39 02 5555555");
        assert_eq!(changed.phones[1], s.phones[1]);
        // A price in words only is shown and saved as it is.
        let words_only = Service {
            cost_options: s.cost_options[1..].to_vec(),
            ..s.clone()
        };
        let f = ServiceForm::from_service(&words_only);
        assert_eq!(f.cost_amount, "");
        assert_eq!(f.apply(words_only.clone()).unwrap(), words_only);
    }

    #[test]
    fn span_field_names_go_both_ways_and_nothing_else_is_one() {
        for d in 0..7 {
            for k in 0..SPANS_PER_DAY {
                for closes in [false, true] {
                    assert_eq!(
                        parse_span_field(&span_field(d, k, closes)),
                        Some((d, k, closes))
                    );
                }
            }
        }
        for bad in [
            "mo_opens_3",
            "mo_opens_0",
            "xx_opens_1",
            "mo_open_1",
            "mo_opens_1_x",
            "name",
        ] {
            assert_eq!(parse_span_field(bad), None, "{bad}");
        }
    }

    #[test]
    fn no_spans_means_no_schedule() {
        let mut f = filled();
        f.hours = Default::default();
        let s = f.apply(Service::default()).unwrap();
        assert!(s.schedules.is_empty());
    }
}
