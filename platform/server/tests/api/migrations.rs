//! The two migration sources of every service (SQLite and PostgreSQL) make the same
//! schema: the same tables, columns, nullability and indexes, with column types equal
//! through one reviewed list of equivalent type names.

use std::collections::BTreeSet;
use std::process::Command;

use weft_testkit::{Backend, spawn_app};

/// SQLite's declared type → PostgreSQL's `information_schema` name: the only
/// differences allowed. `INTEGER` is 32-bit in both (diesel reads `i32`), `BIGINT` 64.
const SAME_TYPE: &[(&str, &str)] = &[
    ("INTEGER", "integer"),
    ("BIGINT", "bigint"),
    ("TEXT", "text"),
    ("BOOLEAN", "boolean"),
    ("TIMESTAMP", "timestamp without time zone"),
    ("BLOB", "bytea"),
    // diesel's own bookkeeping table.
    ("VARCHAR(50)", "character varying"),
];

fn rows(out: &std::process::Output) -> BTreeSet<String> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn sqlite(db: &std::path::Path, sql: &str) -> BTreeSet<String> {
    rows(
        &Command::new("sqlite3")
            .args(["-separator", "|"])
            .arg(db)
            .arg(sql)
            .output()
            .expect("sqlite3 is installed"),
    )
}

fn postgres(url: &str, sql: &str) -> BTreeSet<String> {
    rows(
        &Command::new("psql")
            .args([url, "-X", "-A", "-t", "-F", "|", "-c", sql])
            .output()
            .expect("psql is installed"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgresql_migrations_make_the_same_schema() {
    let lite = spawn_app(Backend::Sqlite).await.unwrap();
    let Some(pg) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let file = lite.settings.sqlite_path();
    let url = pg.settings.database_url.clone().unwrap();

    // table|column|type|nullable, with SQLite's type named as PostgreSQL names it.
    let lite_columns: BTreeSet<String> = sqlite(
        &file,
        "SELECT m.name, p.name, p.type, \
           CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 'NO' ELSE 'YES' END \
         FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    )
    .into_iter()
    .map(|row| {
        let mut cells: Vec<&str> = row.split('|').collect();
        let declared = cells[2];
        cells[2] = SAME_TYPE
            .iter()
            .find(|(lite, _)| *lite == declared)
            .map_or(declared, |(_, pg)| pg);
        cells.join("|")
    })
    .collect();
    let pg_columns = postgres(
        &url,
        "SELECT table_name, column_name, data_type, is_nullable \
         FROM information_schema.columns WHERE table_schema = current_schema()",
    );
    assert!(lite_columns.len() > 300, "{}", lite_columns.len());
    let only_lite: Vec<_> = lite_columns.difference(&pg_columns).collect();
    let only_pg: Vec<_> = pg_columns.difference(&lite_columns).collect();
    assert!(
        only_lite.is_empty() && only_pg.is_empty(),
        "the schemas differ (table|column|type|nullable)\n  SQLite only: {only_lite:#?}\n  PostgreSQL only: {only_pg:#?}"
    );

    // table|unique|columns of every index (primary keys and unique constraints included).
    let lite_indexes = sqlite(
        &file,
        "SELECT m.name, il.\"unique\", \
           (SELECT group_concat(ii.name, ',') FROM pragma_index_info(il.name) ii) \
         FROM sqlite_master m, pragma_index_list(m.name) il WHERE m.type = 'table'",
    );
    let pg_indexes = postgres(
        &url,
        "SELECT t.relname, CASE WHEN ix.indisunique THEN 1 ELSE 0 END, \
           (SELECT string_agg(a.attname, ',' ORDER BY k.ord) \
            FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord) \
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) \
         FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = current_schema()",
    );
    assert!(lite_indexes.len() > 50, "{}", lite_indexes.len());
    let only_lite: Vec<_> = lite_indexes.difference(&pg_indexes).collect();
    let only_pg: Vec<_> = pg_indexes.difference(&lite_indexes).collect();
    assert!(
        only_lite.is_empty() && only_pg.is_empty(),
        "the indexes differ (table|unique|columns)\n  SQLite only: {only_lite:#?}\n  PostgreSQL only: {only_pg:#?}"
    );
}
