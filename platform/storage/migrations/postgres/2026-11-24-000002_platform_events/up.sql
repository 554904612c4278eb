-- Transactional outbox: events written in the same transaction as the change that caused
-- them; a relay publishes them and records when.
CREATE TABLE platform_outbox (
    id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    event_version INTEGER NOT NULL,
    aggregate_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    trace_context TEXT,
    occurred_at TIMESTAMP NOT NULL,
    -- A relay's lease on the row while it publishes; a crashed relay's lease lapses.
    claimed_by TEXT,
    claimed_until TIMESTAMP,
    published_at TIMESTAMP
);
CREATE INDEX platform_outbox_unpublished ON platform_outbox (published_at, id);

-- Inbox: the events each consumer has applied, so a redelivery applies nothing twice.
CREATE TABLE platform_inbox (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    handled_at TIMESTAMP NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

-- Events a consumer gave up on after its retries, kept for inspection and replay.
CREATE TABLE platform_dead_letters (
    id TEXT PRIMARY KEY,
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    envelope TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX platform_dead_letters_consumer ON platform_dead_letters (consumer, failed_at);
