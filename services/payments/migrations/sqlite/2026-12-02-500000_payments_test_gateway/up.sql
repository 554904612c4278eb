-- The built-in `test` gateway's own ledger: what a real gateway keeps on its side
-- (payment intents and refunds), so it answers like one across restarts and retries.
CREATE TABLE payments_test_intents (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    decline_code TEXT,
    captured BIGINT NOT NULL DEFAULT 0,
    refunded BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE payments_test_refunds (
    id TEXT PRIMARY KEY,
    intent_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    amount BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
