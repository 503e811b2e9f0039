//! People, roles, sessions, API tokens and the audit log.
//!
//! Secrets never reach this crate in clear except to be compared by hash: passwords arrive as
//! Argon2id PHC strings, session and API tokens as SHA-256 hex digests.

use crate::sql::ReadRows;
use sqlx::Row;
use time::OffsetDateTime;

use trama_core::auth::{Email, Role, RoleGrant};
use trama_core::ids::{ApiTokenId, OrganizationId, UserId};

use crate::{Result, Store, StoreError, from_micros, to_micros};
use crate::{stored_id, stored_opt_id};

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Option<Email>,
    pub display_name: String,
    /// Argon2id PHC string, or none for a person who cannot log in.
    pub password_hash: Option<String>,
    pub locale: String,
}

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: UserId,
    pub email: Option<String>,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub locale: String,
    pub created_at: OffsetDateTime,
    /// Whether the person confirmed their e-mail address (accounts made by the store directly,
    /// by operators or the demo, are; those signed up through the site are once the link in
    /// their mail is followed). Unconfirmed accounts cannot sign in.
    pub verified: bool,
}

/// What a sign-up through the site did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signup {
    /// A new, unconfirmed account: the confirmation link is to be mailed.
    Created(UserId),
    /// The address belongs to an account never confirmed: nothing of it changes (not its
    /// password: whoever signs up again does not own the mailbox); a new link is sent to it.
    Renewed(UserId),
    /// The address belongs to a confirmed account: nothing changed; its owner is to be told.
    Taken(UserId),
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user_id: UserId,
    pub csrf_token: String,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct ApiTokenRow {
    pub id: ApiTokenId,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked: bool,
}

#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: OffsetDateTime,
    pub actor_id: Option<UserId>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<String>,
    pub detail: Option<String>,
    /// The person an operator acted for (assisted mode), if any.
    pub on_behalf_of: Option<UserId>,
}

fn user_from_row(r: &sqlx::any::AnyRow) -> UserRow {
    UserRow {
        id: r
            .get::<String, _>(0)
            .parse()
            .expect("stored user ids are UUIDs"),
        email: r.get(1),
        display_name: r.get(2),
        password_hash: r.get(3),
        locale: r.get(4),
        created_at: from_micros(r.get(5)),
        verified: r.get::<Option<i64>, _>(6).is_some(),
    }
}

const USER_BY_EMAIL: &str = "SELECT id, email, display_name, password_hash, locale, created_at, verified_at FROM users WHERE email = $1";
const USER_BY_ID: &str = "SELECT id, email, display_name, password_hash, locale, created_at, verified_at FROM users WHERE id = $1";

/// Runs each statement (`$1`: the user's id) in the transaction: what an account's links,
/// mails and sessions are cleared with.
async fn for_user(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user: &str,
    statements: &[&str],
) -> Result<()> {
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(*sql))
            .bind(user.to_string())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Creates a user whose address counts as confirmed (operators, the demo, tests: whoever
    /// creates accounts through the store directly). An e-mail already registered is a
    /// [`StoreError::Conflict`] on `email`. Sign-ups through the site use
    /// [`Store::sign_up`].
    pub async fn create_user(&self, u: &NewUser) -> Result<UserId> {
        let id = UserId::new();
        let mut tx = self.write.begin().await?;
        if let Some(email) = &u.email {
            let taken = sqlx::query("SELECT 1 FROM users WHERE email = $1")
                .bind(email.as_str().to_string())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if taken {
                return Err(StoreError::Conflict {
                    field: "email".into(),
                    reason: "is already registered".into(),
                });
            }
        }
        let now = to_micros(self.now());
        sqlx::query(
            "INSERT INTO users (id, email, display_name, password_hash, locale, created_at, verified_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(id.to_string())
        .bind(u.email.as_ref().map(|e| e.as_str().to_string()))
        .bind(u.display_name.clone())
        .bind(u.password_hash.clone())
        .bind(u.locale.clone())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A sign-up through the site, in one transaction: a new citizen account that must confirm
    /// its address (`token_hash` is the SHA-256 of the link's token, good until `expires_at`),
    /// the renewal of an account never confirmed, or nothing at all for an address a confirmed
    /// account holds (see [`Signup`]). The caller mails the link, or the notice.
    pub async fn sign_up(
        &self,
        u: &NewUser,
        token_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<Signup> {
        let email = u
            .email
            .as_ref()
            .ok_or_else(|| trama_core::FieldError::new("email", "is required"))?
            .as_str()
            .to_string();
        let now = to_micros(self.now());
        let mut tx = self.write.begin().await?;
        let existing = sqlx::query("SELECT id, verified_at FROM users WHERE email = $1")
            .bind(email.clone())
            .fetch_optional(&mut *tx)
            .await?;
        let outcome = match existing {
            Some(r) => {
                let id: UserId = r
                    .get::<String, _>(0)
                    .parse()
                    .expect("stored user ids are UUIDs");
                if r.get::<Option<i64>, _>(1).is_some() {
                    return Ok(Signup::Taken(id));
                }
                // An address signed up for but not confirmed yet: a new link goes to the same
                // mailbox, and nothing of the account changes. Whoever signs up again cannot
                // set the password of an account whose mail only its owner reads.
                Signup::Renewed(id)
            }
            None => {
                let id = UserId::new();
                let inserted = sqlx::query(
                    "INSERT INTO users (id, email, display_name, password_hash, locale, created_at, verified_at) VALUES ($1, $2, $3, $4, $5, $6, NULL)",
                )
                .bind(id.to_string())
                .bind(email.clone())
                .bind(u.display_name.clone())
                .bind(u.password_hash.clone())
                .bind(u.locale.clone())
                .bind(now)
                .execute(&mut *tx)
                .await;
                match inserted {
                    Ok(_) => {}
                    // Two sign-ups for one new address at once (PostgreSQL): the other one
                    // made the account; this one changes nothing.
                    Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                        drop(tx);
                        let r = sqlx::query("SELECT id FROM users WHERE email = $1")
                            .bind(email)
                            .fetch_one(&self.write)
                            .await?;
                        return Ok(Signup::Taken(
                            r.get::<String, _>(0)
                                .parse()
                                .expect("stored user ids are UUIDs"),
                        ));
                    }
                    Err(e) => return Err(e.into()),
                }
                sqlx::query(
                    "INSERT INTO role_grants (user_id, role, organization_id, created_at) VALUES ($1, 'citizen', '', $2)",
                )
                .bind(id.to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                Signup::Created(id)
            }
        };
        let (Signup::Created(id) | Signup::Renewed(id) | Signup::Taken(id)) = outcome;
        sqlx::query(
            "INSERT INTO account_tokens (token_hash, user_id, purpose, password_hash, display_name, locale, created_at, expires_at) \
             VALUES ($1, $2, 'verify', $3, $6, $7, $4, $5)",
        )
        .bind(token_hash.to_string())
        .bind(id.to_string())
        .bind(u.password_hash.clone())
        .bind(now)
        .bind(to_micros(expires_at))
        .bind(u.display_name.clone())
        .bind(u.locale.clone())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// The account a link's token belongs to (`token_hash`: its SHA-256) and the password
    /// hash of the sign-up that asked for it, if the link is known and has not expired.
    pub async fn account_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(UserId, Option<String>)>> {
        let now = to_micros(self.now());
        Ok(sqlx::query(
            "SELECT user_id, password_hash FROM account_tokens \
             WHERE token_hash = $1 AND purpose = 'verify' AND expires_at > $2",
        )
        .bind(token_hash.to_string())
        .bind(now)
        .fetch_optional(&self.read)
        .await?
        .map(|r| {
            (
                r.get::<String, _>(0)
                    .parse()
                    .expect("stored user ids are UUIDs"),
                r.get(1),
            )
        }))
    }

    /// Confirms the address of the account a link belongs to, with the password of the
    /// sign-up that asked for the link (checked by the caller): it becomes the account's. The
    /// account's links and the mail that carried them are removed. `None` for a link that is
    /// unknown, expired, or already used.
    pub async fn verify_account(&self, token_hash: &str) -> Result<Option<UserId>> {
        let now = to_micros(self.now());
        let mut tx = self.write.begin().await?;
        let Some(r) = sqlx::query(
            "SELECT user_id, password_hash, display_name, locale FROM account_tokens \
             WHERE token_hash = $1 AND purpose = 'verify' AND expires_at > $2",
        )
        .bind(token_hash.to_string())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let user: String = r.get(0);
        let password: Option<String> = r.get(1);
        let name: Option<String> = r.get(2);
        let locale: Option<String> = r.get(3);
        sqlx::query(
            "UPDATE users SET verified_at = $1, password_hash = COALESCE($3, password_hash), \
             display_name = COALESCE($4, display_name), locale = COALESCE($5, locale) \
             WHERE id = $2 AND verified_at IS NULL",
        )
        .bind(now)
        .bind(user.clone())
        .bind(password)
        .bind(name)
        .bind(locale)
        .execute(&mut *tx)
        .await?;
        for_user(
            &mut tx,
            &user,
            &[
                "DELETE FROM account_tokens WHERE user_id = $1",
                "DELETE FROM notifications WHERE user_id = $1 AND kind = 'account.verify'",
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(user.parse().expect("stored user ids are UUIDs")))
    }

    /// Creates many users in one transaction (the demo's people), none of whom can log in.
    pub async fn create_people(&self, people: &[(UserId, String, Option<String>)]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let now = to_micros(self.now());
        for chunk in people.chunks(200) {
            let mut sql = crate::sql::Sql::new(
                "INSERT INTO users (id, email, display_name, password_hash, locale, created_at, verified_at) VALUES ",
            );
            for (i, (id, name, email)) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.push("(").bind_text(id.to_string()).push(", ");
                match email {
                    Some(e) => sql.bind_text(e.clone()),
                    None => sql.push("NULL"),
                };
                sql.push(", ")
                    .bind_text(name.clone())
                    .push(", NULL, 'it', ")
                    .bind(crate::sql::Val::I64(now))
                    .push(", ")
                    .bind(crate::sql::Val::I64(now))
                    .push(")");
            }
            sql.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn user_by_email(&self, email: &Email) -> Result<Option<UserRow>> {
        let r = sqlx::query(USER_BY_EMAIL)
            .bind(email.as_str().to_string())
            .fetch_optional(&self.read)
            .await?;
        Ok(r.as_ref().map(user_from_row))
    }

    pub async fn user(&self, id: UserId) -> Result<Option<UserRow>> {
        let r = sqlx::query(USER_BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?;
        Ok(r.as_ref().map(user_from_row))
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM users")
            .fetch_one(&self.read)
            .await?
            .get(0))
    }

    /// A link to choose a new password (`token_hash`: the SHA-256 of its token, good until
    /// `expires_at`) for the confirmed account of `email`, replacing any earlier such link.
    /// `None`, and nothing written, when no confirmed account has that address: the caller
    /// answers the same either way.
    pub async fn request_password_reset(
        &self,
        email: &trama_core::auth::Email,
        token_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<Option<UserId>> {
        let now = to_micros(self.now());
        let mut tx = self.write.begin().await?;
        let Some(r) =
            sqlx::query("SELECT id FROM users WHERE email = $1 AND verified_at IS NOT NULL")
                .bind(email.as_str().to_string())
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(None);
        };
        let user: String = r.get(0);
        let id = UserId(crate::stored_id("user id", user.clone())?);
        for_user(
            &mut tx,
            &user,
            &[
                "DELETE FROM account_tokens WHERE user_id = $1 AND purpose = 'reset'",
                "DELETE FROM notifications WHERE user_id = $1 AND kind = 'account.reset' AND email_state = 'pending'",
            ],
        )
        .await?;
        sqlx::query(
            "INSERT INTO account_tokens (token_hash, user_id, purpose, created_at, expires_at) \
             VALUES ($1, $2, 'reset', $3, $4)",
        )
        .bind(token_hash.to_string())
        .bind(user)
        .bind(now)
        .bind(to_micros(expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// Sets the password of the account a reset link belongs to, in one transaction: the
    /// link is used up (with any other of its kind), and every session of the account ends,
    /// so whoever held the old password is signed out. `None` for a link unknown, expired or
    /// used.
    pub async fn reset_password(&self, token_hash: &str, new_hash: &str) -> Result<Option<UserId>> {
        let now = to_micros(self.now());
        let mut tx = self.write.begin().await?;
        let Some(r) = sqlx::query(
            "SELECT user_id FROM account_tokens \
             WHERE token_hash = $1 AND purpose = 'reset' AND expires_at > $2",
        )
        .bind(token_hash.to_string())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let user: String = r.get(0);
        let id = UserId(crate::stored_id("user id", user.clone())?);
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(new_hash.to_string())
            .bind(user.clone())
            .execute(&mut *tx)
            .await?;
        for_user(
            &mut tx,
            &user,
            &[
                "DELETE FROM account_tokens WHERE user_id = $1 AND purpose = 'reset'",
                "DELETE FROM notifications WHERE user_id = $1 AND kind = 'account.reset'",
                "DELETE FROM sessions WHERE user_id = $1",
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// The name and language a person chose for their account.
    pub async fn set_profile(&self, id: UserId, display_name: &str, locale: &str) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("UPDATE users SET display_name = $1, locale = $2 WHERE id = $3")
            .bind(display_name.to_string())
            .bind(locale.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        // Each of their offers shows their name in suggestions.
        crate::offer_cache::record_offers_of(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A new password, and every session of the account but `keep` (the one that changed
    /// it) ends, and every reset link, in one transaction.
    pub async fn change_password(&self, id: UserId, hash: &str, keep: Option<&str>) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(id.to_string())
            .bind(keep.unwrap_or("").to_string())
            .execute(&mut *tx)
            .await?;
        // A reset link asked for before stops working: the password it would replace is gone.
        for_user(
            &mut tx,
            &id.to_string(),
            &[
                "DELETE FROM account_tokens WHERE user_id = $1 AND purpose = 'reset'",
                "DELETE FROM notifications WHERE user_id = $1 AND kind = 'account.reset'",
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash.to_string())
            .bind(id.to_string())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn grant_role(&self, user: UserId, grant: &RoleGrant) -> Result<()> {
        sqlx::query(
            "INSERT INTO role_grants (user_id, role, organization_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(user.to_string())
        .bind(grant.role.as_str().to_string())
        .bind(grant.organization_id.map(|o| o.to_string()).unwrap_or_default())
        .bind(to_micros(self.now()))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The people who hold one of `roles` within an organisation.
    pub async fn staff_of(&self, org: OrganizationId, roles: &[Role]) -> Result<Vec<UserId>> {
        let mut sql = crate::sql::Sql::new(
            "SELECT DISTINCT user_id FROM role_grants WHERE organization_id = ",
        );
        sql.bind_text(org.to_string()).push(" AND role IN ");
        sql.bind_list(roles.iter().map(|r| r.as_str().to_string()));
        sql.build()
            .rows(&self.read, |r| {
                Ok(UserId::parse("user_id", &r.get::<String, _>(0))?)
            })
            .await
    }

    pub async fn grants(&self, user: UserId) -> Result<Vec<RoleGrant>> {
        let rows = sqlx::query("SELECT role, organization_id FROM role_grants WHERE user_id = $1 ORDER BY role, organization_id")
            .bind(user.to_string())
            .fetch_all(&self.read)
            .await?;
        // A corrupt grant is an error: read as "no organisation" it would widen the role to
        // the whole territory.
        rows.iter()
            .map(|r| {
                let role: Role =
                    r.get::<String, _>(0)
                        .parse()
                        .map_err(|_| StoreError::CorruptId {
                            what: "role",
                            value: r.get(0),
                        })?;
                let org: String = r.get(1);
                let org = if org.is_empty() {
                    None
                } else {
                    Some(OrganizationId(stored_id("grant's organization id", org)?))
                };
                Ok(RoleGrant {
                    role,
                    organization_id: org,
                })
            })
            .collect()
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        csrf: &str,
        expires_at: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash.to_string())
            .bind(user.to_string())
            .bind(csrf.to_string())
            .bind(to_micros(self.now()))
            .bind(to_micros(expires_at))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// A live session by its token hash (expired ones are not returned).
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>> {
        let r = sqlx::query("SELECT user_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash.to_string())
            .bind(to_micros(self.now()))
            .fetch_optional(&self.read)
            .await?;
        Ok(r.map(|r| SessionRow {
            user_id: r
                .get::<String, _>(0)
                .parse()
                .expect("stored user ids are UUIDs"),
            csrf_token: r.get(1),
            expires_at: from_micros(r.get(2)),
        }))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash.to_string())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    pub async fn purge_sessions(&self) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(to_micros(self.now()))
            .execute(&self.write)
            .await?
            .rows_affected())
    }

    pub async fn create_api_token(
        &self,
        user: UserId,
        name: &str,
        token_hash: &str,
    ) -> Result<ApiTokenId> {
        let id = ApiTokenId::new();
        sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id.to_string())
            .bind(user.to_string())
            .bind(name.to_string())
            .bind(token_hash.to_string())
            .bind(to_micros(self.now()))
            .execute(&self.write)
            .await?;
        Ok(id)
    }

    /// The owner of a live (not revoked) API token, recording its use.
    pub async fn api_token_user(&self, token_hash: &str) -> Result<Option<UserId>> {
        let r = sqlx::query(
            "SELECT user_id, id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash.to_string())
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = r else { return Ok(None) };
        let id: String = r.get(1);
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(to_micros(self.now()))
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(Some(UserId(stored_id("token's user id", r.get(0))?)))
    }

    pub async fn api_tokens(&self, user: UserId) -> Result<Vec<ApiTokenRow>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at",
        )
        .bind(user.to_string())
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| ApiTokenRow {
                id: r
                    .get::<String, _>(0)
                    .parse()
                    .expect("stored token ids are UUIDs"),
                name: r.get(1),
                created_at: from_micros(r.get(2)),
                last_used_at: r.get::<Option<i64>, _>(3).map(from_micros),
                revoked: r.get::<Option<i64>, _>(4).is_some(),
            })
            .collect())
    }

    /// Revokes one of the user's tokens; false when the user has no such token.
    pub async fn revoke_api_token(&self, user: UserId, id: ApiTokenId) -> Result<bool> {
        Ok(sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(to_micros(self.now()))
            .bind(id.to_string())
            .bind(user.to_string())
            .execute(&self.write)
            .await?
            .rows_affected()
            > 0)
    }

    /// Appends to the audit log.
    pub async fn audit(&self, e: &AuditEntry) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (id, at, actor_id, action, subject_type, subject_id, detail, on_behalf_of) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(to_micros(e.at))
            .bind(e.actor_id.map(|u| u.to_string()))
            .bind(e.action.clone())
            .bind(e.subject_type.clone())
            .bind(e.subject_id.clone())
            .bind(e.detail.clone())
            .bind(e.on_behalf_of.map(|u| u.to_string()))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The audit entries about one subject, newest first.
    pub async fn audit_of(&self, subject_type: &str, subject_id: &str) -> Result<Vec<AuditEntry>> {
        sqlx::query(
            "SELECT at, actor_id, action, subject_type, subject_id, detail, on_behalf_of FROM audit_log \
             WHERE subject_type = $1 AND subject_id = $2 ORDER BY at DESC, id DESC",
        )
        .bind(subject_type.to_string())
        .bind(subject_id.to_string())
        .rows(&self.read, audit_from_row)
        .await
    }

    /// What others did for this person (assisted mode) or with their file, newest first: the
    /// person's own view of the audit log.
    pub async fn audit_about_person(&self, person: UserId, limit: i64) -> Result<Vec<AuditEntry>> {
        sqlx::query(
            "SELECT at, actor_id, action, subject_type, subject_id, detail, on_behalf_of FROM audit_log \
             WHERE (on_behalf_of = $1 OR (subject_type = 'person' AND subject_id = $1)) \
             AND (actor_id IS NULL OR actor_id <> $1) ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(person.to_string())
        .bind(limit)
        .rows(&self.read, audit_from_row)
        .await
    }
}

fn audit_from_row(r: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        at: from_micros(r.get(0)),
        actor_id: stored_opt_id("audit actor", r.get(1))?.map(UserId),
        action: r.get(2),
        subject_type: r.get(3),
        subject_id: r.get(4),
        detail: r.get(5),
        on_behalf_of: stored_opt_id("audit on behalf of", r.get(6))?.map(UserId),
    })
}
