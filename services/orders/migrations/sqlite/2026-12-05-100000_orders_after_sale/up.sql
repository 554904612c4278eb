-- After the sale: money given back (one row per refund, keyed by the caller's
-- idempotency key), returns a customer asked for, and the payment a cancelled order
-- still has to give back (retried until the gateway answers).
CREATE TABLE orders_refunds (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    return_id TEXT,
    amount BIGINT NOT NULL,
    reason TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    status TEXT NOT NULL,
    provider_ref TEXT,
    error TEXT,
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (order_id, idempotency_key)
);
CREATE INDEX orders_refunds_status ON orders_refunds (status, updated_at);

CREATE TABLE orders_returns (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    items TEXT NOT NULL,
    history TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX orders_returns_order ON orders_returns (order_id, id);
CREATE INDEX orders_returns_status ON orders_returns (status, id);

CREATE TABLE orders_settlements (
    order_id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX orders_settlements_status ON orders_settlements (status, updated_at);
