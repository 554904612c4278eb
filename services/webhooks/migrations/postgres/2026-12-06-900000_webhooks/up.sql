-- Subscribed URLs. The signing secret is sealed (AES-256-GCM, see weft-secrets); while a
-- rotation's overlap lasts, the previous one signs deliveries too.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    events TEXT NOT NULL,
    status TEXT NOT NULL,
    disabled_reason TEXT,
    secret_sealed TEXT NOT NULL,
    previous_secret_sealed TEXT,
    previous_secret_expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_by_owner ON webhook_endpoints (owner_id, created_at, id);

-- One event on its way to one endpoint: made once per event and endpoint (the unique
-- key), tried until it succeeds or its retry window closes.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    customer_id TEXT,
    payload TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    leased_until TIMESTAMP,
    retry_until TIMESTAMP NOT NULL,
    last_response_status INTEGER,
    -- The next attempt was asked for by staff (a redelivery, a test event): its failure
    -- does not disable the endpoint.
    manual BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (endpoint_id, event_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at, id);
CREATE INDEX webhook_deliveries_by_customer ON webhook_deliveries (customer_id);

-- Every try, with the start of the receiver's answer.
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    duration_ms BIGINT NOT NULL,
    response_status INTEGER,
    response_excerpt TEXT,
    error TEXT,
    PRIMARY KEY (delivery_id, number)
);
