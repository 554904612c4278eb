//! `column IN (…)` over a list of text values, written as one bind parameter.
//!
//! diesel's `eq_any` writes one `?` per value on SQLite, so the statement's text changes
//! with the list's length and diesel never caches it: every such query is parsed and
//! planned again (about a tenth of an uncached page of products). [`any_of`] writes
//! `IN (SELECT value FROM json_each(?))` there, with the values as one JSON array, and
//! `= ANY($1)` on PostgreSQL (as `eq_any` does): the same text whatever the list, so the
//! prepared statement is kept.
//!
//! SQLite's planner cannot tell how many values the JSON array holds: where the list
//! decides the plan (the driving filter of an ordered, limited page), keep `=` for one
//! value or `eq_any`. Lists of ids looked up by an index (`product_id` of these 20
//! products) are what it is for.

use diesel::QueryResult;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Bool, Nullable, Text};
use diesel::sqlite::Sqlite;

/// `column` is one of `values`. See the module's documentation.
pub fn any_of<C, I>(column: C, values: I) -> AnyOf<C>
where
    C: Expression,
    C::SqlType: TextType,
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let values: Vec<String> = values.into_iter().map(|v| v.as_ref().to_owned()).collect();
    // A list of strings always serializes.
    let json = serde_json::to_string(&values).unwrap_or_else(|_| "[]".to_owned());
    AnyOf {
        column,
        values,
        json,
    }
}

/// `Text` and `Nullable<Text>`: the columns [`any_of`] compares (a JSON array's values
/// are text).
pub trait TextType {}
impl TextType for Text {}
impl TextType for Nullable<Text> {}

/// The expression [`any_of`] builds.
#[derive(Debug, Clone)]
pub struct AnyOf<C> {
    column: C,
    values: Vec<String>,
    json: String,
}

impl<C> Expression for AnyOf<C> {
    type SqlType = Bool;
}

impl<C, QS> AppearsOnTable<QS> for AnyOf<C> where C: AppearsOnTable<QS> {}

impl<C, QS> SelectableExpression<QS> for AnyOf<C> where C: SelectableExpression<QS> {}

impl<C, GB> ValidGrouping<GB> for AnyOf<C>
where
    C: ValidGrouping<GB>,
{
    type IsAggregate = C::IsAggregate;
}

// Not a static id: diesel then caches the statement by its text, which is constant.
impl<C> QueryId for AnyOf<C> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C> QueryFragment<Sqlite> for AnyOf<C>
where
    C: QueryFragment<Sqlite>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, String>(&self.json)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C> QueryFragment<Pg> for AnyOf<C>
where
    C: QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(");
        out.push_bind_param::<Array<Text>, Vec<String>>(&self.values)?;
        out.push_sql(")");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use diesel::pg::Pg;
    use diesel::query_builder::QueryFragment;
    use diesel::sqlite::Sqlite;
    use diesel::{ExpressionMethods, QueryDsl};
    use diesel_async::RunQueryDsl;

    use super::any_of;
    use crate::testing::{TestDatabase, postgres_admin_url};
    use crate::{Db, db_run};

    diesel::table! {
        any_of_names (name) {
            name -> Text,
        }
    }

    const NAMES: &[&str] = &["a", "b", "it's", "ünï \"q\"", "[x]", "%_"];

    async fn finds_exactly_the_listed_values(db: &Db) {
        let mut conn = db.conn().await.unwrap();
        db_run!(&mut conn, c => diesel::sql_query("CREATE TABLE any_of_names (name TEXT PRIMARY KEY)").execute(c).await)
            .unwrap();
        for name in NAMES {
            db_run!(&mut conn, c => diesel::insert_into(any_of_names::table)
                .values(any_of_names::name.eq(*name))
                .execute(c)
                .await)
            .unwrap();
        }
        let many: Vec<String> = ["b", "it's", "nope", "ünï \"q\"", "[x]", "%_", "b"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        for (asked, expected) in [
            (vec![], vec![]),
            (vec!["a".to_owned()], vec!["a"]),
            (vec!["A".to_owned(), "%".to_owned()], vec![]),
            (many, vec!["%_", "[x]", "b", "it's", "ünï \"q\""]),
        ] {
            let found: Vec<String> = db_run!(&mut conn, c => any_of_names::table
                .filter(any_of(any_of_names::name, &asked))
                .select(any_of_names::name)
                .order(any_of_names::name)
                .load::<String>(c)
                .await)
            .unwrap();
            assert_eq!(found, expected, "asked {asked:?}");
        }
    }

    #[tokio::test]
    async fn any_of_finds_exactly_the_listed_values_on_sqlite() {
        let test_db = TestDatabase::sqlite().unwrap();
        finds_exactly_the_listed_values(&test_db.open(2).await.unwrap()).await;
    }

    #[tokio::test]
    async fn any_of_finds_exactly_the_listed_values_on_postgres() {
        let Some(admin) = postgres_admin_url() else {
            return;
        };
        let test_db = TestDatabase::postgres(&admin).await.unwrap();
        finds_exactly_the_listed_values(&test_db.open(2).await.unwrap()).await;
    }

    #[test]
    fn its_statement_can_be_cached_where_eq_any_s_cannot() {
        let ids = vec!["a".to_owned(), "b".to_owned()];
        let ours = any_of_names::table.filter(any_of(any_of_names::name, &ids));
        let theirs = any_of_names::table.filter(any_of_names::name.eq_any(&ids));
        let cacheable_in_sqlite =
            |q: &dyn QueryFragment<Sqlite>| q.is_safe_to_cache_prepared(&Sqlite).unwrap();
        assert!(cacheable_in_sqlite(&ours));
        assert!(!cacheable_in_sqlite(&theirs));
        assert!(QueryFragment::<Pg>::is_safe_to_cache_prepared(&ours, &Pg).unwrap());
        let sql = diesel::debug_query::<Sqlite, _>(&ours).to_string();
        assert!(sql.contains("IN (SELECT value FROM json_each(?))"), "{sql}");
    }
}
