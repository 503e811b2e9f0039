pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new()
}
pub fn not_found_page(_r: &axum::extract::Request) -> axum::http::StatusCode {
    axum::http::StatusCode::NOT_FOUND
}
