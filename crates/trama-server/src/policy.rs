//! Who may do what, in one table an auditor can read. Every route, API and page, is added
//! through [`Routes`] with its [`Policy`]: there is no other way to route (a test reads the
//! sources to make sure), so a route without a policy does not build. The router checks the
//! first part of each policy itself, before any handler runs ([`enforce`]): whether the
//! caller must be signed in and which roles are let through. What a policy narrows further
//! (the caller's own data, their organisation, the people they follow with consent, the
//! parties of a match) is decided by the rules in `trama-core`, named here in [`Scope`] so the
//! table says it; whether reads of a person's data are audited is said in [`Policy::audited`].
//!
//! `trama routes` prints the table (JSON, or the matrix of docs/SECURITY.md with
//! `--markdown`), and a test drives every route with every demo role against the demo data on
//! both databases, checking that what the table says is what happens.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use trama_core::auth::Role;

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::state::AppState;

/// Who may call a route at all: checked by the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "roles")]
pub enum Who {
    /// Anyone, signed in or not.
    Anyone,
    /// Anyone signed in, whatever their roles (the handler narrows by [`Scope`]).
    SignedIn,
    /// Holders of one of these roles.
    Roles(&'static [Role]),
    /// Whoever holds the metrics token (Prometheus), not a person.
    MetricsToken,
}

/// What a route narrows to beyond who may call it, decided by the domain's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Nothing personal: the directory, the public register, static files.
    Public,
    /// The caller's own account and data.
    Own,
    /// A need's or match's parties (the person, whoever acts for them, the volunteer), public
    /// facts for everyone else.
    Parties,
    /// The caller's own organisation(s) (providers, operators, hubs).
    Organisation,
    /// The people a case manager follows with their consent, the person themself, auditors
    /// read-only (`trama_core::budget::access`).
    Caseload,
    /// A funder's own staff or the organisations it delegated to
    /// (`trama_core::budget::consent`).
    Funder,
    /// The whole territory, in aggregates only.
    Territory,
}

/// One route's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub who: Who,
    pub scope: Scope,
    /// Whether reads of a person's data by someone else go to their audit trail.
    pub audited: bool,
    /// What the table says in words.
    pub note: &'static str,
}

impl Policy {
    pub const fn new(who: Who, scope: Scope, note: &'static str) -> Self {
        Self {
            who,
            scope,
            audited: false,
            note,
        }
    }

    /// The same, with reads audited under the person.
    pub const fn audited(self) -> Self {
        Self {
            audited: true,
            ..self
        }
    }

    /// Whether a caller with these roles (none: anonymous) passes the router's check.
    pub fn admits(&self, signed_in: bool, roles: &[Role]) -> bool {
        match self.who {
            Who::Anyone | Who::MetricsToken => true,
            Who::SignedIn => signed_in,
            Who::Roles(rs) => signed_in && rs.iter().any(|r| roles.contains(r)),
        }
    }
}

/// Operators, case managers, hub managers and organisation admins: who works for an
/// organisation at its desk (`Principal::operator_organizations`).
pub const OPERATORS: &[Role] = &[
    Role::Operator,
    Role::CaseManager,
    Role::HubManager,
    Role::OrganizationAdmin,
];
pub const TERRITORY_ADMIN: &[Role] = &[Role::TerritoryAdmin];
/// Who edits an organisation's directory entries.
pub const EDITORS: &[Role] = &[Role::OrganizationAdmin, Role::TerritoryAdmin];
/// Who manages hubs and rooms.
pub const HUB_MANAGERS: &[Role] = &[
    Role::HubManager,
    Role::OrganizationAdmin,
    Role::TerritoryAdmin,
];
/// Who records flows of commons in the register.
pub const FLOW_RECORDERS: &[Role] = &[
    Role::Operator,
    Role::OrganizationAdmin,
    Role::TerritoryAdmin,
];
/// Who records a signed consent at a desk.
pub const DESK: &[Role] = &[Role::CaseManager, Role::Operator];
/// Who may grant from a programme (as its funder's staff or delegates).
pub const GRANTORS: &[Role] = &[
    Role::OrganizationAdmin,
    Role::TerritoryAdmin,
    Role::CaseManager,
];
/// Providers' staff, who deliver bookings.
pub const PROVIDERS: &[Role] = &[Role::OrganizationAdmin, Role::Operator];

/// Public, nothing personal.
pub const PUBLIC: Policy = Policy::new(Who::Anyone, Scope::Public, "anyone");

/// One routed method and path with its policy.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub method: String,
    pub path: String,
    pub policy: Policy,
    /// An HTML page or form (else JSON or a file).
    pub page: bool,
}

/// A router that cannot be given a route without its policy.
pub struct Routes {
    router: Router<AppState>,
    table: Vec<Entry>,
    page: bool,
}

macro_rules! method {
    ($name:ident, $verb:ident, $m:literal) => {
        pub fn $name<H, T>(self, path: &str, handler: H, policy: Policy) -> Self
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            self.add($m, path, axum::routing::$verb(handler), policy)
        }
    };
}

impl Routes {
    /// JSON (and file) routes.
    pub fn api() -> Self {
        Self {
            router: Router::new(),
            table: Vec::new(),
            page: false,
        }
    }

    /// HTML pages and forms: the router sends the anonymous to sign in instead of a 401.
    pub fn pages() -> Self {
        Self {
            page: true,
            ..Self::api()
        }
    }

    fn add(
        mut self,
        method: &str,
        path: &str,
        route: axum::routing::MethodRouter<AppState>,
        policy: Policy,
    ) -> Self {
        self.router = self.router.route(path, route);
        self.table.push(Entry {
            method: method.into(),
            path: path.into(),
            policy,
            page: self.page,
        });
        self
    }

    method!(get, get, "GET");
    method!(post, post, "POST");
    method!(put, put, "PUT");
    method!(delete, delete, "DELETE");

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    pub fn nest(mut self, prefix: &str, other: Routes) -> Self {
        self.router = self.router.nest(prefix, other.router);
        self.table.extend(other.table.into_iter().map(|mut e| {
            // A nested `/` answers at the prefix itself (axum's own rule).
            e.path = if e.path == "/" {
                prefix.to_string()
            } else {
                format!("{prefix}{}", e.path)
            };
            e
        }));
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<Entry>) {
        (self.router, self.table)
    }
}

/// The table, keyed for the router's check.
#[derive(Clone, Default)]
pub struct Table(Arc<HashMap<(Method, String), Entry>>);

impl Table {
    pub fn new(entries: &[Entry]) -> Self {
        Self(Arc::new(
            entries
                .iter()
                .map(|e| {
                    (
                        (
                            Method::from_bytes(e.method.as_bytes()).expect("a known method"),
                            e.path.clone(),
                        ),
                        e.clone(),
                    )
                })
                .collect(),
        ))
    }

    fn get(&self, method: &Method, path: &str) -> Option<&Entry> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.0.get(&(method.clone(), path.to_string()))
    }
}

/// The router's own check of [`Who`], before the handler: 401 (JSON) or the sign-in page
/// (pages) for the anonymous where one must be signed in; 403 where the roles do not match.
/// The caller's identity, once read, is kept for the handler.
pub async fn enforce(
    State((state, table)): State<(AppState, Table)>,
    req: Request,
    next: Next,
) -> Response {
    let Some(entry) = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| table.get(req.method(), p.as_str()))
        .cloned()
    else {
        return next.run(req).await;
    };
    if matches!(entry.policy.who, Who::Anyone | Who::MetricsToken) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let viewer = match Viewer::from_request_parts(&mut parts, &state).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    parts.extensions.insert(viewer.clone());
    let uri = parts.uri.clone();
    let req = Request::from_parts(parts, body);
    let Some(p) = viewer.principal.as_ref() else {
        return if entry.page {
            crate::web::login_redirect(&uri)
        } else {
            ApiError::Unauthenticated.into_response()
        };
    };
    let roles: Vec<Role> = p.grants.iter().map(|g| g.role).collect();
    if !entry.policy.admits(true, &roles) {
        return ApiError::Forbidden(format!(
            "{} {}: {}",
            entry.method, entry.path, entry.policy.note
        ))
        .into_response();
    }
    let mut req = req;
    req.extensions_mut().insert(Admitted(viewer));
    next.run(req).await
}

/// The right to act on a route: a signed-in person the router admitted by the route's policy.
/// Only [`enforce`] constructs it, so a handler that takes it cannot have skipped the check;
/// on a route whose policy lets anyone in, asking for it is a programming error (500, logged).
#[derive(Debug, Clone)]
pub struct Admitted(Viewer);

impl Admitted {
    /// The admitted person.
    pub fn principal(&self) -> &trama_core::auth::Principal {
        self.0
            .principal
            .as_ref()
            .expect("only a signed-in viewer is admitted")
    }

    /// The admitted person, for a post that changes only their own session or tokens or
    /// computes an answer (the CSRF token checked, as [`Viewer::require_signed`]).
    pub fn for_own_write(
        &self,
        headers: &axum::http::HeaderMap,
    ) -> crate::error::ApiResult<&trama_core::auth::Principal> {
        self.0.require_signed(headers)
    }

    /// The admitted person, for a JSON write (the session's CSRF token checked, as
    /// [`Viewer::require_for_write`]).
    pub fn for_write(
        &self,
        headers: &axum::http::HeaderMap,
    ) -> crate::error::ApiResult<&trama_core::auth::Principal> {
        self.0.require_for_write(headers)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Admitted {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Admitted>().cloned().ok_or_else(|| {
            tracing::error!(path = %parts.uri.path(), "a handler wants Admitted on a route the router lets anyone call");
            ApiError::Internal
        })
    }
}

/// The admitted person acting on a JSON write: [`Admitted`] with the session's CSRF token
/// checked and auditors refused, before the body is read (so a forged or an auditor's request
/// is 403 whatever it carries).
#[derive(Debug, Clone)]
pub struct Writer(pub trama_core::auth::Principal);

/// The admitted person on a post that changes only their own session or tokens or computes an
/// answer: [`Admitted`] with the CSRF token checked (auditors may), before the body is read.
#[derive(Debug, Clone)]
pub struct OwnWriter(pub trama_core::auth::Principal);

/// The admitted person, checked by `check` against the request's headers.
async fn admitted_for(
    parts: &mut axum::http::request::Parts,
    check: for<'a> fn(
        &'a Admitted,
        &axum::http::HeaderMap,
    ) -> crate::error::ApiResult<&'a trama_core::auth::Principal>,
) -> Result<trama_core::auth::Principal, ApiError> {
    let admitted = Admitted::from_request_parts(parts, &()).await?;
    Ok(check(&admitted, &parts.headers)?.clone())
}

impl<S: Send + Sync> FromRequestParts<S> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        admitted_for(parts, Admitted::for_write).await.map(Writer)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for OwnWriter {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        admitted_for(parts, Admitted::for_own_write)
            .await
            .map(OwnWriter)
    }
}

/// The matrix of docs/SECURITY.md: each route, and for each role (and the anonymous) what
/// the router lets through and what the rules narrow it to.
pub fn markdown(entries: &[Entry]) -> String {
    let mut out = String::from(
        "| method | path | anonymous | citizen | volunteer | operator | case manager | hub manager | org admin | territory admin | auditor | narrowed to | audited |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    for e in sorted {
        let cell = |signed_in: bool, role: Option<Role>| -> &'static str {
            let roles: Vec<Role> = role.into_iter().collect();
            if e.policy.who == Who::MetricsToken {
                return "token";
            }
            if !e.policy.admits(signed_in, &roles) {
                return "—";
            }
            match e.policy.scope {
                Scope::Public => "✓",
                Scope::Own => "own",
                Scope::Parties => "parties",
                Scope::Organisation => "own org",
                Scope::Caseload => "caseload",
                Scope::Funder => "funder",
                Scope::Territory => "aggregates",
            }
        };
        let mut row = format!("| {} | `{}` | {} |", e.method, e.path, cell(false, None));
        for r in Role::ALL {
            row.push_str(&format!(" {} |", cell(true, Some(r))));
        }
        row.push_str(&format!(
            " {} | {} |\n",
            e.policy.note,
            if e.policy.audited { "yes" } else { "" }
        ));
        out.push_str(&row);
    }
    out
}
