//! Text a person typed into a bounded field: trimmed, not empty, at most so many characters,
//! without control characters. One type, so every name, purpose and reference is checked the
//! same way wherever it arrives (the JSON API, a form, an import).

use serde::Serialize;
use std::fmt;
use std::ops::Deref;

use crate::FieldError;

/// Trimmed text of 1 to `max` characters with no control characters (line breaks and tabs
/// allowed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct BoundedText(String);

impl BoundedText {
    /// `s` trimmed, if it holds 1 to `max` characters and no control characters.
    pub fn parse(field: &str, s: &str, max: usize) -> Result<Self, FieldError> {
        match Self::optional(field, s, max)? {
            Some(t) => Ok(t),
            None => Err(FieldError::new(
                field,
                format!("must be 1 to {max} characters"),
            )),
        }
    }

    /// Like [`BoundedText::parse`], but blank is `None`.
    pub fn optional(field: &str, s: &str, max: usize) -> Result<Option<Self>, FieldError> {
        let t = s.trim();
        if t.is_empty() {
            return Ok(None);
        }
        if t.chars().count() > max {
            return Err(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
        if t.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(FieldError::new(field, "contains control characters"));
        }
        Ok(Some(Self(t.to_string())))
    }

    /// One line of text, such as a name: like [`BoundedText::parse`], but no line break, tab
    /// or other control character, and none of the characters that reverse the direction of
    /// text (a name shown to others, or written into a mail's header, is one plain line).
    pub fn line(field: &str, s: &str, max: usize) -> Result<Self, FieldError> {
        let t = Self::parse(field, s, max)?;
        if t.0.chars().any(|c| {
            c.is_control() || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        }) {
            return Err(FieldError::new(
                field,
                "must be one line of plain text (no line breaks or control characters)",
            ));
        }
        Ok(t)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl Deref for BoundedText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BoundedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A telephone number as people write it (`02 8845 1234`, `+39 333-123.4567`, `(02) 1234`):
/// digits and the usual separators, at least five digits, at most 30 characters. Blank is
/// `None`; the number is kept as written (trimmed).
pub fn phone(field: &str, s: &str) -> Result<Option<String>, FieldError> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let digits = t.chars().filter(char::is_ascii_digit).count();
    if t.len() > 30
        || digits < 5
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || " +-/().".contains(c))
    {
        return Err(FieldError::new(field, "is not a phone number"));
    }
    Ok(Some(t.to_string()))
}

/// One of the interface's languages, by code (`it` unless given).
pub fn locale<'a>(field: &str, given: Option<&'a str>) -> Result<&'a str, FieldError> {
    match given.map(str::trim).unwrap_or("it") {
        l @ ("it" | "en") => Ok(l),
        other => Err(FieldError::new(field, format!("'{other}' is not it or en"))),
    }
}

/// A whole number typed into a form field (surrounding spaces ignored).
pub fn number<T: std::str::FromStr>(field: &str, s: &str) -> Result<T, FieldError> {
    s.trim()
        .parse()
        .map_err(|_| FieldError::new(field, format!("'{}' is not a number", s.trim())))
}

/// A decimal typed into a form field, with a comma or a point (`1,5` as Italians write it).
pub fn decimal(field: &str, s: &str) -> Result<f64, FieldError> {
    let v: f64 = number(field, &s.trim().replace(',', "."))?;
    if !v.is_finite() {
        return Err(FieldError::new(field, "is not a number"));
    }
    Ok(v)
}

/// A number a client gave, if it lies in `lo..=hi`; otherwise the field and its bounds.
pub fn within<T: PartialOrd + fmt::Display + Copy>(
    field: &str,
    v: T,
    lo: T,
    hi: T,
) -> Result<T, FieldError> {
    if v < lo || v > hi {
        return Err(FieldError::new(
            field,
            format!("must be between {lo} and {hi}"),
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_is_digits_and_separators() {
        assert_eq!(
            phone("p", " 02 8845 1234 ").unwrap().as_deref(),
            Some("02 8845 1234")
        );
        assert_eq!(
            phone("p", "+39 (333) 123-45.67").unwrap().as_deref(),
            Some("+39 (333) 123-45.67")
        );
        assert_eq!(phone("p", "  ").unwrap(), None);
        for bad in ["abc", "12", "02 8845 1234 int. 5", &"1".repeat(31)] {
            assert_eq!(phone("p", bad).unwrap_err().field, "p", "{bad:?}");
        }
        assert_eq!(locale("l", None).unwrap(), "it");
        assert_eq!(locale("l", Some("en")).unwrap(), "en");
        assert!(locale("l", Some("fr")).is_err());
    }

    #[test]
    fn a_line_is_one_line_of_plain_text() {
        assert_eq!(
            BoundedText::line("name", " Anna Bellini ", 120)
                .unwrap()
                .as_str(),
            "Anna Bellini"
        );
        for bad in [
            "Luca\r\nBcc: x@y.z",
            "Luca\tB",
            "abc\u{202E}def",
            "a\u{2066}b",
        ] {
            assert_eq!(
                BoundedText::line("name", bad, 120).unwrap_err().field,
                "name",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn bounded_text_is_trimmed_bounded_and_plain() {
        assert_eq!(
            BoundedText::parse("name", "  Sala A ", 10)
                .unwrap()
                .as_str(),
            "Sala A"
        );
        assert_eq!(BoundedText::parse("name", "Sala A", 6).unwrap().len(), 6);
        for bad in ["", "   ", "Sala grande", "Sala\u{0}A"] {
            let e = BoundedText::parse("name", bad, 6).unwrap_err();
            assert_eq!(e.field, "name", "{bad:?}");
        }
        // Characters, not bytes: six accented letters are six.
        assert!(BoundedText::parse("name", "àèìòùé", 6).is_ok());
        assert_eq!(BoundedText::optional("note", " ", 6).unwrap(), None);
        assert!(BoundedText::parse("note", "una\nriga", 20).is_ok());
    }

    #[test]
    fn form_numbers_are_read_the_italian_way_too() {
        assert_eq!(number::<u16>("people", " 3 "), Ok(3));
        assert_eq!(number::<u16>("people", "tre").unwrap_err().field, "people");
        assert_eq!(decimal("radius_km", "1,5"), Ok(1.5));
        assert_eq!(decimal("radius_km", "2.25"), Ok(2.25));
        assert!(decimal("radius_km", "inf").is_err());
        assert!(decimal("radius_km", "").is_err());
    }

    #[test]
    fn numbers_are_within_their_bounds() {
        assert_eq!(within("k", 5u32, 1, 50), Ok(5));
        assert_eq!(within("k", 0u32, 1, 50).unwrap_err().field, "k");
        assert!(
            within("k", 51u32, 1, 50)
                .unwrap_err()
                .reason
                .contains("1 and 50")
        );
    }
}
