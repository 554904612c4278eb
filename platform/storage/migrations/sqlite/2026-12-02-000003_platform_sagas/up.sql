-- Sagas (the checkout's completion, for one): where each run is, its context, and a
-- lease so one runner at a time moves it. `position` is the step in flight (or next).
CREATE TABLE platform_sagas (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    position INTEGER NOT NULL,
    context TEXT NOT NULL,
    failure TEXT,
    lease_owner TEXT,
    lease_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX platform_sagas_status ON platform_sagas (kind, status);

-- Each step a saga started, and what undoing it needs (written before the next starts).
CREATE TABLE platform_saga_steps (
    saga_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    undo TEXT,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (saga_id, position)
);
