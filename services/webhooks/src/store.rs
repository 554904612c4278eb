//! Webhooks' tables (SQLite or PostgreSQL): endpoints, deliveries, attempts.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, TextExpressionMethods,
};
use diesel_async::RunQueryDsl;
use weft_storage::{Db, DbConn, StorageError, db_run};

use crate::domain::{Attempt, Delivery, DeliveryStatus, Endpoint, EndpointStatus};

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        owner_id -> Nullable<Text>,
        url -> Text,
        description -> Text,
        events -> Text,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        secret_sealed -> Text,
        previous_secret_sealed -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        event_type -> Text,
        customer_id -> Nullable<Text>,
        payload -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        leased_until -> Nullable<Timestamp>,
        retry_until -> Timestamp,
        last_response_status -> Nullable<Integer>,
        manual -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (delivery_id, number) {
        delivery_id -> Text,
        number -> Integer,
        attempted_at -> Timestamp,
        duration_ms -> BigInt,
        response_status -> Nullable<Integer>,
        response_excerpt -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts
);

/// An endpoint's row: the endpoint and its sealed secrets.
#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable, diesel::AsChangeset)]
#[diesel(table_name = webhook_endpoints, treat_none_as_null = true)]
pub struct EndpointRow {
    pub id: String,
    pub owner_id: Option<String>,
    pub url: String,
    pub description: String,
    pub events: String,
    pub status: String,
    pub disabled_reason: Option<String>,
    pub secret_sealed: String,
    pub previous_secret_sealed: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl EndpointRow {
    pub fn new(endpoint: &Endpoint, secret_sealed: String) -> Self {
        Self {
            id: endpoint.id.clone(),
            owner_id: endpoint.owner_id.clone(),
            url: endpoint.url.clone(),
            description: endpoint.description.clone(),
            // A list of strings always serializes.
            events: serde_json::to_string(&endpoint.events).unwrap_or_else(|_| "[]".into()),
            status: endpoint.status.as_str().to_owned(),
            disabled_reason: endpoint.disabled_reason.clone(),
            secret_sealed,
            previous_secret_sealed: None,
            previous_secret_expires_at: None,
            created_at: endpoint.created_at.naive_utc(),
            updated_at: endpoint.updated_at.naive_utc(),
        }
    }

    /// Takes `endpoint`'s changeable fields (the secrets stay).
    pub fn set(&mut self, endpoint: &Endpoint) {
        let secrets = (
            std::mem::take(&mut self.secret_sealed),
            self.previous_secret_sealed.take(),
            self.previous_secret_expires_at.take(),
        );
        *self = Self::new(endpoint, secrets.0);
        self.previous_secret_sealed = secrets.1;
        self.previous_secret_expires_at = secrets.2;
    }

    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            id: self.id.clone(),
            owner_id: self.owner_id.clone(),
            url: self.url.clone(),
            description: self.description.clone(),
            events: serde_json::from_str(&self.events).unwrap_or_default(),
            status: EndpointStatus::parse(&self.status).unwrap_or(EndpointStatus::Disabled),
            disabled_reason: self.disabled_reason.clone(),
            previous_secret_expires_at: self.previous_secret_expires_at.map(|t| t.and_utc()),
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable, diesel::AsChangeset)]
#[diesel(table_name = webhook_deliveries, treat_none_as_null = true)]
struct DeliveryRow {
    id: String,
    endpoint_id: String,
    event_id: String,
    event_type: String,
    customer_id: Option<String>,
    payload: Option<String>,
    status: String,
    attempts: i32,
    next_attempt_at: Option<NaiveDateTime>,
    leased_until: Option<NaiveDateTime>,
    retry_until: NaiveDateTime,
    last_response_status: Option<i32>,
    manual: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&Delivery> for DeliveryRow {
    fn from(d: &Delivery) -> Self {
        Self {
            id: d.id.clone(),
            endpoint_id: d.endpoint_id.clone(),
            event_id: d.event_id.clone(),
            event_type: d.event_type.clone(),
            customer_id: d.customer_id.clone(),
            payload: d.payload.clone(),
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.map(|t| t.naive_utc()),
            leased_until: None,
            retry_until: d.retry_until.naive_utc(),
            last_response_status: d.last_response_status,
            manual: d.manual,
            created_at: d.created_at.naive_utc(),
            updated_at: d.updated_at.naive_utc(),
        }
    }
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Self {
            id: r.id,
            endpoint_id: r.endpoint_id,
            event_id: r.event_id,
            event_type: r.event_type,
            customer_id: r.customer_id,
            payload: r.payload,
            status: DeliveryStatus::parse(&r.status).unwrap_or(DeliveryStatus::Failed),
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at.map(|t| t.and_utc()),
            retry_until: r.retry_until.and_utc(),
            last_response_status: r.last_response_status,
            manual: r.manual,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = webhook_attempts)]
struct AttemptRow {
    delivery_id: String,
    number: i32,
    attempted_at: NaiveDateTime,
    duration_ms: i64,
    response_status: Option<i32>,
    response_excerpt: Option<String>,
    error: Option<String>,
}

/// A position in a list newest first: the last item's creation time and id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub created_at: DateTime<Utc>,
    pub id: String,
}

pub async fn insert_endpoint(tx: &mut DbConn, row: &EndpointRow) -> Result<(), StorageError> {
    db_run!(tx, c => diesel::insert_into(webhook_endpoints::table)
        .values(row)
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn save_endpoint(tx: &mut DbConn, row: &EndpointRow) -> Result<(), StorageError> {
    db_run!(tx, c => diesel::update(webhook_endpoints::table.find(&row.id))
        .set(row)
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn endpoint(conn: &mut DbConn, id: &str) -> Result<Option<EndpointRow>, StorageError> {
    Ok(db_run!(conn, c => webhook_endpoints::table
        .find(id)
        .first::<EndpointRow>(c)
        .await
        .optional())?)
}

/// Endpoints newest first; only `owner`'s when given.
pub async fn endpoints(
    conn: &mut DbConn,
    owner: Option<&str>,
    after: Option<&Position>,
    limit: i64,
) -> Result<Vec<EndpointRow>, StorageError> {
    use webhook_endpoints::dsl as e;
    Ok(db_run!(conn, c => {
        let mut q = e::webhook_endpoints
            .order((e::created_at.desc(), e::id.desc()))
            .into_boxed();
        if let Some(owner) = owner {
            q = q.filter(e::owner_id.eq(owner.to_owned()));
        }
        if let Some(p) = after {
            let t = p.created_at.naive_utc();
            q = q.filter(e::created_at.lt(t).or(e::created_at.eq(t).and(e::id.lt(p.id.clone()))));
        }
        q.limit(limit).load::<EndpointRow>(c).await
    })?)
}

/// Enabled endpoints subscribed to `event_type`.
pub async fn subscribers(
    tx: &mut DbConn,
    event_type: &str,
) -> Result<Vec<EndpointRow>, StorageError> {
    use webhook_endpoints::dsl as e;
    // Events are a JSON list: a quoted name is a whole name; the caller checks exactly.
    let quoted = format!("%\"{event_type}\"%");
    let rows = db_run!(tx, c => e::webhook_endpoints
        .filter(e::status.eq(EndpointStatus::Enabled.as_str()))
        .filter(e::events.like(quoted))
        .load::<EndpointRow>(c)
        .await)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.endpoint().wants(event_type))
        .collect())
}

/// Disables every enabled endpoint of `owner_id`, giving `reason`.
pub async fn disable_owned(
    tx: &mut DbConn,
    owner_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> Result<usize, StorageError> {
    use webhook_endpoints::dsl as e;
    Ok(db_run!(tx, c => diesel::update(
        e::webhook_endpoints
            .filter(e::owner_id.eq(owner_id))
            .filter(e::status.eq(EndpointStatus::Enabled.as_str())),
    )
    .set((
        e::status.eq(EndpointStatus::Disabled.as_str()),
        e::disabled_reason.eq(reason),
        e::updated_at.eq(now),
    ))
    .execute(c)
    .await)?)
}

/// Removes an endpoint with its deliveries and their attempts.
pub async fn delete_endpoint(tx: &mut DbConn, id: &str) -> Result<bool, StorageError> {
    use webhook_deliveries::dsl as d;
    // ON DELETE CASCADE does this too; said here so a SQLite connection without foreign
    // keys leaves nothing behind either.
    let deleted = db_run!(tx, c => async {
        let ours = d::webhook_deliveries.filter(d::endpoint_id.eq(id)).select(d::id);
        diesel::delete(webhook_attempts::table.filter(webhook_attempts::delivery_id.eq_any(ours)))
            .execute(c)
            .await?;
        diesel::delete(d::webhook_deliveries.filter(d::endpoint_id.eq(id)))
            .execute(c)
            .await?;
        diesel::delete(webhook_endpoints::table.find(id)).execute(c).await
    }.await)?;
    Ok(deleted == 1)
}

/// Adds a delivery unless this endpoint has one of this event already.
pub async fn insert_delivery(tx: &mut DbConn, delivery: &Delivery) -> Result<bool, StorageError> {
    let row = DeliveryRow::from(delivery);
    let n = db_run!(tx, c => diesel::insert_into(webhook_deliveries::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(n == 1)
}

pub async fn delivery(conn: &mut DbConn, id: &str) -> Result<Option<Delivery>, StorageError> {
    let row = db_run!(conn, c => webhook_deliveries::table
        .find(id)
        .first::<DeliveryRow>(c)
        .await
        .optional())?;
    Ok(row.map(Into::into))
}

pub async fn save_delivery(tx: &mut DbConn, delivery: &Delivery) -> Result<(), StorageError> {
    let row = DeliveryRow::from(delivery);
    db_run!(tx, c => diesel::update(webhook_deliveries::table.find(&row.id))
        .set(&row)
        .execute(c)
        .await)?;
    Ok(())
}

/// An endpoint's deliveries newest first, of one status when given.
pub async fn deliveries(
    conn: &mut DbConn,
    endpoint_id: &str,
    status: Option<DeliveryStatus>,
    after: Option<&Position>,
    limit: i64,
) -> Result<Vec<Delivery>, StorageError> {
    use webhook_deliveries::dsl as d;
    let rows = db_run!(conn, c => {
        let mut q = d::webhook_deliveries
            .filter(d::endpoint_id.eq(endpoint_id))
            .order((d::created_at.desc(), d::id.desc()))
            .into_boxed();
        if let Some(s) = status {
            q = q.filter(d::status.eq(s.as_str()));
        }
        if let Some(p) = after {
            let t = p.created_at.naive_utc();
            q = q.filter(d::created_at.lt(t).or(d::created_at.eq(t).and(d::id.lt(p.id.clone()))));
        }
        q.limit(limit).load::<DeliveryRow>(c).await
    })?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn attempts(conn: &mut DbConn, delivery_id: &str) -> Result<Vec<Attempt>, StorageError> {
    let rows = db_run!(conn, c => webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq(delivery_id))
        .order(webhook_attempts::number.asc())
        .load::<AttemptRow>(c)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|r| Attempt {
            number: r.number,
            attempted_at: r.attempted_at.and_utc(),
            duration_ms: r.duration_ms,
            response_status: r.response_status,
            response_excerpt: r.response_excerpt,
            error: r.error,
        })
        .collect())
}

pub async fn insert_attempt(
    tx: &mut DbConn,
    delivery_id: &str,
    attempt: &Attempt,
) -> Result<(), StorageError> {
    let row = AttemptRow {
        delivery_id: delivery_id.to_owned(),
        number: attempt.number,
        attempted_at: attempt.attempted_at.naive_utc(),
        duration_ms: attempt.duration_ms,
        response_status: attempt.response_status,
        response_excerpt: attempt.response_excerpt.clone(),
        error: attempt.error.clone(),
    };
    db_run!(tx, c => diesel::insert_into(webhook_attempts::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(())
}

/// Leases up to `limit` pending deliveries that are due, of enabled endpoints, oldest
/// first, until `lease_until`, skipping those another live dispatcher holds.
pub async fn lease_due(
    db: &Db,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Delivery>, StorageError> {
    use webhook_deliveries::dsl as d;
    use webhook_endpoints::dsl as e;
    // A read first: most polls find nothing, and they should not take the write lock.
    let mut conn = db.conn().await?;
    let any: Option<String> = db_run!(&mut conn, c => d::webhook_deliveries
        .select(d::id)
        .filter(d::status.eq(DeliveryStatus::Pending.as_str()))
        .filter(d::next_attempt_at.le(now))
        .filter(d::leased_until.is_null().or(d::leased_until.lt(now)))
        .filter(d::endpoint_id.eq_any(
            e::webhook_endpoints
                .filter(e::status.eq(EndpointStatus::Enabled.as_str()))
                .select(e::id),
        ))
        .first(c)
        .await
        .optional())?;
    drop(conn);
    if any.is_none() {
        return Ok(Vec::new());
    }
    db.transaction(async |conn: &mut DbConn| {
        let enabled = e::webhook_endpoints
            .filter(e::status.eq(EndpointStatus::Enabled.as_str()))
            .select(e::id);
        let due = d::status
            .eq(DeliveryStatus::Pending.as_str())
            .and(d::next_attempt_at.le(now))
            .and(d::leased_until.is_null().or(d::leased_until.lt(now)));
        let ids: Vec<String> = match conn {
            // Concurrent dispatchers skip each other's locked rows instead of waiting.
            DbConn::Postgres(c) => {
                d::webhook_deliveries
                    .select(d::id)
                    .filter(due)
                    .filter(d::endpoint_id.eq_any(enabled))
                    .order(d::next_attempt_at.asc())
                    .limit(limit)
                    .for_update()
                    .skip_locked()
                    .load(&mut ***c)
                    .await?
            }
            // BEGIN IMMEDIATE already holds SQLite's single write lock.
            DbConn::Sqlite(c) => {
                d::webhook_deliveries
                    .select(d::id)
                    .filter(due)
                    .filter(d::endpoint_id.eq_any(enabled))
                    .order(d::next_attempt_at.asc())
                    .limit(limit)
                    .load(&mut **c)
                    .await?
            }
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = db_run!(conn, c => async {
            diesel::update(d::webhook_deliveries.filter(d::id.eq_any(&ids)))
                .set(d::leased_until.eq(lease_until))
                .execute(c)
                .await?;
            d::webhook_deliveries
                .filter(d::id.eq_any(&ids))
                .load::<DeliveryRow>(c)
                .await
        }.await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    })
    .await
}

/// Forgets a customer's data in deliveries: bodies that carried it are dropped (those not
/// sent yet are cancelled), and so are the receivers' answers to them, which may echo it.
/// Returns how many deliveries changed.
pub async fn erase_customer(
    tx: &mut DbConn,
    customer_id: &str,
    now: NaiveDateTime,
) -> Result<usize, StorageError> {
    use webhook_deliveries::dsl as d;
    let n = db_run!(tx, c => async {
        let theirs = d::webhook_deliveries
            .filter(d::customer_id.eq(customer_id))
            .select(d::id);
        diesel::update(webhook_attempts::table.filter(webhook_attempts::delivery_id.eq_any(theirs)))
            .set(webhook_attempts::response_excerpt.eq(None::<String>))
            .execute(c)
            .await?;
        diesel::update(
            d::webhook_deliveries
                .filter(d::customer_id.eq(customer_id))
                .filter(d::status.eq(DeliveryStatus::Pending.as_str())),
        )
        .set((
            d::status.eq(DeliveryStatus::Cancelled.as_str()),
            d::next_attempt_at.eq(None::<NaiveDateTime>),
        ))
        .execute(c)
        .await?;
        diesel::update(d::webhook_deliveries.filter(d::customer_id.eq(customer_id)))
            .set((
                d::payload.eq(None::<String>),
                d::customer_id.eq(None::<String>),
                d::updated_at.eq(now),
            ))
            .execute(c)
            .await
    }.await)?;
    Ok(n)
}

/// Deletes deliveries made before `cutoff` that are finished, with their attempts.
pub async fn delete_finished_before(db: &Db, cutoff: NaiveDateTime) -> Result<usize, StorageError> {
    use webhook_deliveries::dsl as d;
    db.transaction(async |tx: &mut DbConn| {
        Ok(db_run!(tx, c => async {
            let old = d::webhook_deliveries
                .filter(d::created_at.lt(cutoff))
                .filter(d::status.ne(DeliveryStatus::Pending.as_str()))
                .select(d::id);
            diesel::delete(webhook_attempts::table.filter(webhook_attempts::delivery_id.eq_any(old)))
                .execute(c)
                .await?;
            diesel::delete(
                d::webhook_deliveries
                    .filter(d::created_at.lt(cutoff))
                    .filter(d::status.ne(DeliveryStatus::Pending.as_str())),
            )
            .execute(c)
            .await
        }.await)?)
    })
    .await
}
