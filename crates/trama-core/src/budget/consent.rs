//! Consent and the right to grant: the two acts a case manager may not give herself.
//!
//! **Consent** to be followed is the person's act. The person gives it online, or it is
//! recorded at a desk from the form the person signed, by someone who works for the
//! organisation it is given to (its case managers and operators); either way it names that
//! organisation and a purpose, the person is told (a notification) and sees it among "who
//! follows me". A desk record waits for the person to confirm it online, unless the person
//! cannot sign in at all (then the signed form is their only way to act, and it counts): so no
//! case manager opens a file with a form the person has not seen, and a consent the person
//! withdrew stays withdrawn until the person gives it again.
//!
//! **Granting** money from a programme is the funder's decision: the funder's own staff (the
//! admins of its organisation; the territory admin for a funder that is the territory itself)
//! or the staff of an organisation the funder delegated the programme to, and then only a
//! case manager who follows the person with consent. Every grant stays within what the
//! programme gives one beneficiary and within its months of validity.

use serde::{Deserialize, Serialize};

use super::programme::YearMonth;
use crate::FieldError;
use crate::auth::{Principal, Role};
use crate::ids::OrganizationId;
use crate::money::Cents;

/// What a consent is given for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Following the person's care budget: reading it, planning and booking from it.
    CareBudget,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::CareBudget => "care_budget",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s {
            "care_budget" => Ok(Purpose::CareBudget),
            other => Err(FieldError::new(
                field,
                format!("'{other}' is not a purpose Trama knows (care_budget)"),
            )),
        }
    }
}

/// How a consent reached Trama.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The person, signed in.
    Online,
    /// A desk, from the form the person signed (its protocol number is the reference).
    Desk,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Desk => "desk",
        }
    }
}

/// Where a consent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// In force: the case manager follows the person.
    Active,
    /// Recorded at a desk after the person withdrew it: nothing opens until the person
    /// confirms it.
    Pending,
    /// Withdrawn.
    Revoked,
}

impl ConsentState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentState::Active => "active",
            ConsentState::Pending => "pending",
            ConsentState::Revoked => "revoked",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        match s {
            "active" => Ok(ConsentState::Active),
            "pending" => Ok(ConsentState::Pending),
            "revoked" => Ok(ConsentState::Revoked),
            other => Err(FieldError::new(
                field,
                format!("'{other}' is not a consent state"),
            )),
        }
    }
}

/// The protocol number (or any reference) of the consent form a person signed at a desk: the
/// only trace of a paper act in the system, so it is required. 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentReference(crate::bounded::BoundedText);

impl ConsentReference {
    pub const MAX: usize = 200;

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        crate::bounded::BoundedText::parse("consent_reference", s, Self::MAX).map(Self)
    }

    /// The reference of a consent the person gave online.
    pub fn online() -> Self {
        Self(
            crate::bounded::BoundedText::parse("consent_reference", "online", Self::MAX)
                .unwrap_or_else(|_| unreachable!("a constant of 6 characters")),
        )
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// The reference of a funder's decision (a *determina*, a protocol number) that grants money
/// or delegates the right to grant: required, 1 to 200 characters.
pub fn decision_reference(field: &str, s: &str) -> Result<crate::bounded::BoundedText, FieldError> {
    crate::bounded::BoundedText::parse(field, s, 200)
}

/// Whether `viewer` may record, at a desk, a consent given to `organization`: its case
/// managers and operators.
pub fn may_record_at_desk(viewer: &Principal, organization: OrganizationId) -> bool {
    viewer.grants.iter().any(|g| {
        g.organization_id == Some(organization)
            && matches!(g.role, Role::CaseManager | Role::Operator)
    })
}

/// Whether `viewer` records consents at a desk for any organisation (case managers and
/// operators); which organisation is [`may_record_at_desk`]'s question.
pub fn records_consents_at_desks(viewer: &Principal) -> bool {
    viewer
        .grants
        .iter()
        .any(|g| matches!(g.role, Role::CaseManager | Role::Operator))
}

/// Whether `viewer` may ask to grant an allocation at all: a funder's staff (organisation
/// admins, the territory admin) or a case manager its funder may have delegated to; whether
/// this one may grant from this programme is [`grant_right`]'s question.
pub fn may_ask_to_grant(viewer: &Principal) -> bool {
    [
        Role::OrganizationAdmin,
        Role::TerritoryAdmin,
        Role::CaseManager,
    ]
    .iter()
    .any(|r| viewer.has_role(*r))
}

/// Whether `viewer` reads a programme's delegations: auditors, and the funder's own staff
/// (whose right is [`grant_right`] = [`GrantRight::Funder`]).
pub fn may_read_delegations(viewer: &Principal, authority: &GrantAuthority) -> bool {
    viewer.has_role(Role::Auditor)
        || grant_right(viewer, authority, |_| false) == Some(GrantRight::Funder)
}

/// The organisation a case manager follows people for: the one her case manager role is
/// scoped to (the first, when she holds several and names none).
pub fn case_manager_organization(
    case_manager: &Principal,
    named: Option<OrganizationId>,
) -> Option<OrganizationId> {
    let mut orgs = case_manager
        .grants
        .iter()
        .filter(|g| g.role == Role::CaseManager)
        .filter_map(|g| g.organization_id);
    match named {
        Some(o) => orgs.any(|x| x == o).then_some(o),
        None => orgs.next(),
    }
}

/// What a desk record of consent does. For someone who can sign in, it waits for the person
/// to confirm it online: nobody, case manager or operator, opens a person's file with a form
/// the person cannot see until after the fact. For someone registered at a desk who cannot
/// sign in, the signed form is their only way to act: it counts at once (and they are told).
pub fn desk_record(person_can_sign_in: bool) -> ConsentState {
    if person_can_sign_in {
        ConsentState::Pending
    } else {
        ConsentState::Active
    }
}

/// Who acts for a programme's funder when granting from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantAuthority {
    /// The funder's organisation (none: the territory itself funds it).
    pub funder_org: Option<OrganizationId>,
    /// The organisations the funder delegated the programme to.
    pub delegated_to: Vec<OrganizationId>,
}

/// Why someone may grant from a programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantRight {
    /// The funder's own staff (or the territory admin for the territory's own funder).
    Funder,
    /// A case manager of an organisation the funder delegated the programme to, who follows
    /// the person with consent.
    Delegated(OrganizationId),
}

/// Whether `viewer` may grant money from a programme to a person, and why. `follows` says
/// whether `viewer` follows the person with an active consent given to the organisation
/// (checked per organisation).
pub fn grant_right(
    viewer: &Principal,
    authority: &GrantAuthority,
    follows: impl Fn(OrganizationId) -> bool,
) -> Option<GrantRight> {
    let funder_staff = match authority.funder_org {
        Some(org) => viewer
            .grants
            .iter()
            .any(|g| g.role == Role::OrganizationAdmin && g.organization_id == Some(org)),
        None => viewer.has_role(Role::TerritoryAdmin),
    };
    if funder_staff {
        return Some(GrantRight::Funder);
    }
    viewer
        .grants
        .iter()
        .filter(|g| g.role == Role::CaseManager)
        .filter_map(|g| g.organization_id)
        .find(|o| authority.delegated_to.contains(o) && follows(*o))
        .map(GrantRight::Delegated)
}

/// Checks a grant against the programme: more than zero, no more than what the programme
/// gives one beneficiary beyond what the person already received from it, and expiring
/// within the programme's months of validity.
pub fn check_grant(
    amount: Cents,
    already_granted: Cents,
    per_beneficiary: Cents,
    expires: YearMonth,
    valid_from: YearMonth,
    valid_to: YearMonth,
) -> Result<(), FieldError> {
    crate::budget::book::amount("amount", amount.0)?;
    let left = per_beneficiary.0.saturating_sub(already_granted.0).max(0);
    if amount.0 > left {
        return Err(FieldError::new(
            "amount",
            format!(
                "the programme gives one person at most {} cents; {} are left for this person",
                per_beneficiary.0, left
            ),
        ));
    }
    if expires < valid_from || expires > valid_to {
        return Err(FieldError::new(
            "expires",
            format!("must be within the programme's validity, {valid_from} to {valid_to}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::RoleGrant;
    use crate::ids::UserId;

    fn who(grants: &[(Role, Option<OrganizationId>)]) -> Principal {
        Principal {
            user_id: UserId::new(),
            display_name: "x".into(),
            grants: grants
                .iter()
                .map(|(r, o)| RoleGrant::new(*r, *o).unwrap())
                .collect(),
        }
    }

    #[test]
    fn a_desk_record_waits_for_a_person_who_can_sign_in() {
        assert_eq!(desk_record(true), ConsentState::Pending);
        // Someone who cannot sign in acts only through the desk.
        assert_eq!(desk_record(false), ConsentState::Active);
    }

    #[test]
    fn only_the_funder_or_its_delegates_grant() {
        let funder = OrganizationId::new();
        let comune = OrganizationId::new();
        let elsewhere = OrganizationId::new();
        let auth = GrantAuthority {
            funder_org: Some(funder),
            delegated_to: vec![comune],
        };
        let staff = who(&[(Role::OrganizationAdmin, Some(funder))]);
        assert_eq!(
            grant_right(&staff, &auth, |_| false),
            Some(GrantRight::Funder)
        );
        let cm = who(&[(Role::CaseManager, Some(comune))]);
        assert_eq!(
            grant_right(&cm, &auth, |o| o == comune),
            Some(GrantRight::Delegated(comune))
        );
        // Without consent, or from an organisation the funder did not delegate to: no.
        assert_eq!(grant_right(&cm, &auth, |_| false), None);
        let cm_elsewhere = who(&[(Role::CaseManager, Some(elsewhere))]);
        assert_eq!(grant_right(&cm_elsewhere, &auth, |_| true), None);
        // The territory admin is not a company's or INPS's staff.
        let ta = who(&[(Role::TerritoryAdmin, None)]);
        assert_eq!(grant_right(&ta, &auth, |_| true), None);
        let own = GrantAuthority {
            funder_org: None,
            delegated_to: vec![],
        };
        assert_eq!(grant_right(&ta, &own, |_| true), Some(GrantRight::Funder));
        // An operator of the delegated organisation is not a case manager.
        let op = who(&[(Role::Operator, Some(comune))]);
        assert_eq!(grant_right(&op, &auth, |_| true), None);
    }

    #[test]
    fn grants_stay_within_the_programme() {
        let m = |s| YearMonth::parse("m", s).unwrap();
        let ok = |amount, already| {
            check_grant(
                Cents(amount),
                Cents(already),
                Cents(100_000),
                m("2026-12"),
                m("2026-01"),
                m("2026-12"),
            )
        };
        assert!(ok(100_000, 0).is_ok());
        assert!(ok(40_000, 60_000).is_ok());
        assert_eq!(ok(40_001, 60_000).unwrap_err().field, "amount");
        assert_eq!(ok(0, 0).unwrap_err().field, "amount");
        assert_eq!(ok(-5, 0).unwrap_err().field, "amount");
        let expired = check_grant(
            Cents(1),
            Cents(0),
            Cents(100_000),
            m("2001-01"),
            m("2026-01"),
            m("2026-12"),
        );
        assert_eq!(expired.unwrap_err().field, "expires");
    }
}
