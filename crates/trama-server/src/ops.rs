//! Operations: liveness, readiness, Prometheus metrics, and the request metrics middleware.

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::Instant;

use crate::error::ApiError;
use crate::state::AppState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process is alive")))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, body = crate::error::ErrorEnvelope)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(json!({"status": "ready", "database": state.store.backend().name()}))
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            ApiError::Unavailable.into_response()
        }
    }
}

/// Prometheus text format, for whoever holds `metrics_token` (constant-time comparison).
pub async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let Some(token) = &state.config.metrics_token else {
        return ApiError::NotFound("metrics are not served without metrics_token".into())
            .into_response();
    };
    let sent = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let same = crate::auth::sha256_hex(sent) == crate::auth::sha256_hex(token.expose());
    if !same {
        return ApiError::Unauthenticated.into_response();
    }
    match &state.metrics {
        Some(h) => ([("content-type", "text/plain; version=0.0.4")], h.render()).into_response(),
        None => {
            ApiError::NotFound("metrics are not enabled in this process".into()).into_response()
        }
    }
}

/// Counts requests and their latency by route, method and status.
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("route", path), ("method", method), ("status", status)];
    metrics::counter!("trama_http_requests_total", &labels).increment(1);
    metrics::histogram!("trama_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    res
}
