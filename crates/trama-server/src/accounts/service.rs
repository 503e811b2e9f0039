//! Accounts: signing up (with e-mail verification), confirming, opening sessions.

use crate::auth::{hash_password, random_token, sha256_hex, verify_password};
use crate::json::rfc3339;
use crate::service_error::store_calls;
use crate::service_error::{ServiceError, ServiceResult};
use crate::state::AppState;
use serde::Serialize;
use serde_json::{Value, json};
use trama_core::FieldError;
use trama_core::auth::Principal;
use trama_core::auth::{Email, NewPassword, RoleGrant};
use trama_core::auth::{NewSignup, SignupForm};
use trama_core::bounded::BoundedText;
use trama_core::ids::UserId;
use trama_core::needs::NeedAccess;
use trama_core::workplaces::{Situation, Workplace};
pub use trama_store::NewUser;
use trama_store::{AuditEntry, ErasureReport};
use trama_store::{Signup, UserRow};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: Option<String>,
    pub display_name: String,
    pub locale: String,
    pub roles: Vec<GrantView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: Uuid,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

pub(crate) fn user_view(u: &UserRow, grants: &[RoleGrant]) -> UserView {
    UserView {
        id: u.id.as_uuid(),
        email: u.email.clone(),
        display_name: u.display_name.clone(),
        locale: u.locale.clone(),
        roles: grants
            .iter()
            .map(|g| GrantView {
                role: g.role.as_str().into(),
                organization_id: g.organization_id.map(|o| o.as_uuid()),
            })
            .collect(),
    }
}

/// How long a link that confirms an address lasts.
pub const VERIFY_HOURS: i64 = 48;

/// Signs a citizen up (shared by the API and the web form), the same way whether the address
/// is new or taken, so that the answer tells nobody which addresses have accounts: within the
/// per-address limit (`limits.signup_per_hour`), the fields are checked, the password hashed,
/// and then either a new account (or one never confirmed) gets a link to confirm its address
/// by mail, or the owner of the address's confirmed account is told by mail that someone
/// tried. Nobody can sign in before confirming.
pub async fn signup(state: &AppState, form: &SignupForm, client: &str) -> ServiceResult<()> {
    state
        .signups_by_ip
        .hit(client)
        .map_err(ServiceError::RateLimited)?;
    let NewSignup {
        email,
        password,
        display_name,
        locale,
    } = form.parse().map_err(ServiceError::InvalidBody)?;
    let display_name = display_name.as_str();
    // Hashed in every case, so that a taken address answers in the same time as a new one.
    let hash = hash_password(password)
        .await
        .map_err(|_| ServiceError::Internal)?;
    let token = random_token();
    let expires = state.now() + time::Duration::hours(VERIFY_HOURS);
    let outcome = state
        .store
        .sign_up(
            &NewUser {
                email: Some(email.clone()),
                display_name: display_name.to_string(),
                password_hash: Some(hash),
                locale,
            },
            &sha256_hex(&token),
            expires,
        )
        .await?;
    let base = state
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", state.config.listen));
    let base = base.trim_end_matches('/');
    match outcome {
        Signup::Created(id) | Signup::Renewed(id) => {
            let link = format!("{base}/verifica?token={token}");
            state
                .store
                .notify(
                    id,
                    "account.verify",
                    "account",
                    &id.to_string(),
                    &format!(
                        "Per confermare il tuo indirizzo e attivare l'account Trama apri questo link entro {VERIFY_HOURS} ore:\n{link}\n\nSe non hai chiesto tu di registrarti, ignora questo messaggio: senza conferma l'account non si attiva."
                    ),
                    &format!(
                        "To confirm your address and activate your Trama account, open this link within {VERIFY_HOURS} hours:\n{link}\n\nIf you did not sign up, ignore this message: the account is not activated without confirmation."
                    ),
                    true,
                )
                .await?;
            tracing::info!(user = %id, "sign-up; confirmation link mailed");
        }
        Signup::Taken(id) => {
            state
                .store
                .notify(
                    id,
                    "account.exists",
                    "account",
                    &id.to_string(),
                    &format!(
                        "Qualcuno ha chiesto di creare un account Trama con il tuo indirizzo, che ne ha già uno. Se eri tu, accedi da {base}/accedi. Se non eri tu, non devi fare nulla: il tuo account non è cambiato."
                    ),
                    &format!(
                        "Someone asked to create a Trama account with your address, which already has one. If it was you, sign in at {base}/accedi. If it was not, there is nothing to do: your account has not changed."
                    ),
                    true,
                )
                .await?;
            tracing::info!(user = %id, "sign-up for a taken address; its owner told");
        }
    }
    Ok(())
}

/// Confirms an address from the token of its link and the password chosen at the sign-up
/// that asked for it (the API and the page `/verifica`): that password becomes the account's.
/// Someone who signed up for an address they do not read cannot confirm it, and the owner
/// cannot be made to confirm someone else's password by clicking their link.
pub async fn verify_account(state: &AppState, token: &str, password: &str) -> ServiceResult<()> {
    let token = token.trim();
    let unknown = || {
        ServiceError::InvalidBody(FieldError::new(
            "token",
            format!(
                "is unknown or expired (a link lasts {VERIFY_HOURS} hours; sign up again for a new one)"
            ),
        ))
    };
    trama_core::auth::link_token("token", token).map_err(ServiceError::InvalidBody)?;
    let hash = sha256_hex(token);
    let Some((_, chosen)) = state.store.account_token(&hash).await? else {
        return Err(unknown());
    };
    if !verify_password(chosen, password.to_string()).await {
        return Err(ServiceError::InvalidBody(FieldError::new(
            "password",
            "is not the password chosen at the sign-up this link confirms (use the link of your own sign-up)",
        )));
    }
    match state.store.verify_account(&hash).await? {
        Some(id) => {
            tracing::info!(user = %id, "address confirmed");
            Ok(())
        }
        None => Err(unknown()),
    }
}

/// How long a link to choose a new password lasts.
pub const RESET_HOURS: i64 = 2;

/// Someone forgot their password (the API and the page `/password-dimenticata`). The same
/// answer whatever the address: within the per-address limit of account mails, the confirmed
/// account of that address (if any) gets a link, valid for [`RESET_HOURS`] hours, to choose a
/// new one; an earlier link stops working.
pub async fn request_password_reset(
    state: &AppState,
    email: &str,
    client: &str,
) -> ServiceResult<()> {
    state
        .signups_by_ip
        .hit(client)
        .map_err(ServiceError::RateLimited)?;
    let email = Email::parse(email).map_err(ServiceError::InvalidBody)?;
    let token = random_token();
    let expires = state.now() + time::Duration::hours(RESET_HOURS);
    let Some(id) = state
        .store
        .request_password_reset(&email, &sha256_hex(&token), expires)
        .await?
    else {
        tracing::info!("password reset asked for an address with no confirmed account");
        return Ok(());
    };
    let base = state
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", state.config.listen));
    let link = format!(
        "{}/password-nuova?token={token}",
        base.trim_end_matches('/')
    );
    state
        .store
        .notify(
            id,
            "account.reset",
            "account",
            &id.to_string(),
            &format!(
                "Per scegliere una nuova password Trama apri questo link entro {RESET_HOURS} ore:\n{link}\n\nSe non l'hai chiesto tu, ignora questo messaggio: la tua password non cambia."
            ),
            &format!(
                "To choose a new Trama password, open this link within {RESET_HOURS} hours:\n{link}\n\nIf you did not ask for it, ignore this message: your password does not change."
            ),
            true,
        )
        .await?;
    tracing::info!(user = %id, "password reset link sent");
    Ok(())
}

/// Sets a new password from the token of a reset link: every session of the account ends,
/// and its owner is told.
pub async fn reset_password(state: &AppState, token: &str, password: &str) -> ServiceResult<()> {
    let token = trama_core::auth::link_token("token", token).map_err(ServiceError::InvalidBody)?;
    let password = NewPassword::parse(password).map_err(ServiceError::InvalidBody)?;
    let hash = hash_password(password)
        .await
        .map_err(|_| ServiceError::Internal)?;
    let Some(id) = state
        .store
        .reset_password(&sha256_hex(token), &hash)
        .await?
    else {
        return Err(ServiceError::InvalidBody(FieldError::new(
            "token",
            format!(
                "is unknown, used or expired (a link lasts {RESET_HOURS} hours; ask for a new one)"
            ),
        )));
    };
    state
        .store
        .notify(
            id,
            "account.password_changed",
            "account",
            &id.to_string(),
            "La password del tuo account Trama è stata cambiata e ogni accesso aperto è stato chiuso. Se non sei stato tu, chiedi subito una nuova password da /password-dimenticata.",
            "The password of your Trama account was changed and every open session was closed. If it was not you, ask for a new password at once at /password-dimenticata.",
            true,
        )
        .await?;
    tracing::info!(user = %id, "password reset");
    Ok(())
}

/// A person changes the name they go by and their language.
pub async fn update_profile(
    state: &AppState,
    p: &Principal,
    form: &trama_core::auth::ProfileForm,
) -> ServiceResult<()> {
    let (name, locale) = form.parse().map_err(ServiceError::InvalidBody)?;
    state
        .store
        .set_profile(p.user_id, name.as_str(), locale)
        .await?;
    Ok(())
}

/// A person changes their password, knowing the current one: every other session ends
/// (`keep`, the session that asks, stays), and they are told by mail.
pub async fn change_password(
    state: &AppState,
    p: &Principal,
    current: &str,
    new: &str,
    keep: Option<&str>,
) -> ServiceResult<()> {
    let user = state
        .store
        .user(p.user_id)
        .await?
        .ok_or(ServiceError::Internal)?;
    // Guesses at the current password slow down as failed sign-ins do.
    let account_key = user.email.clone().unwrap_or_else(|| user.id.to_string());
    state
        .login_failures_account
        .check(&account_key)
        .map_err(ServiceError::RateLimited)?;
    if !verify_password(user.password_hash, current.to_string()).await {
        state.login_failures_account.fail(&account_key);
        return Err(ServiceError::InvalidBody(FieldError::new(
            "current_password",
            "is not your current password",
        )));
    }
    let password = NewPassword::parse(new).map_err(ServiceError::InvalidBody)?;
    let hash = hash_password(password)
        .await
        .map_err(|_| ServiceError::Internal)?;
    state.store.change_password(p.user_id, &hash, keep).await?;
    state
        .store
        .notify(
            p.user_id,
            "account.password_changed",
            "account",
            &p.user_id.to_string(),
            "La password del tuo account Trama è stata cambiata; gli altri accessi aperti sono stati chiusi. Se non sei stato tu, chiedi subito una nuova password da /password-dimenticata.",
            "The password of your Trama account was changed; the other open sessions were closed. If it was not you, ask for a new password at once at /password-dimenticata.",
            true,
        )
        .await?;
    Ok(())
}

/// Checks credentials under the rate limits and opens a session: (user, cookie secret, CSRF token).
pub async fn open_session(
    state: &AppState,
    email: &str,
    password: &str,
    client: &str,
) -> ServiceResult<(UserRow, String, String)> {
    state
        .login_by_ip
        .hit(client)
        .map_err(ServiceError::RateLimited)?;
    let email = Email::parse(email).map_err(|_| ServiceError::BadCredentials)?;
    let account_key = email.as_str().to_string();
    let pair_key = format!("{account_key} {client}");
    state
        .login_failures
        .check(&pair_key)
        .map_err(ServiceError::RateLimited)?;
    state
        .login_failures_account
        .check(&account_key)
        .map_err(ServiceError::RateLimited)?;
    let user = state.store.user_by_email(&email).await?;
    let ok = verify_password(
        user.as_ref().and_then(|u| u.password_hash.clone()),
        password.to_string(),
    )
    .await;
    let Some(user) = user.filter(|_| ok) else {
        state.login_failures.fail(&pair_key);
        state.login_failures_account.fail(&account_key);
        tracing::info!(account = %account_key, "failed login");
        return Err(ServiceError::BadCredentials);
    };
    state.login_failures.clear(&pair_key);
    // The right password, for an address not confirmed yet: said plainly (only whoever knows
    // the password learns it), and no session.
    if !user.verified {
        tracing::info!(user = %user.id, "login before the address was confirmed");
        return Err(ServiceError::Unverified);
    }
    // Expired sessions are never honoured; logins are a natural moment to clear them away.
    let purged = state.store.purge_sessions().await?;
    if purged > 0 {
        tracing::debug!(purged, "expired sessions removed");
    }
    let secret = random_token();
    let csrf = random_token();
    let expires = state.now() + time::Duration::hours(state.config.limits.session_hours);
    state
        .store
        .create_session(&sha256_hex(&secret), user.id, &csrf, expires)
        .await?;
    tracing::info!(user = %user.id, "login");
    Ok((user, secret, csrf))
}

// Your data: export and erasure (GDPR Art. 15, 17, 20).

pub(crate) fn to_json<T: Serialize>(v: T) -> ServiceResult<Value> {
    serde_json::to_value(v).map_err(|_| ServiceError::Internal)
}

pub(crate) fn audit_json(e: &AuditEntry) -> Value {
    json!({
        "at": rfc3339(e.at),
        "actor_id": e.actor_id.map(|a| a.to_string()),
        "action": e.action,
        "subject": format!("{}:{}", e.subject_type, e.subject_id.clone().unwrap_or_default()),
        "detail": e.detail,
    })
}

/// Everything Trama holds about `p`, as one document.
pub async fn export(state: &AppState, p: &Principal) -> ServiceResult<Value> {
    let me = state
        .store
        .user(p.user_id)
        .await?
        .ok_or(ServiceError::Internal)?;
    let tokens: Vec<Value> = state
        .store
        .api_tokens(p.user_id)
        .await?
        .into_iter()
        .map(|t| json!({"name": t.name, "created_at": rfc3339(t.created_at), "revoked": t.revoked}))
        .collect();
    let mut needs = Vec::new();
    for n in state
        .store
        .needs(&trama_store::NeedFilter {
            requester: Some(p.user_id),
            limit: 10_000,
            ..Default::default()
        })
        .await?
    {
        needs.push(to_json(crate::help::service::need_view(
            &n,
            NeedAccess::Full,
        ))?);
    }
    let offers: Vec<Value> = state
        .store
        .offers_of(p.user_id)
        .await?
        .iter()
        .map(|o| to_json(crate::help::service::offer_view(o, true)))
        .collect::<Result<_, _>>()?;
    let mut matches = Vec::new();
    for m in state.store.matches_of_person(p.user_id, false).await? {
        let side = crate::help::service::side_in(state, p, &m).await?;
        matches.push(to_json(crate::help::service::match_view(&m, side))?);
    }
    let notifications: Vec<Value> = state
        .store
        .notifications(p.user_id, 10_000)
        .await?
        .into_iter()
        .map(|n| json!({"at": rfc3339(n.at), "kind": n.kind, "it": n.text_it, "en": n.text_en, "read": n.read}))
        .collect();
    let about_me: Vec<Value> = state
        .store
        .audit_about_person(p.user_id, 10_000)
        .await?
        .iter()
        .map(audit_json)
        .collect();
    let budget = match crate::budgets::service::read_budget(state, p, p.user_id).await {
        Ok((b, _)) => to_json(b)?,
        Err(ServiceError::NotFound(_)) => Value::Null,
        Err(e) => return Err(e),
    };
    let plans: Vec<Value> = state
        .store
        .plans_of(p.user_id)
        .await?
        .into_iter()
        .map(|pl| to_json(crate::budgets::service::PlanView::from(pl)))
        .collect::<Result<_, _>>()?;
    let consents: Vec<Value> = state
        .store
        .consents_of(p.user_id)
        .await?
        .into_iter()
        .map(|c| to_json(crate::budgets::service::ConsentView::from(c)))
        .collect::<Result<_, _>>()?;
    let contributions = to_json(crate::register::service::contributions_of(state, p).await?)?;
    let assisted = state.store.assisted(p.user_id).await?.map(|a| {
        json!({"organization_id": a.organization.to_string(), "consent_reference": a.consent_reference, "phone": a.phone})
    });
    Ok(json!({
        "exported_at": rfc3339(state.now()),
        "about": "Everything Trama holds about you (GDPR Art. 15 and 20). Entries of the public register appear under your pseudonyms; nobody else can link them to you.",
        "account": {
            "id": me.id.to_string(),
            "email": me.email,
            "display_name": me.display_name,
            "locale": me.locale,
            "created_at": rfc3339(me.created_at),
            "roles": p.grants.iter().map(|g| json!({"role": g.role.as_str(), "organization_id": g.organization_id.map(|o| o.to_string())})).collect::<Vec<_>>(),
            "api_tokens": tokens,
        },
        "registered_at_a_desk": assisted,
        "needs": needs,
        "offers": offers,
        "matches": matches,
        "notifications": notifications,
        "who_looked_at_my_data": about_me,
        "care_budget": budget,
        "plans": plans,
        "consents": consents,
        "contributions": contributions,
    }))
}

/// What an erasure did, and what it kept and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureView {
    #[schema(value_type = Object)]
    pub erased: ErasureReport,
    /// What was kept, and why.
    pub kept: Vec<String>,
}

/// Creates an API token named by its owner (1 to 100 characters); the token itself is kept
/// only as its hash.
pub async fn create_api_token(
    state: &AppState,
    p: &Principal,
    name: &str,
    token_hash: &str,
) -> ServiceResult<trama_core::ids::ApiTokenId> {
    let name = BoundedText::line("name", name, 100).map_err(ServiceError::InvalidBody)?;
    Ok(state
        .store
        .create_api_token(p.user_id, name.as_str(), token_hash)
        .await?)
}

/// One line of the audit log, the only writer of it: `actor` did `action` to the subject
/// (`subject_type`, `subject_id`), perhaps for someone (`on_behalf_of`), with a detail.
pub(crate) async fn audit(
    state: &AppState,
    actor: &Principal,
    action: &str,
    subject_type: &str,
    subject_id: &str,
    on_behalf_of: Option<UserId>,
    detail: Option<String>,
) -> ServiceResult<()> {
    state
        .store
        .audit(&AuditEntry {
            at: state.now(),
            actor_id: Some(actor.user_id),
            action: action.into(),
            subject_type: subject_type.into(),
            subject_id: Some(subject_id.into()),
            detail,
            on_behalf_of,
        })
        .await?;
    Ok(())
}

/// What a person did to their own account (export, erasure).
pub(crate) async fn audit_own(state: &AppState, p: &Principal, action: &str) -> ServiceResult<()> {
    let me = p.user_id.to_string();
    audit(state, p, action, "person", &me, None, None).await
}

/// Erases `p` after checking their password (the API and the page).
pub async fn erase(state: &AppState, p: &Principal, password: &str) -> ServiceResult<ErasureView> {
    let me = state
        .store
        .user(p.user_id)
        .await?
        .ok_or(ServiceError::Internal)?;
    if !crate::auth::verify_password(me.password_hash.clone(), password.to_string()).await {
        return Err(ServiceError::BadCredentials);
    }
    let iri = format!("urn:trama:person:{}", p.user_id);
    let agents: Vec<String> = crate::register::log::Purpose::ALL
        .iter()
        .map(|purpose| purpose.agent(&iri))
        .collect();
    // Money held for services not yet delivered goes back to the allocations first: nobody
    // is to deliver to an erased person.
    for b in state.store.budget_bookings_of(p.user_id).await? {
        if b.state == "held" {
            state.store.cancel_booking(b.id, None).await?;
        }
    }
    let erased = state.store.erase_person(p.user_id, &agents).await?;
    audit_own(state, p, "privacy.erase").await?;
    let years = state.config.retention.accounting_years;
    let mut kept = vec![format!(
        "The register's entries about you stay, under pseudonyms nobody can link to you any more ({} links forgotten).",
        erased.register_links_forgotten
    )];
    if erased.allocations_kept + erased.bookings_kept > 0 {
        kept.push(format!(
            "{} allocations and {} bookings of your care budget stay for {years} years, as the accounting records of public money the law requires, under your erased account: amounts, months, categories and providers, with no name or e-mail.",
            erased.allocations_kept, erased.bookings_kept
        ));
    }
    kept.push(format!(
        "Who read your data (the audit trail) stays for {} days, so that every access stays accountable; then it is deleted.",
        state.config.retention.audit_days
    ));
    kept.push(
        "Hours of help you gave or received stay in the volunteers' records as an erased person, without your name."
            .into(),
    );
    Ok(ErasureView { erased, kept })
}

/// The account with this e-mail address, if any (operators' tools and the demo; never an
/// answer a stranger sees).
pub async fn account_by_email(
    state: &AppState,
    email: &trama_core::auth::Email,
) -> ServiceResult<Option<UserId>> {
    Ok(state.store.user_by_email(email).await?.map(|u| u.id))
}

/// Who `user` is and what they may do (their roles): the session's principal, and the one the
/// demo's people act with. None for an unknown id.
pub async fn principal(state: &AppState, user: UserId) -> ServiceResult<Option<Principal>> {
    let Some(u) = state.store.user(user).await? else {
        return Ok(None);
    };
    Ok(Some(Principal {
        user_id: u.id,
        display_name: u.display_name,
        grants: state.store.grants(user).await?,
    }))
}

/// The places of the web UI `p`'s roles open, home first (`trama_core::workplaces`), with
/// what the roles alone do not tell read from the store.
pub async fn workplaces(state: &AppState, p: &Principal) -> ServiceResult<Vec<Workplace>> {
    let funder_staff = p.has_role(trama_core::auth::Role::OrganizationAdmin)
        && state
            .store
            .funders()
            .await?
            .iter()
            .any(|f| trama_core::budget::access::may_manage_funder(p, f.organization_id));
    let situation = Situation {
        has_budget: state.store.has_budget(p.user_id).await?,
        funder_staff,
    };
    Ok(trama_core::workplaces::workplaces(p, situation))
}

/// Creates an account with its roles as the territory's installer does (`trama demo`): no
/// sign-up, no mail; `password_hash` none for a person who cannot sign in.
pub async fn create_account(
    state: &AppState,
    user: &NewUser,
    roles: &[RoleGrant],
) -> ServiceResult<UserId> {
    let id = state.store.create_user(user).await?;
    for r in roles {
        state.store.grant_role(id, r).await?;
    }
    Ok(id)
}

/// Creates many people who cannot sign in (id, name, optional address) in one go: the demo's
/// population.
pub async fn create_people(
    state: &AppState,
    people: &[(UserId, String, Option<String>)],
) -> ServiceResult<()> {
    Ok(state.store.create_people(people).await?)
}

store_calls! {
    /// Ends the session whose secret hashes to `token_hash` (signing out).
    pub fn close_session(token_hash: &str) -> () = delete_session;
    /// Who read or changed a person's file, newest first: for the person themself ("who looked at
    /// my file").
    pub fn who_looked(
        person: UserId,
        limit: i64,
    ) -> Vec<trama_store::AuditEntry> = audit_about_person;
    /// One's own notifications, newest first.
    pub fn my_notifications(
        person: UserId,
        limit: i64,
    ) -> Vec<trama_store::NotificationRow> = notifications;
    pub fn grants(user: trama_core::ids::UserId) -> Vec<trama_core::auth::RoleGrant>;
    pub fn user(id: trama_core::ids::UserId) -> Option<trama_store::UserRow>;
    pub fn api_tokens(user: trama_core::ids::UserId) -> Vec<trama_store::ApiTokenRow>;
    pub fn revoke_api_token(user: trama_core::ids::UserId, id: trama_core::ids::ApiTokenId) -> bool;
    pub fn mark_notifications_read(
        user: trama_core::ids::UserId,
        id: Option<trama_core::ids::NotificationId>,
    ) -> u64;
    /// Marks one's notifications about one thing as read (once one has acted on it).
    pub fn mark_subject_read(
        user: trama_core::ids::UserId,
        subject_type: &str,
        subject_id: &str,
    ) -> u64;
    /// How many accounts there are (people who cannot sign in included).
    pub fn count_accounts() -> i64 = count_users;
}
