//! Consents to be followed (the person's act, given to an organisation for a purpose) and
//! the funders' delegations of the right to grant from a programme. The rules that decide
//! them are in `trama_core::budget::consent`; here they are stored.

use crate::sql::ReadRows;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;
use trama_core::budget::consent::{Channel, ConsentState, Purpose};
use trama_core::budget::programme::ProgrammeRules;
use trama_core::ids::{FunderId, OrganizationId, ProgrammeId, UserId};
use trama_core::money::Cents;

use crate::{Result, foreign_key_as, parse_json, to_micros};

/// A consent to record.
#[derive(Debug, Clone)]
pub struct ConsentRecord {
    pub person: UserId,
    pub case_manager: UserId,
    pub organization: OrganizationId,
    pub purpose: Purpose,
    pub channel: Channel,
    /// The signed form's protocol number (desk), or `online` (checked by core).
    pub reference: trama_core::budget::consent::ConsentReference,
    pub recorded_by: UserId,
    pub state: ConsentState,
}

/// A consent as stored, with the case manager's name.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentRow {
    pub person: UserId,
    pub case_manager: UserId,
    pub case_manager_name: String,
    pub organization: Option<OrganizationId>,
    pub purpose: String,
    pub channel: String,
    pub reference: String,
    pub recorded_by: Option<UserId>,
    pub state: ConsentState,
    pub revoked_by: Option<UserId>,
    pub granted_at: OffsetDateTime,
}

/// What a grant needs to know of its programme.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantTerms {
    pub programme: ProgrammeId,
    pub funder: FunderId,
    pub funder_org: Option<OrganizationId>,
    pub rules: ProgrammeRules,
    pub per_beneficiary: Cents,
    /// Organisations the funder delegated the programme to (in force).
    pub delegated_to: Vec<OrganizationId>,
}

/// A delegation as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DelegationRow {
    pub organization: OrganizationId,
    pub decision_ref: String,
    pub granted_by: UserId,
    pub created_at: OffsetDateTime,
}

const CONSENT_SELECT: &str = "SELECT f.person_id, f.case_manager_id, u.display_name, \
     f.organization_id, f.purpose, f.channel, f.consent_ref, f.recorded_by, f.state, \
     f.revoked_by, f.granted_at FROM budget_followers f JOIN users u ON u.id = f.case_manager_id";

fn consent_row(r: &AnyRow) -> Result<ConsentRow> {
    let opt_user = |i: usize| -> Result<Option<UserId>> {
        r.get::<Option<String>, _>(i)
            .map(|s| UserId::parse("user", &s))
            .transpose()
            .map_err(Into::into)
    };
    Ok(ConsentRow {
        person: UserId::parse("person_id", &r.get::<String, _>(0))?,
        case_manager: UserId::parse("case_manager_id", &r.get::<String, _>(1))?,
        case_manager_name: r.get(2),
        organization: r
            .get::<Option<String>, _>(3)
            .map(|s| OrganizationId::parse("organization_id", &s))
            .transpose()?,
        purpose: r.get(4),
        channel: r.get(5),
        reference: r.get(6),
        recorded_by: opt_user(7)?,
        state: ConsentState::parse("state", &r.get::<String, _>(8))?,
        revoked_by: opt_user(9)?,
        granted_at: crate::from_micros(r.get(10)),
    })
}

impl crate::Store {
    /// Records a consent (a new one replaces what the person gave this case manager before).
    pub async fn record_consent(&self, c: &ConsentRecord) -> Result<()> {
        let revoked_at = (c.state == ConsentState::Revoked).then(|| to_micros(self.now()));
        sqlx::query(
            "INSERT INTO budget_followers (person_id, case_manager_id, consent_ref, granted_at, revoked_at, \
             organization_id, purpose, channel, recorded_by, state, revoked_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL) \
             ON CONFLICT (person_id, case_manager_id) DO UPDATE \
             SET consent_ref = $3, granted_at = $4, revoked_at = $5, organization_id = $6, \
             purpose = $7, channel = $8, recorded_by = $9, state = $10, \
             revoked_by = CASE WHEN $10 = 'active' THEN NULL ELSE budget_followers.revoked_by END",
        )
        .bind(c.person.to_string())
        .bind(c.case_manager.to_string())
        .bind(c.reference.as_str().to_string())
        .bind(to_micros(self.now()))
        .bind(revoked_at)
        .bind(c.organization.to_string())
        .bind(c.purpose.as_str())
        .bind(c.channel.as_str())
        .bind(c.recorded_by.to_string())
        .bind(c.state.as_str())
        .execute(&self.write)
        .await
        .map_err(foreign_key_as("person", "no such person"))?;
        Ok(())
    }

    /// The consent a person gave (or was recorded for) one case manager, in whatever state.
    pub async fn consent(
        &self,
        person: UserId,
        case_manager: UserId,
    ) -> Result<Option<ConsentRow>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{CONSENT_SELECT} WHERE f.person_id = $1 AND f.case_manager_id = $2"
        )))
        .bind(person.to_string())
        .bind(case_manager.to_string())
        .one(&self.read, consent_row)
        .await
    }

    /// Every consent about a person that is in force or waits for them, by case manager's name.
    pub async fn consents_of(&self, person: UserId) -> Result<Vec<ConsentRow>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{CONSENT_SELECT} WHERE f.person_id = $1 AND f.state <> 'revoked' \
             ORDER BY u.display_name, f.case_manager_id"
        )))
        .bind(person.to_string())
        .rows(&self.read, consent_row)
        .await
    }

    /// Withdraws a consent in force or waiting, by `by`; a withdrawal by the person is never
    /// overwritten by a later one by the case manager. Returns whether there was one.
    pub async fn revoke_follow(
        &self,
        person: UserId,
        case_manager: UserId,
        by: UserId,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE budget_followers SET revoked_at = $1, state = 'revoked', \
             revoked_by = CASE WHEN revoked_by = person_id THEN revoked_by ELSE $4 END \
             WHERE person_id = $2 AND case_manager_id = $3 AND state <> 'revoked'",
        )
        .bind(to_micros(self.now()))
        .bind(person.to_string())
        .bind(case_manager.to_string())
        .bind(by.to_string())
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Whether a person can sign in (has a password): people registered at a desk cannot.
    pub async fn can_sign_in(&self, person: UserId) -> Result<bool> {
        Ok(sqlx::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(person.to_string())
            .fetch_optional(&self.read)
            .await?
            .is_some_and(|r| r.get::<Option<String>, _>(0).is_some()))
    }

    /// The terms a grant from a programme is checked against; `None` when there is no such
    /// programme.
    pub async fn grant_terms(&self, programme: ProgrammeId) -> Result<Option<GrantTerms>> {
        let Some(r) = sqlx::query(
            "SELECT p.id, p.funder_id, f.organization_id, p.rules, p.amount_per_beneficiary \
             FROM programmes p JOIN funders f ON f.id = p.funder_id WHERE p.id = $1",
        )
        .bind(programme.to_string())
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        let id: String = r.get(0);
        let delegated_to = self
            .delegations(programme)
            .await?
            .into_iter()
            .map(|d| d.organization)
            .collect();
        Ok(Some(GrantTerms {
            programme: ProgrammeId::parse("id", &id)?,
            funder: FunderId::parse("funder_id", &r.get::<String, _>(1))?,
            funder_org: r
                .get::<Option<String>, _>(2)
                .map(|s| OrganizationId::parse("organization_id", &s))
                .transpose()?,
            rules: parse_json("programme rules", &id, &r.get::<String, _>(3))?,
            per_beneficiary: Cents(r.get(4)),
            delegated_to,
        }))
    }

    /// What a person has received from a programme so far.
    pub async fn granted_from(&self, programme: ProgrammeId, person: UserId) -> Result<Cents> {
        Ok(Cents(
            sqlx::query(
                "SELECT granted FROM programme_grants WHERE programme_id = $1 AND beneficiary_id = $2",
            )
            .bind(programme.to_string())
            .bind(person.to_string())
            .fetch_optional(&self.read)
            .await?
            .map(|r| r.get::<i64, _>(0))
            .unwrap_or(0),
        ))
    }

    /// Delegates the right to grant from a programme to an organisation (a new decision
    /// replaces a withdrawn delegation).
    pub async fn delegate_programme(
        &self,
        programme: ProgrammeId,
        organization: OrganizationId,
        decision_ref: &trama_core::bounded::BoundedText,
        by: UserId,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO programme_delegations (programme_id, organization_id, decision_ref, granted_by, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, NULL) ON CONFLICT (programme_id, organization_id) DO UPDATE \
             SET decision_ref = $3, granted_by = $4, created_at = $5, revoked_at = NULL",
        )
        .bind(programme.to_string())
        .bind(organization.to_string())
        .bind(decision_ref.as_str().to_string())
        .bind(by.to_string())
        .bind(to_micros(self.now()))
        .execute(&self.write)
        .await
        .map_err(foreign_key_as(
            "organization_id",
            "no such organisation or programme",
        ))?;
        Ok(())
    }

    /// Ends a delegation. Returns whether there was one in force.
    pub async fn revoke_delegation(
        &self,
        programme: ProgrammeId,
        organization: OrganizationId,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE programme_delegations SET revoked_at = $1 \
             WHERE programme_id = $2 AND organization_id = $3 AND revoked_at IS NULL",
        )
        .bind(to_micros(self.now()))
        .bind(programme.to_string())
        .bind(organization.to_string())
        .execute(&self.write)
        .await?
        .rows_affected()
            > 0)
    }

    /// The delegations of a programme in force.
    pub async fn delegations(&self, programme: ProgrammeId) -> Result<Vec<DelegationRow>> {
        sqlx::query(
            "SELECT organization_id, decision_ref, granted_by, created_at FROM programme_delegations \
             WHERE programme_id = $1 AND revoked_at IS NULL ORDER BY created_at, organization_id",
        )
        .bind(programme.to_string())
        .rows(&self.read, |r| {
            Ok(DelegationRow {
                organization: OrganizationId::parse("organization_id", &r.get::<String, _>(0))?,
                decision_ref: r.get(1),
                granted_by: UserId::parse("granted_by", &r.get::<String, _>(2))?,
                created_at: crate::from_micros(r.get(3)),
            })
        })
        .await
    }

    /// Whether an organisation exists.
    pub async fn organization_exists(&self, id: OrganizationId) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM organizations WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?
            .is_some())
    }
}
