-- Categories form a tree (parent_id); products sit in one (usually a leaf).
CREATE TABLE catalog_categories (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES catalog_categories (id),
    handle TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    position INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Products. Lists that are only ever read whole (tags, images, options, size chart) are
-- JSON text; everything filtered on has its own column or table.
CREATE TABLE catalog_products (
    id TEXT PRIMARY KEY,
    handle TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    brand TEXT NOT NULL,
    status TEXT NOT NULL,
    material TEXT,
    care TEXT,
    fit TEXT,
    seo_title TEXT,
    seo_description TEXT,
    tags TEXT NOT NULL,
    images TEXT NOT NULL,
    options TEXT NOT NULL,
    size_chart TEXT,
    category_id TEXT REFERENCES catalog_categories (id),
    -- Set once an order holds it: such a product is archived, never deleted.
    ordered BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX catalog_products_status ON catalog_products (status, id);
CREATE INDEX catalog_products_category ON catalog_products (category_id);
CREATE INDEX catalog_products_brand ON catalog_products (brand);

-- Variants: one per combination of option values (options_key is that combination,
-- canonical, so the database refuses a duplicate).
CREATE TABLE catalog_variants (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES catalog_products (id) ON DELETE CASCADE,
    sku TEXT NOT NULL UNIQUE,
    options_key TEXT NOT NULL,
    option_values TEXT NOT NULL,
    weight_grams INTEGER,
    barcode TEXT,
    position INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (product_id, options_key)
);

-- A variant's option values, one row each, for the size and color filters.
CREATE TABLE catalog_variant_options (
    variant_id TEXT NOT NULL REFERENCES catalog_variants (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (variant_id, name)
);
CREATE INDEX catalog_variant_options_filter ON catalog_variant_options (name, value, product_id);

-- Prices per variant and currency, in minor units.
CREATE TABLE catalog_variant_prices (
    variant_id TEXT NOT NULL REFERENCES catalog_variants (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL,
    compare_at_amount BIGINT,
    PRIMARY KEY (variant_id, currency)
);
CREATE INDEX catalog_variant_prices_product ON catalog_variant_prices (product_id);

-- Each product's price range per currency, kept in step with its variants' prices in the
-- same transaction: price filters and sorts read one row per product.
CREATE TABLE catalog_product_prices (
    product_id TEXT NOT NULL REFERENCES catalog_products (id) ON DELETE CASCADE,
    currency TEXT NOT NULL,
    min_amount BIGINT NOT NULL,
    max_amount BIGINT NOT NULL,
    PRIMARY KEY (product_id, currency)
);
CREATE INDEX catalog_product_prices_sort ON catalog_product_prices (currency, min_amount, product_id);
