//! Community hubs: places (HSDS locations marked as hubs) where people who are not online are
//! helped in. What a hub does, when it is open, and the slots its rooms are booked in.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, PrimitiveDateTime, Time};

use crate::FieldError;
use crate::matching::model::WeekWindow;

/// What a hub is besides a help desk.
pub const HUB_FUNCTIONS: &[(&str, &str, &str)] = &[
    ("cultural_centre", "centro culturale", "cultural centre"),
    ("library", "biblioteca", "library"),
    ("bar", "bar e punto di ritrovo", "bar and meeting point"),
    ("coworking", "coworking", "coworking"),
    ("parish", "parrocchia e oratorio", "parish"),
    (
        "social_centre",
        "centro sociale e casa di quartiere",
        "social centre",
    ),
];

/// Checks and normalises a list of hub functions.
/// What a hub offers, as its manager sets it (the page's form; the JSON API's numbers are
/// written into it): functions, capacity, opening hours, the help desk's words.
#[derive(Debug, Clone, Default)]
pub struct HubForm {
    pub functions: Vec<String>,
    pub capacity: String,
    pub opening_hours: Vec<crate::matching::instance::WindowSpec>,
    pub help_desk: String,
}

/// A hub's offer with every field checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewHub {
    pub functions: Vec<String>,
    pub capacity: u32,
    pub opening_hours: Vec<WeekWindow>,
    pub help_desk: String,
}

impl HubForm {
    pub fn parse(&self) -> Result<NewHub, FieldError> {
        let functions = parse_functions("functions", &self.functions)?;
        let capacity = crate::bounded::within(
            "capacity",
            crate::bounded::number::<u32>("capacity", &self.capacity)?,
            1,
            100_000,
        )?;
        let mut opening_hours = Vec::new();
        for (i, w) in self.opening_hours.iter().enumerate() {
            opening_hours.extend(w.parse(&format!("opening_hours[{i}]"))?);
        }
        let help_desk = crate::bounded::BoundedText::optional("help_desk", &self.help_desk, 1000)?
            .map(crate::bounded::BoundedText::into_string)
            .unwrap_or_default();
        Ok(NewHub {
            functions,
            capacity,
            opening_hours,
            help_desk,
        })
    }
}

/// A room a hub manager adds, as typed.
#[derive(Debug, Clone, Default)]
pub struct RoomForm {
    pub name: String,
    pub capacity: String,
    pub slot_minutes: String,
}

/// A room with every field checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRoom {
    pub name: crate::bounded::BoundedText,
    pub capacity: u32,
    /// Bookings are made in slots of this many minutes (15–480).
    pub slot_minutes: u16,
}

impl NewRoom {
    /// A room holds no more people than its hub.
    pub fn fits(&self, hub_capacity: u32) -> Result<(), FieldError> {
        if self.capacity > hub_capacity {
            return Err(FieldError::new(
                "capacity",
                format!("more seats than the hub holds ({hub_capacity})"),
            ));
        }
        Ok(())
    }
}

impl RoomForm {
    pub fn parse(&self) -> Result<NewRoom, FieldError> {
        Ok(NewRoom {
            name: crate::bounded::BoundedText::line("name", &self.name, 120)?,
            capacity: crate::bounded::within(
                "capacity",
                crate::bounded::number::<u32>("capacity", &self.capacity)?,
                1,
                10_000,
            )?,
            slot_minutes: crate::bounded::within(
                "slot_minutes",
                crate::bounded::number::<u16>("slot_minutes", &self.slot_minutes)?,
                15,
                480,
            )?,
        })
    }
}

pub fn parse_functions(field: &str, given: &[String]) -> Result<Vec<String>, FieldError> {
    let mut out = Vec::new();
    for g in given {
        let g = g.trim().to_lowercase();
        if !HUB_FUNCTIONS.iter().any(|(code, _, _)| *code == g) {
            let list: Vec<&str> = HUB_FUNCTIONS.iter().map(|f| f.0).collect();
            return Err(FieldError::new(
                field,
                format!("'{g}' is not a hub function ({})", list.join(", ")),
            ));
        }
        if !out.contains(&g) {
            out.push(g);
        }
    }
    if out.is_empty() {
        return Err(FieldError::new(field, "a hub has at least one function"));
    }
    Ok(out)
}

/// One bookable slot of a room on a day, in local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub start: PrimitiveDateTime,
    pub end: PrimitiveDateTime,
}

/// The slots of `slot_minutes` that fit inside the opening hours on `day`, in order.
pub fn slots_on(opening: &[WeekWindow], slot_minutes: u16, day: Date) -> Vec<Slot> {
    if slot_minutes == 0 {
        return Vec::new();
    }
    let wd = day.weekday().number_days_from_monday() as u16;
    let base = wd * 24 * 60;
    let mut out = Vec::new();
    let mut windows: Vec<&WeekWindow> = opening.iter().filter(|w| w.day() as u16 == wd).collect();
    windows.sort();
    for w in windows {
        let mut s = w.start - base;
        while s + slot_minutes <= w.end - base {
            let at =
                |m: u16| PrimitiveDateTime::new(day, Time::MIDNIGHT) + Duration::minutes(m as i64);
            out.push(Slot {
                start: at(s),
                end: at(s + slot_minutes),
            });
            s += slot_minutes;
        }
    }
    out
}

/// Is `start` the beginning of one of the day's slots? Returns the slot.
pub fn slot_at(
    opening: &[WeekWindow],
    slot_minutes: u16,
    start: PrimitiveDateTime,
) -> Option<Slot> {
    slots_on(opening, slot_minutes, start.date())
        .into_iter()
        .find(|s| s.start == start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_fill_the_opening_hours() {
        let opening = vec![
            WeekWindow::on_day("o", 1, 9 * 60, 12 * 60).unwrap(),
            WeekWindow::on_day("o", 1, 14 * 60, 15 * 60 + 30).unwrap(),
        ];
        let tuesday = time::macros::date!(2026 - 12 - 01);
        let s = slots_on(&opening, 60, tuesday);
        assert_eq!(s.len(), 4, "three in the morning, one in the afternoon");
        assert_eq!(s[3].start.time(), time::macros::time!(14:00));
        assert!(slots_on(&opening, 60, tuesday.next_day().unwrap()).is_empty());
        assert!(slot_at(&opening, 60, s[1].start).is_some());
        assert!(slot_at(&opening, 60, s[1].start + Duration::minutes(30)).is_none());
        assert!(
            parse_functions("f", &["library".into(), "LIBRARY".into()])
                .unwrap()
                .len()
                == 1
        );
        assert!(parse_functions("f", &["casino".into()]).is_err());
    }
}

/// A room booking as a client asks for it (`POST /api/rooms/{id}/bookings`, the room's page).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomBookingForm {
    /// The slot's start, local time: YYYY-MM-DDTHH:MM.
    pub start: String,
    /// What the room is for.
    pub purpose: String,
}

/// A room booking with every field checked (whether `start` opens a slot of the hub is the
/// hub's question: [`slot_at`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoomBooking {
    /// Local time of the territory.
    pub start: PrimitiveDateTime,
    pub purpose: crate::bounded::BoundedText,
}

/// The local time of a room slot as forms and answers write it.
pub use crate::moment::LOCAL_MINUTE as SLOT_TIME;

impl RoomBookingForm {
    pub fn parse(&self) -> Result<NewRoomBooking, FieldError> {
        let start = crate::moment::parse_local_minute("start", &self.start)?;
        let purpose = crate::bounded::BoundedText::parse("purpose", &self.purpose, 200)?;
        Ok(NewRoomBooking { start, purpose })
    }
}
