//! Dates and times as people and clients type them: one parser per shape, each naming the
//! field at fault, so that a date is read the same way in the JSON API, a form and an import.
//! (Turning a local time of the territory into an instant is [`crate::schedule::TimeZone`]'s.)

use time::format_description::BorrowedFormatItem;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use crate::FieldError;

/// A calendar day, `2026-12-01`.
pub const DATE: &[BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// A local time to the minute, `2026-12-01T09:30`, as an HTML `datetime-local` field sends it.
pub const LOCAL_MINUTE: &[BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");

/// A calendar day like `2026-12-01` (surrounding spaces ignored).
pub fn parse_date(field: &str, s: &str) -> Result<Date, FieldError> {
    Date::parse(s.trim(), DATE).map_err(|_| {
        FieldError::new(
            field,
            format!("'{}' is not a date like 2026-12-01", s.trim()),
        )
    })
}

/// A local time to the minute like `2026-12-01T09:30` (an HTML `datetime-local` value).
pub fn parse_local_minute(field: &str, s: &str) -> Result<PrimitiveDateTime, FieldError> {
    PrimitiveDateTime::parse(s.trim(), LOCAL_MINUTE).map_err(|_| {
        FieldError::new(
            field,
            format!(
                "'{}' is not a date and time like 2026-12-01T09:30",
                s.trim()
            ),
        )
    })
}

/// An instant with its offset, RFC 3339 (`2026-12-01T09:30:00+01:00`).
pub fn parse_rfc3339(field: &str, s: &str) -> Result<OffsetDateTime, FieldError> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).map_err(|_| {
        FieldError::new(
            field,
            format!(
                "'{}' is not a date and time like 2026-12-01T09:30:00+01:00",
                s.trim()
            ),
        )
    })
}

/// `2026-12-01`.
pub fn format_date(d: Date) -> String {
    // Every `Date` the time crate can hold has a four-digit (or signed) year: formatting with
    // this description cannot fail.
    d.format(DATE).unwrap_or_default()
}

/// `2026-12-01T09:30`.
pub fn format_local_minute(t: PrimitiveDateTime) -> String {
    t.format(LOCAL_MINUTE).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn each_shape_reads_and_writes_back() {
        assert_eq!(
            parse_date("d", " 2026-12-01 ").unwrap(),
            date!(2026 - 12 - 01)
        );
        assert_eq!(format_date(date!(2026 - 12 - 01)), "2026-12-01");
        let t = parse_local_minute("t", "2026-12-01T09:30").unwrap();
        assert_eq!(t, datetime!(2026-12-01 09:30));
        assert_eq!(format_local_minute(t), "2026-12-01T09:30");
        assert_eq!(
            parse_rfc3339("t", "2026-12-01T09:30:00+01:00").unwrap(),
            datetime!(2026-12-01 08:30 UTC)
        );
    }

    #[test]
    fn a_wrong_shape_names_its_field() {
        assert_eq!(
            parse_date("giorno", "1/12/2026").unwrap_err().field,
            "giorno"
        );
        assert_eq!(
            parse_date("giorno", "2026-02-30").unwrap_err().field,
            "giorno"
        );
        assert_eq!(
            parse_local_minute("next_at", "2026-12-01")
                .unwrap_err()
                .field,
            "next_at"
        );
        assert_eq!(
            parse_rfc3339("at", "2026-12-01T09:30").unwrap_err().field,
            "at"
        );
    }
}
