-- A category's page of products in the order it is listed (newest first), so the page
-- walks its own products instead of every product of the status: at 10,000 products a
-- page of the oldest category read ~9,400 others first.
DROP INDEX catalog_products_category;
CREATE INDEX catalog_products_category ON catalog_products (category_id, status, id);
