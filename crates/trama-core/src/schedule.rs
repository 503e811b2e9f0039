//! Opening hours: the weekly intervals read from HSDS `schedule` objects, and "open now".
//!
//! Trama understands the HSDS schedules that describe regular weekly opening (`freq` WEEKLY or
//! absent, `byday`, `opens_at`, `closes_at`, and the `valid_from`/`valid_to` window by date).
//! Others (monthly rules, free-text descriptions) are kept in the document and shown as text but
//! do not count as opening hours: a service with none of the weekly kind is never "open now".

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, UtcOffset, Weekday};

use crate::FieldError;
use crate::hsds::Schedule;

/// One weekly interval: a day, and minutes since midnight local time, `opens < closes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyInterval {
    /// 0 = Monday ... 6 = Sunday.
    pub day: u8,
    pub opens: u16,
    pub closes: u16,
    /// First and last day the interval holds (as days since 1970-01-01), when limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_day: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_day: Option<i32>,
}

/// All the weekly opening intervals of one service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyHours(pub Vec<WeeklyInterval>);

/// The days of a weekly schedule, Monday first, as RFC 5545 (`BYDAY`) writes them.
pub const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// Parses `HH:MM` or `HH:MM:SS` (HSDS `opens_at`/`closes_at`) into minutes since midnight.
/// `24:00` is accepted as the end of the day.
pub fn parse_clock(field: &str, s: &str) -> Result<u16, FieldError> {
    let bad = || FieldError::new(field, format!("'{s}' is not a time of day like 09:30"));
    let mut parts = s.trim().split(':');
    let h: u16 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    let m: u16 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    if let Some(sec) = parts.next() {
        // Seconds may carry a zone suffix (`09:00:00Z`); the hours are local either way.
        let digits: String = sec.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            return Err(bad());
        }
    }
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// One daytime interval typed into a form (a service's hours, the same each day it opens):
/// both times parse and closing comes after opening. A weekly schedule in HSDS may also run
/// past midnight ([`WeeklyHours::from_schedules`] reads `closes_at` before `opens_at` as
/// overnight); a form offers only the daytime case, so that a slip of the hand (17:00–09:00)
/// is caught instead of being read as sixteen hours overnight.
pub fn daytime_interval(
    (opens_field, opens): (&str, &str),
    (closes_field, closes): (&str, &str),
) -> Result<(u16, u16), FieldError> {
    let from = parse_clock(opens_field, opens)?;
    let to = parse_clock(closes_field, closes)?;
    if to <= from {
        return Err(FieldError::new(
            closes_field,
            format!(
                "closing time ({}) must come after opening time ({})",
                closes.trim(),
                opens.trim()
            ),
        ));
    }
    Ok((from, to))
}

fn days_since_epoch(d: Date) -> i32 {
    d.to_julian_day() - 2_440_588
}

fn parse_date(field: &str, s: &str) -> Result<i32, FieldError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let head = s.get(..10).unwrap_or(s);
    Date::parse(head, &fmt)
        .map(days_since_epoch)
        .map_err(|_| FieldError::new(field, format!("'{s}' is not a date like 2026-01-31")))
}

impl WeeklyHours {
    /// Reads the weekly intervals out of HSDS schedules. Schedules that are not weekly opening
    /// hours are skipped; malformed times in a weekly schedule are an error naming the field.
    pub fn from_schedules<'a>(
        schedules: impl IntoIterator<Item = &'a Schedule>,
    ) -> Result<Self, FieldError> {
        let mut out = Vec::new();
        for (i, s) in schedules.into_iter().enumerate() {
            let weekly = match s.freq.as_deref() {
                None => s.byday.is_some(),
                Some(f) => f.eq_ignore_ascii_case("WEEKLY"),
            };
            let (Some(o), Some(c), Some(byday)) = (&s.opens_at, &s.closes_at, &s.byday) else {
                continue;
            };
            if !weekly {
                continue;
            }
            let opens = parse_clock(&format!("schedules[{i}].opens_at"), o)?;
            let closes = parse_clock(&format!("schedules[{i}].closes_at"), c)?;
            let from_day = s
                .valid_from
                .as_deref()
                .map(|d| parse_date(&format!("schedules[{i}].valid_from"), d))
                .transpose()?;
            let to_day = s
                .valid_to
                .as_deref()
                .map(|d| parse_date(&format!("schedules[{i}].valid_to"), d))
                .transpose()?;
            for d in byday.split(',') {
                // RRULE BYDAY may carry an ordinal ("1MO"); weekly rules use the bare day.
                let code: String = d
                    .trim()
                    .chars()
                    .filter(|c| c.is_ascii_alphabetic())
                    .collect::<String>()
                    .to_ascii_uppercase();
                let Some(day) = DAYS.iter().position(|x| *x == code) else {
                    return Err(FieldError::new(
                        format!("schedules[{i}].byday"),
                        format!("'{d}' is not a day (MO..SU)"),
                    ));
                };
                if closes > opens {
                    out.push(WeeklyInterval {
                        day: day as u8,
                        opens,
                        closes,
                        from_day,
                        to_day,
                    });
                } else if closes < opens {
                    // Open past midnight: split into the evening and the next morning.
                    out.push(WeeklyInterval {
                        day: day as u8,
                        opens,
                        closes: 24 * 60,
                        from_day,
                        to_day,
                    });
                    out.push(WeeklyInterval {
                        day: ((day + 1) % 7) as u8,
                        opens: 0,
                        closes,
                        from_day,
                        to_day,
                    });
                }
            }
        }
        out.sort_by_key(|w| (w.day, w.opens));
        Ok(Self(out))
    }

    /// Whether any interval covers this local day and minute.
    pub fn is_open_at(&self, local: time::PrimitiveDateTime) -> bool {
        let day = local.weekday().number_days_from_monday();
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        let today = days_since_epoch(local.date());
        self.0.iter().any(|w| {
            w.day == day
                && w.opens <= minute
                && minute < w.closes
                && w.from_day.is_none_or(|f| today >= f)
                && w.to_day.is_none_or(|t| today <= t)
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The intervals of one weekday (0 = Monday), for display.
    pub fn on(&self, day: u8) -> impl Iterator<Item = &WeeklyInterval> {
        self.0.iter().filter(move |w| w.day == day)
    }

    /// The intervals that hold in the week of `date` (a seasonal schedule, say June to
    /// August, is not this December's opening hours): those whose dates, if any, include
    /// some day of the seven starting on `date`.
    pub fn in_week_of(&self, date: Date) -> Self {
        let first = days_since_epoch(date);
        let last = first + 6;
        Self(
            self.0
                .iter()
                .filter(|w| {
                    w.from_day.is_none_or(|f| f <= last) && w.to_day.is_none_or(|t| t >= first)
                })
                .copied()
                .collect(),
        )
    }
}

/// A territory's clock. Italy (and the EU) moves to summer time at 01:00 UTC on the last Sunday
/// of March and back on the last Sunday of October; `Fixed` is for tests and other places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeZone {
    /// Central European Time with EU summer time (Europe/Rome).
    EuropeRome,
    /// A fixed offset in minutes east of UTC.
    Fixed(i16),
}

impl TimeZone {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "Europe/Rome" | "CET" => Ok(Self::EuropeRome),
            "UTC" | "Z" => Ok(Self::Fixed(0)),
            _ => Err(FieldError::new(
                "time_zone",
                format!("'{s}' is not supported; use Europe/Rome or UTC"),
            )),
        }
    }

    fn last_sunday(year: i32, month: time::Month) -> Date {
        let mut d = Date::from_calendar_date(year, month, month.length(year)).expect("valid date");
        while d.weekday() != Weekday::Sunday {
            d = d.previous_day().expect("in range");
        }
        d
    }

    pub fn offset_at(&self, utc: OffsetDateTime) -> UtcOffset {
        match self {
            Self::Fixed(m) => {
                UtcOffset::from_whole_seconds(*m as i32 * 60).unwrap_or(UtcOffset::UTC)
            }
            Self::EuropeRome => {
                let y = utc.year();
                let one = time::Time::from_hms(1, 0, 0).expect("valid time");
                let start = Self::last_sunday(y, time::Month::March)
                    .with_time(one)
                    .assume_utc();
                let end = Self::last_sunday(y, time::Month::October)
                    .with_time(one)
                    .assume_utc();
                let hours = if utc >= start && utc < end { 2 } else { 1 };
                UtcOffset::from_hms(hours, 0, 0).expect("valid offset")
            }
        }
    }

    pub fn local(&self, utc: OffsetDateTime) -> time::PrimitiveDateTime {
        let l = utc.to_offset(self.offset_at(utc));
        time::PrimitiveDateTime::new(l.date(), l.time())
    }

    /// The instant a local time of the territory stands for (the offset taken at that moment;
    /// in the hour a summer-time change repeats or skips, the offset before the change).
    pub fn to_utc(&self, local: time::PrimitiveDateTime) -> OffsetDateTime {
        local.assume_offset(self.offset_at(local.assume_utc()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seasonal_schedule_holds_only_in_its_weeks() {
        let mut summer = sched("SA", "08:00", "11:00");
        summer.valid_from = Some("2026-06-01".into());
        summer.valid_to = Some("2026-08-31".into());
        let h = WeeklyHours::from_schedules(&[sched("MO", "09:00", "12:00"), summer]).unwrap();
        let week = |d| {
            h.in_week_of(
                Date::parse(
                    d,
                    &time::macros::format_description!("[year]-[month]-[day]"),
                )
                .unwrap(),
            )
        };
        assert_eq!(week("2026-12-07").0.len(), 1, "December: Mondays only");
        assert_eq!(week("2026-07-06").0.len(), 2, "July: Saturdays too");
        assert_eq!(
            week("2026-05-28").0.len(),
            2,
            "the week that reaches into June"
        );
    }
    use time::macros::datetime;

    fn sched(byday: &str, o: &str, c: &str) -> Schedule {
        Schedule {
            freq: Some("WEEKLY".into()),
            byday: Some(byday.into()),
            opens_at: Some(o.into()),
            closes_at: Some(c.into()),
            ..Default::default()
        }
    }

    #[test]
    fn weekday_mornings() {
        let h = WeeklyHours::from_schedules(&[sched("MO,TU,WE,TH,FR", "09:00", "13:00")]).unwrap();
        assert!(h.is_open_at(datetime!(2026-11-23 09:00))); // a Monday
        assert!(h.is_open_at(datetime!(2026-11-27 12:59))); // Friday
        assert!(!h.is_open_at(datetime!(2026-11-23 13:00)));
        assert!(!h.is_open_at(datetime!(2026-11-28 10:00))); // Saturday
    }

    #[test]
    fn past_midnight_and_validity() {
        let mut s = sched("SA", "20:00", "02:00");
        s.valid_to = Some("2026-12-31".into());
        let h = WeeklyHours::from_schedules(&[s]).unwrap();
        assert!(h.is_open_at(datetime!(2026-11-28 23:00)));
        assert!(h.is_open_at(datetime!(2026-11-29 01:30)));
        assert!(!h.is_open_at(datetime!(2027-01-02 23:00)), "after valid_to");
    }

    #[test]
    fn bad_times_name_the_field() {
        let e = WeeklyHours::from_schedules(&[sched("MO", "25:00", "26:00")]).unwrap_err();
        assert_eq!(e.field, "schedules[0].opens_at");
        let e = WeeklyHours::from_schedules(&[sched("XX", "09:00", "10:00")]).unwrap_err();
        assert_eq!(e.field, "schedules[0].byday");
    }

    #[test]
    fn rome_summer_time() {
        let tz = TimeZone::EuropeRome;
        assert_eq!(tz.local(datetime!(2026-07-01 10:00 UTC)).hour(), 12);
        assert_eq!(tz.local(datetime!(2026-11-23 10:00 UTC)).hour(), 11);
        // 2026-03-29 is the last Sunday of March: 00:59 UTC is still winter, 01:00 is summer.
        assert_eq!(tz.local(datetime!(2026-03-29 00:59 UTC)).hour(), 1);
        assert_eq!(tz.local(datetime!(2026-03-29 01:00 UTC)).hour(), 3);
    }
}
