-- Facts about this installation (its instance id, when demo data was seeded), one row per key.
CREATE TABLE platform_system (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
