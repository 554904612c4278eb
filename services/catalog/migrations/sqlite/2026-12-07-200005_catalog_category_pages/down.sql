DROP INDEX catalog_products_category;
CREATE INDEX catalog_products_category ON catalog_products (category_id);
