-- What each customer chose to receive: transactional e-mail always goes; marketing e-mail
-- only after opting in; order updates by SMS to their number and by push to their
-- devices when they asked for them.
CREATE TABLE notification_preferences (
    customer_id TEXT PRIMARY KEY NOT NULL,
    marketing_email BOOLEAN NOT NULL,
    phone TEXT,
    sms_order_updates BOOLEAN NOT NULL,
    push_order_updates BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- A customer's devices (Expo push tokens), one row per token.
CREATE TABLE notification_push_tokens (
    token TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notification_push_tokens_by_customer ON notification_push_tokens (customer_id);

-- Marketing e-mail: its one-click unsubscribe URL (RFC 8058).
ALTER TABLE notification_messages ADD COLUMN unsubscribe_url TEXT;
-- An order confirmation: the order whose invoice (a PDF from orders) is attached.
ALTER TABLE notification_messages ADD COLUMN invoice_order_id TEXT;
