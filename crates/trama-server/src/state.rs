//! What every request handler can reach: the store, the settings, the limits, the metrics.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use trama_core::schedule::TimeZone;
use trama_store::Store;

use crate::config::Config;
use crate::ratelimit::RateLimiter;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub time_zone: TimeZone,
    pub login_by_ip: Arc<RateLimiter>,
    /// Sign-ups per client address (`limits.signup_per_hour`).
    pub signups_by_ip: Arc<RateLimiter>,
    /// Failed sign-ins per account and client: short growing delays, from the fifth on.
    pub login_failures: Arc<crate::ratelimit::LoginThrottle>,
    /// Failed sign-ins per account from anywhere: delays from the twentieth on, at most 30 s,
    /// so that guessing from many addresses stays slow and the owner is never locked out.
    pub login_failures_account: Arc<crate::ratelimit::LoginThrottle>,
    /// Suggestion lists asked for, per person (no probing of where others are).
    pub suggestions_by_person: Arc<RateLimiter>,
    pub metrics: Option<PrometheusHandle>,
    pub register: Arc<crate::register::log::Register>,
    /// What time it is: the store's clock, so a test that sets it sets it for everything.
    pub clock: Arc<dyn trama_core::clock::Clock>,
    /// The territory's areas as points are placed in them (every need and offer).
    pub areas: Arc<AreaCache>,
    /// The engine's compiled picture of the offers, for suggestions (`help::suggest_index`).
    pub suggest: Arc<crate::help::suggest_index::SuggestIndex>,
}

/// The territory's NIL and Municipi, kept for placing points: read from the store at most once
/// a minute, and again at once after an import through the services (an import by another
/// process is seen within the minute).
#[derive(Debug, Default)]
pub struct AreaCache(std::sync::Mutex<Option<(std::time::Instant, Arc<TerritoryAreas>)>>);

/// NIL and Municipi.
pub type TerritoryAreas = (Vec<trama_core::areas::Area>, Vec<trama_core::areas::Area>);

impl AreaCache {
    const FRESH: std::time::Duration = std::time::Duration::from_secs(60);

    pub fn get(&self) -> Option<Arc<TerritoryAreas>> {
        let held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        held.as_ref()
            .filter(|(at, _)| at.elapsed() < Self::FRESH)
            .map(|(_, a)| a.clone())
    }

    pub fn put(&self, areas: Arc<TerritoryAreas>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((std::time::Instant::now(), areas));
    }

    pub fn clear(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl AppState {
    pub fn new(
        store: Store,
        config: Config,
        metrics: Option<PrometheusHandle>,
    ) -> Result<Self, trama_core::FieldError> {
        let time_zone = TimeZone::parse(&config.time_zone)?;
        let register = Arc::new(crate::register::log::Register::new(store.clone(), &config));
        Ok(Self {
            clock: store.clock(),
            register,
            store,
            time_zone,
            login_by_ip: Arc::new(RateLimiter::new(
                config.limits.login_per_minute,
                std::time::Duration::from_secs(60),
            )),
            signups_by_ip: Arc::new(RateLimiter::new(
                config.limits.signup_per_hour,
                std::time::Duration::from_secs(3600),
            )),
            login_failures: Arc::new(crate::ratelimit::LoginThrottle::new(
                config.limits.login_failures_per_account,
                std::time::Duration::from_secs(300),
                std::time::Duration::from_secs(15 * 60),
            )),
            login_failures_account: Arc::new(crate::ratelimit::LoginThrottle::new(
                config.limits.login_failures_per_account.saturating_mul(4),
                std::time::Duration::from_secs(30),
                std::time::Duration::from_secs(15 * 60),
            )),
            suggestions_by_person: Arc::new(RateLimiter::new(
                config.matching.suggestions_per_hour,
                std::time::Duration::from_secs(3600),
            )),
            config: Arc::new(config),
            metrics,
            areas: Arc::new(AreaCache::default()),
            suggest: Default::default(),
        })
    }

    /// What time it is (UTC), by the injected clock.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// The territory's local time now.
    pub fn now_local(&self) -> time::PrimitiveDateTime {
        self.time_zone.local(self.now())
    }
}
