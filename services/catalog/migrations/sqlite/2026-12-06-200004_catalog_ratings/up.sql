-- Each product's published ratings as reviews last announced them (ProductRated):
-- `score` is the average × 100 (350 is 3.5 stars), what `sort=rating` orders by.
-- `version` keeps a late event from undoing a newer one.
CREATE TABLE catalog_ratings (
    product_id TEXT PRIMARY KEY,
    score BIGINT NOT NULL,
    count BIGINT NOT NULL,
    version BIGINT NOT NULL
);
