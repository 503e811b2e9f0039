//! Accounts over JSON: signing up, confirming, signing in and out, one's profile and API tokens.

use crate::accounts::service::TokenView;
use crate::accounts::service::UserView;
use crate::accounts::service::VERIFY_HOURS;
use crate::accounts::service::open_session;
use crate::accounts::service::user_view;
use crate::accounts::service::verify_account;
use crate::auth::{
    self, ClientAddr, SESSION_COOKIE, Viewer, client_key, random_token, set_cookie, sha256_hex,
};
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::json::Body;
use crate::json::PathId;
use crate::json::rfc3339;
use crate::policy::OwnWriter;
use crate::policy::{self, Admitted, Policy, Routes, Scope, Who};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use trama_core::ids::ApiTokenId;
use utoipa::ToSchema;
use uuid::Uuid;

pub fn routes() -> Routes {
    let own = Policy::new(Who::SignedIn, Scope::Own, "one's own account");
    Routes::api()
        .post("/auth/signup", signup, policy::PUBLIC)
        .post("/auth/verify", verify, policy::PUBLIC)
        .post("/auth/password-reset", password_reset, policy::PUBLIC)
        .post(
            "/auth/password-reset/confirm",
            password_reset_confirm,
            policy::PUBLIC,
        )
        .post("/auth/login", login, policy::PUBLIC)
        .post("/auth/logout", logout, own)
        .get("/me", me, own)
        .post("/tokens", create_token, own)
        .get("/tokens", list_tokens, own)
        .delete("/tokens/{id}", revoke_token, own)
        .merge(super::notifications::routes())
        .merge(super::privacy::routes())
}

pub use trama_core::auth::SignupForm as SignupRequest;

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
    Body(r): Body<SignupRequest>,
) -> ApiResult<(StatusCode, Json<SignupAccepted>)> {
    let client = client_key(&headers, peer, state.config.behind_proxy);
    crate::accounts::service::signup(&state, &r, &client).await?;
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
    Body(r): Body<VerifyRequest>,
) -> ApiResult<StatusCode> {
    verify_account(&state, &r.token, &r.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The address the account signs in with.
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    /// The `token` of the link mailed by `POST /api/auth/password-reset`.
    pub token: String,
    /// The new password: at least 10 characters, not one everybody tries first.
    pub password: String,
}

/// Forgot the password: 202 and the same answer for every address. The confirmed account of
/// that address, if any, is mailed a link (valid 2 hours) to choose a new password.
#[utoipa::path(post, path = "/api/auth/password-reset", tag = "accounts", request_body = PasswordResetRequest,
    responses((status = 202, body = SignupAccepted), (status = 422, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
pub async fn password_reset(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
    Body(r): Body<PasswordResetRequest>,
) -> ApiResult<(StatusCode, Json<SignupAccepted>)> {
    let client = client_key(&headers, peer, state.config.behind_proxy);
    crate::accounts::service::request_password_reset(&state, &r.email, &client).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SignupAccepted {
            status: "check_your_email".into(),
            message: "If the address has an account, it was mailed a link to choose a new password (valid 2 hours).".into(),
        }),
    ))
}

/// Sets a new password from the link's token: 204; every session of the account ends.
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", tag = "accounts", request_body = PasswordResetConfirm,
    responses((status = 204), (status = 422, body = ErrorEnvelope)))]
pub async fn password_reset_confirm(
    State(state): State<AppState>,
    Body(r): Body<PasswordResetConfirm>,
) -> ApiResult<StatusCode> {
    crate::accounts::service::reset_password(&state, &r.token, &r.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Log in: sets the session cookie and returns the CSRF token for writes.
#[utoipa::path(post, path = "/api/auth/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
    Body(r): Body<LoginRequest>,
) -> ApiResult<Response> {
    let client = client_key(&headers, peer, state.config.behind_proxy);
    let (user, secret, csrf) = open_session(&state, &r.email, &r.password, &client).await?;
    let grants = super::service::grants(&state, user.id).await?;
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
        super::service::close_session(&state, token_hash).await?;
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
pub async fn me(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
) -> ApiResult<Json<UserView>> {
    let p = admitted.principal();
    let u = super::service::user(&state, p.user_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    Ok(Json(user_view(&u, &p.grants)))
}

/// Create an API token (shown once).
#[utoipa::path(post, path = "/api/tokens", tag = "accounts", request_body = TokenRequest,
    responses((status = 201, body = NewTokenView), (status = 401, body = ErrorEnvelope)))]
pub async fn create_token(
    State(state): State<AppState>,
    OwnWriter(ref p): OwnWriter,
    Body(r): Body<TokenRequest>,
) -> ApiResult<(StatusCode, Json<NewTokenView>)> {
    let token = random_token();
    let id = super::service::create_api_token(&state, p, &r.name, &sha256_hex(&token)).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewTokenView {
            id: id.as_uuid(),
            name: r.name.trim().into(),
            token,
        }),
    ))
}

/// The user's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/tokens", tag = "accounts", responses((status = 200, body = Vec<TokenView>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    _: crate::json::NoQuery,
    admitted: Admitted,
) -> ApiResult<Json<Vec<TokenView>>> {
    let p = admitted.principal();
    let rows = super::service::api_tokens(&state, p.user_id).await?;
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
    OwnWriter(ref p): OwnWriter,
    PathId(tid): PathId<ApiTokenId>,
) -> ApiResult<StatusCode> {
    if super::service::revoke_api_token(&state, p.user_id, tid).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("token", &tid.to_string()))
    }
}
