//! The store's test suite. Every test runs twice, on SQLite and on a real PostgreSQL.

mod accounts;
mod budgets;
mod directory;
mod hsds_examples;
mod needs;

use trama_store::{Store, StoreOptions};

/// A migrated store on each backend, and the guard that keeps its files alive.
pub struct TestDb {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> TestDb {
    let (dir, url) = trama_testkit::sqlite_url();
    let store = Store::connect(&url, &StoreOptions::default())
        .await
        .expect("connect sqlite");
    store.migrate().await.expect("migrate sqlite");
    TestDb {
        store,
        _dir: Some(dir),
    }
}

pub async fn postgres() -> TestDb {
    let url = tokio::task::spawn_blocking(trama_testkit::postgres_url)
        .await
        .expect("start postgres");
    let store = Store::connect(
        &url,
        &StoreOptions {
            max_connections: 4,
            ..Default::default()
        },
    )
    .await
    .expect("connect postgres");
    store.migrate().await.expect("migrate postgres");
    TestDb { store, _dir: None }
}

/// Declares a test body once and runs it on both databases:
/// `both!(name, |store| async move { ... });`
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::sqlite().await;
                ($body)(db.store.clone()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let db = $crate::postgres().await;
                ($body)(db.store.clone()).await;
            }
        }
    };
}
