-- Weft's own record of every payment, whichever gateway holds the money: one row per
-- checkout attempt (its saga run), and every call made to the gateway for it. Provider
-- references, amounts and statuses only: never a card number, never a secret.
CREATE TABLE payments_payments (
    id TEXT PRIMARY KEY,
    attempt TEXT NOT NULL UNIQUE,
    checkout_id TEXT NOT NULL,
    order_id TEXT,
    provider TEXT NOT NULL,
    provider_ref TEXT,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    captured BIGINT NOT NULL DEFAULT 0,
    refunded BIGINT NOT NULL DEFAULT 0,
    decline_code TEXT,
    next_action TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX payments_payments_checkout ON payments_payments (checkout_id);
CREATE INDEX payments_payments_order ON payments_payments (order_id);

CREATE TABLE payments_transactions (
    payment_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    amount BIGINT NOT NULL,
    provider_ref TEXT,
    code TEXT,
    idempotency_key TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (payment_id, seq)
);
