//! Roles, grants and the rules of who may do what. The rules are pure functions over a
//! [`Principal`], so every handler asks the same question the same way.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::FieldError;
use crate::ids::{OrganizationId, UserId};

/// The roles of MISSION.md. Some are held within one organisation (see [`Role::is_scoped`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Citizen,
    Volunteer,
    Operator,
    CaseManager,
    HubManager,
    OrganizationAdmin,
    TerritoryAdmin,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Citizen,
        Role::Volunteer,
        Role::Operator,
        Role::CaseManager,
        Role::HubManager,
        Role::OrganizationAdmin,
        Role::TerritoryAdmin,
        Role::Auditor,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Volunteer => "volunteer",
            Role::Operator => "operator",
            Role::CaseManager => "case_manager",
            Role::HubManager => "hub_manager",
            Role::OrganizationAdmin => "organization_admin",
            Role::TerritoryAdmin => "territory_admin",
            Role::Auditor => "auditor",
        }
    }

    /// Whether the role is held within one organisation (an operator works for a provider, a
    /// hub manager runs one organisation's hubs) rather than across the territory.
    pub fn is_scoped(&self) -> bool {
        matches!(
            self,
            Role::Operator | Role::CaseManager | Role::HubManager | Role::OrganizationAdmin
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| FieldError::new("role", format!("'{s}' is not a role")))
    }
}

/// One role held by a user, within an organisation when the role is scoped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoleGrant {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<OrganizationId>,
}

impl RoleGrant {
    /// A grant is well formed when scoped roles name an organisation and the others do not.
    pub fn new(role: Role, organization_id: Option<OrganizationId>) -> Result<Self, FieldError> {
        match (role.is_scoped(), organization_id) {
            (true, None) => Err(FieldError::new(
                "organization_id",
                format!("the role {role} needs an organisation"),
            )),
            (false, Some(_)) => Err(FieldError::new(
                "organization_id",
                format!("the role {role} is not held within an organisation"),
            )),
            _ => Ok(Self {
                role,
                organization_id,
            }),
        }
    }
}

/// Who is acting: a signed-in user and the roles they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub display_name: String,
    pub grants: Vec<RoleGrant>,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// May this person change the organisation's record and its services, locations and links?
    /// Its own organisation admins may; so may a territory admin. Nobody else, auditors included.
    pub fn can_edit_organization(&self, org: OrganizationId) -> bool {
        self.has_role(Role::TerritoryAdmin)
            || self
                .grants
                .iter()
                .any(|g| g.role == Role::OrganizationAdmin && g.organization_id == Some(org))
    }

    /// The organisations whose front-line work this person does: operators, case managers and
    /// hub managers act for the people their organisation follows; organisation admins too.
    pub fn operates_for(&self, org: OrganizationId) -> bool {
        self.grants.iter().any(|g| {
            g.organization_id == Some(org)
                && matches!(
                    g.role,
                    Role::Operator | Role::CaseManager | Role::HubManager | Role::OrganizationAdmin
                )
        })
    }

    /// The organisations this person operates for (see [`Principal::operates_for`]).
    pub fn operator_organizations(&self) -> Vec<OrganizationId> {
        let mut v: Vec<OrganizationId> = self
            .grants
            .iter()
            .filter(|g| {
                matches!(
                    g.role,
                    Role::Operator | Role::CaseManager | Role::HubManager | Role::OrganizationAdmin
                )
            })
            .filter_map(|g| g.organization_id)
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Hub managers run their organisation's hubs (so do its admins and the territory admin).
    pub fn can_manage_hubs_of(&self, org: OrganizationId) -> bool {
        self.has_role(Role::TerritoryAdmin)
            || self.grants.iter().any(|g| {
                g.organization_id == Some(org)
                    && matches!(g.role, Role::HubManager | Role::OrganizationAdmin)
            })
    }

    /// An auditor reads and changes nothing: whether every role this person holds is
    /// auditor (someone who is also, say, a citizen acts as that citizen). Every write is
    /// refused to such a person.
    pub fn is_auditor_only(&self) -> bool {
        !self.grants.is_empty() && self.grants.iter().all(|g| g.role == Role::Auditor)
    }

    /// The organisations this person administers.
    pub fn administered_organizations(&self) -> impl Iterator<Item = OrganizationId> + '_ {
        self.grants
            .iter()
            .filter(|g| g.role == Role::OrganizationAdmin)
            .filter_map(|g| g.organization_id)
    }
}

/// An e-mail address, trimmed and lower-cased; only the shape is checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let s = s.trim().to_lowercase();
        let ok = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(s))
        } else {
            Err(FieldError::new("email", "is not an e-mail address"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password as typed at registration, held only long enough to hash it. `Debug` hides it.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 256;
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let n = s.chars().count();
        if n < Self::MIN_CHARS {
            return Err(FieldError::new(
                "password",
                format!("must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(FieldError::new(
                "password",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(s.to_string()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<hidden>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_roles_need_an_organisation() {
        let org = OrganizationId::new();
        assert!(RoleGrant::new(Role::OrganizationAdmin, None).is_err());
        assert!(RoleGrant::new(Role::Auditor, Some(org)).is_err());
        assert!(RoleGrant::new(Role::OrganizationAdmin, Some(org)).is_ok());
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
    }

    #[test]
    fn only_own_organisation_is_editable() {
        let (mine, other) = (OrganizationId::new(), OrganizationId::new());
        let p = Principal {
            user_id: UserId::new(),
            display_name: "x".into(),
            grants: vec![RoleGrant::new(Role::OrganizationAdmin, Some(mine)).unwrap()],
        };
        assert!(p.can_edit_organization(mine));
        assert!(!p.can_edit_organization(other));
        let auditor = Principal {
            grants: vec![RoleGrant::new(Role::Auditor, None).unwrap()],
            ..p.clone()
        };
        assert!(!auditor.can_edit_organization(mine));
        let admin = Principal {
            grants: vec![RoleGrant::new(Role::TerritoryAdmin, None).unwrap()],
            ..p
        };
        assert!(admin.can_edit_organization(other));
    }

    #[test]
    fn emails_and_passwords() {
        assert_eq!(
            Email::parse(" Anna@Example.IT ").unwrap().as_str(),
            "anna@example.it"
        );
        assert!(Email::parse("no-at-sign").is_err());
        assert!(Email::parse("a@b").is_err());
        assert!(NewPassword::parse("short").is_err());
        assert_eq!(
            format!("{:?}", NewPassword::parse("long enough secret").unwrap()),
            "NewPassword(<hidden>)"
        );
    }

    #[test]
    fn an_auditor_alone_changes_nothing() {
        let p = |roles: &[Role]| Principal {
            user_id: UserId::new(),
            display_name: "x".into(),
            grants: roles
                .iter()
                .map(|r| RoleGrant::new(*r, None).unwrap())
                .collect(),
        };
        assert!(p(&[Role::Auditor]).is_auditor_only());
        assert!(!p(&[Role::Auditor, Role::Citizen]).is_auditor_only());
        assert!(!p(&[Role::Citizen]).is_auditor_only());
        assert!(!p(&[]).is_auditor_only());
    }
}
