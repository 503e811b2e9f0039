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

/// The secret of a link Trama mailed (confirming an address): present and of a token's size;
/// whether it is known is the store's question.
pub fn link_token<'a>(field: &str, s: &'a str) -> Result<&'a str, FieldError> {
    let t = s.trim();
    if t.is_empty() || t.len() > 200 {
        return Err(FieldError::new(
            field,
            "is missing or is not a link's token",
        ));
    }
    Ok(t)
}

/// What a person changes of their own account (`/io/profilo`): the name they go by and the
/// language of the pages and mails.
#[derive(Debug, Clone, Default)]
pub struct ProfileForm {
    pub display_name: String,
    pub locale: String,
}

impl ProfileForm {
    pub fn parse(&self) -> Result<(crate::bounded::BoundedText, &str), FieldError> {
        Ok((
            crate::bounded::BoundedText::line(
                "display_name",
                &self.display_name,
                SignupForm::NAME_MAX,
            )?,
            crate::bounded::locale("locale", Some(&self.locale))?,
        ))
    }
}

/// A sign-up as a person fills it in (`POST /api/auth/signup`, the `/registrati` form).
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = SignupRequest))]
#[serde(deny_unknown_fields)]
pub struct SignupForm {
    pub email: String,
    /// At least 10 characters, and not one of the passwords everybody tries first.
    pub password: String,
    pub display_name: String,
    /// `it` (default) or `en`.
    #[serde(default)]
    pub locale: Option<String>,
}

impl fmt::Debug for SignupForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignupForm")
            .field("email", &self.email)
            .field("password", &"(hidden)")
            .field("display_name", &self.display_name)
            .field("locale", &self.locale)
            .finish()
    }
}

/// A sign-up with every field checked.
#[derive(Debug)]
pub struct NewSignup {
    pub email: Email,
    pub password: NewPassword,
    pub display_name: crate::bounded::BoundedText,
    pub locale: String,
}

impl SignupForm {
    /// The longest name a person goes by here.
    pub const NAME_MAX: usize = 120;

    pub fn parse(&self) -> Result<NewSignup, FieldError> {
        Ok(NewSignup {
            email: Email::parse(&self.email)?,
            password: NewPassword::parse(&self.password)?,
            display_name: crate::bounded::BoundedText::line(
                "display_name",
                &self.display_name,
                Self::NAME_MAX,
            )?,
            locale: crate::bounded::locale("locale", self.locale.as_deref())?.to_string(),
        })
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
        if is_common_password(s) {
            return Err(FieldError::new(
                "password",
                "is one of the passwords everybody tries first; choose another (a few words of your own make a good one)",
            ));
        }
        Ok(Self(s.to_string()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The passwords too common to accept, shipped with the binary (made by
/// `scripts/common-passwords.py`): lower case, one a line.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

fn common_passwords() -> &'static std::collections::HashSet<&'static str> {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    SET.get_or_init(|| COMMON_PASSWORDS.lines().filter(|l| !l.is_empty()).collect())
}

/// Whether a password is one attackers try first: on the list once lower-cased and without
/// spaces, or a word of the list with only digits and punctuation around it (`Password12`,
/// `juventus1897!`, `123ciao!!`).
pub fn is_common_password(s: &str) -> bool {
    let folded: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    let list = common_passwords();
    if list.contains(folded.as_str()) {
        return true;
    }
    let core = folded.trim_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    !core.is_empty() && core.len() < folded.len() && list.contains(core)
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
    fn common_passwords_are_refused() {
        let list: Vec<&str> = COMMON_PASSWORDS.lines().collect();
        assert!(list.len() >= 3000, "a few thousand: {}", list.len());
        assert!(list.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        assert!(list.iter().all(|l| *l == l.to_lowercase() && !l.is_empty()));
        for p in [
            "password12",
            "Password12",
            "PASSWORD1234",
            "password1!",
            "qwertyuiop",
            "1234567890",
            "ciao123456",
            "Juventus1897",
            "juventus1897!",
            "forzanapoli",
            "tiamo12345",
            "amoremio2024",
            "123ciao!!!!",
            "Francesco1985",
            "p@ssw0rd123",
            "aaaaaaaaaa",
        ] {
            assert!(is_common_password(p), "{p}");
            let e = NewPassword::parse(p).unwrap_err();
            assert_eq!(e.field, "password", "{p}");
        }
        for p in [
            "password-for-tests",
            "correct horse battery",
            "trama-demo-2026",
            "una password lunga",
            "la mia bici rossa 1987",
            "1987-04-12-9931",
        ] {
            assert!(!is_common_password(p), "{p}");
            assert!(NewPassword::parse(p).is_ok(), "{p}");
        }
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
