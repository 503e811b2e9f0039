//! Identifier newtypes. Each entity has its own type, so one kind of id can never be passed
//! where another is expected. All are UUIDs (HSDS requires `format: uuid`); new ones are v7
//! (time-ordered, index-friendly).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

use crate::FieldError;

/// What every id type can do: be read from text given for a field (a path, a form).
pub trait Id: Sized {
    fn parse_id(field: &str, s: &str) -> Result<Self, FieldError>;
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered identifier.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            /// Parses an id given for `field`, naming the field when it is not a UUID.
            pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
                Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| FieldError::new(field, format!("'{s}' is not a UUID")))
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Id for $name {
            fn parse_id(field: &str, s: &str) -> Result<Self, FieldError> {
                Self::parse(field, s)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    };
}

id_type!(
    /// An HSDS organization.
    OrganizationId
);
id_type!(
    /// An HSDS service.
    ServiceId
);
id_type!(
    /// An HSDS location.
    LocationId
);
id_type!(
    /// An HSDS service_at_location link.
    ServiceAtLocationId
);
id_type!(
    /// An HSDS taxonomy.
    TaxonomyId
);
id_type!(
    /// An HSDS taxonomy term.
    TaxonomyTermId
);
id_type!(
    /// A person with an account (or registered for someone by an operator).
    UserId
);
id_type!(
    /// A territorial area (Municipio, NIL).
    AreaId
);
id_type!(
    /// An API token (its public handle; the secret is never stored).
    ApiTokenId
);
id_type!(
    /// A need for help posted by (or for) a person.
    NeedId
);
id_type!(
    /// An offer of help by a volunteer or an organisation.
    OfferId
);
id_type!(
    /// A match between a need and an offer.
    MatchId
);
id_type!(
    /// An emergency campaign (heatwave, flu season).
    CampaignId
);
id_type!(
    /// A bookable room of a community hub.
    RoomId
);
id_type!(
    /// A notification shown in the app (and sent by e-mail when configured).
    NotificationId
);
id_type!(
    /// A funder's allocation of a programme to one beneficiary (care budgets).
    AllocationId
);
id_type!(
    /// A booking of a provider's service paid from an allocation (care budgets).
    BookingId
);
id_type!(
    /// A funder of care budgets (a public body, a company's welfare plan, a fund, a family).
    FunderId
);
id_type!(
    /// A funder's programme, with its rules.
    ProgrammeId
);

/// An optional id: absent or blank is `None`, anything else must parse.
pub fn optional<T>(
    field: &str,
    s: Option<&str>,
    parse: impl Fn(&str, &str) -> Result<T, FieldError>,
) -> Result<Option<T>, FieldError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse(field, s).map(Some),
        None => Ok(None),
    }
}
id_type!(
    /// A person's care plan (budget di salute).
    PlanId
);
