//! What an operation of a feature's service can fail with, in the domain's words and without
//! HTTP. Every `service.rs` returns a [`ServiceResult`]; `error.rs` turns a [`ServiceError`]
//! into a status and the JSON envelope (or a page turns it into words), the one place that
//! does. The variants are those of `ApiError` that are not about HTTP itself (no malformed
//! JSON, media types, sizes, methods or CSRF here).

use trama_core::{CoreError, FieldError};
use trama_store::StoreError;

use crate::register::log::RegisterError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServiceError {
    /// A value given to find or filter something (a query, a path) that does not hold.
    #[error("{0}")]
    InvalidParameter(FieldError),
    /// A value given to change something that breaks a rule.
    #[error("{0}")]
    InvalidBody(FieldError),
    #[error("sign in first")]
    Unauthenticated,
    #[error("wrong e-mail or password")]
    BadCredentials,
    /// The right password for an account whose address is not confirmed yet.
    #[error("confirm your e-mail address first: follow the link we sent you")]
    Unverified,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(FieldError),
    /// A reference to something that does not exist.
    #[error("{0}")]
    InvalidReference(FieldError),
    #[error("too many attempts; try again in {0} seconds")]
    RateLimited(u64),
    #[error("the server could not complete the request")]
    Internal,
    #[error("the database is not reachable")]
    Unavailable,
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn not_found(what: &str, id: &str) -> Self {
        ServiceError::NotFound(format!("no {what} with id {id}"))
    }
}

/// A field that does not hold in what was given to change something.
pub fn invalid(e: FieldError) -> ServiceError {
    ServiceError::InvalidBody(e)
}

/// A field that does not hold, by name and reason.
pub fn invalid_field(field: &str, reason: impl Into<String>) -> ServiceError {
    ServiceError::InvalidBody(FieldError::new(field, reason))
}

impl From<FieldError> for ServiceError {
    fn from(e: FieldError) -> Self {
        ServiceError::InvalidParameter(e)
    }
}

impl From<CoreError> for ServiceError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid(f) => ServiceError::InvalidBody(f),
            CoreError::Forbidden(m) => ServiceError::Forbidden(m),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(f) => ServiceError::InvalidParameter(f),
            StoreError::Reference { field, reason } => {
                ServiceError::InvalidReference(FieldError::new(field, reason))
            }
            StoreError::Conflict { field, reason } => {
                ServiceError::Conflict(FieldError::new(field, reason))
            }
            StoreError::Database(sqlx_err) if is_unavailable(&sqlx_err) => {
                tracing::error!(error = %sqlx_err, "database unavailable");
                ServiceError::Unavailable
            }
            other => {
                crate::error::log_chain(&other);
                ServiceError::Internal
            }
        }
    }
}

fn is_unavailable(e: &trama_store::SqlxError) -> bool {
    matches!(
        e,
        trama_store::SqlxError::PoolTimedOut
            | trama_store::SqlxError::PoolClosed
            | trama_store::SqlxError::Io(_)
    )
}

/// The register's failures: a bad event or proof request is the caller's; an unavailable log
/// is `Unavailable`; anything else is logged and `Internal`.
impl From<RegisterError> for ServiceError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::Ledger(trama_ledger::LedgerError::Invalid { field, reason }) => {
                ServiceError::InvalidBody(FieldError::new(field, reason))
            }
            RegisterError::Ledger(trama_ledger::LedgerError::Proof(reason)) => {
                ServiceError::InvalidParameter(FieldError::new("size", reason))
            }
            RegisterError::Store(s) => s.into(),
            RegisterError::Unavailable(reason) => {
                tracing::error!(%reason, "register unavailable");
                ServiceError::Unavailable
            }
            other => {
                tracing::error!(error = %other, "register error");
                ServiceError::Internal
            }
        }
    }
}

/// Services that are the store's own answer, with no rule of their own: for a feature's
/// handlers and pages, which never read the store. Each line
/// `pub fn name(args) -> T;` (or `-> T = store_method;` where the store names it otherwise)
/// becomes `pub async fn name(state: &AppState, args) -> ServiceResult<T>`.
macro_rules! store_calls {
    () => {};
    ($(#[$meta:meta])* $vis:vis fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) -> $ret:ty = $store:ident ; $($rest:tt)*) => {
        $(#[$meta])*
        $vis async fn $name(
            state: &$crate::state::AppState,
            $($arg: $ty),*
        ) -> $crate::service_error::ServiceResult<$ret> {
            Ok(state.store.$store($($arg),*).await?)
        }
        $crate::service_error::store_calls!($($rest)*);
    };
    ($(#[$meta:meta])* $vis:vis fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) -> $ret:ty ; $($rest:tt)*) => {
        $crate::service_error::store_calls!($(#[$meta])* $vis fn $name($($arg: $ty),*) -> $ret = $name; $($rest)*);
    };
}
pub(crate) use store_calls;
