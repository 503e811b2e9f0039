//! `trama-server`: Trama over HTTP. The HSDS API (`/hsds`), Trama's JSON API (`/api`), the web
//! UI (`/`), and operations (`/healthz`, `/readyz`, `/metrics`). It turns requests into calls on
//! `trama-store` and `trama-core` and their results into responses; it holds no SQL and no
//! domain rule of its own beyond who may call what.

// A corrupt row or a bad input is an error for its caller, never a panic of the server.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

// Features: each a folder with `service.rs` (operations, no HTTP), `api.rs` (JSON handlers and
// request bodies), `pages.rs` (HTML) and its words.
pub mod accounts;
pub mod budgets;
pub mod campaigns;
pub mod directory;
pub mod help;
pub mod hubs;
pub mod register;

// Shared plumbing.
pub mod auth;
pub mod config;
pub mod error;
pub mod json;
pub mod mail;
pub mod openapi;
pub mod ops;
pub mod policy;
pub mod ratelimit;
pub mod service_error;
pub mod state;
pub mod territory;
pub mod web;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use policy::{Policy, Routes, Scope, Who};
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use error::{ApiError, ApiResult};
pub use state::AppState;

/// Every route with its policy (docs/SECURITY.md): the table the router is built from.
pub fn routes() -> Routes {
    Routes::api()
        .get("/hsds/", directory::hsds::api_info, policy::PUBLIC)
        .nest("/hsds", directory::hsds::routes())
        .nest(
            "/api",
            openapi::routes()
                .merge(accounts::api::routes())
                .merge(directory::api::routes())
                .merge(help::api::routes())
                .merge(hubs::api::routes())
                .merge(campaigns::api::routes())
                .merge(register::api::api_routes())
                .merge(budgets::api::routes()),
        )
        .merge(register::api::public_routes())
        .merge(web::routes())
        .get("/healthz", ops::healthz, policy::PUBLIC)
        .get("/readyz", ops::readyz, policy::PUBLIC)
        .get(
            "/metrics",
            ops::metrics,
            Policy::new(
                Who::MetricsToken,
                Scope::Territory,
                "Prometheus, with metrics_token",
            ),
        )
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let limits = state.config.limits.clone();
    let (routes, table) = routes().into_parts();
    routes
        .layer(axum::middleware::from_fn_with_state(
            (state.clone(), policy::Table::new(&table)),
            policy::enforce,
        ))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::form::render_page_errors,
        ))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        // Every answer, JSON and files included, is read as the type it says it is.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            header::HeaderValue::from_static("nosniff"),
        ))
        .layer(axum::middleware::from_fn(ops::track))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(limits.request_timeout_secs),
        ))
        // Outside the timeout, so that its 503 gets the envelope too.
        .layer(axum::middleware::from_fn(envelope_rejections))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                tracing::error!("a request handler panicked");
                ApiError::Internal.into_response()
            },
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

fn wants_json(req: &Request) -> bool {
    let p = req.uri().path();
    p.starts_with("/api")
        || p.starts_with("/hsds")
        || p.starts_with("/register/")
        || req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

/// The longest path and query accepted, in bytes. Beyond it, 414 `uri_too_long` (the HTTP
/// server itself refuses addresses beyond 64 KiB before any of this runs, with an empty 414).
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Whether the address belongs to a JSON API, whose every error is the envelope.
fn is_api_path(p: &str) -> bool {
    p == "/api" || p.starts_with("/api/") || p.starts_with("/hsds") || p.starts_with("/register/")
}

/// Makes every error of the JSON APIs the envelope. Handlers answer with [`ApiError`]; what
/// the framework answers before a handler runs (a query string or path that does not fit the
/// handler's type, a body of the wrong type, the request timeout) is plain text, and is
/// rewritten here into the same envelope with the same status. Addresses longer than
/// [`MAX_URI_BYTES`] are refused first.
async fn envelope_rejections(req: Request, next: axum::middleware::Next) -> Response {
    let uri_len = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().len())
        .unwrap_or(0);
    if uri_len > MAX_URI_BYTES {
        return if wants_json(&req) || is_api_path(req.uri().path()) {
            ApiError::UriTooLong.into_response()
        } else {
            (StatusCode::URI_TOO_LONG, ApiError::UriTooLong.to_string()).into_response()
        };
    }
    let api = is_api_path(req.uri().path());
    let res = next.run(req).await;
    let status = res.status();
    if !api || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    match error::rejection(status, &text) {
        Some(e) => {
            let mut out = e.into_response();
            // Keep what the framework said about retrying or the allowed methods.
            for name in [header::RETRY_AFTER, header::ALLOW] {
                if let Some(v) = parts.headers.get(&name) {
                    out.headers_mut().insert(name, v.clone());
                }
            }
            out
        }
        None => Response::from_parts(parts, axum::body::Body::from(text)),
    }
}

async fn fallback(page: Result<web::form::Page, ApiError>, req: Request) -> Response {
    if wants_json(&req) {
        ApiError::NotFound(format!("no such endpoint: {}", req.uri().path())).into_response()
    } else {
        match page {
            // The page's own frame: the territory's name, the reader's menu.
            Ok(page) => web::form::not_found(&page.l),
            Err(_) => web::not_found_page(&req).into_response(),
        }
    }
}

/// A method the address does not take: the JSON envelope for API clients, a page for people
/// (a form's address opened by hand, a bookmark of a result).
async fn method_not_allowed(page: Result<web::form::Page, ApiError>, req: Request) -> Response {
    if wants_json(&req) {
        ApiError::MethodNotAllowed.into_response()
    } else {
        match page {
            Ok(page) => web::form::message(
                &page.l,
                StatusCode::METHOD_NOT_ALLOWED,
                page.l.t.wrong_method_heading,
                page.l.t.wrong_method_text,
            ),
            Err(_) => web::method_not_allowed_page(&req).into_response(),
        }
    }
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
