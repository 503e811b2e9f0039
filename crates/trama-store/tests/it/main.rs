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

/// Shipped migrations never change (sqlx refuses a database whose applied migration's
/// checksum differs, and an edit would mean two databases with one version but two schemas).
/// A new migration adds its line here once it lands on main.
#[test]
fn shipped_migrations_never_change() {
    const SHIPPED: &[(i64, &str)] = &[
        (
            1,
            "16f8c2ef888494527a23686ab547631df32a6916581255a22d268dfbc6ecf6939e32797fbe8518f9e918413a738abe05",
        ),
        (
            2,
            "99424adb185797514861adc35098b2b52ef081d010f2dcd77c1785bf1b096cdba0edcf5f352f5b089aff4038ba285f92",
        ),
        (
            3,
            "11bfe6adbd0b727ce1e0210688a5bb9f5e34ed858d608c2bffc85d2a1ba37d60dc5a1e829df299d67e9ea2fdf18ad27c",
        ),
        (
            4,
            "93b9f4f8440a56917bd3ff5ea32e3f4b15d60f25b042abedf4fbd675efdf54800e848c9a87482d743d11c17a1e97dba2",
        ),
        (
            5,
            "d0e1e831b9ef2b10ed22bef013aa78144f43cefae326e0d0123f5a871c919da4b839a622d8fb48205f2dc08fe5de975d",
        ),
        (
            6,
            "a4242df54a0d8ce8176928275037ec4c62bf0b81c4c5223eddf9a314cde859446c523f75691fdee207a58ad5c85cc4af",
        ),
        (
            7,
            "f7f4feb9340a5da3aa568c96767db453ae0dbcb537c6ca802a6f0ccb8c8230fa29b892cb569bb46811b03c94b33a20e5",
        ),
        (
            8,
            "ba6f6c6b5fa0ca92959b683da8a3d5db25a33d8c36a2356e0b0139d72db0b84d26f780bb3bd7cfcedc7163fdfebf5885",
        ),
        (
            9,
            "568f6dab995d2c7c496340b511cbc41e0bfd05d03b74f7e310f7345bb3dfa12124b3520f69d88635771312a9d4497755",
        ),
        (
            10,
            "b76276065b2e1a305800e702ce89609bb74dadd8bc5233d68589f635f0f8f688e25a086d414df6d47fb47e16e33a3f69",
        ),
        (
            11,
            "bf8774978357bc8b629d8e1dbef18d7af98753d701f8875ab1ec202a93bbb7ece79ba165d87cedd61540ed726dae3f9e",
        ),
    ];
    let carried = trama_store::migration_checksums();
    for (version, checksum) in SHIPPED {
        let found = carried
            .iter()
            .find(|(v, _)| v == version)
            .unwrap_or_else(|| panic!("migration {version} is gone"));
        assert_eq!(
            &found.1, checksum,
            "migration {version} was edited after it shipped: add a new migration instead"
        );
    }
    assert!(
        carried.len() >= SHIPPED.len(),
        "{} migrations carried, {} shipped",
        carried.len(),
        SHIPPED.len()
    );
}
