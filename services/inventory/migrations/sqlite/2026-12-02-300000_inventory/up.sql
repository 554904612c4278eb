-- Where stock is kept. One location is the default (the one a PUT without location_id
-- sets); its fixed id lets every installation find it.
CREATE TABLE inventory_locations (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    is_default BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO inventory_locations (id, code, name, is_default, created_at)
VALUES ('loc_00000000000000000000000000000001', 'default', 'Default warehouse', 1, CURRENT_TIMESTAMP);

-- Per variant: its low-stock threshold, whether it sells past zero, and whether it is
-- below the threshold now (so InventoryLow goes out once per crossing).
CREATE TABLE inventory_items (
    variant_id TEXT PRIMARY KEY,
    low_stock_threshold BIGINT NOT NULL,
    allow_backorder BOOLEAN NOT NULL,
    low BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Stock of a variant at a location. available = on_hand - reserved; it only goes below
-- zero for variants that allow backorders (every reservation is a guarded UPDATE).
CREATE TABLE inventory_levels (
    variant_id TEXT NOT NULL REFERENCES inventory_items (variant_id),
    location_id TEXT NOT NULL REFERENCES inventory_locations (id),
    on_hand BIGINT NOT NULL,
    reserved BIGINT NOT NULL CHECK (reserved >= 0),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (variant_id, location_id)
);

-- Stock held for a checkout until it is committed (the order), released, or expires.
CREATE TABLE inventory_reservations (
    id TEXT PRIMARY KEY,
    variant_id TEXT NOT NULL,
    location_id TEXT NOT NULL REFERENCES inventory_locations (id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    reference TEXT NOT NULL,
    status TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX inventory_reservations_expiry ON inventory_reservations (status, expires_at);
CREATE INDEX inventory_reservations_reference ON inventory_reservations (reference);
