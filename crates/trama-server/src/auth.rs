//! Who is asking: sessions (cookies), API tokens (bearer), passwords (Argon2id), CSRF.
//!
//! - Passwords are hashed with Argon2id (m=19456 KiB, t=2, p=1) on the blocking pool; they are
//!   never logged, stored or echoed. Unknown e-mails cost the same time as wrong passwords.
//! - A session is a random 256-bit secret in an HttpOnly, SameSite=Lax cookie (Secure when the
//!   public URL is https); the database keeps only its SHA-256.
//! - API tokens are random 256-bit secrets shown once; the database keeps only their SHA-256.
//! - CSRF: HTML forms carry the value of the `trama_csrf` cookie (double submit) and
//!   cross-site form posts are refused by `Sec-Fetch-Site`; JSON writes authenticated by the
//!   session cookie carry the session's token in `X-CSRF-Token`. Bearer requests need neither.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use trama_core::auth::{NewPassword, Principal};
use trama_core::ids::UserId;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "trama_session";
pub const CSRF_COOKIE: &str = "trama_csrf";
pub const LANG_COOKIE: &str = "trama_lang";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A fresh random secret: 32 bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Hashes a new password (Argon2id, random salt) off the async threads.
pub async fn hash_password(p: NewPassword) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::PasswordHasher;
        argon2::Argon2::default()
            .hash_password(p.expose().as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(|_| ApiError::Internal)?
    .map_err(|_| ApiError::Internal)
}

/// A PHC string for a password nobody knows, so that unknown e-mails take as long as known ones.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$dHJhbWEtZHVtbXktc2FsdA$Z0yW8L3i1J8y9L6c8C7F4c3sF4nK0q3lT0b1m5Xv3zQ";

/// Checks a password against a stored hash (or against nothing, in the same time).
pub async fn verify_password(stored: Option<String>, password: String) -> bool {
    let known = stored.is_some();
    let hash = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
    let ok = tokio::task::spawn_blocking(move || {
        use argon2::password_hash::PasswordVerifier;
        match argon2::password_hash::phc::PasswordHash::new(&hash) {
            Ok(parsed) => argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    })
    .await
    .unwrap_or(false);
    ok && known
}

/// The value of one cookie in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value. `max_age` none: a session cookie; `Some(0)`: delete it.
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie values are URL-safe base64")
}

/// How the request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// The session cookie; the session's CSRF token must accompany JSON writes.
    Session { token_hash: String, csrf: String },
    /// An `Authorization: Bearer` API token.
    Token,
}

/// The signed-in person, if any. Never fails: anonymous requests get `None`.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub principal: Option<Principal>,
    pub via: Option<Via>,
}

impl Viewer {
    /// The signed-in person, or 401.
    pub fn require(&self) -> ApiResult<&Principal> {
        self.principal.as_ref().ok_or(ApiError::Unauthenticated)
    }

    /// For JSON writes: session-cookie requests must carry the session's CSRF token, and an
    /// auditor changes nothing (403 for a person whose only role is auditor). The one place
    /// every write of the API passes.
    pub fn require_for_write(&self, headers: &HeaderMap) -> ApiResult<&Principal> {
        let p = self.require_signed(headers)?;
        if p.is_auditor_only() {
            return Err(ApiError::Forbidden("an auditor changes nothing".into()));
        }
        Ok(p)
    }

    /// For posts that change nothing of the territory's data, only the caller's own session
    /// or tokens (log out, API tokens) or that compute an answer (funding proposals): the CSRF
    /// check alone, so that auditors may make them too.
    pub fn require_signed(&self, headers: &HeaderMap) -> ApiResult<&Principal> {
        let p = self.require()?;
        if let Some(Via::Session { csrf, .. }) = &self.via {
            let given = headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(given, csrf) {
                return Err(ApiError::CsrfFailed);
            }
        }
        Ok(p)
    }
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

async fn principal_of(state: &AppState, user: UserId) -> ApiResult<Option<Principal>> {
    Ok(crate::accounts::service::principal(state, user).await?)
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(v) = parts.extensions.get::<Viewer>() {
            return Ok(v.clone());
        }
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let viewer = if let Some(token) = bearer {
            match state.store.api_token_user(&sha256_hex(token)).await? {
                Some(user) => Viewer {
                    principal: principal_of(state, user).await?,
                    via: Some(Via::Token),
                },
                // A wrong token is an error, not an anonymous request: the client meant to sign in.
                None => return Err(ApiError::Unauthenticated),
            }
        } else if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) {
            let token_hash = sha256_hex(secret);
            match state.store.session(&token_hash).await? {
                Some(s) => Viewer {
                    principal: principal_of(state, s.user_id).await?,
                    via: Some(Via::Session {
                        token_hash,
                        csrf: s.csrf_token,
                    }),
                },
                None => Viewer {
                    principal: None,
                    via: None,
                },
            }
        } else {
            Viewer {
                principal: None,
                via: None,
            }
        };
        parts.extensions.insert(viewer.clone());
        Ok(viewer)
    }
}

/// The peer's socket address, when the server was started with connection info (tests that
/// call the router directly have none).
pub struct ClientAddr(pub Option<std::net::SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// The client's address for rate limits: the socket peer, or `X-Forwarded-For`'s first hop
/// when the server is configured to sit behind a proxy.
pub fn client_key(
    parts_headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
    behind_proxy: bool,
) -> String {
    if behind_proxy
        && let Some(xff) = parts_headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        && let Some(first) = xff.split(',').next()
    {
        return first.trim().to_string();
    }
    peer.map(|p| p.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_round_trip_and_unknown_users_fail() {
        let h = hash_password(NewPassword::parse("correct horse battery").unwrap())
            .await
            .unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(Some(h.clone()), "correct horse battery".into()).await);
        assert!(!verify_password(Some(h), "wrong horse battery".into()).await);
        assert!(!verify_password(None, "anything at all".into()).await);
    }

    #[test]
    fn cookies_and_tokens() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; trama_session=xyz; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "missing"), None);
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 43);
        let c = set_cookie("n", "v", Some(60), true);
        assert_eq!(
            c.to_str().unwrap(),
            "n=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        assert!(
            constant_time_eq("abc", "abc")
                && !constant_time_eq("abc", "abd")
                && !constant_time_eq("a", "ab")
        );
    }
}
