//! Trama's own JSON API under `/api`: accounts, sessions, API tokens, and the provider's
//! writes to its own organisation's services. Described by the OpenAPI document at
//! `/api/openapi.json`, generated from these handlers.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use trama_core::FieldError;
use trama_core::auth::{Email, NewPassword, Principal, Role, RoleGrant};
use trama_core::geo::Coordinates;
use trama_core::hsds::{Service, validate_service};
use trama_core::ids::{ApiTokenId, LocationId, ServiceId};
use trama_store::{AuditEntry, NewUser, Signup, UserRow};

use crate::auth::{
    self, ClientAddr, SESSION_COOKIE, Viewer, client_key, hash_password, random_token, set_cookie,
    sha256_hex, verify_password,
};
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::policy::{self, Admitted, Policy, Routes, Scope, Who};
use crate::state::AppState;

pub fn routes() -> Routes {
    let own = Policy::new(Who::SignedIn, Scope::Own, "one's own account");
    let editors = Policy::new(
        Who::Roles(policy::EDITORS),
        Scope::Organisation,
        "the admins of the service's organisation; the territory admin",
    );
    Routes::api()
        .get("/openapi.json", openapi_json, policy::PUBLIC)
        .post("/auth/signup", signup, policy::PUBLIC)
        .post("/auth/verify", verify, policy::PUBLIC)
        .post("/auth/login", login, policy::PUBLIC)
        .post("/auth/logout", logout, own)
        .get("/me", me, own)
        .post("/tokens", create_token, own)
        .get("/tokens", list_tokens, own)
        .delete("/tokens/{id}", revoke_token, own)
        .post("/services", create_service, editors)
        .put("/services/{id}", update_service, editors)
        .delete("/services/{id}", delete_service, editors)
}

type JsonBody<T> = Result<Json<T>, JsonRejection>;

fn body<T>(b: JsonBody<T>) -> ApiResult<T> {
    Ok(b.map_err(ApiError::from)?.0)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    pub email: String,
    /// At least 10 characters, and not one of the passwords everybody tries first.
    pub password: String,
    pub display_name: String,
    /// `it` (default) or `en`.
    #[serde(default)]
    pub locale: Option<String>,
}

/// The answer to a sign-up, the same for every address.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignupAccepted {
    /// Always `check_your_email`.
    pub status: String,
    pub message: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The `token` of the link mailed at sign-up.
    pub token: String,
    /// The password chosen at that sign-up.
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

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
pub struct LoginResponse {
    pub user: UserView,
    /// Send it back in `X-CSRF-Token` with every write made with the session cookie.
    pub csrf_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewTokenView {
    pub id: Uuid,
    pub name: String,
    /// Shown once. Use it as `Authorization: Bearer <token>`.
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: Uuid,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("formattable")
}

fn user_view(u: &UserRow, grants: &[RoleGrant]) -> UserView {
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
pub async fn register_user(
    state: &AppState,
    email: &str,
    password: &str,
    display_name: &str,
    locale: Option<&str>,
    client: &str,
) -> ApiResult<()> {
    state
        .signups_by_ip
        .hit(client)
        .map_err(ApiError::RateLimited)?;
    let email = Email::parse(email).map_err(ApiError::InvalidBody)?;
    let password = NewPassword::parse(password).map_err(ApiError::InvalidBody)?;
    let display_name = display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 120 {
        return Err(ApiError::InvalidBody(FieldError::new(
            "display_name",
            "must be 1 to 120 characters",
        )));
    }
    let locale = match locale.unwrap_or("it") {
        l @ ("it" | "en") => l.to_string(),
        other => {
            return Err(ApiError::InvalidBody(FieldError::new(
                "locale",
                format!("'{other}' is not it or en"),
            )));
        }
    };
    // Hashed in every case, so that a taken address answers in the same time as a new one.
    let hash = hash_password(password).await?;
    let token = random_token();
    let expires = OffsetDateTime::now_utc() + time::Duration::hours(VERIFY_HOURS);
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
pub async fn verify_account(state: &AppState, token: &str, password: &str) -> ApiResult<()> {
    let token = token.trim();
    let unknown = || {
        ApiError::InvalidBody(FieldError::new(
            "token",
            format!(
                "is unknown or expired (a link lasts {VERIFY_HOURS} hours; sign up again for a new one)"
            ),
        ))
    };
    if token.is_empty() || token.len() > 200 {
        return Err(ApiError::InvalidBody(FieldError::new(
            "token",
            "is missing or is not a link's token",
        )));
    }
    let hash = sha256_hex(token);
    let Some((_, chosen)) = state.store.account_token(&hash).await? else {
        return Err(unknown());
    };
    if !verify_password(chosen, password.to_string()).await {
        return Err(ApiError::InvalidBody(FieldError::new(
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

/// Checks credentials under the rate limits and opens a session: (user, cookie secret, CSRF token).
pub async fn open_session(
    state: &AppState,
    email: &str,
    password: &str,
    client: &str,
) -> ApiResult<(UserRow, String, String)> {
    state
        .login_by_ip
        .hit(client)
        .map_err(ApiError::RateLimited)?;
    let email = Email::parse(email).map_err(|_| ApiError::BadCredentials)?;
    let account_key = email.as_str().to_string();
    let pair_key = format!("{account_key} {client}");
    state
        .login_failures
        .check(&pair_key)
        .map_err(ApiError::RateLimited)?;
    state
        .login_failures_account
        .check(&account_key)
        .map_err(ApiError::RateLimited)?;
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
        return Err(ApiError::BadCredentials);
    };
    state.login_failures.clear(&pair_key);
    // The right password, for an address not confirmed yet: said plainly (only whoever knows
    // the password learns it), and no session.
    if !user.verified {
        tracing::info!(user = %user.id, "login before the address was confirmed");
        return Err(ApiError::Unverified);
    }
    // Expired sessions are never honoured; logins are a natural moment to clear them away.
    let purged = state.store.purge_sessions().await?;
    if purged > 0 {
        tracing::debug!(purged, "expired sessions removed");
    }
    let secret = random_token();
    let csrf = random_token();
    let expires =
        OffsetDateTime::now_utc() + time::Duration::hours(state.config.limits.session_hours);
    state
        .store
        .create_session(&sha256_hex(&secret), user.id, &csrf, expires)
        .await?;
    tracing::info!(user = %user.id, "login");
    Ok((user, secret, csrf))
}

pub fn session_cookie(state: &AppState, secret: &str) -> axum::http::HeaderValue {
    set_cookie(
        SESSION_COOKIE,
        secret,
        Some(state.config.limits.session_hours * 3600),
        state.config.secure_cookies(),
    )
}

/// Sign a citizen up: 202 and the same answer whether the address is new or already has an
/// account. The address gets a mail: a link to confirm it (`POST /api/auth/verify`), or, for
/// an address with an account, a notice to its owner. No sign-in before confirming.
#[utoipa::path(post, path = "/api/auth/signup", tag = "accounts", request_body = SignupRequest,
    responses((status = 202, body = SignupAccepted), (status = 422, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
pub async fn signup(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
    b: JsonBody<SignupRequest>,
) -> ApiResult<(StatusCode, Json<SignupAccepted>)> {
    let client = client_key(&headers, peer, state.config.behind_proxy);
    let r = body(b)?;
    register_user(
        &state,
        &r.email,
        &r.password,
        &r.display_name,
        r.locale.as_deref(),
        &client,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SignupAccepted {
            status: "check_your_email".into(),
            message: format!(
                "If this address can be used, a link to confirm it is on its way: follow it within {VERIFY_HOURS} hours, then sign in."
            ),
        }),
    ))
}

/// Confirm an address with the token of the link mailed at sign-up; then the account can
/// sign in.
#[utoipa::path(post, path = "/api/auth/verify", tag = "accounts", request_body = VerifyRequest,
    responses((status = 204), (status = 422, body = ErrorEnvelope)))]
pub async fn verify(
    State(state): State<AppState>,
    b: JsonBody<VerifyRequest>,
) -> ApiResult<StatusCode> {
    let r = body(b)?;
    verify_account(&state, &r.token, &r.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Log in: sets the session cookie and returns the CSRF token for writes.
#[utoipa::path(post, path = "/api/auth/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
    b: JsonBody<LoginRequest>,
) -> ApiResult<Response> {
    let r = body(b)?;
    let client = client_key(&headers, peer, state.config.behind_proxy);
    let (user, secret, csrf) = open_session(&state, &r.email, &r.password, &client).await?;
    let grants = state.store.grants(user.id).await?;
    let mut res = Json(LoginResponse {
        user: user_view(&user, &grants),
        csrf_token: csrf,
    })
    .into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, session_cookie(&state, &secret));
    Ok(res)
}

/// Log out: ends the session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "accounts", responses((status = 204), (status = 401, body = ErrorEnvelope)))]
pub async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
) -> ApiResult<Response> {
    viewer.require_signed(&headers)?;
    if let Some(auth::Via::Session { token_hash, .. }) = &viewer.via {
        state.store.delete_session(token_hash).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), state.config.secure_cookies()),
    );
    Ok(res)
}

/// The signed-in user and their roles.
#[utoipa::path(get, path = "/api/me", tag = "accounts", responses((status = 200, body = UserView), (status = 401, body = ErrorEnvelope)))]
pub async fn me(State(state): State<AppState>, admitted: Admitted) -> ApiResult<Json<UserView>> {
    let p = admitted.principal();
    let u = state
        .store
        .user(p.user_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    Ok(Json(user_view(&u, &p.grants)))
}

/// Create an API token (shown once).
#[utoipa::path(post, path = "/api/tokens", tag = "accounts", request_body = TokenRequest,
    responses((status = 201, body = NewTokenView), (status = 401, body = ErrorEnvelope)))]
pub async fn create_token(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    b: JsonBody<TokenRequest>,
) -> ApiResult<(StatusCode, Json<NewTokenView>)> {
    let p = admitted.for_own_write(&headers)?;
    let r = body(b)?;
    let name = r.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::InvalidBody(FieldError::new(
            "name",
            "must be 1 to 100 characters",
        )));
    }
    let token = random_token();
    let id = state
        .store
        .create_api_token(p.user_id, name, &sha256_hex(&token))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewTokenView {
            id: id.as_uuid(),
            name: name.into(),
            token,
        }),
    ))
}

/// The user's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/tokens", tag = "accounts", responses((status = 200, body = Vec<TokenView>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    admitted: Admitted,
) -> ApiResult<Json<Vec<TokenView>>> {
    let p = admitted.principal();
    let rows = state.store.api_tokens(p.user_id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|t| TokenView {
                id: t.id.as_uuid(),
                name: t.name,
                created_at: rfc3339(t.created_at),
                last_used_at: t.last_used_at.map(rfc3339),
                revoked: t.revoked,
            })
            .collect(),
    ))
}

/// Revoke an API token.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let p = admitted.for_own_write(&headers)?;
    let tid = ApiTokenId::parse("id", &id)?;
    if state.store.revoke_api_token(p.user_id, tid).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("token", &id))
    }
}

/// Gives every entity in a posted HSDS document that lacks an `id` a fresh one, so clients may
/// leave them out when creating.
pub fn fill_missing_ids(v: &mut Value) {
    fn walk(v: &mut Value, entity: bool) {
        match v {
            Value::Object(m) => {
                if entity && !m.contains_key("id") {
                    m.insert("id".into(), Value::String(Uuid::now_v7().to_string()));
                }
                for (_, child) in m.iter_mut() {
                    walk(child, true);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, true)),
            _ => {}
        }
    }
    walk(v, true);
}

/// Checks and writes a provider's service: the organisation must be one the person administers,
/// and so must every location it is delivered at. Shared by the API and the web form.
pub async fn save_service(
    state: &AppState,
    p: &Principal,
    mut s: Service,
    existing: Option<ServiceId>,
) -> ApiResult<Service> {
    validate_service(&s).map_err(ApiError::InvalidBody)?;
    let org = s
        .organization_id
        .ok_or_else(|| ApiError::InvalidBody(FieldError::new("organization_id", "is required")))?;
    if let Some(id) = existing {
        if s.id != id.as_uuid() {
            return Err(ApiError::InvalidBody(FieldError::new(
                "id",
                "differs from the id in the address",
            )));
        }
        match state.store.service_organization(id).await? {
            None => return Err(ApiError::not_found("service", &id.to_string())),
            Some(current) => {
                if current.is_some_and(|o| !p.can_edit_organization(o))
                    || (current.is_none() && !p.has_role(Role::TerritoryAdmin))
                {
                    return Err(ApiError::Forbidden(
                        "this service belongs to an organisation you do not administer".into(),
                    ));
                }
            }
        }
    } else if state
        .store
        .service_organization(ServiceId(s.id))
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict(FieldError::new(
            "id",
            "a service with this id exists; use PUT to change it",
        )));
    }
    if !p.can_edit_organization(org.into()) {
        return Err(ApiError::Forbidden(
            "you can change only the services of organisations you administer".into(),
        ));
    }
    if s.organization.is_some() {
        return Err(ApiError::InvalidBody(FieldError::new(
            "organization",
            "is not written through a service; give organization_id",
        )));
    }
    for (i, sal) in s.service_at_locations.iter_mut().enumerate() {
        if let Some(loc) = sal.location.as_deref_mut() {
            if let (Some(lat), Some(lon)) = (loc.latitude, loc.longitude) {
                Coordinates::named(
                    lat,
                    lon,
                    &format!("service_at_locations[{i}].location.latitude"),
                    &format!("service_at_locations[{i}].location.longitude"),
                )
                .map_err(ApiError::InvalidBody)?;
            }
            match loc.organization_id {
                None => loc.organization_id = Some(org),
                Some(o) if o != org => {
                    return Err(ApiError::InvalidBody(FieldError::new(
                        format!("service_at_locations[{i}].location.organization_id"),
                        "must be the service's organization",
                    )));
                }
                _ => {}
            }
            if let Some(Some(owner)) = state
                .store
                .location_organization(LocationId(loc.id))
                .await?
                && owner.as_uuid() != org
            {
                return Err(ApiError::Forbidden(format!(
                    "location {} belongs to another organisation",
                    loc.id
                )));
            }
        } else if let Some(lid) = sal.location_id {
            match state.store.location_organization(LocationId(lid)).await? {
                None => {
                    return Err(ApiError::InvalidReference(FieldError::new(
                        format!("service_at_locations[{i}].location_id"),
                        format!("location {lid} does not exist"),
                    )));
                }
                Some(owner) if owner.map(|o| o.as_uuid()) != Some(org) => {
                    return Err(ApiError::Forbidden(format!(
                        "location {lid} belongs to another organisation"
                    )));
                }
                _ => {}
            }
        }
        sal.service_id = Some(s.id);
    }
    let now = OffsetDateTime::now_utc();
    let millis = now
        .replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .unwrap_or(now);
    s.last_modified = Some(rfc3339(millis));
    state.store.put_service(&s).await?;
    let action = if existing.is_some() {
        "service.update"
    } else {
        "service.create"
    };
    audit_service(state, p, action, &s.id.to_string()).await?;
    Ok(s)
}

/// Records in the audit log who did what to a service.
async fn audit_service(state: &AppState, p: &Principal, action: &str, id: &str) -> ApiResult<()> {
    let entry = AuditEntry {
        at: OffsetDateTime::now_utc(),
        actor_id: Some(p.user_id),
        action: action.into(),
        subject_type: "service".into(),
        subject_id: Some(id.into()),
        detail: None,
        on_behalf_of: None,
    };
    Ok(state.store.audit(&entry).await?)
}

/// Deletes a provider's service.
pub async fn remove_service(state: &AppState, p: &Principal, id: ServiceId) -> ApiResult<()> {
    match state.store.service_organization(id).await? {
        None => return Err(ApiError::not_found("service", &id.to_string())),
        Some(org) => {
            if !org.is_some_and(|o| p.can_edit_organization(o)) && !p.has_role(Role::TerritoryAdmin)
            {
                return Err(ApiError::Forbidden(
                    "this service belongs to an organisation you do not administer".into(),
                ));
            }
        }
    }
    state.store.delete_service(id).await?;
    audit_service(state, p, "service.delete", &id.to_string()).await?;
    Ok(())
}

fn parse_service(mut v: Value) -> ApiResult<Service> {
    fill_missing_ids(&mut v);
    serde_json::from_value::<Service>(v)
        .map_err(|e| ApiError::InvalidBody(FieldError::new("body", e.to_string())))
}

/// Create a service of an organisation you administer (an HSDS service document; ids may be left out).
#[utoipa::path(post, path = "/api/services", tag = "provider", request_body(content = Object, description = "An HSDS 3.0 service"),
    responses((status = 201, description = "The stored service, fully nested"), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_service(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    b: JsonBody<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let p = admitted.for_write(&headers)?;
    let s = parse_service(body(b)?)?;
    let s = save_service(&state, p, s, None).await?;
    let d = state
        .store
        .get_service(ServiceId(s.id))
        .await?
        .ok_or(ApiError::Internal)?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(d.service).expect("serialisable")),
    ))
}

/// Replace a service of an organisation you administer.
#[utoipa::path(put, path = "/api/services/{id}", tag = "provider", params(("id" = String, Path)), request_body(content = Object, description = "An HSDS 3.0 service"),
    responses((status = 200, description = "The stored service, fully nested"), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn update_service(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    Path(id): Path<String>,
    b: JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let p = admitted.for_write(&headers)?;
    let sid = ServiceId::parse("id", &id)?;
    let mut v = body(b)?;
    if let Value::Object(m) = &mut v {
        m.entry("id")
            .or_insert_with(|| Value::String(sid.to_string()));
    }
    let s = parse_service(v)?;
    save_service(&state, p, s, Some(sid)).await?;
    let d = state
        .store
        .get_service(sid)
        .await?
        .ok_or(ApiError::Internal)?;
    Ok(Json(serde_json::to_value(d.service).expect("serialisable")))
}

/// Delete a service of an organisation you administer.
#[utoipa::path(delete, path = "/api/services/{id}", tag = "provider", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete_service(
    State(state): State<AppState>,
    admitted: Admitted,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let p = admitted.for_write(&headers)?;
    remove_service(&state, p, ServiceId::parse("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Trama", description = "Trama's JSON API and its HSDS 3.0 API. Errors: {\"error\": {\"code\", \"message\", \"field\"}}; see docs/API.md."),
    paths(
        crate::budget_api::create_funder_api, crate::budget_api::create_programme_api,
        crate::budget_api::follow_api, crate::budget_api::revoke_api, crate::budget_api::grant_api,
        crate::budget_api::give_consent_api, crate::budget_api::my_consents_api,
        crate::privacy::export_api, crate::privacy::erase_api,
        crate::budget_api::delegate_api, crate::budget_api::undelegate_api, crate::budget_api::delegations_api,
        crate::budget_api::my_budget_api, crate::budget_api::person_budget_api, crate::budget_api::funding_api, crate::budget_api::create_plan_api, crate::budget_api::plans_api, crate::budget_api::plan_funding_api,
        crate::budget_api::book_api, crate::budget_api::dashboard_api, crate::budget_api::provider_bookings_api, crate::budget_api::funder_statement_api, crate::budget_api::deliver_api, crate::budget_api::cancel_api, crate::budget_api::programme_beneficiaries_api,
        crate::hsds::api_info, crate::hsds::list_services, crate::hsds::get_service,
        crate::hsds::list_organizations, crate::hsds::get_organization,
        crate::hsds::list_service_at_locations, crate::hsds::get_service_at_location,
        crate::hsds::list_taxonomies, crate::hsds::get_taxonomy,
        crate::hsds::list_taxonomy_terms, crate::hsds::get_taxonomy_term,
        signup, verify, login, logout, me, create_token, list_tokens, revoke_token,
        create_service, update_service, delete_service,
        crate::matching::create_need_api, crate::matching::list_needs_api,
        crate::matching::needs_by_area_api, crate::matching::get_need_api,
        crate::matching::need_suggestions_api, crate::matching::propose_api,
        crate::matching::accept_api, crate::matching::cancel_need_api,
        crate::matching::reopen_need_api, crate::matching::create_offer_api,
        crate::matching::list_offers_api, crate::matching::get_offer_api,
        crate::matching::offer_suggestions_api, crate::matching::list_matches_api,
        crate::matching::get_match_api, crate::matching::match_event_api,
        crate::matching::register_person_api, crate::matching::list_people_api,
        crate::matching::person_activity_api, crate::matching::my_activity_api,
        crate::matching::notifications_api, crate::matching::notifications_read_api,
        crate::matching::create_campaign_api, crate::matching::list_campaigns_api,
        crate::matching::get_campaign_api, crate::matching::dispatch_campaign_api,
        crate::matching::batch_api, crate::matching::list_hubs_api,
        crate::matching::put_hub_api, crate::matching::add_room_api,
        crate::matching::room_slots_api, crate::matching::book_room_api,
        crate::matching::shared_services_api,
        crate::register_api::checkpoint, crate::register_api::checkpoints, crate::register_api::key, crate::register_api::tile,
        crate::register_api::inclusion, crate::register_api::consistency,
        crate::register_api::entries, crate::register_api::context,
        crate::register_api::flows_api, crate::register_api::credits_api,
        crate::register_api::record_flow_api, crate::register_api::import_flows_api,
        crate::register_api::my_contributions_api, crate::register_api::my_statement_api,
        crate::register_api::forget_me_api,
        crate::ops::healthz, crate::ops::readyz,
    ),
    components(schemas(crate::privacy::EraseRequest, crate::privacy::ErasureView, crate::budget_api::ConsentView, crate::budget_api::GiveConsentRequest, crate::budget_api::DelegationRequest, crate::budget_api::DelegationView, crate::budget_api::FunderRequest, crate::budget_api::CreatedView, crate::budget_api::ProgrammeRequest, crate::budget_api::ConsentRequest, crate::budget_api::GrantRequest, crate::budget_api::AllocationView, crate::budget_api::BookingView, crate::budget_api::PersonBudgetView, crate::budget_api::VolunteerHelpView, crate::budget_api::FunderView, crate::budget_api::ProgrammeView, crate::budget_api::TotalView, crate::budget_api::DoubleFundingView, crate::budget_api::ExpiringView, crate::budget_api::DashboardView, crate::budget_api::ProviderBookingView, crate::budget_api::BeyondPlanView, crate::budget_api::PlanView, crate::budget_api::PlanFundingRequest, crate::budget_api::BookingRequest, crate::budget_api::DeliveryRequest, crate::budget_api::PlanMonthRequest, crate::budget_api::PlanLineRequest, crate::budget_api::FundingRequestBody, crate::budget_api::ExclusionRequest, crate::budget_api::ShareView, crate::budget_api::NotUsedView, crate::budget_api::LineFundingView, crate::budget_api::FundingView, crate::register_api::InclusionProofView, crate::register_api::ConsistencyProofView, crate::register_api::EntriesPage, crate::register_api::EntryView, crate::register_api::FlowView, crate::register_api::TerritoryCredits, crate::register_api::FlowRequest, crate::register_api::AppendedView, crate::register_api::MyContributions, crate::register_api::MyContribution, ErrorEnvelope, crate::error::ErrorBody, SignupRequest, SignupAccepted, VerifyRequest, LoginRequest, UserView, GrantView, LoginResponse, TokenRequest, NewTokenView, TokenView)),
    modifiers(&EveryErrorIsTheEnvelope),
    tags((name = "hsds", description = "Open Referral HSDS 3.0, read-only"), (name = "accounts"), (name = "provider"), (name = "needs", description = "Needs, offers, suggestions and matches"), (name = "assisted", description = "Operators acting for people (assisted mode)"), (name = "campaigns", description = "Emergency campaigns and batch assignment"), (name = "hubs", description = "Community hubs"), (name = "register", description = "The contribution register: a C2SP tlog-tiles transparency log of ValueFlows events, proofs, flows and time credits"), (name = "budgets", description = "Care budgets: funders, programmes, allocations, consent, bookings paid from a person's budget"), (name = "operations")),
)]
pub struct ApiDoc;

/// Every operation says that any other status is an error in the JSON envelope (`default`),
/// so a client (and schemathesis) knows what a 401, 413 or 429 looks like wherever it comes.
struct EveryErrorIsTheEnvelope;

impl utoipa::Modify for EveryErrorIsTheEnvelope {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let envelope = ResponseBuilder::new()
            .description(
                "An error: the JSON envelope {\"error\": {code, message, field}} (docs/API.md)",
            )
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                op.responses
                    .responses
                    .entry("default".into())
                    .or_insert_with(|| RefOr::T(envelope.clone()));
            }
        }
    }
}

/// The OpenAPI 3.1 description of every endpoint.
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
