//! `platform_system`: facts about this installation that must survive restarts, such as
//! its instance id and whether demo data has been seeded.

use chrono::Utc;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;

use crate::{Db, DbConn, StorageError, db_run};

diesel::table! {
    platform_system (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

/// Reads a value.
pub async fn get(db: &Db, key: &str) -> Result<Option<String>, StorageError> {
    let mut conn = db.conn().await?;
    let value = db_run!(&mut conn, c => platform_system::table
        .select(platform_system::value)
        .filter(platform_system::key.eq(key))
        .first::<String>(c)
        .await
        .optional())?;
    Ok(value)
}

/// Stores `value` under `key` unless the key exists; returns the value that is stored
/// afterwards (the existing one if another process got there first).
pub async fn get_or_insert(db: &Db, key: &str, value: &str) -> Result<String, StorageError> {
    let now = Utc::now().naive_utc();
    db.transaction(async |conn: &mut DbConn| {
        db_run!(conn, c => diesel::insert_into(platform_system::table)
            .values((
                platform_system::key.eq(key),
                platform_system::value.eq(value),
                platform_system::updated_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await)?;
        Ok::<_, StorageError>(())
    })
    .await?;
    get(db, key)
        .await?
        .ok_or_else(|| StorageError::Query(diesel::result::Error::NotFound))
}
