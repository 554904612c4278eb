-- Gateway events (webhooks) already processed, by the gateway's event id: a replayed
-- delivery finds its id here and has no second effect. Recorded in the same transaction
-- as the event's effect on the payments log.
CREATE TABLE payments_webhook_events (
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    provider_ref TEXT,
    outcome TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (provider, event_id)
);
-- Events name a payment by the gateway's reference.
CREATE INDEX payments_payments_provider_ref ON payments_payments (provider, provider_ref);
