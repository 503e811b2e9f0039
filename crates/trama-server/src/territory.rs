//! The territory's database as a whole, for its installer (`trama demo`): its settings, what
//! it holds, wiping it, refreshing the planner's statistics; and its areas, as every feature
//! reads them. No feature's rules live here.

use crate::service_error::ServiceResult;
use crate::service_error::store_calls;
use crate::state::{AppState, TerritoryAreas};
use std::sync::Arc;

/// The territory's areas (NIL, Municipi) from the areas it imported, else the carried table of
/// Milan's Municipi; read once a minute at most (`AppState::areas`).
pub async fn areas(state: &AppState) -> ServiceResult<Arc<TerritoryAreas>> {
    if let Some(a) = state.areas.get() {
        return Ok(a);
    }
    let nils = state.store.areas("nil").await?;
    let mut municipi = state.store.areas("municipio").await?;
    if municipi.is_empty() {
        municipi = trama_core::areas::milano_municipi();
    }
    let a = Arc::new((nils, municipi));
    state.areas.put(a.clone());
    Ok(a)
}

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
