-- Every message made from an event: made once per event, kind, channel and recipient
-- (the unique key), sent until a provider takes it or its tries run out.
CREATE TABLE notification_messages (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    customer_id TEXT,
    locale TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT,
    body_html TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    leased_until TIMESTAMP,
    last_error TEXT,
    provider_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE UNIQUE INDEX notification_messages_once ON notification_messages (event_id, kind, channel, recipient);
CREATE INDEX notification_messages_due ON notification_messages (status, next_attempt_at);
CREATE INDEX notification_messages_newest ON notification_messages (created_at, id);
CREATE INDEX notification_messages_by_recipient ON notification_messages (recipient, created_at, id);
CREATE INDEX notification_messages_by_customer ON notification_messages (customer_id);

-- Who a customer is to notifications (from `user.registered`): their address, name and
-- preferred locale.
CREATE TABLE notification_contacts (
    customer_id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    locale TEXT,
    updated_at TIMESTAMP NOT NULL
);

-- Whom an order's later news goes to (from `order.created`): later order events carry
-- only the order's id.
CREATE TABLE notification_orders (
    order_id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT,
    email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notification_orders_by_customer ON notification_orders (customer_id);
