//! The territory's database as a whole, for its installer (`trama demo`): its settings, what
//! it holds, wiping it, refreshing the planner's statistics. No feature's rules live here.

use crate::service_error::ServiceResult;
use crate::service_error::store_calls;
use crate::state::AppState;

/// Deletes everything and seeds the taxonomies again: an empty territory.
pub async fn wipe(state: &AppState) -> ServiceResult<()> {
    state.store.wipe().await?;
    Ok(state.store.seed_taxonomies().await?)
}

store_calls! {
    /// A setting of this territory (e.g. which demo was loaded, where a Municipio's needs go).
    pub fn setting(key: &str) -> Option<String>;
    pub fn set_setting(key: &str, value: &str) -> ();
    /// How many of each directory record there are.
    pub fn directory_counts() -> Vec<(&'static str, i64)>;
    /// Refreshes the query planner's statistics after a bulk load.
    pub fn optimize() -> ();
}
