//! Where each person does their part: the places of the web UI that their roles open to them,
//! in the order they would reach for them. The first is their home, where signing in lands;
//! all of them make their menu. The pages themselves still check every read and write (the
//! authorisation table); this only decides what is offered, so nobody meets a page that has
//! nothing for them.

use crate::auth::{Principal, Role};

/// A place in the web UI where someone does part of their job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workplace {
    /// The case manager's caseload: the people she follows with consent, their budgets.
    Caseload,
    /// The operator's desk: registering people, entering their needs, their appointments.
    Desk,
    /// The hub manager's hub: hours, rooms, the desk's day.
    Hub,
    /// The funder's and the territory's spending: programmes, allocations, what expires.
    Dashboard,
    /// The territory's campaigns (a heat wave, the flu season): opening, dispatching, closing.
    Campaigns,
    /// The provider's bookings to deliver and bill.
    Bookings,
    /// An organisation's record and services in the directory.
    Organisation,
    /// The register of contributions, and the territory's flows.
    Register,
    /// Neighbourly help: one's requests, offers and appointments.
    Help,
    /// One's own care budget (only for someone who has one or is followed for one).
    MyBudget,
    /// The hours one has given and received, with their proofs in the register.
    MyContributions,
    /// One's data and rights: what Trama keeps, export, erasure.
    MyData,
}

/// What the roles alone do not tell: facts about the person read when the page is built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Situation {
    /// The person has a care budget (an allocation) or a case manager follows them for one.
    pub has_budget: bool,
    /// The person administers an organisation that funds care budgets.
    pub funder_staff: bool,
}

/// The places `p`'s roles open, home first, each once.
pub fn workplaces(p: &Principal, s: Situation) -> Vec<Workplace> {
    use Workplace as W;
    let mut out = Vec::new();
    let mut add = |w: Workplace| {
        if !out.contains(&w) {
            out.push(w);
        }
    };
    // The front line first: whoever works with people daily lands where they work.
    if p.has_role(Role::CaseManager) {
        add(W::Caseload);
    }
    if p.has_role(Role::Operator) {
        add(W::Desk);
    }
    if p.has_role(Role::HubManager) {
        add(W::Hub);
        // A hub's desk registers and helps the people who come in.
        add(W::Desk);
    }
    if p.has_role(Role::TerritoryAdmin) {
        add(W::Dashboard);
        add(W::Campaigns);
        add(W::Hub);
        add(W::Register);
    }
    if p.has_role(Role::OrganizationAdmin) {
        add(W::Organisation);
        if s.funder_staff {
            add(W::Dashboard);
        }
        add(W::Bookings);
    }
    if p.has_role(Role::Operator) {
        add(W::Bookings);
    }
    if p.has_role(Role::Auditor) {
        add(W::Register);
        add(W::Dashboard);
    }
    // Someone with a care budget looks after it first; helping neighbours comes next.
    if s.has_budget {
        add(W::MyBudget);
    }
    // Everyone who is not only an auditor asks for and offers help.
    if !p.is_auditor_only() {
        add(W::Help);
        add(W::MyContributions);
    }
    add(W::MyData);
    out
}

/// Where signing in lands: the first of the person's places.
pub fn home(p: &Principal, s: Situation) -> Workplace {
    workplaces(p, s)
        .first()
        .copied()
        .unwrap_or(Workplace::MyData)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::RoleGrant;
    use crate::ids::{OrganizationId, UserId};

    fn person(roles: &[Role]) -> Principal {
        let org = OrganizationId::new();
        Principal {
            user_id: UserId::new(),
            display_name: "x".into(),
            grants: roles
                .iter()
                .map(|r| RoleGrant::new(*r, r.is_scoped().then_some(org)).expect("a valid grant"))
                .collect(),
        }
    }

    #[test]
    fn each_role_lands_where_it_works() {
        let none = Situation::default();
        let cases = [
            (Role::Citizen, Workplace::Help),
            (Role::Volunteer, Workplace::Help),
            (Role::Operator, Workplace::Desk),
            (Role::CaseManager, Workplace::Caseload),
            (Role::HubManager, Workplace::Hub),
            (Role::OrganizationAdmin, Workplace::Organisation),
            (Role::TerritoryAdmin, Workplace::Dashboard),
            (Role::Auditor, Workplace::Register),
        ];
        for (role, expected) in cases {
            assert_eq!(home(&person(&[role]), none), expected, "{role:?}");
        }
        // Someone with no role at all (a new sign-up) asks for and offers help.
        assert_eq!(home(&person(&[]), none), Workplace::Help);
    }

    #[test]
    fn my_budget_is_offered_only_to_someone_who_has_one() {
        let citizen = person(&[Role::Citizen]);
        assert!(!workplaces(&citizen, Situation::default()).contains(&Workplace::MyBudget));
        let with = Situation {
            has_budget: true,
            ..Situation::default()
        };
        assert!(workplaces(&citizen, with).contains(&Workplace::MyBudget));
        // A case manager's own budget is not her caseload's.
        let cm = person(&[Role::CaseManager]);
        assert!(!workplaces(&cm, Situation::default()).contains(&Workplace::MyBudget));
    }

    #[test]
    fn the_spending_dashboard_is_for_funders() {
        let admin = person(&[Role::OrganizationAdmin]);
        assert!(!workplaces(&admin, Situation::default()).contains(&Workplace::Dashboard));
        let funder = Situation {
            funder_staff: true,
            ..Situation::default()
        };
        assert!(workplaces(&admin, funder).contains(&Workplace::Dashboard));
    }

    #[test]
    fn an_auditor_only_reads() {
        let w = workplaces(&person(&[Role::Auditor]), Situation::default());
        assert_eq!(
            w,
            vec![Workplace::Register, Workplace::Dashboard, Workplace::MyData]
        );
    }

    #[test]
    fn every_place_is_listed_once() {
        let all = person(&Role::ALL);
        let w = workplaces(
            &all,
            Situation {
                has_budget: true,
                funder_staff: true,
            },
        );
        let unique: std::collections::HashSet<_> = w.iter().collect();
        assert_eq!(w.len(), unique.len());
        assert_eq!(w[0], Workplace::Caseload);
    }
}
