//! Who may see and do what with a person's care budget. Welfare data is special-category
//! personal data: every decision about it is taken here, in one place, from the facts the
//! store gathers (who follows the person, whether their consent is active, which organisation
//! provides a booking, which organisation a funder is).
//!
//! - The **beneficiary** sees all of their own budget and may book from it.
//! - A **case manager** sees and books for a person only while the person is in their caseload
//!   *and* the person's consent is active.
//! - A **provider** (an admin or operator of the organisation that delivers) sees only its own
//!   bookings, with no more of the person than delivery needs, and marks them delivered.
//! - A **funder** (the admins of the funder's organisation) sees aggregates for its own
//!   programmes; individual lines only where a programme's rules allow.
//! - An **auditor** reads everything and changes nothing.
//! - A **territory admin** manages funders and programmes and sees aggregates; not persons.
//!
//! Every read of a person's budget by anyone but the person is audited (`must_audit`), and the
//! person can see those reads ("who looked at my file").

use crate::auth::{Principal, Role};
use crate::ids::{OrganizationId, UserId};

/// The facts about one person's budget that decide access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetFacts {
    pub beneficiary: UserId,
    /// Case managers who follow the person with an active consent, each with the
    /// organisation the consent was given to: a case manager follows the person only while
    /// she is a case manager of that organisation.
    pub case_managers: Vec<(UserId, Option<OrganizationId>)>,
    /// Whether the person's consent to being followed is active now.
    pub consent_active: bool,
}

/// What someone may see of a person's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetView {
    /// Nothing: the person's budget is not theirs to see (not even whether it exists).
    None,
    /// Everything, as the person sees it (the person; their case manager with consent).
    Full,
    /// Everything, read-only (auditors).
    ReadOnly,
}

/// What someone asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetAction {
    /// Read the person's consolidated view.
    Read,
    /// Book a service from the person's allocations, build or change their plan.
    Book,
}

/// What `viewer` may see of the budget described by `facts`.
pub fn budget_view(viewer: &Principal, facts: &BudgetFacts) -> BudgetView {
    if viewer.user_id == facts.beneficiary || follows_with_consent(viewer, facts) {
        BudgetView::Full
    } else if viewer.has_role(Role::Auditor) {
        BudgetView::ReadOnly
    } else {
        BudgetView::None
    }
}

fn follows_with_consent(viewer: &Principal, facts: &BudgetFacts) -> bool {
    facts.consent_active
        && facts.case_managers.iter().any(|(cm, org)| {
            *cm == viewer.user_id
                && org.is_some_and(|o| {
                    viewer
                        .grants
                        .iter()
                        .any(|g| g.role == Role::CaseManager && g.organization_id == Some(o))
                })
        })
}

/// The organisations through which `viewer` follows the person with consent.
pub fn follows_for(viewer: &Principal, facts: &BudgetFacts, org: OrganizationId) -> bool {
    facts.consent_active
        && facts
            .case_managers
            .iter()
            .any(|(cm, o)| *cm == viewer.user_id && *o == Some(org))
        && viewer
            .grants
            .iter()
            .any(|g| g.role == Role::CaseManager && g.organization_id == Some(org))
}

/// Whether `viewer` may do `action` on the budget described by `facts`. Granting money is the
/// funder's decision, taken in `consent::grant_right`.
pub fn may(viewer: &Principal, facts: &BudgetFacts, action: BudgetAction) -> bool {
    match action {
        BudgetAction::Read => budget_view(viewer, facts) != BudgetView::None,
        BudgetAction::Book => {
            viewer.user_id == facts.beneficiary || follows_with_consent(viewer, facts)
        }
    }
}

/// Whether a read by `viewer` goes to the audit log under the person: every read by someone
/// else.
pub fn must_audit(viewer: &Principal, facts: &BudgetFacts) -> bool {
    viewer.user_id != facts.beneficiary
}

/// Whether `viewer` may see and mark delivered a booking provided by `provider`: its admins
/// and operators. Auditors may read it (not mark it).
pub fn may_deliver(viewer: &Principal, provider: OrganizationId) -> bool {
    viewer.grants.iter().any(|g| {
        g.organization_id == Some(provider)
            && matches!(g.role, Role::OrganizationAdmin | Role::Operator)
    })
}

/// Whether `viewer` sees the aggregates of a funder whose organisation is `funder_org` (and
/// grants its programmes' allocations): the organisation's admins, the territory admin (for
/// the whole territory), auditors (read-only).
pub fn may_see_funder(viewer: &Principal, funder_org: Option<OrganizationId>) -> bool {
    viewer.has_role(Role::TerritoryAdmin)
        || viewer.has_role(Role::Auditor)
        || may_manage_funder(viewer, funder_org)
}

/// Whether `viewer` acts for the funder: records programmes and allocations.
pub fn may_manage_funder(viewer: &Principal, funder_org: Option<OrganizationId>) -> bool {
    viewer.has_role(Role::TerritoryAdmin)
        || funder_org.is_some_and(|o| {
            viewer
                .grants
                .iter()
                .any(|g| g.role == Role::OrganizationAdmin && g.organization_id == Some(o))
        })
}

/// Whether `viewer` reads the list of people a programme pays for, by name: auditors always,
/// the funder's own staff where the programme's rules allow reports on individuals.
pub fn may_read_individuals(
    viewer: &Principal,
    funder_org: Option<OrganizationId>,
    individual_reports: bool,
) -> bool {
    viewer.has_role(Role::Auditor)
        || funder_sees_individuals(viewer, funder_org, individual_reports)
}

/// Whether `viewer` may open the spending dashboard when they see no funder's figures: the
/// territory admin and auditors (they see the territory's whole, even when it has no funder).
pub fn reads_dashboard_without_funder(viewer: &Principal) -> bool {
    viewer.has_role(Role::TerritoryAdmin) || viewer.has_role(Role::Auditor)
}

/// Whether `viewer` keeps a caseload (the people they follow with consent): case managers.
pub fn keeps_caseload(viewer: &Principal) -> bool {
    viewer.has_role(Role::CaseManager)
}

/// Whether a funder's view may name individuals for a programme: only where the programme's
/// rules say so (`individual_reports`), and never for the territory admin acting as such.
pub fn funder_sees_individuals(
    viewer: &Principal,
    funder_org: Option<OrganizationId>,
    individual_reports: bool,
) -> bool {
    individual_reports
        && may_manage_funder(viewer, funder_org)
        && !is_only_territory_admin(viewer, funder_org)
}

fn is_only_territory_admin(viewer: &Principal, funder_org: Option<OrganizationId>) -> bool {
    viewer.has_role(Role::TerritoryAdmin)
        && !funder_org.is_some_and(|o| {
            viewer
                .grants
                .iter()
                .any(|g| g.role == Role::OrganizationAdmin && g.organization_id == Some(o))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::RoleGrant;

    fn principal(role: Option<Role>, org: Option<OrganizationId>) -> Principal {
        Principal {
            user_id: UserId::new(),
            display_name: "x".into(),
            grants: role
                .map(|r| vec![RoleGrant::new(r, if r.is_scoped() { org } else { None }).unwrap()])
                .unwrap_or_default(),
        }
    }

    /// Walks every role (and no role) against every action on a person's budget, in every
    /// state of caseload and consent, and compares with the table the issue sets out.
    #[test]
    fn every_role_against_every_action() {
        let provider = OrganizationId::new();
        let funder = OrganizationId::new();
        let mut roles: Vec<Option<Role>> = vec![None];
        roles.extend(Role::ALL.into_iter().map(Some));
        for role in roles {
            for (in_caseload, consent) in
                [(false, false), (false, true), (true, false), (true, true)]
            {
                for org in [provider, funder] {
                    let p = principal(role, Some(org));
                    let facts = BudgetFacts {
                        beneficiary: UserId::new(),
                        case_managers: if in_caseload {
                            vec![(p.user_id, Some(org))]
                        } else {
                            vec![]
                        },
                        consent_active: consent,
                    };
                    let cm = role == Some(Role::CaseManager) && in_caseload && consent;
                    let expected_view = if cm {
                        BudgetView::Full
                    } else if role == Some(Role::Auditor) {
                        BudgetView::ReadOnly
                    } else {
                        BudgetView::None
                    };
                    let ctx = format!("{role:?} caseload={in_caseload} consent={consent}");
                    assert_eq!(budget_view(&p, &facts), expected_view, "{ctx}");
                    assert_eq!(
                        may(&p, &facts, BudgetAction::Read),
                        expected_view != BudgetView::None,
                        "{ctx}"
                    );
                    assert_eq!(may(&p, &facts, BudgetAction::Book), cm, "{ctx}");
                    // A consent given to another organisation opens nothing.
                    let elsewhere = BudgetFacts {
                        case_managers: vec![(p.user_id, Some(OrganizationId::new()))],
                        ..facts.clone()
                    };
                    assert!(budget_view(&p, &elsewhere) != BudgetView::Full, "{ctx}");
                    assert!(must_audit(&p, &facts), "{ctx}");
                    // The person themselves, whatever their roles.
                    let own = BudgetFacts {
                        beneficiary: p.user_id,
                        ..facts.clone()
                    };
                    assert_eq!(budget_view(&p, &own), BudgetView::Full);
                    assert!(may(&p, &own, BudgetAction::Book));
                    assert!(!must_audit(&p, &own));
                    // Providers: their own bookings only.
                    let delivers = matches!(role, Some(Role::OrganizationAdmin | Role::Operator))
                        && org == provider;
                    assert_eq!(may_deliver(&p, provider), delivers, "{ctx}");
                    assert!(!may_deliver(&p, OrganizationId::new()), "{ctx}");
                    // Funders: their own organisation's admins; the territory admin; auditors read.
                    let manages = role == Some(Role::TerritoryAdmin)
                        || (role == Some(Role::OrganizationAdmin) && org == funder);
                    assert_eq!(may_manage_funder(&p, Some(funder)), manages, "{ctx}");
                    assert_eq!(
                        may_see_funder(&p, Some(funder)),
                        manages || role == Some(Role::Auditor),
                        "{ctx}"
                    );
                    assert_eq!(
                        funder_sees_individuals(&p, Some(funder), true),
                        role == Some(Role::OrganizationAdmin) && org == funder,
                        "{ctx}"
                    );
                    assert!(!funder_sees_individuals(&p, Some(funder), false), "{ctx}");
                }
            }
        }
    }
}
