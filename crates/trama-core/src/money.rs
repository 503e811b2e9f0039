//! Money in integer cents. Never a float once parsed.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::FieldError;

/// An amount of euro cents (may be negative for postings).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl Cents {
    /// Euros as people type them in a form (`120`, `120,50`, `120.50`, `€ 1.200,00`), in
    /// cents; anything else is an error naming `field`.
    pub fn parse_euros(field: &str, s: &str) -> Result<Self, FieldError> {
        let not_euros = || FieldError::new(field, "an amount in euros, such as 120,50");
        let s: String = s
            .trim()
            .trim_start_matches('€')
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if s.is_empty() {
            return Err(not_euros());
        }
        // Which separator is the decimal one. With both, the last. A lone comma always is
        // (Italian: `0,555` is never five hundred euros but a mistake, more than two
        // decimals); a lone point is when one or two digits follow it (`120.5`), else it
        // groups thousands (`1.000`). Grouping separators stand before groups of three digits.
        let commas = s.matches(',').count();
        let points = s.matches('.').count();
        let decimal_at = match (commas, points) {
            (0, 0) => None,
            (_, 0) if commas == 1 => s.rfind(','),
            (0, 1) => s.rfind('.').filter(|i| s.len() - i - 1 <= 2),
            (0, _) | (_, 0) => None,
            _ => s.rfind([',', '.']),
        };
        let (int, dec) = match decimal_at {
            Some(i) => (&s[..i], &s[i + 1..]),
            None => (s.as_str(), ""),
        };
        if dec.len() > 2 || (decimal_at.is_some() && dec.is_empty()) {
            return Err(FieldError::new(
                field,
                "an amount in euros with at most two decimals, such as 120,50",
            ));
        }
        // Every group after a grouping separator has three digits.
        if int.split(['.', ',']).skip(1).any(|g| g.len() != 3) {
            return Err(not_euros());
        }
        let int: String = int.chars().filter(|c| *c != '.' && *c != ',').collect();
        if int.is_empty() && dec.is_empty()
            || !int.chars().all(|c| c.is_ascii_digit())
            || !dec.chars().all(|c| c.is_ascii_digit())
            || int.len() > 10
        {
            return Err(not_euros());
        }
        let units: i64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| not_euros())?
        };
        let cents: i64 = match dec.len() {
            0 => 0,
            1 => dec.parse::<i64>().map_err(|_| not_euros())? * 10,
            _ => dec.parse().map_err(|_| not_euros())?,
        };
        Ok(Cents(units * 100 + cents))
    }

    /// Converts a decimal amount as HSDS carries it (`cost_option.amount`, a JSON number) into
    /// cents, refusing amounts that are not a whole number of cents or are out of range.
    pub fn from_decimal(field: &str, amount: f64) -> Result<Self, FieldError> {
        if !amount.is_finite() || amount.abs() > 1e13 {
            return Err(FieldError::new(
                field,
                format!("{amount} is not a usable amount"),
            ));
        }
        let cents = (amount * 100.0).round();
        // An amount with two decimals is the double nearest to cents / 100 (exact, whatever its
        // size); the tolerance covers amounts computed rather than typed.
        if cents / 100.0 != amount && ((amount * 100.0) - cents).abs() > 1e-6 {
            return Err(FieldError::new(
                field,
                format!("{amount} has more than two decimals"),
            ));
        }
        Ok(Self(cents as i64))
    }

    /// The amount as a decimal number, for HSDS output.
    pub fn to_decimal(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_amounts_with_cents_are_read_exactly() {
        for typed in [
            "1.234.567.890,12",
            "9.999.999.999,99",
            "98.765.432,10",
            "0,07",
        ] {
            let c = Cents::parse_euros("a", typed).unwrap();
            assert_eq!(
                Cents::from_decimal("a", c.to_decimal()).unwrap(),
                c,
                "{typed}"
            );
        }
        assert!(Cents::from_decimal("a", 1234567890.125).is_err());
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(Cents::from_decimal("amount", 12.5).unwrap(), Cents(1250));
        assert_eq!(Cents::from_decimal("amount", 0.1 + 0.2).unwrap(), Cents(30));
        assert!(Cents::from_decimal("amount", 1.234).is_err());
        assert!(Cents::from_decimal("amount", f64::NAN).is_err());
        assert_eq!(Cents(-705).to_string(), "-7.05");
        assert_eq!(Cents(1250).to_decimal(), 12.5);
    }
}

#[cfg(test)]
mod euro_tests {
    use super::Cents;

    #[test]
    fn euros_are_read_as_people_type_them() {
        for (s, c) in [
            ("120", 12_000),
            ("120,5", 12_050),
            ("120,50", 12_050),
            ("120.50", 12_050),
            ("€ 1.200,00", 120_000),
            ("1,200.00", 120_000),
            ("1.200", 120_000),
            (",5", 50),
            ("1.000", 100_000),
            ("3.000,00", 300_000),
            ("1.234.567", 123_456_700),
            ("1,234,567.5", 123_456_750),
        ] {
            assert_eq!(Cents::parse_euros("amount", s), Ok(Cents(c)), "{s}");
        }
        // A lone comma is always the decimal one: three digits after it are a mistake, never
        // a thousand times the amount.
        for s in [
            "",
            "abc",
            "12a",
            "€",
            "1,2,3x",
            "99999999999",
            "0,555",
            "1,005",
            "10,555",
            "1.0000",
            "1.00.000",
            "12,",
            "1.5.000",
        ] {
            assert!(Cents::parse_euros("amount", s).is_err(), "{s}");
        }
    }
}
