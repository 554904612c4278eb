-- Idempotency-Key records: the first answer to a mutating request, replayed to retries.
CREATE TABLE platform_idempotency_keys (
    principal TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_method TEXT NOT NULL,
    request_path TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    -- Set while the first request runs; a crashed run's lock lapses and may be taken over.
    locked_until TIMESTAMP,
    response_status INTEGER,
    response_content_type TEXT,
    response_body BYTEA,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (principal, idempotency_key)
);
CREATE INDEX platform_idempotency_keys_expires_at ON platform_idempotency_keys (expires_at);
