-- Each product's answer as the REST API gives it, rewritten in the transaction of every
-- change to what it shows: a page pastes its products' documents instead of assembling
-- them from five tables. NULL until written; the catalog fills those at start.
ALTER TABLE catalog_products ADD COLUMN document TEXT;
