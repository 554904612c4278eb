//! Notifications' tables (SQLite or PostgreSQL): messages, and the contacts events give
//! (customers from `user.registered`, orders' addresses from `order.created`).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::{BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use weft_storage::{Db, DbConn, StorageError, db_run};

use crate::domain::{Channel, Kind, Message, Status};

diesel::table! {
    notification_messages (id) {
        id -> Text,
        event_id -> Text,
        kind -> Text,
        channel -> Text,
        recipient -> Text,
        customer_id -> Nullable<Text>,
        locale -> Text,
        subject -> Text,
        body_text -> Nullable<Text>,
        body_html -> Nullable<Text>,
        unsubscribe_url -> Nullable<Text>,
        invoice_order_id -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        leased_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        provider_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_contacts (customer_id) {
        customer_id -> Text,
        email -> Text,
        name -> Text,
        locale -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notification_preferences (customer_id) {
        customer_id -> Text,
        marketing_email -> Bool,
        phone -> Nullable<Text>,
        sms_order_updates -> Bool,
        push_order_updates -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notification_push_tokens (token) {
        token -> Text,
        customer_id -> Text,
        platform -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notification_orders (order_id) {
        order_id -> Text,
        customer_id -> Nullable<Text>,
        email -> Text,
        created_at -> Timestamp,
    }
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable, diesel::AsChangeset)]
#[diesel(table_name = notification_messages, treat_none_as_null = true)]
struct MessageRow {
    id: String,
    event_id: String,
    kind: String,
    channel: String,
    recipient: String,
    customer_id: Option<String>,
    locale: String,
    subject: String,
    body_text: Option<String>,
    body_html: Option<String>,
    unsubscribe_url: Option<String>,
    invoice_order_id: Option<String>,
    status: String,
    attempts: i32,
    next_attempt_at: Option<NaiveDateTime>,
    leased_until: Option<NaiveDateTime>,
    last_error: Option<String>,
    provider_id: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
}

impl From<&Message> for MessageRow {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.clone(),
            event_id: m.event_id.clone(),
            kind: m.kind.as_str().to_owned(),
            channel: m.channel.as_str().to_owned(),
            recipient: m.recipient.clone(),
            customer_id: m.customer_id.clone(),
            locale: m.locale.clone(),
            subject: m.subject.clone(),
            body_text: m.body_text.clone(),
            body_html: m.body_html.clone(),
            unsubscribe_url: m.unsubscribe_url.clone(),
            invoice_order_id: m.invoice_order_id.clone(),
            status: m.status.as_str().to_owned(),
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at.map(|t| t.naive_utc()),
            leased_until: None,
            last_error: m.last_error.clone(),
            provider_id: m.provider_id.clone(),
            created_at: m.created_at.naive_utc(),
            updated_at: m.updated_at.naive_utc(),
            sent_at: m.sent_at.map(|t| t.naive_utc()),
        }
    }
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        Self {
            id: r.id,
            event_id: r.event_id,
            // Rows are written from these enums only.
            kind: Kind::parse(&r.kind).unwrap_or(Kind::Welcome),
            channel: Channel::parse(&r.channel).unwrap_or(Channel::Email),
            recipient: r.recipient,
            customer_id: r.customer_id,
            locale: r.locale,
            subject: r.subject,
            body_text: r.body_text,
            body_html: r.body_html,
            unsubscribe_url: r.unsubscribe_url,
            invoice_order_id: r.invoice_order_id,
            status: Status::parse(&r.status).unwrap_or(Status::Failed),
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at.map(|t| t.and_utc()),
            last_error: r.last_error,
            provider_id: r.provider_id,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            sent_at: r.sent_at.map(|t| t.and_utc()),
        }
    }
}

/// A customer as notifications know them.
#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = notification_contacts)]
pub struct Contact {
    pub customer_id: String,
    pub email: String,
    pub name: String,
    pub locale: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// Whom an order's news goes to.
#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = notification_orders)]
pub struct OrderContact {
    pub order_id: String,
    pub customer_id: Option<String>,
    pub email: String,
    pub created_at: NaiveDateTime,
}

/// What a customer chose to receive.
#[derive(
    Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable, diesel::AsChangeset,
)]
#[diesel(table_name = notification_preferences, treat_none_as_null = true)]
pub struct Preferences {
    pub customer_id: String,
    pub marketing_email: bool,
    /// E.164 (`+33612345678`).
    pub phone: Option<String>,
    pub sms_order_updates: bool,
    pub push_order_updates: bool,
    pub updated_at: NaiveDateTime,
}

impl Preferences {
    /// A customer who chose nothing yet: transactional e-mail only, and push order
    /// updates to devices they register (registering one is asking for them).
    pub fn defaults(customer_id: &str, now: NaiveDateTime) -> Self {
        Self {
            customer_id: customer_id.to_owned(),
            marketing_email: false,
            phone: None,
            sms_order_updates: false,
            push_order_updates: true,
            updated_at: now,
        }
    }
}

/// A customer's device.
#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = notification_push_tokens)]
pub struct PushToken {
    pub token: String,
    pub customer_id: String,
    /// `ios`, `android` or `web`.
    pub platform: String,
    pub created_at: NaiveDateTime,
}

pub async fn preferences(
    conn: &mut DbConn,
    customer_id: &str,
) -> Result<Option<Preferences>, StorageError> {
    Ok(db_run!(conn, c => notification_preferences::table
        .find(customer_id)
        .first::<Preferences>(c)
        .await
        .optional())?)
}

pub async fn save_preferences(tx: &mut DbConn, p: &Preferences) -> Result<(), StorageError> {
    db_run!(tx, c => diesel::insert_into(notification_preferences::table)
        .values(p)
        .on_conflict(notification_preferences::customer_id)
        .do_update()
        .set(p)
        .execute(c)
        .await)?;
    Ok(())
}

/// Cancels a customer's marketing messages not sent yet (they just opted out).
pub async fn cancel_pending_marketing(
    tx: &mut DbConn,
    customer_id: &str,
    now: NaiveDateTime,
) -> Result<usize, StorageError> {
    use notification_messages::dsl as m;
    let marketing: Vec<&str> = Kind::ALL
        .iter()
        .filter(|k| k.is_marketing())
        .map(|k| k.as_str())
        .collect();
    Ok(db_run!(tx, c => diesel::update(
        m::notification_messages
            .filter(m::customer_id.eq(customer_id))
            .filter(m::status.eq(Status::Pending.as_str()))
            .filter(m::kind.eq_any(&marketing)),
    )
    .set((
        m::status.eq(Status::Cancelled.as_str()),
        m::next_attempt_at.eq(None::<NaiveDateTime>),
        m::updated_at.eq(now),
    ))
    .execute(c)
    .await)?)
}

pub async fn push_tokens(
    conn: &mut DbConn,
    customer_id: &str,
) -> Result<Vec<PushToken>, StorageError> {
    use notification_push_tokens::dsl as t;
    Ok(db_run!(conn, c => t::notification_push_tokens
        .filter(t::customer_id.eq(customer_id))
        .order((t::created_at.asc(), t::token.asc()))
        .load::<PushToken>(c)
        .await)?)
}

/// Registers a device for `token.customer_id`; a token another customer registered
/// moves to this one (the device changed hands, or signed in as someone else).
pub async fn save_push_token(tx: &mut DbConn, token: &PushToken) -> Result<(), StorageError> {
    use notification_push_tokens::dsl as t;
    db_run!(tx, c => diesel::insert_into(t::notification_push_tokens)
        .values(token)
        .on_conflict(t::token)
        .do_update()
        .set((
            t::customer_id.eq(&token.customer_id),
            t::platform.eq(&token.platform),
            t::created_at.eq(token.created_at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

/// Forgets a device: one of `customer_id`'s (`Some`), or whoever's (`None`: the provider
/// said it is gone). Returns whether there was one.
pub async fn delete_push_token(
    tx: &mut DbConn,
    token: &str,
    customer_id: Option<&str>,
) -> Result<bool, StorageError> {
    use notification_push_tokens::dsl as t;
    let n = match customer_id {
        Some(customer) => db_run!(tx, c => diesel::delete(
            t::notification_push_tokens
                .filter(t::token.eq(token))
                .filter(t::customer_id.eq(customer)),
        )
        .execute(c)
        .await)?,
        None => {
            db_run!(tx, c => diesel::delete(t::notification_push_tokens.filter(t::token.eq(token)))
            .execute(c)
            .await)?
        }
    };
    Ok(n == 1)
}

/// A position in the log, newest first: the last item's creation time and id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub created_at: DateTime<Utc>,
    pub id: String,
}

/// What the log is filtered by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub recipient: Option<String>,
    pub status: Option<Status>,
    pub kind: Option<Kind>,
}

/// Adds a message unless the event made this one already. Returns whether it did.
pub async fn insert_message(tx: &mut DbConn, message: &Message) -> Result<bool, StorageError> {
    let row = MessageRow::from(message);
    let n = db_run!(tx, c => diesel::insert_into(notification_messages::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(n == 1)
}

pub async fn message(conn: &mut DbConn, id: &str) -> Result<Option<Message>, StorageError> {
    let row = db_run!(conn, c => notification_messages::table
        .find(id)
        .first::<MessageRow>(c)
        .await
        .optional())?;
    Ok(row.map(Into::into))
}

/// Writes a message's state back, unless it changed since `attempts` was read (another
/// dispatcher's, an erasure's or staff's change wins). Returns whether it was written.
pub async fn save_message_if(
    tx: &mut DbConn,
    message: &Message,
    attempts: i32,
) -> Result<bool, StorageError> {
    use notification_messages::dsl as m;
    let row = MessageRow::from(message);
    let n = db_run!(tx, c => diesel::update(
        m::notification_messages
            .filter(m::id.eq(&row.id))
            .filter(m::attempts.eq(attempts))
            .filter(m::status.eq(Status::Pending.as_str())),
    )
    .set(&row)
    .execute(c)
    .await)?;
    Ok(n == 1)
}

pub async fn save_message(tx: &mut DbConn, message: &Message) -> Result<(), StorageError> {
    let row = MessageRow::from(message);
    db_run!(tx, c => diesel::update(notification_messages::table.find(&row.id))
        .set(&row)
        .execute(c)
        .await)?;
    Ok(())
}

/// The log, newest first, filtered.
pub async fn messages(
    conn: &mut DbConn,
    filter: &Filter,
    after: Option<&Position>,
    limit: i64,
) -> Result<Vec<Message>, StorageError> {
    use notification_messages::dsl as m;
    let rows = db_run!(conn, c => {
        let mut q = m::notification_messages
            .order((m::created_at.desc(), m::id.desc()))
            .into_boxed();
        if let Some(r) = &filter.recipient {
            q = q.filter(m::recipient.eq(r.clone()));
        }
        if let Some(s) = filter.status {
            q = q.filter(m::status.eq(s.as_str()));
        }
        if let Some(k) = filter.kind {
            q = q.filter(m::kind.eq(k.as_str()));
        }
        if let Some(p) = after {
            let t = p.created_at.naive_utc();
            q = q.filter(m::created_at.lt(t).or(m::created_at.eq(t).and(m::id.lt(p.id.clone()))));
        }
        q.limit(limit).load::<MessageRow>(c).await
    })?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Leases up to `limit` pending messages that are due, oldest first, until
/// `lease_until`, skipping those another live dispatcher holds.
pub async fn lease_due(
    db: &Db,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Message>, StorageError> {
    use notification_messages::dsl as m;
    let due = || {
        m::status
            .eq(Status::Pending.as_str())
            .and(m::next_attempt_at.le(now))
            .and(m::leased_until.is_null().or(m::leased_until.lt(now)))
    };
    // A read first: most polls find nothing, and they should not take the write lock.
    let mut conn = db.conn().await?;
    let any: Option<String> = db_run!(&mut conn, c => m::notification_messages
        .select(m::id)
        .filter(due())
        .first(c)
        .await
        .optional())?;
    drop(conn);
    if any.is_none() {
        return Ok(Vec::new());
    }
    db.transaction(async |conn: &mut DbConn| {
        let ids: Vec<String> = match conn {
            // Concurrent dispatchers skip each other's locked rows instead of waiting.
            DbConn::Postgres(c) => {
                m::notification_messages
                    .select(m::id)
                    .filter(due())
                    .order(m::next_attempt_at.asc())
                    .limit(limit)
                    .for_update()
                    .skip_locked()
                    .load(&mut ***c)
                    .await?
            }
            // BEGIN IMMEDIATE already holds SQLite's single write lock.
            DbConn::Sqlite(c) => {
                m::notification_messages
                    .select(m::id)
                    .filter(due())
                    .order(m::next_attempt_at.asc())
                    .limit(limit)
                    .load(&mut **c)
                    .await?
            }
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = db_run!(conn, c => async {
            diesel::update(m::notification_messages.filter(m::id.eq_any(&ids)))
                .set(m::leased_until.eq(lease_until))
                .execute(c)
                .await?;
            m::notification_messages
                .filter(m::id.eq_any(&ids))
                .load::<MessageRow>(c)
                .await
        }.await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    })
    .await
}

pub async fn upsert_contact(tx: &mut DbConn, contact: &Contact) -> Result<(), StorageError> {
    use notification_contacts::dsl as k;
    db_run!(tx, c => diesel::insert_into(k::notification_contacts)
        .values(contact)
        .on_conflict(k::customer_id)
        .do_update()
        .set((
            k::email.eq(&contact.email),
            k::name.eq(&contact.name),
            k::updated_at.eq(contact.updated_at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn contact(
    conn: &mut DbConn,
    customer_id: &str,
) -> Result<Option<Contact>, StorageError> {
    Ok(db_run!(conn, c => notification_contacts::table
        .find(customer_id)
        .first::<Contact>(c)
        .await
        .optional())?)
}

pub async fn insert_order(tx: &mut DbConn, order: &OrderContact) -> Result<(), StorageError> {
    db_run!(tx, c => diesel::insert_into(notification_orders::table)
        .values(order)
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn order(
    conn: &mut DbConn,
    order_id: &str,
) -> Result<Option<OrderContact>, StorageError> {
    Ok(db_run!(conn, c => notification_orders::table
        .find(order_id)
        .first::<OrderContact>(c)
        .await
        .optional())?)
}

/// Forgets a customer: their contact and orders' addresses go; their messages keep
/// what was sent when and why, but neither address, subject (it may name them) nor body,
/// and those not sent yet are cancelled. Returns how many messages changed.
pub async fn erase_customer(
    tx: &mut DbConn,
    customer_id: &str,
    now: NaiveDateTime,
) -> Result<usize, StorageError> {
    use notification_messages::dsl as m;
    let n = db_run!(tx, c => async {
        diesel::delete(notification_contacts::table.find(customer_id)).execute(c).await?;
        diesel::delete(notification_preferences::table.find(customer_id)).execute(c).await?;
        diesel::delete(notification_push_tokens::table.filter(notification_push_tokens::customer_id.eq(customer_id)))
            .execute(c)
            .await?;
        diesel::delete(notification_orders::table.filter(notification_orders::customer_id.eq(customer_id)))
            .execute(c)
            .await?;
        diesel::update(
            m::notification_messages
                .filter(m::customer_id.eq(customer_id))
                .filter(m::status.eq(Status::Pending.as_str())),
        )
        .set((
            m::status.eq(Status::Cancelled.as_str()),
            m::next_attempt_at.eq(None::<NaiveDateTime>),
        ))
        .execute(c)
        .await?;
        diesel::update(m::notification_messages.filter(m::customer_id.eq(customer_id)))
            .set((
                m::recipient.eq("erased"),
                m::subject.eq(""),
                m::body_text.eq(None::<String>),
                m::body_html.eq(None::<String>),
                m::unsubscribe_url.eq(None::<String>),
                m::customer_id.eq(None::<String>),
                m::updated_at.eq(now),
            ))
            .execute(c)
            .await
    }.await)?;
    Ok(n)
}

/// Deletes messages made before `cutoff` that are finished.
pub async fn delete_finished_before(db: &Db, cutoff: NaiveDateTime) -> Result<usize, StorageError> {
    use notification_messages::dsl as m;
    let mut conn = db.conn().await?;
    Ok(db_run!(&mut conn, c => diesel::delete(
        m::notification_messages
            .filter(m::created_at.lt(cutoff))
            .filter(m::status.ne(Status::Pending.as_str())),
    )
    .execute(c)
    .await)?)
}
