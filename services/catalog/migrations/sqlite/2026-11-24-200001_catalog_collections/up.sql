-- Hand-picked groups of products ("Summer linen", "New in"), in the merchant's order.
CREATE TABLE catalog_collections (
    id TEXT PRIMARY KEY,
    handle TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE catalog_collection_products (
    collection_id TEXT NOT NULL REFERENCES catalog_collections (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL REFERENCES catalog_products (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (collection_id, product_id)
);
CREATE INDEX catalog_collection_products_product ON catalog_collection_products (product_id);
