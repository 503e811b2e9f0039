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
        if ((amount * 100.0) - cents).abs() > 1e-6 {
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
    fn parses_and_prints() {
        assert_eq!(Cents::from_decimal("amount", 12.5).unwrap(), Cents(1250));
        assert_eq!(Cents::from_decimal("amount", 0.1 + 0.2).unwrap(), Cents(30));
        assert!(Cents::from_decimal("amount", 1.234).is_err());
        assert!(Cents::from_decimal("amount", f64::NAN).is_err());
        assert_eq!(Cents(-705).to_string(), "-7.05");
        assert_eq!(Cents(1250).to_decimal(), 12.5);
    }
}
