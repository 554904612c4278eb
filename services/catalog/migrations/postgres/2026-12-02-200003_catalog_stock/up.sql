-- Each variant's stock status as inventory last announced it (StockStatusChanged): what
-- `in_stock` filters and a variant's `stock_status` show. A variant inventory never
-- announced is out of stock. `version` keeps a late event from undoing a newer one.
CREATE TABLE catalog_variant_stock (
    variant_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX catalog_variant_stock_status ON catalog_variant_stock (status);
