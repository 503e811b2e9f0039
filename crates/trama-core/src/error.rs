//! The domain's error type. Every variant names what was wrong so the HTTP layer can turn it
//! into a stable code and a message that names the field at fault.

/// A value given for one field that cannot be accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field at fault, as the client named it (`lat`, `per_page`, `services[2].name`).
    pub field: String,
    /// Why it was refused, in plain words.
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoreError {
    /// Input that does not parse or breaks a rule of the domain.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// The acting user may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
}
