//! The territory's database as a whole, for its installer (`trama demo`): its settings, what
//! it holds, wiping it, refreshing the planner's statistics. No feature's rules live here.

use crate::service_error::ServiceResult;
use crate::state::AppState;

/// A setting of this territory (e.g. which demo was loaded, where a Municipio's needs go).
pub async fn setting(state: &AppState, key: &str) -> ServiceResult<Option<String>> {
    Ok(state.store.setting(key).await?)
}

pub async fn set_setting(state: &AppState, key: &str, value: &str) -> ServiceResult<()> {
    Ok(state.store.set_setting(key, value).await?)
}

/// Deletes everything and seeds the taxonomies again: an empty territory.
pub async fn wipe(state: &AppState) -> ServiceResult<()> {
    state.store.wipe().await?;
    Ok(state.store.seed_taxonomies().await?)
}

/// How many of each directory record there are.
pub async fn directory_counts(state: &AppState) -> ServiceResult<Vec<(&'static str, i64)>> {
    Ok(state.store.directory_counts().await?)
}

/// Refreshes the query planner's statistics after a bulk load.
pub async fn optimize(state: &AppState) -> ServiceResult<()> {
    Ok(state.store.optimize().await?)
}
