//! The payment contract on the `test` gateway, on SQLite and (when configured) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use weft_kernel::Clock;
use weft_payments::testsuite::Cards;
use weft_payments::{PaymentProvider, TestGateway};
use weft_storage::testing::{TestDatabase, postgres_admin_url};

async fn gateway(database: TestDatabase) -> (Arc<dyn PaymentProvider>, Cards, TestDatabase) {
    let db = database.open(5).await.unwrap();
    weft_storage::migrate::run(
        &db,
        &[&weft_storage::migrate::PLATFORM, &weft_payments::MIGRATIONS],
    )
    .await
    .unwrap();
    (
        Arc::new(TestGateway::new(db, Clock::system())),
        Cards::test_gateway(),
        database,
    )
}

mod sqlite {
    use super::*;
    weft_payments::payment_contract!(async {
        Some(gateway(TestDatabase::sqlite().unwrap()).await)
    });
}

mod postgres {
    use super::*;
    weft_payments::payment_contract!(async {
        match postgres_admin_url() {
            Some(url) => Some(gateway(TestDatabase::postgres(&url).await.unwrap()).await),
            None => None,
        }
    });
}
